//! The `idosell` connector: the change feed, reads and status changes of one shop.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use orderlink_plugin_api::model::{
    ApiUsage, ApplyOutcome, ApplyRequest, ApplyResponse, ChangesPage, ChangesRequest, CheckReport,
    ListPage, ListRequest, OrderState, ReadRequest, ReadResponse, StatusUpdate, Vocabulary,
};
use orderlink_plugin_api::sdk::{self, Connector};
use orderlink_plugin_api::{ConnectorError, ErrorKind};
use serde_json::{json, Map, Value};

use crate::behaviour::{self, Behaviour};
use crate::client::{ApiClient, Method};
use crate::config::{IdoSellConfig, OrderKey};
use crate::feed::{self, Cursor, DateBounds, Stamp, Strategy};
use crate::requests::{self, Search};
use crate::statuses::{self, CustomStatus, Target};
use crate::wire::{self, OrderEntry, OrdersAnswer, PutAnswer, PutOutcome, StatusesAnswer};

/// The most orders one GET or PUT carries (the API's limit).
pub const BATCH: usize = 100;
/// How long the list of custom statuses is trusted before it is fetched again.
const CUSTOM_STATUSES_TTL: Duration = Duration::from_secs(600);
/// The most last-known statuses remembered (to tell whether an update changed anything).
const KNOWN_CAP: usize = 200_000;
/// How long an undecided probe of the shop's search behaviour is trusted.
const BEHAVIOUR_TTL: Duration = Duration::from_secs(600);
/// The most searches one page of the feed or a listing makes (narrowing ranges).
const SEARCHES_PER_PAGE: usize = 12;

const SEARCH: &str = "/orders/orders/search";
const ORDERS: &str = "/orders/orders";
const STATUSES: &str = "/orders/statuses";

/// One configured IdoSell shop.
#[derive(Debug)]
pub struct IdoSellConnector {
    config: IdoSellConfig,
    client: ApiClient,
    custom: Mutex<Option<(Instant, Vec<CustomStatus>)>>,
    known: Mutex<HashMap<String, String>>,
    behaviour: Mutex<Option<(Instant, Behaviour)>>,
}

/// One page of a search: the answer, or `None` for "no results" (HTTP 207, faultCode 2), and
/// the shop's time when the request was sent.
type SearchPage = (Option<OrdersAnswer>, Option<DateTime<Utc>>);

impl IdoSellConnector {
    /// A connector for a checked config (no network call yet).
    pub fn new(config: IdoSellConfig) -> Result<Self, ConnectorError> {
        let client = ApiClient::new(&config)?;
        Ok(IdoSellConnector {
            config,
            client,
            custom: Mutex::new(None),
            known: Mutex::new(HashMap::new()),
            behaviour: Mutex::new(None),
        })
    }

    async fn custom_statuses(&self, refresh: bool) -> Result<Vec<CustomStatus>, ConnectorError> {
        if !refresh {
            let cached = self.custom.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((at, list)) = cached.as_ref() {
                if at.elapsed() < CUSTOM_STATUSES_TTL {
                    return Ok(list.clone());
                }
            }
        }
        let reply = self
            .client
            .call::<StatusesAnswer>(Method::Get, STATUSES, &[], None)
            .await?;
        let list: Vec<CustomStatus> = reply
            .body
            .statuses
            .into_iter()
            .filter_map(|s| {
                let id = s.id?;
                Some(CustomStatus {
                    id,
                    parent_id: s.parent_id,
                    name: s.panel_name.unwrap_or_else(|| id.to_string()),
                })
            })
            .collect();
        *self.custom.lock().unwrap_or_else(|p| p.into_inner()) =
            Some((Instant::now(), list.clone()));
        Ok(list)
    }

    fn remember<'a>(&self, pairs: impl IntoIterator<Item = (&'a str, &'a str)>) {
        let mut known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        for (key, status) in pairs {
            if known.len() >= KNOWN_CAP && !known.contains_key(key) {
                known.clear();
            }
            known.insert(key.to_owned(), status.to_owned());
        }
    }

    fn known_status(&self, key: &str) -> Option<String> {
        self.known
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(key)
            .cloned()
    }

    fn state_of(&self, entry: &OrderEntry, custom: &[CustomStatus]) -> Option<OrderState> {
        let serial = entry.serial?;
        let key = match self.config.order_key {
            OrderKey::SerialNumber => serial.to_string(),
            OrderKey::OrderId => entry.order_id.clone()?,
        };
        let details = entry.details.as_ref();
        let status = statuses::order_status(
            details.and_then(|d| d.status.as_deref()),
            details.and_then(|d| d.status_id),
            custom,
        );
        Some(OrderState {
            key,
            id: entry.order_id.clone(),
            status,
            created_at: details
                .and_then(|d| d.added.as_deref())
                .and_then(feed::to_utc),
            changed_at: details
                .and_then(|d| d.changed.as_deref())
                .and_then(feed::to_utc),
            fulfilled: None,
            version: None,
        })
    }

    /// Runs one search with this body (`{"params": ...}`).
    async fn search(&self, body: Value) -> Result<SearchPage, ConnectorError> {
        let reply = self
            .client
            .call::<OrdersAnswer>(Method::Post, SEARCH, &[], Some(&body))
            .await?;
        let answer = reply.body;
        if reply.status == 207 && answer.results.is_empty() {
            return match answer.fault() {
                Some(f) if f.code == Some(wire::FAULT_EMPTY) => Ok((None, reply.shop_sent_at)),
                Some(f) => Err(ConnectorError::permanent(format!(
                    "order search refused: faultCode {}: {}",
                    f.code.unwrap_or_default(),
                    f.message
                ))),
                None => Ok((None, reply.shop_sent_at)),
            };
        }
        Ok((Some(answer), reply.shop_sent_at))
    }

    /// What the shop does with sorts and ranges: probed once (again while undecided, every
    /// [`BEHAVIOUR_TTL`]), or at once with `refresh`.
    async fn behaviour(&self, refresh: bool) -> Result<Behaviour, ConnectorError> {
        if !refresh {
            let cached = self.behaviour.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((at, b)) = cached.as_ref() {
                if b.settled() || at.elapsed() < BEHAVIOUR_TTL {
                    return Ok(b.clone());
                }
            }
        }
        let b = self.probe().await?;
        tracing::info!(
            sort = ?b.sort,
            sort_known = b.sort_known,
            serial_range = ?b.serial_range,
            begin_inclusive = ?b.dates.begin_inclusive,
            end_inclusive = ?b.dates.end_inclusive,
            "IdoSell search behaviour"
        );
        *self.behaviour.lock().unwrap_or_else(|p| p.into_inner()) =
            Some((Instant::now(), b.clone()));
        Ok(b)
    }

    /// Serial numbers and change dates of a search's orders (`None`: no results).
    async fn probe_search(
        &self,
        search: Search<'_>,
    ) -> Result<Vec<(u64, Option<Stamp>)>, ConnectorError> {
        let (answer, _) = self.search(search.body()).await?;
        Ok(answer.map_or_else(Vec::new, |a| {
            a.results
                .iter()
                .filter(|e| !e.is_error())
                .filter_map(|e| Some((e.serial?, Self::changed(e))))
                .collect()
        }))
    }

    /// Finds out, with read-only searches, whether the shop sorts by serial number (and under
    /// which name), honours serial-number ranges, and includes the ends of date ranges.
    async fn probe(&self) -> Result<Behaviour, ConnectorError> {
        let mut b = Behaviour::default();
        let mut sample: Option<(u64, Stamp)> = None;
        let settled_now = feed::settled(self.client.shop_now());
        for name in behaviour::SORT_NAMES {
            let sorted = |desc| Search {
                sort: Some((name, desc)),
                limit: 10,
                ..Search::default()
            };
            let desc = match self.probe_search(sorted(true)).await {
                Ok(found) => found,
                Err(e) if e.kind == ErrorKind::Permanent => {
                    b.notes
                        .push(format!("ordersBy {name} refused: {}", e.message));
                    continue;
                }
                Err(e) => return Err(e),
            };
            if sample.is_none() {
                sample = desc
                    .iter()
                    .filter_map(|(s, d)| Some((*s, (*d)?)))
                    .rfind(|(_, d)| *d <= settled_now);
            }
            let serials: Vec<u64> = desc.iter().map(|(s, _)| *s).collect();
            match behaviour::sort_verdict(&serials, true) {
                None => break,
                Some(false) => b.sort_known = true,
                Some(true) => {
                    let asc: Vec<u64> = self
                        .probe_search(sorted(false))
                        .await?
                        .iter()
                        .map(|(s, _)| *s)
                        .collect();
                    b.sort_known = true;
                    if behaviour::sort_verdict(&asc, false) == Some(true) {
                        b.sort = Some(name);
                        break;
                    }
                }
            }
        }
        let Some((serial, d)) = sample else {
            b.notes.push(
                "no order changed before now to probe date and serial-number ranges with".into(),
            );
            return Ok(b);
        };
        let by_date = |begin, end| Search {
            dates: Some(("modified", Some(begin), Some(end))),
            serials: Some((serial, serial)),
            limit: 10,
            ..Search::default()
        };
        let found_in = |found: Vec<(u64, Option<Stamp>)>, b: &mut Behaviour| {
            let serials: Vec<u64> = found.iter().map(|(s, _)| *s).collect();
            if let Some(v) = behaviour::range_verdict(&serials, serial) {
                b.serial_range.get_or_insert(v);
            }
            serials.contains(&serial)
        };
        let exact = found_in(self.probe_search(by_date(d, d)).await?, &mut b);
        let mut wider_end = None;
        let mut wider_both = None;
        if !exact {
            let found = found_in(self.probe_search(by_date(d, d + 1)).await?, &mut b);
            wider_end = Some(found);
            if !found {
                wider_both = Some(found_in(
                    self.probe_search(by_date(d - 1, d + 1)).await?,
                    &mut b,
                ));
            }
        }
        b.dates = behaviour::bounds_verdict(exact, wider_end, wider_both);
        if b.dates == DateBounds::default() {
            b.notes.push(format!(
                "order {serial} (changed {}) was not found by its own change date; it may have changed meanwhile",
                feed::format(d)
            ));
        }
        Ok(b)
    }

    /// Forgets a sort the shop was found to honour once it answers out of order.
    fn sort_broken(&self, name: &str) {
        tracing::warn!(
            sort = name,
            "the shop answered a search sorted by serial number out of order; the change feed narrows serial-number ranges from now on"
        );
        let mut cached = self.behaviour.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, b)) = cached.as_mut() {
            b.sort = None;
            b.notes.push(format!(
                "ordersBy {name} answered out of order during the feed"
            ));
        }
    }

    /// Runs one search of the feed or the listing: its well-formed entries (an order with a
    /// serial number), and the `(serial, date)` pairs the paging works on, `date` being the
    /// entry's change or add date.
    async fn search_window(
        &self,
        search: Search<'_>,
        date: fn(&OrderEntry) -> Option<Stamp>,
    ) -> Result<(Vec<OrderEntry>, feed::Answer), ConnectorError> {
        let (answer, _) = self.search(search.body()).await?;
        let total = answer.as_ref().and_then(|a| a.total);
        let entries: Vec<OrderEntry> = answer
            .map(|a| {
                a.results
                    .into_iter()
                    .filter(|e| !e.is_error() && e.serial.is_some())
                    .collect()
            })
            .unwrap_or_default();
        let orders = entries
            .iter()
            .map(|e| (e.serial.unwrap_or_default(), date(e)))
            .collect();
        Ok((entries, feed::Answer { orders, total }))
    }

    /// The change date of an answer's order.
    fn changed(entry: &OrderEntry) -> Option<Stamp> {
        entry
            .details
            .as_ref()
            .and_then(|d| d.changed.as_deref())
            .and_then(feed::parse)
    }

    /// The add date of an answer's order.
    fn added(entry: &OrderEntry) -> Option<Stamp> {
        entry
            .details
            .as_ref()
            .and_then(|d| d.added.as_deref())
            .and_then(feed::parse)
    }

    async fn changes_async(&self, req: &ChangesRequest) -> Result<ChangesPage, ConnectorError> {
        let limit = u64::from(req.limit.clamp(1, BATCH as u32));
        let shop_now = self.client.shop_now();
        let mut cur = match req.cursor.as_deref().map(str::trim) {
            Some(text) if !text.is_empty() => Cursor::decode(text)?,
            _ => {
                let lookback =
                    chrono::Duration::hours(i64::from(self.config.initial_lookback_hours));
                Cursor::at(feed::local_stamp(shop_now - lookback))
            }
        };
        let custom = self.custom_statuses(false).await?;
        let behaviour = self.behaviour(false).await?;
        if behaviour.serial_range == Some(false) {
            return Err(ConnectorError::permanent(
                "the shop ignores ordersSerialNumberRange in order searches; the change feed cannot page without missing changes",
            ));
        }
        let shop_now = self.client.shop_now();
        let wait = |cur: &Cursor| ChangesPage {
            orders: Vec::new(),
            next_cursor: cur.encode(),
            has_more: false,
            poll_after_ms: Some(feed::until_settled(cur.from, shop_now)),
        };
        // The shop's clock (custom_statuses and behaviour just read it from its answers) says
        // which seconds are settled.
        let to = match cur.to {
            Some(to) => to,
            None if cur.from > feed::settled(shop_now) => return Ok(wait(&cur)),
            None => feed::settled(shop_now),
        };
        let mut strategy = behaviour.strategy();
        // Up to the shop's clock, so changes held back until they settle are seen.
        let query_end = feed::local_stamp(shop_now).max(to) + 1;
        for _ in 0..SEARCHES_PER_PAGE {
            let range = match strategy {
                Strategy::Sorted(_) => (cur.lo, feed::MAX_SERIAL),
                Strategy::Narrowing => feed::narrowing_range(&cur),
            };
            let (begin, end) = behaviour.dates.request(cur.from, query_end);
            let search = Search {
                dates: Some(("modified", Some(begin), Some(end))),
                serials: Some(range),
                sort: match strategy {
                    Strategy::Sorted(name) => Some((name, false)),
                    Strategy::Narrowing => None,
                },
                limit,
                ..Search::default()
            };
            let (entries, found) = self.search_window(search, Self::changed).await?;
            if found
                .orders
                .iter()
                .any(|(s, _)| *s < range.0 || *s > range.1)
            {
                return Err(ConnectorError::permanent(format!(
                    "the shop answered a search for serial numbers {} to {} with others: it ignores ordersSerialNumberRange, and the change feed cannot page without missing changes",
                    range.0, range.1
                )));
            }
            let step = match strategy {
                Strategy::Sorted(name) => {
                    if !found.ascending() {
                        self.sort_broken(name);
                        strategy = Strategy::Narrowing;
                        continue;
                    }
                    feed::sorted_step(&cur, to, &found, limit)
                }
                Strategy::Narrowing => match feed::narrowing_step(&cur, to, range, &found, limit) {
                    Err(span) => {
                        cur = Cursor {
                            to: Some(to),
                            span,
                            ..cur
                        };
                        continue;
                    }
                    Ok(step) if step.hand.is_empty() && !step.closed => {
                        cur = step.next;
                        continue;
                    }
                    Ok(step) => step,
                },
            };
            let orders: Vec<OrderState> = step
                .hand
                .iter()
                .filter_map(|i| self.state_of(&entries[*i], &custom))
                .collect();
            self.remember(orders.iter().map(|o| (o.key.as_str(), o.status.as_str())));
            tracing::debug!(
                orders = orders.len(),
                from = step.next.from,
                lo = step.next.lo,
                closed = step.closed,
                "IdoSell changes"
            );
            return Ok(ChangesPage {
                orders,
                next_cursor: step.next.encode(),
                has_more: !step.closed,
                poll_after_ms: if step.closed {
                    step.held.map(|h| feed::until_settled(h, shop_now))
                } else {
                    None
                },
            });
        }
        // Many narrow ranges without a change in them: hand back the progress made.
        Ok(ChangesPage {
            orders: Vec::new(),
            next_cursor: Cursor {
                to: Some(to),
                ..cur
            }
            .encode(),
            has_more: true,
            poll_after_ms: None,
        })
    }

    async fn list_async(&self, req: &ListRequest) -> Result<ListPage, ConnectorError> {
        if req.unfulfilled_only {
            return Err(ConnectorError::permanent(
                "IdoSell cannot tell which orders are fulfilled (no sales-document state in the order search); list with created_since or keys",
            ));
        }
        let limit = u64::from(req.limit.clamp(1, BATCH as u32));
        let since = req.created_since.map(feed::local_stamp);
        let bad = || {
            ConnectorError::permanent(format!(
                "not an IdoSell listing cursor: {:?}",
                req.cursor.as_deref().unwrap_or_default()
            ))
        };
        if !req.keys.is_empty() {
            let start = match req.cursor.as_deref() {
                None | Some("") => 0,
                Some(c) => c
                    .strip_prefix("k")
                    .and_then(|n| n.parse::<usize>().ok())
                    .filter(|n| *n <= req.keys.len())
                    .ok_or_else(bad)?,
            };
            let end = (start + limit as usize).min(req.keys.len());
            let read = self
                .read_async(&ReadRequest {
                    keys: req.keys[start..end].to_vec(),
                })
                .await?;
            let orders = read
                .orders
                .into_iter()
                .filter(|o| {
                    req.created_since
                        .is_none_or(|t| o.created_at.is_some_and(|c| c >= t))
                })
                .collect();
            return Ok(ListPage {
                orders,
                next_cursor: (end < req.keys.len()).then(|| format!("k{end}")),
                total: None,
            });
        }
        let (lo, span) = match req.cursor.as_deref() {
            None | Some("") => (1, 0),
            Some(c) => {
                let mut parts = c.strip_prefix("l").ok_or_else(bad)?.split('.');
                let mut n = || {
                    parts
                        .next()
                        .and_then(|p| p.parse::<u64>().ok())
                        .ok_or_else(bad)
                };
                (n()?.max(1), n()?)
            }
        };
        let custom = self.custom_statuses(false).await?;
        let behaviour = self.behaviour(false).await?;
        let mut strategy = behaviour.strategy();
        // Add dates never move: the whole listing is one window over them.
        let window_from = since.unwrap_or(Stamp::MIN / 4);
        let window_to = Stamp::MAX / 4;
        let mut cur = Cursor {
            from: window_from,
            to: Some(window_to),
            lo,
            span,
        };
        for _ in 0..SEARCHES_PER_PAGE {
            let range = match strategy {
                Strategy::Sorted(_) => (cur.lo, feed::MAX_SERIAL),
                Strategy::Narrowing => feed::narrowing_range(&cur),
            };
            let search = Search {
                dates: since.map(|s| ("add", Some(behaviour.dates.request(s, s).0), None)),
                serials: Some(range),
                sort: match strategy {
                    Strategy::Sorted(name) => Some((name, false)),
                    Strategy::Narrowing => None,
                },
                limit,
                ..Search::default()
            };
            let (entries, found) = self.search_window(search, Self::added).await?;
            let step = match strategy {
                Strategy::Sorted(name) => {
                    if !found.ascending() {
                        self.sort_broken(name);
                        strategy = Strategy::Narrowing;
                        continue;
                    }
                    feed::sorted_step(&cur, window_to, &found, limit)
                }
                Strategy::Narrowing => {
                    match feed::narrowing_step(&cur, window_to, range, &found, limit) {
                        Err(span) => {
                            cur.span = span;
                            continue;
                        }
                        Ok(step) if step.hand.is_empty() && !step.closed => {
                            cur = step.next;
                            continue;
                        }
                        Ok(step) => step,
                    }
                }
            };
            let orders: Vec<OrderState> = step
                .hand
                .iter()
                .filter_map(|i| self.state_of(&entries[*i], &custom))
                .collect();
            let total = match strategy {
                Strategy::Sorted(_) if lo == 1 && since.is_none() => found.total,
                _ => None,
            };
            return Ok(ListPage {
                orders,
                next_cursor: (!step.closed)
                    .then(|| format!("l{}.{}", step.next.lo, step.next.span)),
                total,
            });
        }
        Ok(ListPage {
            orders: Vec::new(),
            next_cursor: Some(format!("l{}.{}", cur.lo, cur.span)),
            total: None,
        })
    }

    async fn read_async(&self, req: &ReadRequest) -> Result<ReadResponse, ConnectorError> {
        let mut out = ReadResponse::default();
        if req.keys.is_empty() {
            return Ok(out);
        }
        let custom = self.custom_statuses(false).await?;
        let (param, by_serial) = match self.config.order_key {
            OrderKey::SerialNumber => ("ordersSerialNumbers", true),
            OrderKey::OrderId => ("ordersIds", false),
        };
        for chunk in req.keys.chunks(BATCH) {
            let mut asked = Vec::with_capacity(chunk.len());
            for key in chunk {
                let valid = if by_serial {
                    key.trim().parse::<u64>().is_ok_and(|n| n > 0)
                } else {
                    !key.trim().is_empty() && !key.contains(',')
                };
                if valid {
                    asked.push(key.trim().to_owned());
                }
            }
            let mut found: HashMap<String, OrderState> = HashMap::new();
            if !asked.is_empty() {
                let query = [(param, asked.join(","))];
                let reply = self
                    .client
                    .call::<OrdersAnswer>(Method::Get, ORDERS, &query, None)
                    .await?;
                for entry in reply.body.results.iter().filter(|e| !e.is_error()) {
                    if let Some(state) = self.state_of(entry, &custom) {
                        found.insert(state.key.clone(), state);
                    }
                }
            }
            for key in chunk {
                match found.get(key.trim()) {
                    Some(state) => {
                        let mut state = state.clone();
                        state.key.clone_from(key);
                        out.orders.push(state);
                    }
                    None => out.missing.push(key.clone()),
                }
            }
        }
        self.remember(
            out.orders
                .iter()
                .map(|o| (o.key.as_str(), o.status.as_str())),
        );
        Ok(out)
    }

    async fn apply_async(&self, req: &ApplyRequest) -> Result<ApplyResponse, ConnectorError> {
        let mut outcomes = Vec::with_capacity(req.updates.len());
        for chunk in req.updates.chunks(BATCH) {
            outcomes.extend(self.apply_chunk(chunk).await?);
        }
        Ok(ApplyResponse { outcomes })
    }

    async fn apply_chunk(
        &self,
        chunk: &[StatusUpdate],
    ) -> Result<Vec<ApplyOutcome>, ConnectorError> {
        let mut outcomes: Vec<Option<ApplyOutcome>> = vec![None; chunk.len()];
        let mut sent: Vec<(usize, String)> = Vec::new();
        let mut orders = Vec::new();
        for (i, u) in chunk.iter().enumerate() {
            let Some(target) = statuses::target(&u.status) else {
                outcomes[i] = Some(ApplyOutcome::failed(&u.key, "bad_status", "empty status"));
                continue;
            };
            let mut order = Map::new();
            match self.config.order_key {
                OrderKey::SerialNumber => match u.key.trim().parse::<u64>() {
                    Ok(n) if n > 0 => {
                        order.insert("orderSerialNumber".into(), json!(n));
                    }
                    _ => {
                        outcomes[i] = Some(ApplyOutcome::failed(
                            &u.key,
                            "bad_key",
                            "not an IdoSell order serial number",
                        ));
                        continue;
                    }
                },
                OrderKey::OrderId => {
                    order.insert("orderId".into(), json!(u.key.trim()));
                }
            }
            let normalized = match &target {
                Target::Code(code) => {
                    order.insert("orderStatus".into(), json!(code));
                    code.clone()
                }
                Target::Id(id) => {
                    order.insert("orderStatusId".into(), json!(id));
                    id.to_string()
                }
            };
            if !self.config.notify_customers {
                order.insert(
                    "settings".into(),
                    json!({ "dontSendMail": "y", "dontSendSMS": "y" }),
                );
            }
            orders.push(Value::Object(order));
            sent.push((i, normalized));
        }
        if !orders.is_empty() {
            let body = requests::put(orders);
            match self
                .client
                .call::<PutAnswer>(Method::Put, ORDERS, &[], Some(&body))
                .await
            {
                Ok(reply) => self.match_outcomes(chunk, &sent, reply.body, &mut outcomes),
                Err(e) => match e.kind {
                    ErrorKind::Auth | ErrorKind::Config | ErrorKind::Internal => return Err(e),
                    kind => {
                        for (i, _) in &sent {
                            let key = &chunk[*i].key;
                            outcomes[*i] = Some(if kind.is_retryable() {
                                ApplyOutcome::retry(
                                    key,
                                    e.retry_after.map(|d| d.as_millis() as u64),
                                    kind.as_str(),
                                    e.message.clone(),
                                )
                            } else {
                                ApplyOutcome::failed(key, kind.as_str(), e.message.clone())
                            });
                        }
                    }
                },
            }
        }
        Ok(outcomes
            .into_iter()
            .zip(chunk)
            .map(|(o, u)| {
                o.unwrap_or_else(|| {
                    ApplyOutcome::retry(&u.key, None, "no_outcome", "the shop reported no outcome")
                })
            })
            .collect())
    }

    fn match_outcomes(
        &self,
        chunk: &[StatusUpdate],
        sent: &[(usize, String)],
        answer: PutAnswer,
        outcomes: &mut [Option<ApplyOutcome>],
    ) {
        let results = answer.results.map(|r| r.orders).unwrap_or_default();
        let same_key = |o: &PutOutcome, key: &str| match self.config.order_key {
            OrderKey::SerialNumber => {
                o.serial.map(|s| s.to_string()).as_deref() == Some(key.trim())
            }
            OrderKey::OrderId => o.order_id.as_deref() == Some(key.trim()),
        };
        let positional = results.len() == sent.len()
            && sent.iter().zip(&results).all(|((i, _), o)| {
                same_key(o, &chunk[*i].key) || (o.serial.is_none() && o.order_id.is_none())
            });
        if results.is_empty() {
            // No per-order results: a fault about the whole call, if any.
            if let Some(f) = answer.errors.as_ref().and_then(wire::Fault::from_value) {
                for (i, status) in sent {
                    let o = PutOutcome {
                        fault_code: f.code,
                        fault_string: Some(f.message.clone()),
                        ..PutOutcome::default()
                    };
                    outcomes[*i] = Some(self.classify(&chunk[*i].key, status, &o));
                }
            }
            return;
        }
        for (n, (i, status)) in sent.iter().enumerate() {
            let key = &chunk[*i].key;
            let found = if positional {
                results.get(n)
            } else {
                results.iter().find(|o| same_key(o, key))
            };
            if let Some(o) = found {
                outcomes[*i] = Some(self.classify(key, status, o));
            }
        }
    }

    fn classify(&self, key: &str, status: &str, o: &PutOutcome) -> ApplyOutcome {
        let message = o.fault_string.clone().unwrap_or_default();
        match o.fault_code {
            Some(0) | None if o.fault_code.is_some() || message.is_empty() => {
                let changed = self.known_status(key).as_deref() != Some(status);
                self.remember([(key, status)]);
                ApplyOutcome::done(key, changed)
            }
            // The status changed; only the customer's notification failed.
            Some(3) => {
                self.remember([(key, status)]);
                let mut done = ApplyOutcome::done(key, true);
                done.message = message;
                done
            }
            // "An error occurred during attempt to change order status": try again later.
            Some(4) => ApplyOutcome::retry(key, None, "4", message),
            Some(code) => ApplyOutcome::failed(key, code.to_string(), message),
            None => ApplyOutcome::failed(key, "unknown", message),
        }
    }
}

impl Connector for IdoSellConnector {
    fn check(&self) -> Result<CheckReport, ConnectorError> {
        sdk::block_on(async {
            let custom = self.custom_statuses(true).await?;
            let behaviour = self.behaviour(true).await?;
            Ok(CheckReport {
                details: format!(
                    "IdoSell Admin API at {}: {} custom statuses",
                    self.client.base(),
                    custom.len()
                ),
                findings: behaviour.findings(),
            })
        })
    }

    fn vocabulary(&self) -> Result<Vocabulary, ConnectorError> {
        sdk::block_on(async {
            let custom = self.custom_statuses(true).await?;
            Ok(statuses::vocabulary(&custom))
        })
    }

    fn changes(&self, request: &ChangesRequest) -> Result<ChangesPage, ConnectorError> {
        sdk::block_on(self.changes_async(request))
    }

    fn list(&self, request: &ListRequest) -> Result<ListPage, ConnectorError> {
        sdk::block_on(self.list_async(request))
    }

    fn read(&self, request: &ReadRequest) -> Result<ReadResponse, ConnectorError> {
        sdk::block_on(self.read_async(request))
    }

    fn apply(&self, request: &ApplyRequest) -> Result<ApplyResponse, ConnectorError> {
        sdk::block_on(self.apply_async(request))
    }

    fn api_usage(&self) -> ApiUsage {
        self.client.usage()
    }
}

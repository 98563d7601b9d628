//! The `idosell` connector: the change feed, reads and status changes of one shop.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use orderlink_plugin_api::model::{
    ApiUsage, ApplyOutcome, ApplyRequest, ApplyResponse, ChangesPage, ChangesRequest, CheckReport,
    OrderState, ReadRequest, ReadResponse, StatusUpdate, Vocabulary,
};
use orderlink_plugin_api::sdk::{self, Connector};
use orderlink_plugin_api::{ConnectorError, ErrorKind};
use serde_json::{json, Map, Value};

use crate::client::{ApiClient, Method};
use crate::config::{IdoSellConfig, OrderKey};
use crate::feed::{self, Cursor, Stamp};
use crate::statuses::{self, CustomStatus, Target};
use crate::wire::{self, OrderEntry, OrdersAnswer, PutAnswer, PutOutcome, StatusesAnswer};

/// The most orders one GET or PUT carries (the API's limit).
pub const BATCH: usize = 100;
/// How long the list of custom statuses is trusted before it is fetched again.
const CUSTOM_STATUSES_TTL: Duration = Duration::from_secs(600);
/// The most last-known statuses remembered (to tell whether an update changed anything).
const KNOWN_CAP: usize = 200_000;
/// The upper end of serial-number ranges.
const MAX_SERIAL: u64 = i32::MAX as u64;

const SEARCH: &str = "/orders/orders/search";
const ORDERS: &str = "/orders/orders";
const STATUSES: &str = "/orders/statuses";

fn order_by() -> Value {
    json!([
        { "elementName": "modification_time", "sortDirection": "ASC" },
        { "elementName": "id", "sortDirection": "ASC" }
    ])
}

/// One configured IdoSell shop.
#[derive(Debug)]
pub struct IdoSellConnector {
    config: IdoSellConfig,
    client: ApiClient,
    custom: Mutex<Option<(Instant, Vec<CustomStatus>)>>,
    known: Mutex<HashMap<String, String>>,
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

    async fn search(&self, params: Value) -> Result<SearchPage, ConnectorError> {
        let body = json!({ "params": params });
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

    async fn changes_async(&self, req: &ChangesRequest) -> Result<ChangesPage, ConnectorError> {
        let limit = u64::from(req.limit.clamp(1, BATCH as u32));
        let mut cur = match req.cursor.as_deref().map(str::trim) {
            Some(text) if !text.is_empty() => Cursor::decode(text)?,
            _ => {
                let lookback =
                    chrono::Duration::hours(i64::from(self.config.initial_lookback_hours));
                Cursor::at(feed::local_stamp(self.client.shop_now() - lookback))
            }
        };
        let custom = self.custom_statuses(false).await?;
        // At most: the rest of a crowded second, then one search onwards from the next second.
        for _ in 0..3 {
            if cur.after_serial > 0 && cur.in_second >= limit / 2 {
                match self.rest_of_second(&cur, limit, &custom).await? {
                    Some(page) => return Ok(page),
                    None => cur = cur.moved_to(cur.second + 1),
                }
            }
            match self.onwards(&cur, limit, &custom).await? {
                Some(page) => return Ok(page),
                // The page held only orders already returned: read the second by serial numbers.
                None => cur.in_second = u64::MAX,
            }
        }
        Err(ConnectorError::internal("the change feed made no progress"))
    }

    /// The status and change date of an order in a feed answer.
    fn position(entry: &OrderEntry) -> Option<(Stamp, u64)> {
        entry
            .details
            .as_ref()
            .and_then(|d| d.changed.as_deref())
            .and_then(feed::parse)
            .zip(entry.serial)
    }

    /// The orders changed in the cursor's (settled) second after its serial number, or `None`
    /// when there are none.
    async fn rest_of_second(
        &self,
        cur: &Cursor,
        limit: u64,
        custom: &[CustomStatus],
    ) -> Result<Option<ChangesPage>, ConnectorError> {
        let second = feed::format(cur.second);
        let params = json!({
            "ordersRange": {
                "ordersDateRange": { "ordersDateType": "modified",
                    "ordersDateBegin": second, "ordersDateEnd": second },
                "ordersSerialNumberRange": {
                    "ordersSerialNumberBegin": cur.after_serial + 1,
                    "ordersSerialNumberEnd": MAX_SERIAL }
            },
            "ordersBy": order_by(),
            "resultsPage": 0,
            "resultsLimit": limit
        });
        let Some(answer) = self.search(params).await?.0 else {
            return Ok(None);
        };
        let mut orders = Vec::new();
        let mut last = cur.after_serial;
        for entry in answer.results.iter().filter(|e| !e.is_error()) {
            let Some(state) = self.state_of(entry, custom) else {
                continue;
            };
            if let Some(serial) = entry.serial {
                last = last.max(serial);
                if cur.told(serial, cur.second, &state.status) {
                    continue;
                }
            }
            orders.push(state);
        }
        let returned = answer.results.len() as u64;
        let exhausted =
            answer.total.map_or(returned < limit, |t| t <= returned) || last == cur.after_serial;
        if last == cur.after_serial {
            tracing::warn!("the shop ignored the serial-number range of an order search");
        }
        let next = if exhausted {
            cur.moved_to(cur.second + 1)
        } else {
            let mut next = cur.clone();
            next.after_serial = last;
            next.in_second = cur.in_second.saturating_add(returned);
            next.prune();
            next
        };
        self.remember(orders.iter().map(|o| (o.key.as_str(), o.status.as_str())));
        tracing::debug!(
            orders = orders.len(),
            position = next.second,
            "IdoSell changes (rest of a second)"
        );
        Ok(Some(ChangesPage {
            orders,
            next_cursor: next.encode(),
            has_more: true,
            poll_after_ms: None,
        }))
    }

    /// The changes from the cursor on: settled ones by keyset, and on the last page the newest
    /// ones too (remembered in the tail). `None` when a full page held only changes at or before
    /// the cursor.
    async fn onwards(
        &self,
        cur: &Cursor,
        limit: u64,
        custom: &[CustomStatus],
    ) -> Result<Option<ChangesPage>, ConnectorError> {
        let shop_now = self.client.shop_now();
        let settled_est = feed::settled(shop_now);
        let params = json!({
            "ordersRange": { "ordersDateRange": { "ordersDateType": "modified",
                "ordersDateBegin": feed::format(cur.second),
                "ordersDateEnd": feed::format(feed::local_stamp(shop_now) + 3_600) } },
            "ordersBy": order_by(),
            "resultsPage": 0,
            "resultsLimit": limit
        });
        let (answer, sent_at) = self.search(params).await?;
        // Only seconds settled by the shop's own clock when it ran the search are final.
        let settled_now = sent_at.map_or(settled_est, |t| feed::settled(t).min(settled_est));
        let Some(answer) = answer else {
            return Ok(Some(ChangesPage {
                orders: Vec::new(),
                next_cursor: cur.moved_to(cur.second.max(settled_now + 1)).encode(),
                has_more: false,
                poll_after_ms: None,
            }));
        };
        let seen = (cur.second, cur.after_serial);
        let mut tail = cur.tail.clone();
        let mut orders = Vec::new();
        let mut last: Option<(Stamp, u64)> = None;
        let mut positions = Vec::with_capacity(answer.results.len());
        let mut beyond = false;
        let mut unsorted = false;
        for entry in answer.results.iter().filter(|e| !e.is_error()) {
            let Some(state) = self.state_of(entry, custom) else {
                continue;
            };
            let Some(p @ (stamp, serial)) = Self::position(entry) else {
                orders.push(state);
                continue;
            };
            if positions.last().is_some_and(|l| p < *l) {
                unsorted = true;
            }
            positions.push(p);
            let told = tail.get(&serial) == Some(&(stamp, feed::status_hash(&state.status)));
            if stamp > settled_now {
                // Not settled yet: return it now unless already told, and remember it.
                beyond = true;
                if told || (tail.len() >= feed::TAIL_CAP && !tail.contains_key(&serial)) {
                    continue;
                }
                tail.insert(serial, (stamp, feed::status_hash(&state.status)));
                orders.push(state);
                continue;
            }
            last = Some(last.map_or(p, |l| l.max(p)));
            if p <= seen {
                continue;
            }
            tail.remove(&serial);
            if !told {
                orders.push(state);
            }
        }
        if unsorted {
            tracing::warn!(
                "the shop did not sort the order search by change date; changes may be missed"
            );
        }
        let returned = answer.results.len() as u64;
        let complete = beyond || answer.total.map_or(returned < limit, |t| t <= returned);
        let (mut next, has_more) = match last {
            Some(p) if !complete && p <= seen => return Ok(None),
            Some((second, serial)) if !complete => {
                let in_second = positions.iter().filter(|p| p.0 == second).count() as u64;
                (
                    Cursor {
                        second,
                        after_serial: serial,
                        in_second,
                        tail,
                    },
                    true,
                )
            }
            _ => {
                let mut done = Cursor::at(cur.second.max(settled_now + 1));
                done.tail = tail;
                (done, false)
            }
        };
        next.prune();
        self.remember(orders.iter().map(|o| (o.key.as_str(), o.status.as_str())));
        tracing::debug!(
            orders = orders.len(),
            position = next.second,
            tail = next.tail.len(),
            has_more,
            "IdoSell changes"
        );
        Ok(Some(ChangesPage {
            orders,
            next_cursor: next.encode(),
            has_more,
            poll_after_ms: None,
        }))
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
            let body = json!({ "params": { "orders": orders } });
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
            Ok(CheckReport {
                details: format!(
                    "IdoSell Admin API at {}: {} custom statuses",
                    self.client.base(),
                    custom.len()
                ),
                findings: Vec::new(),
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

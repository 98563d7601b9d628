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
        let settled_est = feed::settled(self.client.shop_now());

        // The rest of a second that had more changes than one page.
        if cur.after_serial > 0 {
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
            match self.search(params).await? {
                (None, _) => cur = Cursor::at(cur.second + 1),
                (Some(answer), _) => {
                    let mut orders = Vec::new();
                    let mut last = cur.after_serial;
                    for entry in answer.results.iter().filter(|e| !e.is_error()) {
                        if let Some(state) = self.state_of(entry, &custom) {
                            orders.push(state);
                        }
                        if let Some(serial) = entry.serial {
                            last = last.max(serial);
                        }
                    }
                    let returned = answer.results.len() as u64;
                    let exhausted = answer.total.map_or(returned < limit, |t| t <= returned)
                        || last == cur.after_serial;
                    let next = if exhausted {
                        Cursor::at(cur.second + 1)
                    } else {
                        Cursor {
                            second: cur.second,
                            after_serial: last,
                        }
                    };
                    self.remember(orders.iter().map(|o| (o.key.as_str(), o.status.as_str())));
                    tracing::debug!(orders = orders.len(), cursor = %next.encode(), "IdoSell changes (rest of a second)");
                    return Ok(ChangesPage {
                        orders,
                        next_cursor: next.encode(),
                        has_more: !exhausted || next.second <= settled_est,
                    });
                }
            }
        }

        if cur.second > settled_est {
            return Ok(ChangesPage {
                orders: Vec::new(),
                next_cursor: cur.encode(),
                has_more: false,
            });
        }
        let params = json!({
            "ordersRange": { "ordersDateRange": { "ordersDateType": "modified",
                "ordersDateBegin": feed::format(cur.second),
                "ordersDateEnd": feed::format(settled_est) } },
            "ordersBy": order_by(),
            "resultsPage": 0,
            "resultsLimit": limit
        });
        let (answer, sent_at) = self.search(params).await?;
        // Trust only seconds settled by the shop's own clock when it ran the search.
        let settled_now = sent_at.map_or(settled_est, |t| feed::settled(t).min(settled_est));
        let done = Cursor::at(cur.second.max(settled_now + 1));
        let Some(answer) = answer else {
            return Ok(ChangesPage {
                orders: Vec::new(),
                next_cursor: done.encode(),
                has_more: false,
            });
        };
        let mut orders = Vec::new();
        let mut last: Option<(Stamp, u64)> = None;
        let mut beyond = false;
        let mut unsorted = false;
        for entry in answer.results.iter().filter(|e| !e.is_error()) {
            let position = entry
                .details
                .as_ref()
                .and_then(|d| d.changed.as_deref())
                .and_then(feed::parse)
                .zip(entry.serial);
            if let Some(p) = position {
                if last.is_some_and(|l| p < l) {
                    unsorted = true;
                }
                if p.0 > settled_now {
                    beyond = true;
                    continue;
                }
                last = Some(last.map_or(p, |l| l.max(p)));
            }
            if let Some(state) = self.state_of(entry, &custom) {
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
        let (next, has_more) = match last {
            Some((second, serial)) if !complete => (
                Cursor {
                    second,
                    after_serial: serial,
                },
                true,
            ),
            _ => (done, false),
        };
        self.remember(orders.iter().map(|o| (o.key.as_str(), o.status.as_str())));
        tracing::debug!(orders = orders.len(), cursor = %next.encode(), has_more, "IdoSell changes");
        Ok(ChangesPage {
            orders,
            next_cursor: next.encode(),
            has_more,
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

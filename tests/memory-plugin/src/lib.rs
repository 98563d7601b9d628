//! A connector plugin whose orders live in memory, for end-to-end tests, demos and benchmarks.
//!
//! It provides two connectors with the same behaviour: `memory-shop` (role shop) and
//! `memory-erp` (role ERP). Each instance starts from the orders in its config and forgets
//! everything when it is dropped:
//!
//! ```json
//! { "orders": [{ "key": "1001", "status": "new" }], "statuses": ["new", "packed", "sent"] }
//! ```
//!
//! Every status change takes the next number of the instance's change sequence; the change
//! feed's cursor is the last sequence number seen, and an order's version token is the number of
//! its last change. The plugin also counts the calls it gets and reports them as ABI 1.1
//! `api_usage`.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Utc};
use orderlink_plugin_api::model::{
    ApiUsage, ApplyOutcome, ApplyRequest, ApplyResponse, Capability, ChangesPage, ChangesRequest,
    CheckReport, ConnectorInfo, ConnectorRole, OrderState, OutcomeKind, ReadRequest, ReadResponse,
    StatusInfo, Vocabulary,
};
use orderlink_plugin_api::sdk::{parse_config, Connector};
use orderlink_plugin_api::{export_plugin, register_connector, ConnectorError};
use serde::Deserialize;
use serde_json::json;

export_plugin!(name = "memory", version = env!("CARGO_PKG_VERSION"));
register_connector!(shop_info, create);
register_connector!(erp_info, create);

/// The statuses known when the config lists none; the last two are closed.
pub const DEFAULT_STATUSES: [&str; 5] = ["new", "packed", "sent", "delivered", "cancelled"];

/// One order the instance starts with.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedOrder {
    key: String,
    status: String,
}

/// The config of both connectors.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    #[serde(default)]
    orders: Vec<SeedOrder>,
    #[serde(default)]
    statuses: Option<Vec<String>>,
}

fn config_schema() -> serde_json::Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "orders": {
                "description": "The orders the instance starts with.",
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["key", "status"],
                    "additionalProperties": false,
                    "properties": {
                        "key": { "type": "string", "minLength": 1 },
                        "status": { "type": "string" }
                    }
                }
            },
            "statuses": {
                "description": "The status vocabulary (default: new, packed, sent, delivered, cancelled).",
                "type": "array",
                "items": { "type": "string", "minLength": 1 },
                "minItems": 1
            }
        }
    })
}

fn capabilities() -> Vec<Capability> {
    vec![
        Capability::Changes,
        Capability::Read,
        Capability::Apply,
        Capability::CreatedAt,
        Capability::Preconditions,
        Capability::ApiUsage,
    ]
}

/// Describes `memory-shop`.
pub fn shop_info() -> ConnectorInfo {
    ConnectorInfo {
        name: "memory-shop".into(),
        role: ConnectorRole::Shop,
        description: "A shop whose orders live in memory (tests and demos)".into(),
        config_schema: config_schema(),
        capabilities: capabilities(),
    }
}

/// Describes `memory-erp`.
pub fn erp_info() -> ConnectorInfo {
    ConnectorInfo {
        name: "memory-erp".into(),
        role: ConnectorRole::Erp,
        description: "An ERP whose orders live in memory (tests and demos)".into(),
        config_schema: config_schema(),
        capabilities: capabilities(),
    }
}

/// Creates an instance of either connector from its config.
pub fn create(config: &serde_json::Value) -> Result<Box<dyn Connector>, ConnectorError> {
    Ok(Box::new(MemoryConnector::new(parse_config(config)?)?))
}

#[derive(Debug, Clone)]
struct Order {
    status: String,
    seq: u64,
    created_at: DateTime<Utc>,
    changed_at: DateTime<Utc>,
}

#[derive(Debug, Default)]
struct Store {
    last_seq: u64,
    orders: BTreeMap<String, Order>,
    calls: BTreeMap<String, u64>,
}

impl Store {
    fn count(&mut self, call: &str) {
        *self.calls.entry(call.to_owned()).or_default() += 1;
    }

    fn state(&self, key: &str, order: &Order) -> OrderState {
        OrderState {
            key: key.to_owned(),
            id: None,
            status: order.status.clone(),
            created_at: Some(order.created_at),
            changed_at: Some(order.changed_at),
            fulfilled: None,
            version: Some(order.seq.to_string()),
        }
    }
}

/// An instance of `memory-shop` or `memory-erp`.
#[derive(Debug)]
struct MemoryConnector {
    vocabulary: Vocabulary,
    store: Mutex<Store>,
}

impl MemoryConnector {
    fn new(config: Config) -> Result<Self, ConnectorError> {
        let codes: Vec<String> = match config.statuses {
            Some(list) if list.is_empty() => {
                return Err(ConnectorError::config("`statuses` must not be empty"))
            }
            Some(list) => list,
            None => DEFAULT_STATUSES.iter().map(|s| (*s).to_owned()).collect(),
        };
        let vocabulary = Vocabulary {
            statuses: codes
                .iter()
                .map(|code| StatusInfo {
                    code: code.clone(),
                    name: code.replace('_', " "),
                    aliases: Vec::new(),
                    closed: code == "delivered" || code == "cancelled",
                    optional: false,
                })
                .collect(),
        };
        let now = Utc::now();
        let mut store = Store::default();
        for seed in config.orders {
            if seed.key.is_empty() {
                return Err(ConnectorError::config("an order has an empty key"));
            }
            store.last_seq += 1;
            let order = Order {
                status: seed.status,
                seq: store.last_seq,
                created_at: now,
                changed_at: now,
            };
            if store.orders.insert(seed.key.clone(), order).is_some() {
                return Err(ConnectorError::config(format!(
                    "order `{}` is listed twice",
                    seed.key
                )));
            }
        }
        Ok(MemoryConnector {
            vocabulary,
            store: Mutex::new(store),
        })
    }

    fn store(&self, call: &str) -> MutexGuard<'_, Store> {
        // A panic while the lock was held leaves whole orders behind: the data stays usable.
        let mut store = self.store.lock().unwrap_or_else(PoisonError::into_inner);
        store.count(call);
        store
    }
}

impl Connector for MemoryConnector {
    fn check(&self) -> Result<CheckReport, ConnectorError> {
        let store = self.store("check");
        Ok(CheckReport {
            details: format!("{} orders in memory", store.orders.len()),
            findings: Vec::new(),
        })
    }

    fn vocabulary(&self) -> Result<Vocabulary, ConnectorError> {
        drop(self.store("vocabulary"));
        Ok(self.vocabulary.clone())
    }

    fn changes(&self, request: &ChangesRequest) -> Result<ChangesPage, ConnectorError> {
        let store = self.store("changes");
        let after = match request.cursor.as_deref() {
            None => 0,
            Some(text) => text.parse::<u64>().map_err(|_| {
                ConnectorError::permanent(format!("`{text}` is not a cursor of this connector"))
            })?,
        };
        let mut changed: Vec<(&String, &Order)> =
            store.orders.iter().filter(|(_, o)| o.seq > after).collect();
        changed.sort_by_key(|(_, o)| o.seq);
        let limit = usize::try_from(request.limit.max(1)).unwrap_or(usize::MAX);
        let has_more = changed.len() > limit;
        changed.truncate(limit);
        let next = changed.last().map_or(after, |(_, o)| o.seq);
        Ok(ChangesPage {
            orders: changed.iter().map(|(k, o)| store.state(k, o)).collect(),
            next_cursor: next.to_string(),
            has_more,
            poll_after_ms: None,
        })
    }

    fn read(&self, request: &ReadRequest) -> Result<ReadResponse, ConnectorError> {
        let store = self.store("read");
        let mut response = ReadResponse::default();
        for key in &request.keys {
            match store.orders.get(key) {
                Some(order) => response.orders.push(store.state(key, order)),
                None => response.missing.push(key.clone()),
            }
        }
        Ok(response)
    }

    fn apply(&self, request: &ApplyRequest) -> Result<ApplyResponse, ConnectorError> {
        let mut store = self.store("apply");
        let store = &mut *store;
        let mut outcomes = Vec::with_capacity(request.updates.len());
        for update in &request.updates {
            let Some(status) = self.vocabulary.resolve(&update.status) else {
                outcomes.push(ApplyOutcome::failed(
                    &update.key,
                    "unknown_status",
                    format!("`{}` is not a known status", update.status),
                ));
                continue;
            };
            let Some(order) = store.orders.get_mut(&update.key) else {
                outcomes.push(ApplyOutcome::failed(
                    &update.key,
                    "not_found",
                    format!("no order `{}`", update.key),
                ));
                continue;
            };
            let version = order.seq.to_string();
            if update
                .expected_version
                .as_ref()
                .is_some_and(|v| *v != version)
            {
                outcomes.push(ApplyOutcome::failed(
                    &update.key,
                    "conflict",
                    format!("the order is at version {version}"),
                ));
                continue;
            }
            let changed = order.status != status.code;
            if changed {
                store.last_seq += 1;
                order.status = status.code.clone();
                order.seq = store.last_seq;
                order.changed_at = Utc::now();
            }
            let mut outcome = ApplyOutcome::done(&update.key, changed);
            outcome.version = Some(order.seq.to_string());
            outcomes.push(outcome);
        }
        let done = outcomes
            .iter()
            .filter(|o| o.outcome == OutcomeKind::Done)
            .count();
        tracing::info!(
            target: "orderlink_memory::apply",
            done,
            failed = outcomes.len() - done,
            "applied a batch"
        );
        Ok(ApplyResponse { outcomes })
    }

    fn api_usage(&self) -> ApiUsage {
        let store = self.store.lock().unwrap_or_else(PoisonError::into_inner);
        ApiUsage {
            requests: store.calls.values().sum(),
            by_endpoint: store.calls.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use orderlink_plugin_api::model::StatusUpdate;

    fn shop() -> Box<dyn Connector> {
        let config =
            json!({"orders": [{"key": "1", "status": "new"}, {"key": "2", "status": "new"}]});
        create(&config).expect("a good config")
    }

    fn update(key: &str, status: &str) -> ApplyRequest {
        ApplyRequest {
            updates: vec![StatusUpdate {
                key: key.into(),
                status: status.into(),
                expected_version: None,
                expected_status: None,
            }],
        }
    }

    #[test]
    fn a_change_moves_the_order_to_the_end_of_the_feed() {
        let c = shop();
        let first = c
            .changes(&ChangesRequest {
                cursor: None,
                limit: 10,
            })
            .expect("changes");
        assert_eq!(first.orders.len(), 2);
        let out = c.apply(&update("1", "packed")).expect("apply");
        assert!(out.outcomes[0].changed);
        let next = c
            .changes(&ChangesRequest {
                cursor: Some(first.next_cursor),
                limit: 10,
            })
            .expect("changes");
        let keys: Vec<&str> = next.orders.iter().map(|o| o.key.as_str()).collect();
        assert_eq!(keys, ["1"]);
        assert_eq!(next.orders[0].status, "packed");
    }

    #[test]
    fn unknown_statuses_and_orders_fail_without_changing_anything() {
        let c = shop();
        let out = c.apply(&update("1", "teleported")).expect("apply");
        assert_eq!(out.outcomes[0].code, "unknown_status");
        let out = c.apply(&update("9", "packed")).expect("apply");
        assert_eq!(out.outcomes[0].code, "not_found");
        let read = c
            .read(&ReadRequest {
                keys: vec!["1".into()],
            })
            .expect("read");
        assert_eq!(read.orders[0].status, "new");
    }

    #[test]
    fn calls_are_counted() {
        let c = shop();
        c.check().expect("check");
        c.read(&ReadRequest::default()).expect("read");
        let usage = c.api_usage();
        assert_eq!(usage.requests, 2);
        assert_eq!(usage.by_endpoint.get("read"), Some(&1));
    }
}

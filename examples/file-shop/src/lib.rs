//! `file-shop`: an orderlink connector plugin, built outside the orderlink workspace, for a shop
//! whose orders live in a JSON file (see [`file`] for the format).
//!
//! Config: `{ "path": "orders.json", "statuses": [...] }`. `statuses` is optional: a list of
//! status codes or of `{ "code", "name", "aliases", "closed" }` objects; without it the shop
//! knows a set of IdoSell-like codes ([`DEFAULT_STATUSES`]).
//!
//! - Change feed: every status change the connector writes takes the next change number; the
//!   cursor is the `seq:key` of the last order returned, orders come in `(seq, key)` order, so a
//!   cursor can be replayed and a page boundary never skips an order.
//! - Apply: sets statuses and replaces the file atomically; setting the status an order already
//!   has changes nothing. An order in a closed status refuses other statuses.
//! - Version tokens: an order's version is its change number (usable as a precondition).
//! - API usage: file reads and writes.

pub mod file;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use chrono::Utc;
use orderlink_plugin_api::model::{
    ApiUsage, ApplyOutcome, ApplyRequest, ApplyResponse, Capability, ChangesPage, ChangesRequest,
    CheckReport, ConnectorInfo, ConnectorRole, OrderState, ReadRequest, ReadResponse, StatusInfo,
    Vocabulary,
};
use orderlink_plugin_api::sdk::{parse_config, Connector};
use orderlink_plugin_api::{export_plugin, register_connector, ConnectorError};
use serde::Deserialize;
use serde_json::json;

use crate::file::{OrderRecord, OrdersFile};

export_plugin!(name = "file-shop", version = env!("CARGO_PKG_VERSION"));
register_connector!(info, create);

/// The statuses a file shop knows unless its config lists others: `(code, name, closed)`.
pub const DEFAULT_STATUSES: [(&str, &str, bool); 8] = [
    ("new", "New", false),
    ("payment_waiting", "Awaiting payment", false),
    ("on_order", "Being processed", false),
    ("packed", "Being packed", false),
    ("ready", "Ready to ship", false),
    ("finished", "Shipped", true),
    ("canceled", "Cancelled by the customer", true),
    ("returned", "Returned", true),
];

/// One entry of the config's `statuses`: a bare code, or a full description.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum StatusSpec {
    Code(String),
    Full(StatusInfo),
}

/// The connector's config.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    /// The orders file.
    path: PathBuf,
    /// The status vocabulary.
    #[serde(default)]
    statuses: Option<Vec<StatusSpec>>,
}

fn info() -> ConnectorInfo {
    ConnectorInfo {
        name: "file-shop".into(),
        role: ConnectorRole::Shop,
        description: "A shop whose orders live in a JSON file".into(),
        config_schema: json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "required": ["path"],
            "additionalProperties": false,
            "properties": {
                "path": {
                    "description": "The orders file (JSON).",
                    "type": "string",
                    "minLength": 1
                },
                "statuses": {
                    "description": "The status vocabulary; default: IdoSell-like codes.",
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "oneOf": [
                            { "type": "string", "minLength": 1 },
                            {
                                "type": "object",
                                "required": ["code", "name"],
                                "properties": {
                                    "code": { "type": "string", "minLength": 1 },
                                    "name": { "type": "string" },
                                    "aliases": { "type": "array", "items": { "type": "string" } },
                                    "closed": { "type": "boolean" }
                                }
                            }
                        ]
                    }
                }
            }
        }),
        capabilities: vec![
            Capability::Changes,
            Capability::Read,
            Capability::Apply,
            Capability::CreatedAt,
            Capability::Preconditions,
            Capability::ApiUsage,
        ],
    }
}

fn status(code: &str, name: &str, closed: bool) -> Result<StatusInfo, ConnectorError> {
    // Built through serde so that fields a later model adds take their defaults.
    serde_json::from_value(json!({ "code": code, "name": name, "closed": closed }))
        .map_err(|e| ConnectorError::internal(format!("cannot describe status `{code}`: {e}")))
}

fn vocabulary(specs: Option<Vec<StatusSpec>>) -> Result<Vocabulary, ConnectorError> {
    let statuses = match specs {
        None => DEFAULT_STATUSES
            .iter()
            .map(|(code, name, closed)| status(code, name, *closed))
            .collect::<Result<Vec<_>, _>>()?,
        Some(specs) => specs
            .into_iter()
            .map(|spec| match spec {
                StatusSpec::Code(code) => status(&code, &code, false),
                StatusSpec::Full(info) => Ok(info),
            })
            .collect::<Result<Vec<_>, _>>()?,
    };
    if statuses.is_empty() {
        return Err(ConnectorError::config("`statuses` must not be empty"));
    }
    let mut codes = std::collections::BTreeSet::new();
    for s in &statuses {
        if s.code.trim().is_empty() {
            return Err(ConnectorError::config("a status has an empty code"));
        }
        if !codes.insert(s.code.as_str()) {
            return Err(ConnectorError::config(format!(
                "status `{}` is listed twice",
                s.code
            )));
        }
    }
    Ok(Vocabulary { statuses })
}

fn create(config: &serde_json::Value) -> Result<Box<dyn Connector>, ConnectorError> {
    let config: Config = parse_config(config)?;
    if config.path.as_os_str().is_empty() {
        return Err(ConnectorError::config("`path` must not be empty"));
    }
    Ok(Box::new(FileShop {
        path: config.path,
        vocabulary: vocabulary(config.statuses)?,
        lock: Mutex::new(()),
        reads: AtomicU64::new(0),
        writes: AtomicU64::new(0),
    }))
}

/// A cursor: the `(seq, key)` of the last order returned.
fn parse_cursor(text: &str) -> Result<(u64, String), ConnectorError> {
    text.split_once(':')
        .and_then(|(seq, key)| Some((seq.parse().ok()?, key.to_owned())))
        .ok_or_else(|| ConnectorError::permanent(format!("`{text}` is not a file-shop cursor")))
}

fn state(order: &OrderRecord) -> OrderState {
    OrderState {
        key: order.key.clone(),
        id: None,
        status: order.status.clone(),
        created_at: order.created_at,
        changed_at: order.changed_at,
        fulfilled: None,
        version: Some(order.seq.to_string()),
    }
}

/// A `file-shop` instance.
struct FileShop {
    path: PathBuf,
    vocabulary: Vocabulary,
    /// Serialises read-modify-write cycles within this process.
    lock: Mutex<()>,
    reads: AtomicU64,
    writes: AtomicU64,
}

impl FileShop {
    fn load(&self) -> Result<OrdersFile, ConnectorError> {
        self.reads.fetch_add(1, Ordering::Relaxed);
        OrdersFile::read(&self.path)
    }

    fn store(&self, file: &OrdersFile) -> Result<(), ConnectorError> {
        self.writes.fetch_add(1, Ordering::Relaxed);
        file.write(&self.path)
    }
}

impl Connector for FileShop {
    fn check(&self) -> Result<CheckReport, ConnectorError> {
        let file = self.load()?;
        Ok(CheckReport {
            details: format!("{} orders in {}", file.orders.len(), self.path.display()),
            findings: Vec::new(),
        })
    }

    fn vocabulary(&self) -> Result<Vocabulary, ConnectorError> {
        Ok(self.vocabulary.clone())
    }

    fn changes(&self, request: &ChangesRequest) -> Result<ChangesPage, ConnectorError> {
        let after = request.cursor.as_deref().map(parse_cursor).transpose()?;
        let file = self.load()?;
        let mut changed: Vec<&OrderRecord> = file
            .orders
            .iter()
            .filter(|o| match &after {
                None => true,
                Some((seq, key)) => (o.seq, &o.key) > (*seq, key),
            })
            .collect();
        changed.sort_by(|a, b| (a.seq, &a.key).cmp(&(b.seq, &b.key)));
        let limit = usize::try_from(request.limit.max(1)).unwrap_or(usize::MAX);
        let has_more = changed.len() > limit;
        changed.truncate(limit);
        let next_cursor = match (changed.last(), &after) {
            (Some(last), _) => format!("{}:{}", last.seq, last.key),
            (None, Some((seq, key))) => format!("{seq}:{key}"),
            // An empty file: the start, which sorts before every order.
            (None, None) => "0:".to_owned(),
        };
        Ok(ChangesPage {
            orders: changed.into_iter().map(state).collect(),
            next_cursor,
            has_more,
            poll_after_ms: None,
        })
    }

    fn read(&self, request: &ReadRequest) -> Result<ReadResponse, ConnectorError> {
        let file = self.load()?;
        let mut response = ReadResponse::default();
        for key in &request.keys {
            match file.orders.iter().find(|o| &o.key == key) {
                Some(order) => response.orders.push(state(order)),
                None => response.missing.push(key.clone()),
            }
        }
        Ok(response)
    }

    fn apply(&self, request: &ApplyRequest) -> Result<ApplyResponse, ConnectorError> {
        let _guard = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
        let mut file = self.load()?;
        let mut outcomes = Vec::with_capacity(request.updates.len());
        let mut dirty = false;
        for update in &request.updates {
            let Some(wanted) = self.vocabulary.resolve(&update.status) else {
                outcomes.push(ApplyOutcome::failed(
                    &update.key,
                    "unknown_status",
                    format!("`{}` is not a status of this shop", update.status),
                ));
                continue;
            };
            let next_seq = file.next_seq();
            let Some(order) = file.orders.iter_mut().find(|o| o.key == update.key) else {
                outcomes.push(ApplyOutcome::failed(
                    &update.key,
                    "not_found",
                    format!("no order `{}` in the file", update.key),
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
                    format!("the order changed: it is at version {version}"),
                ));
                continue;
            }
            if order.status == wanted.code {
                let mut outcome = ApplyOutcome::done(&update.key, false);
                outcome.version = Some(version);
                outcomes.push(outcome);
                continue;
            }
            let closed = self
                .vocabulary
                .resolve(&order.status)
                .is_some_and(|s| s.closed);
            if closed {
                outcomes.push(ApplyOutcome::failed(
                    &update.key,
                    "closed",
                    format!("the order is `{}`, a closed status", order.status),
                ));
                continue;
            }
            order.status = wanted.code.clone();
            order.seq = next_seq;
            order.changed_at = Some(Utc::now());
            file.last_seq = next_seq;
            dirty = true;
            let mut outcome = ApplyOutcome::done(&update.key, true);
            outcome.version = Some(next_seq.to_string());
            outcomes.push(outcome);
        }
        if dirty {
            self.store(&file)?;
        }
        Ok(ApplyResponse { outcomes })
    }

    fn api_usage(&self) -> ApiUsage {
        let reads = self.reads.load(Ordering::Relaxed);
        let writes = self.writes.load(Ordering::Relaxed);
        ApiUsage {
            requests: reads + writes,
            by_endpoint: [
                ("read_file".to_owned(), reads),
                ("write_file".to_owned(), writes),
            ]
            .into_iter()
            .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use orderlink_plugin_api::model::StatusUpdate;

    struct Shop {
        dir: PathBuf,
        connector: Box<dyn Connector>,
    }

    impl Drop for Shop {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    fn shop(name: &str, orders: serde_json::Value) -> Shop {
        let dir = std::env::temp_dir().join(format!("file-shop-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("orders.json");
        std::fs::write(&path, json!({ "orders": orders }).to_string()).expect("write");
        let connector = create(&json!({ "path": path })).expect("create");
        Shop { dir, connector }
    }

    fn set(c: &dyn Connector, key: &str, status: &str) -> ApplyOutcome {
        let mut response = c
            .apply(&ApplyRequest {
                updates: vec![StatusUpdate {
                    key: key.into(),
                    status: status.into(),
                    expected_version: None,
                    expected_status: None,
                }],
            })
            .expect("apply");
        response.outcomes.remove(0)
    }

    fn keys(page: &ChangesPage) -> Vec<&str> {
        page.orders.iter().map(|o| o.key.as_str()).collect()
    }

    #[test]
    fn pages_of_hand_written_orders_neither_skip_nor_repeat() {
        let shop = shop(
            "pages",
            json!([
                {"key": "b", "status": "new"},
                {"key": "a", "status": "new"},
                {"key": "c", "status": "new"}
            ]),
        );
        let c = shop.connector.as_ref();
        let first = c
            .changes(&ChangesRequest {
                cursor: None,
                limit: 2,
            })
            .expect("page 1");
        assert_eq!(keys(&first), ["a", "b"]);
        assert!(first.has_more);
        let second = c
            .changes(&ChangesRequest {
                cursor: Some(first.next_cursor),
                limit: 2,
            })
            .expect("page 2");
        assert_eq!(keys(&second), ["c"]);
        assert!(!second.has_more);
    }

    #[test]
    fn a_written_change_shows_once_after_the_cursor() {
        let shop = shop(
            "feed",
            json!([{"key": "1", "status": "new"}, {"key": "2", "status": "new"}]),
        );
        let c = shop.connector.as_ref();
        let start = c
            .changes(&ChangesRequest {
                cursor: None,
                limit: 100,
            })
            .expect("start");
        let outcome = set(c, "2", "Being packed");
        assert!(outcome.changed, "{outcome:?}");
        let next = c
            .changes(&ChangesRequest {
                cursor: Some(start.next_cursor),
                limit: 100,
            })
            .expect("after");
        assert_eq!(keys(&next), ["2"]);
        assert_eq!(next.orders[0].status, "packed");
        let after = c
            .changes(&ChangesRequest {
                cursor: Some(next.next_cursor),
                limit: 100,
            })
            .expect("end");
        assert!(after.orders.is_empty());
    }

    #[test]
    fn closed_orders_refuse_other_statuses() {
        let shop = shop("closed", json!([{"key": "1", "status": "finished"}]));
        let outcome = set(shop.connector.as_ref(), "1", "new");
        assert_eq!(outcome.code, "closed");
        let again = set(shop.connector.as_ref(), "1", "finished");
        assert_eq!((again.code.as_str(), again.changed), ("ok", false));
    }

    #[test]
    fn a_config_without_path_is_a_config_error() {
        let err = create(&json!({ "statuses": ["new"] }))
            .err()
            .expect("refused");
        assert_eq!(err.kind, orderlink_plugin_api::ErrorKind::Config);
    }
}

//! The data model that travels between the host and connectors.
//!
//! Requests and answers cross the ABI as JSON inside ABI strings, so these types can grow
//! (new optional fields) without breaking plugins built against an older version: unknown fields
//! are ignored on both sides and every field added later must have a default. An order's empty
//! optional fields are left out of the JSON (read back as `None`); timestamps are RFC 3339
//! strings (`crate::timestamp`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What a plugin library reports about itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// The plugin's name, e.g. `idosell`.
    pub plugin: String,
    /// The plugin's own version.
    pub version: String,
    /// The version of `orderlink-plugin-api` the plugin was built against (the ABI version).
    pub abi_version: String,
    /// The connectors this plugin provides.
    pub connectors: Vec<ConnectorInfo>,
}

/// Which side of a link a connector can stand on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectorRole {
    /// An e-shop (the source of orders).
    Shop,
    /// An ERP (where orders are booked).
    Erp,
}

/// A connector kind a plugin provides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectorInfo {
    /// Unique connector name, e.g. `idosell`.
    pub name: String,
    /// The side of a link it stands on.
    pub role: ConnectorRole,
    /// One line for people.
    #[serde(default)]
    pub description: String,
    /// JSON Schema of the connector's config; secret fields carry `"secret": true` (and
    /// `"writeOnly": true`).
    pub config_schema: serde_json::Value,
    /// What the connector can do.
    pub capabilities: Vec<Capability>,
}

impl ConnectorInfo {
    /// The names of the config fields that the schema marks as secret.
    pub fn secret_fields(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(props) = self
            .config_schema
            .get("properties")
            .and_then(|p| p.as_object())
        {
            for (name, prop) in props {
                if prop.get("secret").and_then(|s| s.as_bool()) == Some(true) {
                    out.push(name.clone());
                }
            }
        }
        out
    }
}

/// A capability a connector declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Capability {
    /// Reports status changes since a cursor.
    Changes,
    /// Reads orders by key.
    Read,
    /// Applies status updates.
    Apply,
    /// Knows whether an order is fulfilled (a sales document exists).
    Fulfilment,
    /// Knows when an order was created.
    CreatedAt,
    /// Reports how many API requests it made (ABI 1.1).
    ApiUsage,
    /// Reads a version token with each order and honours it as a precondition on apply.
    Preconditions,
    /// Lists the orders in a scope (ABI 1.2 `list`): first syncs, sweeps and reconciliation.
    List,
    /// Honours [`StatusUpdate::expected_status`] as a compare-and-set (ABI 1.2).
    CompareAndSet,
    /// A capability this host does not know (declared by a plugin built against a newer ABI).
    #[serde(other)]
    Unknown,
}

impl std::fmt::Display for Capability {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        f.write_str(&s)
    }
}

/// Outcome of a connector's self-check.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CheckReport {
    /// What the remote system said about itself (version, shop name...).
    #[serde(default)]
    pub details: String,
    /// What the connector found out about the live system's behaviour (ABI 1.2), e.g. whether
    /// a sort is honoured; `orderlink check` prints them.
    #[serde(default)]
    pub findings: Vec<Finding>,
}

/// One fact a connector found out about the live system during `check`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// A short stable name, e.g. `orders_sort_by_modification_time`.
    pub name: String,
    /// What was found, e.g. `honoured`, `ignored`, `inclusive`.
    pub value: String,
    /// One sentence for people: what it means for the sync.
    #[serde(default)]
    pub detail: String,
}

/// One status a connector's system knows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusInfo {
    /// The code the connector reports in orders and accepts in updates.
    pub code: String,
    /// The name people see in the system's UI.
    pub name: String,
    /// Other spellings that identify the same status in a mapping file (ids, panel names).
    #[serde(default)]
    pub aliases: Vec<String>,
    /// A closed (final) status: the system refuses or should not get further changes.
    #[serde(default)]
    pub closed: bool,
    /// A status a mapping may leave out (rarely used, e.g. enova365 `Odrzucony`); every other
    /// status of an ERP must be mapped for the direction into the shop.
    #[serde(default)]
    pub optional: bool,
}

/// The statuses a connector's system knows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vocabulary {
    /// Every known status.
    pub statuses: Vec<StatusInfo>,
}

impl Vocabulary {
    /// Finds a status by code, display name or alias (exact match first, then case-insensitive).
    pub fn resolve(&self, name: &str) -> Option<&StatusInfo> {
        let name = name.trim();
        self.statuses
            .iter()
            .find(|s| s.code == name || s.name == name || s.aliases.iter().any(|a| a == name))
            .or_else(|| {
                self.statuses.iter().find(|s| {
                    s.code.eq_ignore_ascii_case(name)
                        || s.name.eq_ignore_ascii_case(name)
                        || s.aliases.iter().any(|a| a.eq_ignore_ascii_case(name))
                })
            })
    }
}

/// The state of one order as a connector's system sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderState {
    /// The order key that joins the order across systems (e.g. IdoSell serial number = ZO
    /// `ObcyNumer`).
    pub key: String,
    /// The system's own id of the order, if different from the key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The current status code (may be one the vocabulary does not know).
    pub status: String,
    /// When the order was created.
    #[serde(
        default,
        with = "crate::timestamp",
        skip_serializing_if = "Option::is_none"
    )]
    pub created_at: Option<DateTime<Utc>>,
    /// When the order last changed.
    #[serde(
        default,
        with = "crate::timestamp",
        skip_serializing_if = "Option::is_none"
    )]
    pub changed_at: Option<DateTime<Utc>>,
    /// Whether the order is fulfilled (a sales document exists), where the system knows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fulfilled: Option<bool>,
    /// An opaque version token (e.g. a row stamp) usable as a precondition on apply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// Asks for status changes since a cursor.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangesRequest {
    /// The cursor returned by the previous page; `None` means "from the connector's start point".
    #[serde(default)]
    pub cursor: Option<String>,
    /// The most orders to return in this batch.
    pub limit: u32,
}

/// A batch of changed orders.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangesPage {
    /// Orders changed since the cursor (their current state).
    pub orders: Vec<OrderState>,
    /// The cursor to ask with next time. Opaque to the host.
    pub next_cursor: String,
    /// Whether more changes are ready right now.
    #[serde(default)]
    pub has_more: bool,
    /// The feed held back changes that become readable within this many milliseconds (e.g.
    /// until a second settles): poll again then rather than a whole interval later (ABI 1.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poll_after_ms: Option<u64>,
}

/// Asks for orders by key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadRequest {
    /// Order keys.
    pub keys: Vec<String>,
}

/// Orders found by key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadResponse {
    /// The orders found.
    pub orders: Vec<OrderState>,
    /// Keys the system does not know.
    #[serde(default)]
    pub missing: Vec<String>,
}

/// One status change to apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusUpdate {
    /// Order key.
    pub key: String,
    /// The status code to set.
    pub status: String,
    /// Apply only if the order still has this version token (see [`OrderState::version`]).
    #[serde(default)]
    pub expected_version: Option<String>,
    /// Apply only if the order's status is still this one, or already the target (a
    /// compare-and-set, ABI 1.2; connectors with [`Capability::CompareAndSet`] honour it and
    /// answer [`OutcomeKind::Conflict`] when it does not hold).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_status: Option<String>,
}

/// A batch of status changes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplyRequest {
    /// The updates, at most the connector's batch size.
    pub updates: Vec<StatusUpdate>,
}

/// What happened to one update.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeKind {
    /// Applied (or the order already had that status).
    Done,
    /// Not applied now; try again later.
    Retry,
    /// Will never succeed as asked.
    Failed,
    /// Refused because the order changed since it was read (a failed compare-and-set or a
    /// stale version, ABI 1.2): read it again before deciding.
    Conflict,
    /// An outcome this host does not know (from a plugin built against a newer ABI); the host
    /// treats it as `retry`.
    #[serde(other)]
    Unknown,
}

/// The outcome of one update.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplyOutcome {
    /// Order key.
    pub key: String,
    /// Done, retry or failed.
    pub outcome: OutcomeKind,
    /// For `done`: whether the status actually changed.
    #[serde(default)]
    pub changed: bool,
    /// For `retry`: how long to wait, if the system said.
    #[serde(default)]
    pub retry_after_ms: Option<u64>,
    /// The system's code (faultCode, error class...), `ok` when done.
    #[serde(default)]
    pub code: String,
    /// The system's message.
    #[serde(default)]
    pub message: String,
    /// The order's version after the write, if the system reports it.
    #[serde(default)]
    pub version: Option<String>,
}

impl ApplyOutcome {
    /// A successful outcome.
    pub fn done(key: impl Into<String>, changed: bool) -> Self {
        ApplyOutcome {
            key: key.into(),
            outcome: OutcomeKind::Done,
            changed,
            retry_after_ms: None,
            code: "ok".into(),
            message: String::new(),
            version: None,
        }
    }

    /// A retryable outcome.
    pub fn retry(
        key: impl Into<String>,
        retry_after_ms: Option<u64>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        ApplyOutcome {
            key: key.into(),
            outcome: OutcomeKind::Retry,
            changed: false,
            retry_after_ms,
            code: code.into(),
            message: message.into(),
            version: None,
        }
    }

    /// A permanent failure.
    pub fn failed(
        key: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        ApplyOutcome {
            key: key.into(),
            outcome: OutcomeKind::Failed,
            changed: false,
            retry_after_ms: None,
            code: code.into(),
            message: message.into(),
            version: None,
        }
    }
}

/// Outcomes of a batch, one per update, in any order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplyResponse {
    /// One outcome per update.
    pub outcomes: Vec<ApplyOutcome>,
}

/// Asks for the orders in a scope, page by page (ABI 1.2 `list`): not a change feed, a listing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListRequest {
    /// The cursor of the previous page; `None` for the first page.
    #[serde(default)]
    pub cursor: Option<String>,
    /// The most orders to return in this page.
    pub limit: u32,
    /// Only orders that are not fulfilled (no sales document yet).
    #[serde(default)]
    pub unfulfilled_only: bool,
    /// Only orders created at or after this moment.
    #[serde(default, with = "crate::timestamp")]
    pub created_since: Option<DateTime<Utc>>,
    /// Only these order keys (empty: all in scope).
    #[serde(default)]
    pub keys: Vec<String>,
}

/// One page of a listing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListPage {
    /// The orders of this page (their current state).
    pub orders: Vec<OrderState>,
    /// The cursor for the next page; `None` when the listing is complete.
    #[serde(default)]
    pub next_cursor: Option<String>,
    /// How many orders the whole listing holds, where the system says.
    #[serde(default)]
    pub total: Option<u64>,
}

/// API requests a connector made since it was created (ABI 1.1).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiUsage {
    /// Total requests sent to the remote system.
    pub requests: u64,
    /// Requests by endpoint or method.
    #[serde(default)]
    pub by_endpoint: std::collections::BTreeMap<String, u64>,
}

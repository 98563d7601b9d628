//! The JSON API: links with their state, dead letters (list, retry, discard), one order's
//! history. The status page reads the same functions.

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::auth::{may_write, same_origin};
use super::{blocking, AdminState, ApiError};
use crate::engine::live::LinkState;
use crate::store::{AuditEntry, DeadLetter};

/// One link as the API and the page show it: its config, its live state, its store counts.
#[derive(Debug, Clone, Serialize)]
pub struct LinkView {
    /// The link's name.
    pub link: String,
    /// Status sync on or off in the config.
    pub enabled: bool,
    /// `to_shop`, `to_erp` or `both`.
    pub direction: String,
    /// The shop endpoint.
    pub shop: String,
    /// The ERP endpoint.
    pub erp: String,
    /// What it is doing now (`off` when not running).
    pub state: LinkState,
    /// Whether it counts as ready for `/readyz`.
    pub ready: bool,
    /// Seconds since the oldest unapplied change was queued.
    pub lag_secs: f64,
    /// When its last cycle ended.
    pub last_cycle_at: Option<DateTime<Utc>>,
    /// When its last good cycle ended.
    pub last_success_at: Option<DateTime<Utc>>,
    /// The error of its last failed cycle or setup.
    pub last_error: Option<String>,
    /// Cycles run since start.
    pub cycles: u64,
    /// Writes applied since start.
    pub applied: u64,
    /// Writes pending in the outbox.
    pub pending: u64,
    /// Dead letters waiting for a decision.
    pub dead_letters: i64,
    /// The host running the link (several hosts sharing a store), if known.
    pub owner: Option<String>,
    /// The fencing epoch of its lease, if known.
    pub epoch: Option<u64>,
}

/// Every configured link, live state included (blocking: reads the store).
pub fn link_views(state: &AdminState) -> Result<Vec<LinkView>, ApiError> {
    let config = state.config();
    let store = state.store().ok();
    let now = Utc::now();
    let mut out = Vec::new();
    for link in config.links.values() {
        let live = state.live().get(&link.name);
        let dead_letters = store
            .as_ref()
            .and_then(|s| s.stats(std::slice::from_ref(&link.name)).ok())
            .and_then(|m| m.get(&link.name).map(|s| s.dead_letters))
            .unwrap_or(0);
        out.push(LinkView {
            link: link.name.clone(),
            enabled: link.enabled,
            direction: link.direction.as_str().to_owned(),
            shop: link.shop.clone(),
            erp: link.erp.clone(),
            state: live.as_ref().map(|l| l.state).unwrap_or(LinkState::Off),
            ready: live
                .as_ref()
                .map(|l| l.is_ready(now))
                .unwrap_or(!link.enabled),
            lag_secs: live.as_ref().map(|l| l.lag_secs(now)).unwrap_or(0.0),
            last_cycle_at: live.as_ref().and_then(|l| l.last_cycle_at),
            last_success_at: live.as_ref().and_then(|l| l.last_success_at),
            last_error: live.as_ref().and_then(|l| l.last_error.clone()),
            cycles: live.as_ref().map(|l| l.cycles).unwrap_or(0),
            applied: live.as_ref().map(|l| l.applied).unwrap_or(0),
            pending: live.as_ref().map(|l| l.pending).unwrap_or(0),
            owner: live.as_ref().and_then(|l| l.owner.clone()),
            epoch: live.as_ref().and_then(|l| l.epoch),
            dead_letters,
        });
    }
    Ok(out)
}

/// `GET /api/links`.
pub async fn links(State(state): State<AdminState>) -> Result<Json<Vec<LinkView>>, ApiError> {
    Ok(Json(blocking(move || link_views(&state)).await?))
}

/// Filters of the list calls.
#[derive(Debug, Default, Deserialize)]
pub struct LinkFilter {
    /// Only this link's.
    pub link: Option<String>,
}

/// `GET /api/dead-letters[?link=NAME]`.
pub async fn dead_letters(
    State(state): State<AdminState>,
    Query(filter): Query<LinkFilter>,
) -> Result<Json<Vec<DeadLetter>>, ApiError> {
    let list = blocking(move || {
        state
            .store()?
            .dead_letters(filter.link.as_deref())
            .map_err(ApiError::internal)
    })
    .await?;
    Ok(Json(list))
}

/// What to do with a dead letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadLetterAction {
    /// Back into the outbox, due now.
    Retry,
    /// Delete it.
    Discard,
}

impl DeadLetterAction {
    /// Parses the path segment.
    pub fn parse(text: &str) -> Result<Self, ApiError> {
        match text {
            "retry" => Ok(DeadLetterAction::Retry),
            "discard" => Ok(DeadLetterAction::Discard),
            other => Err(ApiError::not_found(format!(
                "no action `{other}` (valid: retry, discard)"
            ))),
        }
    }
    /// What was done, for messages.
    pub fn done(self) -> &'static str {
        match self {
            DeadLetterAction::Retry => "requeued",
            DeadLetterAction::Discard => "discarded",
        }
    }
}

/// Checks that a write request may go ahead (token, origin).
pub fn authorize(
    state: &AdminState,
    headers: &HeaderMap,
    token: Option<&str>,
) -> Result<(), ApiError> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    same_origin(header("origin"), header("host"))
        .map_err(|e| ApiError::forbidden(e.to_string()))?;
    let admin = state
        .admin()
        .ok_or_else(|| ApiError::forbidden("the admin server is off in the config"))?;
    let bearer = header("authorization").and_then(|v| v.strip_prefix("Bearer "));
    may_write(&admin, token.or(bearer)).map_err(|e| ApiError::forbidden(e.to_string()))
}

/// Retries or discards one dead letter (blocking).
pub fn apply_dead_letter_action(
    state: &AdminState,
    id: i64,
    action: DeadLetterAction,
) -> Result<(), ApiError> {
    let store = state.store()?;
    let found = match action {
        DeadLetterAction::Retry => store.retry_dead_letters(&[id]),
        DeadLetterAction::Discard => store.discard_dead_letters(&[id]),
    }
    .map_err(ApiError::internal)?
    .is_empty();
    if !found {
        return Err(ApiError::not_found(format!("no dead letter with id {id}")));
    }
    tracing::info!(
        id,
        "dead letter {id} {} from the admin server",
        action.done()
    );
    Ok(())
}

/// `POST /api/dead-letters/{id}/retry` and `.../discard` (token: `Authorization: Bearer`).
pub async fn dead_letter_action(
    State(state): State<AdminState>,
    Path((id, action)): Path<(i64, String)>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let action = DeadLetterAction::parse(&action)?;
    authorize(&state, &headers, None)?;
    blocking(move || apply_dead_letter_action(&state, id, action)).await?;
    Ok(Json(serde_json::json!({ "id": id, "done": action.done() })))
}

/// One order's audit trail (blocking).
pub fn order_history(
    state: &AdminState,
    key: &str,
    link: Option<&str>,
) -> Result<Vec<AuditEntry>, ApiError> {
    state
        .store()?
        .history(key, link)
        .map_err(ApiError::internal)
}

/// `GET /api/orders/{key}/history[?link=NAME]`.
pub async fn history(
    State(state): State<AdminState>,
    Path(key): Path<String>,
    Query(filter): Query<LinkFilter>,
) -> Result<Json<Vec<AuditEntry>>, ApiError> {
    let list = blocking(move || order_history(&state, &key, filter.link.as_deref())).await?;
    Ok(Json(list))
}

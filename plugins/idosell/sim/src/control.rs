//! The control API under `/_sim/` (no key, never faulted): seed orders, create orders, change
//! statuses as a shop operator would, define custom statuses, read request counters and set
//! faults and the rate limit. `plugins/idosell/README.md` documents it.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::api::json;
use crate::clock;
use crate::faults::{Faults, FaultsPatch};
use crate::shop::{NewOrder, Notify, Order, Shop, MAX_SEED_ORDERS};
use crate::state::AppState;
use crate::statuses::{self, CustomStatus};
use crate::wire::HistoryEntry;

/// The control routes.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/_sim/info", get(info))
        .route("/_sim/seed", post(seed))
        .route("/_sim/orders", post(create_order))
        .route("/_sim/orders/{serial}", get(show_order))
        .route("/_sim/orders/{serial}/status", post(change_status))
        .route("/_sim/orders/{serial}/touch", post(touch))
        .route("/_sim/bulk-status", post(bulk_status))
        .route("/_sim/statuses", get(list_statuses).post(define_status))
        .route("/_sim/counters", get(counters))
        .route("/_sim/counters/reset", post(reset_counters))
        .route("/_sim/faults", get(show_faults).post(set_faults))
        .route("/_sim/faults/clear", post(clear_faults))
        .route(
            "/_sim/rate-limit",
            get(show_rate_limit).post(set_rate_limit),
        )
        .route("/_sim/notifications", get(notifications))
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    json(status, &json!({ "error": message.into() }))
}

/// A control request body that does not parse.
struct BadBody(String);

impl BadBody {
    fn into_response(self) -> Response {
        error(StatusCode::UNPROCESSABLE_ENTITY, self.0)
    }
}

fn parse<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, BadBody> {
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|e| BadBody(format!("bad request body: {e}")))
}

/// An order as the control API shows it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderView {
    /// Serial number.
    pub order_serial_number: u64,
    /// Order id.
    pub order_id: String,
    /// Status code (a custom status shows its parent's code).
    pub order_status: String,
    /// Status id (the custom id for a custom status).
    pub order_status_id: u32,
    /// The status's panel name.
    pub status_name: String,
    /// `YYYY-MM-DD HH:MM:SS`.
    pub order_add_date: String,
    /// `YYYY-MM-DD HH:MM:SS`.
    pub order_change_date: String,
    /// Whether sales documents were issued.
    pub documents_issued: bool,
    /// The note.
    pub note: String,
    /// E-mails sent about status changes.
    pub mails_sent: u32,
    /// Text messages sent about status changes.
    pub sms_sent: u32,
    /// Status changes and edits.
    pub history: Vec<HistoryEntry>,
}

impl OrderView {
    fn of(shop: &Shop, o: &Order) -> Self {
        let status_name = shop
            .custom_statuses()
            .find(|c| c.id == o.status_id)
            .map(|c| c.panel_name.clone())
            .or_else(|| shop.built_in_of(o.status_id).map(|b| b.name.to_owned()))
            .unwrap_or_default();
        OrderView {
            order_serial_number: o.serial,
            order_id: o.id.clone(),
            order_status: shop.code_of(o.status_id).to_owned(),
            order_status_id: o.status_id,
            status_name,
            order_add_date: clock::format(o.added),
            order_change_date: clock::format(o.changed),
            documents_issued: o.documents_issued,
            note: o.note.clone(),
            mails_sent: o.mails_sent,
            sms_sent: o.sms_sent,
            history: o.history.iter().map(HistoryEntry::from_event).collect(),
        }
    }
}

async fn info(State(state): State<Arc<AppState>>) -> Response {
    let (orders, shop_login, custom) = {
        let shop = state.shop();
        (
            shop.len(),
            shop.login().to_owned(),
            shop.custom_statuses().count(),
        )
    };
    json(
        StatusCode::OK,
        &json!({
            "orders": orders,
            "shop": shop_login,
            "customStatuses": custom,
            "versions": state.config.versions,
            "rateLimit": state.rate_limit(),
            "ignoreSort": state.config.ignore_sort,
            "exclusiveDateEnd": state.config.exclusive_date_end,
            "now": clock::format(clock::now()),
        }),
    )
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedRequest {
    seed: u64,
    count: u64,
    shop: Option<String>,
}

async fn seed(State(state): State<Arc<AppState>>, body: Bytes) -> Response {
    let req: SeedRequest = match parse(&body) {
        Ok(r) => r,
        Err(r) => return r.into_response(),
    };
    if req.count > MAX_SEED_ORDERS {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("count must be at most {MAX_SEED_ORDERS}"),
        );
    }
    let mut shop = state.shop();
    let login = req.shop.unwrap_or_else(|| shop.login().to_owned());
    shop.seed(req.seed, req.count, &login, clock::now());
    json(
        StatusCode::OK,
        &json!({ "orders": shop.len(), "shop": login }),
    )
}

/// A status given either way.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct StatusChange {
    status: Option<String>,
    #[serde(alias = "status_id")]
    status_id: Option<u32>,
    #[serde(default)]
    force: bool,
    user: Option<String>,
}

fn resolve_any(shop: &Shop, code: Option<&str>, id: Option<u32>) -> Result<u32, String> {
    match (id, code) {
        (Some(id), _) if shop.knows_status(id) => Ok(id),
        (Some(id), _) => Err(format!("no status with id {id}")),
        (None, Some(code)) => statuses::by_code(code)
            .map(|s| s.id)
            .ok_or_else(|| format!("no status with code {code}")),
        (None, None) => Err("give status or statusId".into()),
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CreateOrder {
    order_serial_number: Option<u64>,
    order_id: Option<String>,
    order_status: Option<String>,
    order_status_id: Option<u32>,
    order_add_date: Option<String>,
    order_change_date: Option<String>,
    #[serde(default)]
    documents_issued: bool,
}

async fn create_order(State(state): State<Arc<AppState>>, body: Bytes) -> Response {
    let req: CreateOrder = match parse(&body) {
        Ok(r) => r,
        Err(r) => return r.into_response(),
    };
    let now = clock::now();
    let date = |text: &Option<String>, default: clock::Stamp| match text {
        None => Ok(default),
        Some(t) => clock::parse(t).ok_or_else(|| format!("bad date (YYYY-MM-DD HH:MM:SS): {t}")),
    };
    let mut shop = state.shop();
    let made = (|| {
        let status_id = match (req.order_status_id, req.order_status.as_deref()) {
            (None, None) => 1,
            (id, code) => resolve_any(&shop, code, id)?,
        };
        let added = date(&req.order_add_date, now)?;
        let changed = date(&req.order_change_date, added)?;
        shop.insert(NewOrder {
            serial: req.order_serial_number,
            id: req.order_id.clone(),
            status_id,
            added,
            changed,
            documents_issued: req.documents_issued,
        })
    })();
    match made.map(|serial| shop.order(serial).map(|o| OrderView::of(&shop, o))) {
        Ok(Some(view)) => json(StatusCode::CREATED, &view),
        Ok(None) => error(StatusCode::INTERNAL_SERVER_ERROR, "order vanished"),
        Err(e) => error(StatusCode::UNPROCESSABLE_ENTITY, e),
    }
}

async fn show_order(State(state): State<Arc<AppState>>, Path(serial): Path<u64>) -> Response {
    let shop = state.shop();
    match shop.order(serial) {
        Some(o) => json(StatusCode::OK, &OrderView::of(&shop, o)),
        None => error(StatusCode::NOT_FOUND, format!("no order {serial}")),
    }
}

async fn change_status(
    State(state): State<Arc<AppState>>,
    Path(serial): Path<u64>,
    body: Bytes,
) -> Response {
    let req: StatusChange = match parse(&body) {
        Ok(r) => r,
        Err(r) => return r.into_response(),
    };
    let mut shop = state.shop();
    if shop.order(serial).is_none() {
        return error(StatusCode::NOT_FOUND, format!("no order {serial}"));
    }
    let status_id = match resolve_any(&shop, req.status.as_deref(), req.status_id) {
        Ok(id) => id,
        Err(e) => return error(StatusCode::UNPROCESSABLE_ENTITY, e),
    };
    let user = req.user.as_deref().unwrap_or("operator");
    let quiet = Notify {
        mail: false,
        sms: false,
    };
    match shop.set_status(serial, status_id, clock::now(), user, quiet, !req.force) {
        Ok(changed) => {
            let view = shop.order(serial).map(|o| OrderView::of(&shop, o));
            json(
                StatusCode::OK,
                &json!({ "changed": changed, "order": view }),
            )
        }
        Err(refusal) => json(
            StatusCode::CONFLICT,
            &json!({ "faultCode": refusal.code, "faultString": refusal.message }),
        ),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Touch {
    note: Option<String>,
}

async fn touch(
    State(state): State<Arc<AppState>>,
    Path(serial): Path<u64>,
    body: Bytes,
) -> Response {
    let req: Touch = match parse(&body) {
        Ok(r) => r,
        Err(r) => return r.into_response(),
    };
    let mut shop = state.shop();
    let note = req
        .note
        .unwrap_or_else(|| format!("edited at {}", clock::format(clock::now())));
    if !shop.edit_note(serial, &note, clock::now(), "operator") {
        return error(StatusCode::NOT_FOUND, format!("no order {serial}"));
    }
    match shop.order(serial) {
        Some(o) => json(StatusCode::OK, &OrderView::of(&shop, o)),
        None => error(StatusCode::NOT_FOUND, format!("no order {serial}")),
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct BulkStatus {
    from: Option<u64>,
    to: Option<u64>,
    serials: Option<Vec<u64>>,
    status: Option<String>,
    #[serde(alias = "status_id")]
    status_id: Option<u32>,
    #[serde(default)]
    force: bool,
}

async fn bulk_status(State(state): State<Arc<AppState>>, body: Bytes) -> Response {
    let req: BulkStatus = match parse(&body) {
        Ok(r) => r,
        Err(r) => return r.into_response(),
    };
    let mut shop = state.shop();
    let status_id = match resolve_any(&shop, req.status.as_deref(), req.status_id) {
        Ok(id) => id,
        Err(e) => return error(StatusCode::UNPROCESSABLE_ENTITY, e),
    };
    let serials: Vec<u64> = match (req.serials, req.from, req.to) {
        (Some(list), None, None) => list,
        (None, Some(from), Some(to)) if from <= to && to - from < 1_000_000 => {
            (from..=to).collect()
        }
        _ => {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "give either serials or from and to (from <= to)",
            )
        }
    };
    let now = clock::now();
    let quiet = Notify {
        mail: false,
        sms: false,
    };
    let (mut changed, mut unchanged, mut refused, mut missing) = (0u64, 0u64, 0u64, 0u64);
    for serial in serials {
        if shop.order(serial).is_none() {
            missing += 1;
            continue;
        }
        match shop.set_status(serial, status_id, now, "operator", quiet, !req.force) {
            Ok(true) => changed += 1,
            Ok(false) => unchanged += 1,
            Err(_) => refused += 1,
        }
    }
    json(
        StatusCode::OK,
        &json!({ "changed": changed, "unchanged": unchanged, "refused": refused, "missing": missing }),
    )
}

async fn list_statuses(State(state): State<Arc<AppState>>) -> Response {
    let custom: Vec<CustomStatus> = state.shop().custom_statuses().cloned().collect();
    json(StatusCode::OK, &json!({ "statuses": custom }))
}

async fn define_status(State(state): State<Arc<AppState>>, body: Bytes) -> Response {
    let req: CustomStatus = match parse(&body) {
        Ok(r) => r,
        Err(r) => return r.into_response(),
    };
    let mut shop = state.shop();
    match shop.define_status(req) {
        Ok(()) => {
            let custom: Vec<CustomStatus> = shop.custom_statuses().cloned().collect();
            json(StatusCode::OK, &json!({ "statuses": custom }))
        }
        Err(e) => error(StatusCode::UNPROCESSABLE_ENTITY, e),
    }
}

async fn counters(State(state): State<Arc<AppState>>) -> Response {
    let mut all: BTreeMap<String, u64> = state.counters();
    let total = all.values().sum();
    all.insert("total".into(), total);
    json(StatusCode::OK, &all)
}

async fn reset_counters(State(state): State<Arc<AppState>>) -> Response {
    state.reset_counters();
    json(StatusCode::OK, &json!({ "total": 0 }))
}

async fn show_faults(State(state): State<Arc<AppState>>) -> Response {
    let faults = state.faults().faults().clone();
    json(StatusCode::OK, &faults)
}

async fn set_faults(State(state): State<Arc<AppState>>, body: Bytes) -> Response {
    let patch: FaultsPatch = match parse(&body) {
        Ok(r) => r,
        Err(r) => return r.into_response(),
    };
    let mut faults = state.faults();
    let next = faults.faults().patched(&patch);
    if let Err(e) = next.validate() {
        return error(StatusCode::UNPROCESSABLE_ENTITY, e);
    }
    faults.set(next.clone());
    json(StatusCode::OK, &next)
}

async fn clear_faults(State(state): State<Arc<AppState>>) -> Response {
    state.faults().set(Faults::default());
    json(StatusCode::OK, &Faults::default())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RateLimitRequest {
    #[serde(alias = "perSecond")]
    per_second: u32,
}

async fn show_rate_limit(State(state): State<Arc<AppState>>) -> Response {
    json(StatusCode::OK, &json!({ "per_second": state.rate_limit() }))
}

async fn set_rate_limit(State(state): State<Arc<AppState>>, body: Bytes) -> Response {
    let req: RateLimitRequest = match parse(&body) {
        Ok(r) => r,
        Err(r) => return r.into_response(),
    };
    state.set_rate_limit(req.per_second);
    json(StatusCode::OK, &json!({ "per_second": req.per_second }))
}

async fn notifications(State(state): State<Arc<AppState>>) -> Response {
    let (mail, sms) = state.shop().notifications();
    json(StatusCode::OK, &json!({ "mail": mail, "sms": sms }))
}

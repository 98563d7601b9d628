//! The control API under `/_sim/` (JSON, no credentials, never faulted): seed documents, act on
//! them as an ERP user would, read request counters, set fault rates and settings.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, MutexGuard};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::faults::FaultRates;
use crate::model::{format_local, parse_local, Zo};
use crate::model::{Potwierdzenie, SalesKind, Stan};
use crate::seed::{seed, SeedRequest};
use crate::store::{today_local, ActionError, NewZo, Store, USER};
use crate::AppState;

/// The control routes.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/_sim/state", get(state))
        .route("/_sim/seed", post(seed_documents))
        .route("/_sim/documents", post(create_document))
        .route("/_sim/documents/{id}", get(get_by_id).patch(edit_by_id))
        .route(
            "/_sim/documents/by-obcy/{obcy}",
            get(get_by_obcy).patch(edit_by_obcy),
        )
        .route("/_sim/documents/{id}/{action}", post(act_by_id))
        .route("/_sim/documents/by-obcy/{obcy}/{action}", post(act_by_obcy))
        .route("/_sim/counters", get(counters))
        .route("/_sim/counters/reset", post(reset_counters))
        .route("/_sim/faults", get(get_faults).post(set_faults))
        .route("/_sim/settings", get(get_settings).post(set_settings))
        .route("/_sim/load", post(load_documents))
        .route("/_sim/clock", get(get_clock).post(set_clock))
        .route("/_sim/sessions", get(sessions))
        .route("/_sim/sessions/expire", post(expire_sessions))
}

/// A refused control call: a status and a message, sent as `{"error": "..."}`.
#[derive(Debug)]
struct Failure(StatusCode, String);

impl Failure {
    fn new(status: StatusCode, message: impl std::fmt::Display) -> Self {
        Failure(status, message.to_string())
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

impl From<ActionError> for Failure {
    fn from(e: ActionError) -> Self {
        match e {
            ActionError::NotFound(m) => Failure(StatusCode::NOT_FOUND, m),
            ActionError::Refused(m) => Failure(StatusCode::CONFLICT, m),
        }
    }
}

type Answer = Result<Response, Failure>;

fn lock(app: &AppState) -> Result<MutexGuard<'_, Store>, Failure> {
    app.store
        .lock()
        .map_err(|_| Failure::new(StatusCode::INTERNAL_SERVER_ERROR, "the store is poisoned"))
}

/// How a route names a document.
enum Target {
    Id(String),
    Obcy(String),
}

impl Target {
    fn resolve(&self, store: &Store) -> Result<u64, Failure> {
        match self {
            Target::Id(raw) => raw
                .parse::<u64>()
                .ok()
                .filter(|id| store.get(*id).is_some())
                .ok_or_else(|| Failure::new(StatusCode::NOT_FOUND, format!("no ZO with ID {raw}"))),
            Target::Obcy(o) => store.id_by_obcy(o).ok_or_else(|| {
                Failure::new(StatusCode::NOT_FOUND, format!("no ZO with ObcyNumer {o}"))
            }),
        }
    }
}

fn document(store: &Store, id: u64) -> Answer {
    store
        .get(id)
        .map(|d| Json(d.view()).into_response())
        .ok_or_else(|| Failure::new(StatusCode::NOT_FOUND, format!("no ZO with ID {id}")))
}

async fn state(State(app): State<Arc<AppState>>) -> Answer {
    let s = lock(&app)?;
    Ok(Json(json!({ "documents": s.len(), "now": format_local(s.now()) })).into_response())
}

async fn seed_documents(
    State(app): State<Arc<AppState>>,
    Json(request): Json<SeedRequest>,
) -> Answer {
    let mut store = lock(&app)?;
    let n = seed(&mut store, &request).map_err(|e| Failure::new(StatusCode::BAD_REQUEST, e))?;
    tracing::info!(documents = n, seed = request.seed, "seeded");
    Ok(Json(json!({ "documents": n })).into_response())
}

/// The body of `POST /_sim/documents`; every field is optional.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct NewDocument {
    obcy_numer: Option<String>,
    potwierdzenie: Option<Value>,
    stan: Option<Value>,
    data: Option<String>,
    cechy: Option<BTreeMap<String, String>>,
}

fn parse_date(raw: &str) -> Result<chrono::NaiveDate, Failure> {
    chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| {
        Failure::new(
            StatusCode::BAD_REQUEST,
            format!("Data `{raw}` is not YYYY-MM-DD"),
        )
    })
}

fn bad_request(what: &str) -> Failure {
    Failure::new(StatusCode::BAD_REQUEST, what)
}

async fn create_document(
    State(app): State<Arc<AppState>>,
    Json(body): Json<NewDocument>,
) -> Answer {
    let stan = match &body.stan {
        None => Stan::Bufor,
        Some(v) => Stan::from_value(v).ok_or_else(|| bad_request("unknown Stan"))?,
    };
    let potwierdzenie = match &body.potwierdzenie {
        None => Potwierdzenie::Niepotwierdzony,
        Some(v) => {
            Potwierdzenie::from_value(v).ok_or_else(|| bad_request("unknown Potwierdzenie"))?
        }
    };
    let data = match body.data.as_deref() {
        None => today_local(),
        Some(raw) => parse_date(raw)?,
    };
    let mut store = lock(&app)?;
    let new = NewZo {
        obcy_numer: body.obcy_numer.unwrap_or_default(),
        cechy: body.cechy.unwrap_or_default(),
        data,
        stan,
        potwierdzenie,
        guid: None,
        sales: vec![],
        zmieniono: None,
        operator: None,
    };
    let zo = store.insert(new)?;
    Ok((StatusCode::CREATED, Json(zo.view())).into_response())
}

async fn get_by_id(State(app): State<Arc<AppState>>, Path(id): Path<String>) -> Answer {
    show(&app, Target::Id(id))
}

async fn get_by_obcy(State(app): State<Arc<AppState>>, Path(obcy): Path<String>) -> Answer {
    show(&app, Target::Obcy(obcy))
}

fn show(app: &AppState, target: Target) -> Answer {
    let store = lock(app)?;
    let id = target.resolve(&store)?;
    document(&store, id)
}

/// The body of `PATCH /_sim/documents/...`: an ERP user edits the document.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct EditDocument {
    obcy_numer: Option<String>,
    cechy: Option<BTreeMap<String, String>>,
    data: Option<String>,
}

async fn edit_by_id(
    State(app): State<Arc<AppState>>,
    Path(id): Path<String>,
    Json(body): Json<EditDocument>,
) -> Answer {
    edit(&app, Target::Id(id), body)
}

async fn edit_by_obcy(
    State(app): State<Arc<AppState>>,
    Path(obcy): Path<String>,
    Json(body): Json<EditDocument>,
) -> Answer {
    edit(&app, Target::Obcy(obcy), body)
}

fn edit(app: &AppState, target: Target, body: EditDocument) -> Answer {
    let data = body.data.as_deref().map(parse_date).transpose()?;
    let mut store = lock(app)?;
    let id = target.resolve(&store)?;
    store.edit(id, body.obcy_numer, body.cechy, data)?;
    document(&store, id)
}

/// The body of `POST .../potwierdzenie`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ValueBody {
    value: Value,
}

async fn act_by_id(
    State(app): State<Arc<AppState>>,
    Path((id, action)): Path<(String, String)>,
    body: Bytes,
) -> Answer {
    act(&app, Target::Id(id), &action, &body)
}

async fn act_by_obcy(
    State(app): State<Arc<AppState>>,
    Path((obcy, action)): Path<(String, String)>,
    body: Bytes,
) -> Answer {
    act(&app, Target::Obcy(obcy), &action, &body)
}

/// Runs a user action; answers the document afterwards.
fn act(app: &AppState, target: Target, action: &str, body: &[u8]) -> Answer {
    let mut store = lock(app)?;
    let id = target.resolve(&store)?;
    match action {
        "potwierdzenie" => {
            let value = serde_json::from_slice::<ValueBody>(body)
                .map_err(|e| {
                    bad_request(&format!("expected {{\"value\": \"Potwierdzony\"}}: {e}"))
                })?
                .value;
            let value = Potwierdzenie::from_value(&value)
                .ok_or_else(|| bad_request(&format!("unknown Potwierdzenie {value}")))?;
            store.set_potwierdzenie(id, value, USER).map(drop)
        }
        "approve" => store.approve(id).map(drop),
        "invoice" => store.issue_sales(id, SalesKind::Invoice).map(drop),
        "receipt" => store.issue_sales(id, SalesKind::Receipt).map(drop),
        "cancel" => store.cancel(id).map(drop),
        "lock" => store.lock(id).map(drop),
        "unlock" => store.unlock(id).map(drop),
        other => {
            return Err(Failure::new(
                StatusCode::NOT_FOUND,
                format!(
                    "unknown action `{other}` (potwierdzenie, approve, invoice, receipt, cancel, lock, unlock)"
                ),
            ))
        }
    }?;
    tracing::debug!(id, action, "user action");
    document(&store, id)
}

async fn counters(State(app): State<Arc<AppState>>) -> Response {
    Json(app.counters.snapshot()).into_response()
}

async fn reset_counters(State(app): State<Arc<AppState>>) -> Response {
    app.counters.reset();
    Json(app.counters.snapshot()).into_response()
}

async fn get_faults(State(app): State<Arc<AppState>>) -> Response {
    Json(app.faults.rates()).into_response()
}

async fn set_faults(State(app): State<Arc<AppState>>, Json(rates): Json<FaultRates>) -> Answer {
    app.faults.set(rates).map_err(|e| bad_request(&e))?;
    tracing::info!(rates = ?app.faults.rates(), "fault rates set");
    Ok(Json(app.faults.rates()).into_response())
}

/// Runtime settings (`GET`/`POST /_sim/settings`); a `POST` changes the fields it names.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    /// Send `ResultInstance` as a string holding JSON.
    #[serde(skip_serializing_if = "Option::is_none")]
    result_as_string: Option<bool>,
    /// Serve the legacy MethodInvoker endpoint.
    #[serde(skip_serializing_if = "Option::is_none")]
    method_invoker: Option<bool>,
    /// Dynamic WebAPI sessions end after this many milliseconds without a request.
    #[serde(skip_serializing_if = "Option::is_none")]
    session_idle_ms: Option<u64>,
}

fn settings(app: &AppState) -> Settings {
    Settings {
        result_as_string: Some(app.result_as_string.load(Ordering::Relaxed)),
        method_invoker: Some(app.method_invoker.load(Ordering::Relaxed)),
        session_idle_ms: Some(app.session_idle_ms.load(Ordering::Relaxed)),
    }
}

async fn get_settings(State(app): State<Arc<AppState>>) -> Response {
    Json(settings(&app)).into_response()
}

async fn set_settings(State(app): State<Arc<AppState>>, Json(s): Json<Settings>) -> Response {
    if let Some(v) = s.result_as_string {
        app.result_as_string.store(v, Ordering::Relaxed);
    }
    if let Some(v) = s.method_invoker {
        app.method_invoker.store(v, Ordering::Relaxed);
    }
    if let Some(v) = s.session_idle_ms {
        app.session_idle_ms.store(v, Ordering::Relaxed);
    }
    Json(settings(&app)).into_response()
}

/// The body of `POST /_sim/load`: exact documents (a contract example's `documents`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LoadRequest {
    documents: Vec<LoadedZo>,
}

/// One document to load, as the contract examples write it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct LoadedZo {
    #[serde(rename = "ID")]
    id: u64,
    guid: String,
    numer_pelny: String,
    data: String,
    stan: Value,
    potwierdzenie: Value,
    obcy_numer: String,
    #[serde(default)]
    cechy: BTreeMap<String, String>,
    #[serde(default)]
    dokumenty_sprzedazy: Vec<String>,
    zmieniono: String,
    operator: String,
}

impl LoadedZo {
    fn into_zo(self) -> Result<Zo, Failure> {
        let numer = self
            .numer_pelny
            .split('/')
            .nth(1)
            .and_then(|n| n.parse::<u64>().ok())
            .ok_or_else(|| {
                bad_request(&format!(
                    "NumerPelny `{}` is not ZO/N/YYYY",
                    self.numer_pelny
                ))
            })?;
        Ok(Zo {
            id: self.id,
            guid: self.guid,
            numer,
            data: parse_date(&self.data)?,
            stan: Stan::from_value(&self.stan).ok_or_else(|| bad_request("unknown Stan"))?,
            potwierdzenie: Potwierdzenie::from_value(&self.potwierdzenie)
                .ok_or_else(|| bad_request("unknown Potwierdzenie"))?,
            obcy_numer: self.obcy_numer.trim().to_owned(),
            cechy: self.cechy,
            sales: self.dokumenty_sprzedazy,
            zmieniono: parse_local(&self.zmieniono).ok_or_else(|| {
                bad_request(&format!("Zmieniono `{}` is not a time", self.zmieniono))
            })?,
            operator: self.operator,
        })
    }
}

async fn load_documents(State(app): State<Arc<AppState>>, Json(body): Json<LoadRequest>) -> Answer {
    let docs = body
        .documents
        .into_iter()
        .map(LoadedZo::into_zo)
        .collect::<Result<Vec<_>, _>>()?;
    let mut store = lock(&app)?;
    store.load(docs)?;
    Ok(Json(json!({ "documents": store.len() })).into_response())
}

/// The body of `POST /_sim/clock`: freeze at a time, or `null` to let it run.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClockRequest {
    now: Option<String>,
}

async fn get_clock(State(app): State<Arc<AppState>>) -> Answer {
    let store = lock(&app)?;
    Ok(Json(json!({ "now": format_local(store.now()) })).into_response())
}

async fn set_clock(State(app): State<Arc<AppState>>, Json(body): Json<ClockRequest>) -> Answer {
    let at = match body.now.as_deref() {
        None => None,
        Some(raw) => Some(
            parse_local(raw)
                .ok_or_else(|| bad_request(&format!("`{raw}` is not an ISO 8601 time")))?,
        ),
    };
    let mut store = lock(&app)?;
    store.freeze(at);
    Ok(Json(json!({ "now": format_local(store.now()), "frozen": at.is_some() })).into_response())
}

async fn sessions(State(app): State<Arc<AppState>>) -> Response {
    Json(json!({ "open": app.sessions.len() })).into_response()
}

async fn expire_sessions(State(app): State<Arc<AppState>>) -> Response {
    app.sessions.clear();
    Json(json!({ "open": 0 })).into_response()
}

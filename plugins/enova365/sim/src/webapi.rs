//! `POST /api/MethodInvoker/InvokeServiceMethod`: the Soneta WebAPI generic endpoint with the
//! order service (`PobierzZamowienia`, `UstawPotwierdzenia`, `PobierzPotwierdzenia`) behind it.
//!
//! Every answer to a well-formed JSON body is HTTP 200 with `IsException`, `ExceptionMessage` and
//! `ResultInstance`; injected faults (see [`crate::faults`]) come first. Exception messages never
//! repeat the database, operator or password.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::faults::Fault;
use crate::model::Potwierdzenie;
use crate::server::ConnectionControl;
use crate::store::{ActionError, Query};
use crate::AppState;

/// The path of the endpoint.
pub const PATH: &str = "/api/MethodInvoker/InvokeServiceMethod";

/// The most documents one `UstawPotwierdzenia` call may change.
pub const MAX_CHANGES: usize = 100;

const MAX_BODY: usize = 16 * 1024 * 1024;

/// The request body (fields as the WebAPI names them).
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Invocation {
    database_handle: Option<String>,
    operator: Option<String>,
    password: Option<String>,
    service_name: Option<String>,
    method_name: Option<String>,
    method_args: Option<Value>,
}

/// An `IsException: true` answer's message.
type Exception = String;

fn bad_argument(name: &str, reason: &str) -> Exception {
    format!("Nieprawidłowy argument '{name}': {reason}.")
}

fn json_error(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({ "error": message }))).into_response()
}

fn server_error(code: u16) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let text = format!(
        "<html><body><h1>{} {}</h1></body></html>",
        status.as_u16(),
        status.canonical_reason().unwrap_or("Error")
    );
    (status, [(header::CONTENT_TYPE, "text/html")], text).into_response()
}

/// The endpoint's handler.
pub async fn invoke(State(app): State<Arc<AppState>>, request: Request) -> Response {
    let control = request.extensions().get::<ConnectionControl>().cloned();
    let Ok(bytes) = axum::body::to_bytes(request.into_body(), MAX_BODY).await else {
        app.counters.record("(invalid)");
        return json_error(StatusCode::BAD_REQUEST, "the body could not be read");
    };
    let body: Value = match serde_json::from_slice(&bytes) {
        Ok(v @ Value::Object(_)) => v,
        _ => {
            app.counters.record("(invalid)");
            return json_error(StatusCode::BAD_REQUEST, "the body is not a JSON object");
        }
    };
    let method = body
        .get("MethodName")
        .and_then(Value::as_str)
        .unwrap_or("(none)")
        .to_owned();
    app.counters.record(&method);

    let plan = app.faults.plan();
    if let Some(delay) = plan.delay {
        tracing::info!(
            method,
            delay_ms = delay.as_millis() as u64,
            "fault: slow answer"
        );
        tokio::time::sleep(delay).await;
    }
    match plan.fault {
        Some(Fault::Drop) => {
            tracing::info!(method, "fault: dropping the connection");
            if let Some(control) = control {
                control.drop_connection();
                std::future::pending::<()>().await;
            }
            return server_error(503);
        }
        Some(Fault::ServerError(code)) => {
            tracing::info!(method, code, "fault: server error");
            return server_error(code);
        }
        Some(Fault::Malformed) | None => {}
    }

    let answer = match call(&app, body) {
        Ok(result) => {
            tracing::debug!(method, "invoked");
            let result = if app.result_as_string.load(Ordering::Relaxed) {
                Value::String(result.to_string())
            } else {
                result
            };
            json!({ "IsException": false, "ExceptionMessage": null, "ResultInstance": result })
        }
        Err(message) => {
            tracing::debug!(method, message, "invoked: exception");
            json!({ "IsException": true, "ExceptionMessage": message, "ResultInstance": null })
        }
    };
    let mut text = answer.to_string();
    if plan.fault == Some(Fault::Malformed) {
        tracing::info!(method, "fault: malformed body");
        let mut cut = text.len() / 2;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
    }
    (
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        text,
    )
        .into_response()
}

fn normalise_service(name: &str) -> String {
    name.split(',')
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Logs in, finds the service and the method, and runs it.
fn call(app: &AppState, body: Value) -> Result<Value, Exception> {
    let inv: Invocation = serde_json::from_value(body)
        .map_err(|_| "Nieprawidłowe argumenty żądania MethodInvoker.".to_owned())?;
    let creds = &app.options.credentials;
    if inv.database_handle.as_deref() != Some(creds.database.as_str()) {
        return Err(
            "Nie można zalogować: baza danych wskazana w DatabaseHandle nie istnieje.".into(),
        );
    }
    if inv.operator.as_deref() != Some(creds.operator.as_str())
        || inv.password.as_deref() != Some(creds.password.as_str())
    {
        return Err("Nie można zalogować: nieprawidłowa nazwa operatora lub hasło.".into());
    }
    let service = inv.service_name.unwrap_or_default();
    if normalise_service(&service) != normalise_service(&app.options.service_name) {
        return Err(format!("Nie znaleziono usługi '{service}'."));
    }
    let method = inv.method_name.unwrap_or_default();
    match method.as_str() {
        "PobierzZamowienia" => pobierz_zamowienia(app, pars(&inv.method_args)?),
        "UstawPotwierdzenia" => ustaw_potwierdzenia(app, pars(&inv.method_args)?),
        "PobierzPotwierdzenia" => Ok(json!(Potwierdzenie::names())),
        _ => Err(format!("Usługa '{service}' nie ma metody '{method}'.")),
    }
}

fn pars(args: &Option<Value>) -> Result<&Map<String, Value>, Exception> {
    args.as_ref()
        .and_then(|a| a.get("pars"))
        .and_then(Value::as_object)
        .ok_or_else(|| bad_argument("pars", "oczekiwano obiektu"))
}

fn as_u64(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A present, non-null field.
fn field<'a>(pars: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    pars.get(name).filter(|v| !v.is_null())
}

fn parse_query(app: &AppState, pars: &Map<String, Value>) -> Result<Query, Exception> {
    let after = match field(pars, "ZmienioneOdStamp") {
        None => 0,
        Some(v) => as_u64(v)
            .ok_or_else(|| bad_argument("ZmienioneOdStamp", "oczekiwano liczby nieujemnej"))?,
    };
    let obcy = match field(pars, "ObcyNumery") {
        None => None,
        Some(Value::Array(items)) => Some(
            items
                .iter()
                .map(|i| i.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| bad_argument("ObcyNumery", "oczekiwano tablicy tekstów"))?,
        ),
        Some(_) => return Err(bad_argument("ObcyNumery", "oczekiwano tablicy tekstów")),
    };
    let created_from = match field(pars, "UtworzoneOd") {
        None => None,
        Some(v) => Some(
            v.as_str()
                .and_then(|s| s.get(..10))
                .and_then(|s| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
                .ok_or_else(|| bad_argument("UtworzoneOd", "oczekiwano daty RRRR-MM-DD"))?,
        ),
    };
    let only_unfulfilled = match field(pars, "TylkoNiezrealizowane") {
        None => false,
        Some(v) => v
            .as_bool()
            .ok_or_else(|| bad_argument("TylkoNiezrealizowane", "oczekiwano true albo false"))?,
    };
    let max = u64::from(app.options.max_limit);
    let limit = match field(pars, "Limit") {
        None => 100.min(max),
        Some(v) => as_u64(v)
            .filter(|l| (1..=max).contains(l))
            .ok_or_else(|| bad_argument("Limit", &format!("wartość musi być od 1 do {max}")))?,
    };
    Ok(Query {
        after,
        obcy,
        created_from,
        only_unfulfilled,
        limit: usize::try_from(limit).unwrap_or(usize::MAX),
    })
}

fn pobierz_zamowienia(app: &AppState, pars: &Map<String, Value>) -> Result<Value, Exception> {
    let query = parse_query(app, pars)?;
    let store = app
        .store
        .lock()
        .map_err(|_| "Błąd wewnętrzny serwera.".to_owned())?;
    let page = store.changed_since(&query);
    let docs: Vec<_> = page.docs.iter().map(|d| d.view()).collect();
    Ok(json!({
        "Zamowienia": docs,
        "MaxStamp": page.max_stamp,
        "CzyJestWiecej": page.more,
    }))
}

enum Target {
    Id(u64),
    Obcy(String),
}

struct Zmiana {
    target: Target,
    value: Value,
    expected: Option<u64>,
}

fn parse_zmiany(pars: &Map<String, Value>) -> Result<Vec<Zmiana>, Exception> {
    let Some(Value::Array(items)) = field(pars, "Zmiany") else {
        return Err(bad_argument("Zmiany", "oczekiwano tablicy zmian"));
    };
    if items.len() > MAX_CHANGES {
        return Err(bad_argument(
            "Zmiany",
            &format!(
                "najwyżej {MAX_CHANGES} dokumentów w jednym wywołaniu, podano {}",
                items.len()
            ),
        ));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let name = format!("Zmiany[{i}]");
            let item = item
                .as_object()
                .ok_or_else(|| bad_argument(&name, "oczekiwano obiektu"))?;
            let target = match (field(item, "ID"), field(item, "ObcyNumer")) {
                (Some(id), _) => Target::Id(
                    as_u64(id)
                        .ok_or_else(|| bad_argument(&format!("{name}.ID"), "oczekiwano liczby"))?,
                ),
                (None, Some(Value::String(o))) if !o.trim().is_empty() => {
                    Target::Obcy(o.trim().to_owned())
                }
                _ => return Err(bad_argument(&name, "podaj ID albo ObcyNumer dokumentu")),
            };
            let value = field(item, "Potwierdzenie")
                .cloned()
                .ok_or_else(|| bad_argument(&format!("{name}.Potwierdzenie"), "brak wartości"))?;
            let expected = match field(item, "OczekiwanyStamp") {
                None => None,
                Some(v) => Some(as_u64(v).ok_or_else(|| {
                    bad_argument(&format!("{name}.OczekiwanyStamp"), "oczekiwano liczby")
                })?),
            };
            Ok(Zmiana {
                target,
                value,
                expected,
            })
        })
        .collect()
}

fn ustaw_potwierdzenia(app: &AppState, pars: &Map<String, Value>) -> Result<Value, Exception> {
    let zmiany = parse_zmiany(pars)?;
    let mut store = app
        .store
        .lock()
        .map_err(|_| "Błąd wewnętrzny serwera.".to_owned())?;
    let mut wyniki = Vec::with_capacity(zmiany.len());
    for z in zmiany {
        let id = match &z.target {
            Target::Id(id) => store.get(*id).map(|d| d.id),
            Target::Obcy(o) => store.id_by_obcy(o),
        };
        let Some(id) = id else {
            let (id, obcy, what) = match z.target {
                Target::Id(id) => (json!(id), Value::Null, format!("o ID {id}")),
                Target::Obcy(o) => (Value::Null, json!(o), format!("o numerze obcym '{o}'")),
            };
            wyniki.push(json!({
                "ID": id, "ObcyNumer": obcy, "Success": false,
                "Description": format!("Nie znaleziono dokumentu ZO {what}."),
                "Potwierdzenie": null, "Stamp": null,
            }));
            continue;
        };
        let refusal = match (Potwierdzenie::from_value(&z.value), store.get(id)) {
            (_, None) => Some(format!("Nie znaleziono dokumentu ZO o ID {id}.")),
            (None, Some(_)) => Some(format!("Nieznana wartość Potwierdzenie: {}.", z.value)),
            (Some(_), Some(doc)) if z.expected.is_some_and(|e| e != doc.stamp) => Some(format!(
                "Dokument {} został zmieniony przez innego użytkownika (Stamp {}, oczekiwano {}).",
                doc.numer_pelny(),
                doc.stamp,
                z.expected.unwrap_or_default()
            )),
            (Some(value), Some(_)) => match store.set_potwierdzenie(id, value) {
                Ok(_) => None,
                Err(ActionError::NotFound(m) | ActionError::Refused(m)) => Some(m),
            },
        };
        let (obcy, potwierdzenie, stamp) = store
            .get(id)
            .map(|d| (d.obcy_numer.clone(), d.potwierdzenie.name(), d.stamp))
            .unwrap_or_default();
        wyniki.push(json!({
            "ID": id,
            "ObcyNumer": obcy,
            "Success": refusal.is_none(),
            "Description": refusal,
            "Potwierdzenie": potwierdzenie,
            "Stamp": stamp,
        }));
    }
    Ok(json!({ "Wyniki": wyniki }))
}

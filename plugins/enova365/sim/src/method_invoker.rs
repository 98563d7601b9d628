//! `POST /api/MethodInvoker/InvokeServiceMethod`: the legacy generic endpoint, off unless
//! switched on (404, as current servers answer). The login travels in every body; every answer
//! to a well-formed JSON body is HTTP 200 with `IsException`, `ExceptionMessage`, `IsEmpty` and
//! `ResultInstance`. Exception messages never repeat the database, operator or password.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::gate::{answer, enter, json_error};
use crate::server::ConnectionControl;
use crate::service::{call, CallError};
use crate::AppState;

/// The path of the endpoint.
pub const PATH: &str = "/api/MethodInvoker/InvokeServiceMethod";

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

fn normalise_service(name: &str) -> String {
    name.split(',')
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The endpoint's handler.
pub async fn invoke(State(app): State<Arc<AppState>>, request: Request) -> Response {
    if !app.method_invoker.load(Ordering::Relaxed) {
        return json_error(
            StatusCode::NOT_FOUND,
            "No HTTP resource was found that matches the request URI.",
        );
    }
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
    let malformed = match enter(&app, &method, control).await {
        Ok(m) => m,
        Err(response) => return response,
    };
    let body = match invoke_body(&app, body) {
        Ok(result) => {
            let empty = result.is_null();
            let result = if app.result_as_string.load(Ordering::Relaxed) {
                Value::String(result.to_string())
            } else {
                result
            };
            json!({ "IsException": false, "ExceptionMessage": null, "IsEmpty": empty,
                    "ResultInstance": result })
        }
        Err(message) => {
            tracing::debug!(method, message, "invoked: exception");
            json!({ "IsException": true, "ExceptionMessage": message, "IsEmpty": true,
                    "ResultInstance": null })
        }
    };
    answer(StatusCode::OK, body.to_string(), malformed)
}

/// Logs in, finds the service and the method, and runs it.
fn invoke_body(app: &AppState, body: Value) -> Result<Value, String> {
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
    let pars = inv.method_args.as_ref().and_then(|a| a.get("pars"));
    if method != "PobierzPotwierdzenia" && pars.is_none() {
        return Err("Nieprawidłowy argument 'pars': oczekiwano obiektu.".into());
    }
    call(app, &creds.operator, &method, pars).map_err(|e| match e {
        CallError::UnknownMethod(m) => format!("Usługa '{service}' nie ma metody '{m}'."),
        CallError::Exception(m) => m,
    })
}

//! What every WebAPI request goes through first: it is counted, then the injected faults are
//! drawn (slow, dropped, server error; a malformed body is applied to the answer afterwards).

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::faults::Fault;
use crate::server::ConnectionControl;
use crate::AppState;

/// A JSON error body.
pub fn json_error(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({ "Message": message }))).into_response()
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

/// Counts the request under `label` and plays its faults: `Err` is the faulty answer to send
/// (nothing done), `Ok(true)` means do the work and then send a truncated body.
pub async fn enter(
    app: &AppState,
    label: &str,
    control: Option<ConnectionControl>,
) -> Result<bool, Response> {
    app.counters.record(label);
    let plan = app.faults.plan();
    if let Some(delay) = plan.delay {
        tracing::info!(
            label,
            delay_ms = delay.as_millis() as u64,
            "fault: slow answer"
        );
        tokio::time::sleep(delay).await;
    }
    match plan.fault {
        Some(Fault::Drop) => {
            tracing::info!(label, "fault: dropping the connection");
            if let Some(control) = control {
                control.drop_connection();
                std::future::pending::<()>().await;
            }
            Err(server_error(503))
        }
        Some(Fault::ServerError(code)) => {
            tracing::info!(label, code, "fault: server error");
            Err(server_error(code))
        }
        Some(Fault::Malformed) => Ok(true),
        None => Ok(false),
    }
}

/// A JSON answer, cut in half when `malformed`.
pub fn answer(status: StatusCode, body: String, malformed: bool) -> Response {
    let mut text = body;
    if malformed {
        let mut cut = text.len() / 2;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
    }
    (
        status,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        text,
    )
        .into_response()
}

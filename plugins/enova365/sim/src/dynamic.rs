//! The Dynamic WebAPI: `POST /api/LoginApi` (an application token in `Authorization: Bearer`
//! answers a session token), `POST /api/ZamowieniaApi/{Method}` (the session token; body = the
//! parameter object, answer = the result), `POST /api/LogoutApi`, `GET /api/CurrentVersion`.
//! Sessions expire after an idle time (five minutes on a real server; configurable here).

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use rand::Rng;
use serde_json::{json, Value};

use crate::gate::{answer, enter, json_error};
use crate::server::ConnectionControl;
use crate::service::{call, CallError, CONTROLLER};
use crate::AppState;

const MAX_BODY: usize = 16 * 1024 * 1024;

/// The sessions the server issued: token → (operator, last request).
#[derive(Debug, Default)]
pub struct Sessions(Mutex<HashMap<String, (String, Instant)>>);

impl Sessions {
    /// A new session for `operator`; its token.
    pub fn open(&self, operator: &str) -> String {
        let token: String = (0..32)
            .map(|_| format!("{:x}", rand::thread_rng().gen_range(0..16u8)))
            .collect();
        if let Ok(mut s) = self.0.lock() {
            s.insert(token.clone(), (operator.to_owned(), Instant::now()));
        }
        token
    }

    /// The operator of a live session, touching it; an idle one is dropped.
    pub fn use_token(&self, token: &str, idle: Duration) -> Option<String> {
        let mut s = self.0.lock().ok()?;
        let now = Instant::now();
        s.retain(|_, (_, last)| now.duration_since(*last) < idle);
        let (operator, last) = s.get_mut(token)?;
        *last = now;
        Some(operator.clone())
    }

    /// Ends a session; whether it was live.
    pub fn close(&self, token: &str) -> bool {
        self.0.lock().is_ok_and(|mut s| s.remove(token).is_some())
    }

    /// Ends every session (as a server restart does).
    pub fn clear(&self) {
        if let Ok(mut s) = self.0.lock() {
            s.clear();
        }
    }

    /// How many sessions are open (idle ones included until next used).
    pub fn len(&self) -> usize {
        self.0.lock().map(|s| s.len()).unwrap_or(0)
    }

    /// Whether none is open.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

fn control(request: &Request) -> Option<ConnectionControl> {
    request.extensions().get::<ConnectionControl>().cloned()
}

fn idle(app: &AppState) -> Duration {
    Duration::from_millis(app.session_idle_ms.load(Ordering::Relaxed))
}

/// `POST /api/LoginApi`.
pub async fn login(State(app): State<Arc<AppState>>, request: Request) -> Response {
    let malformed = match enter(&app, "LoginApi", control(&request)).await {
        Ok(m) => m,
        Err(r) => return r,
    };
    let token = bearer(request.headers());
    if token.as_deref() != Some(app.options.app_token.as_str()) || app.options.app_token.is_empty()
    {
        return json_error(StatusCode::UNAUTHORIZED, "Nieprawidłowy token aplikacji.");
    }
    let session = app.sessions.open(&app.options.credentials.operator);
    tracing::debug!("session opened");
    answer(
        StatusCode::OK,
        json!({ "Token": session, "IsSingleDb": true }).to_string(),
        malformed,
    )
}

/// `POST /api/LogoutApi`.
pub async fn logout(State(app): State<Arc<AppState>>, request: Request) -> Response {
    let malformed = match enter(&app, "LogoutApi", control(&request)).await {
        Ok(m) => m,
        Err(r) => return r,
    };
    let closed = bearer(request.headers()).is_some_and(|t| app.sessions.close(&t));
    if !closed {
        return json_error(StatusCode::UNAUTHORIZED, "Sesja wygasła albo nie istnieje.");
    }
    answer(
        StatusCode::OK,
        json!({ "LoggedOut": true }).to_string(),
        malformed,
    )
}

/// `GET /api/CurrentVersion`: the enova365 version, a JSON string.
pub async fn version(State(app): State<Arc<AppState>>, request: Request) -> Response {
    let malformed = match enter(&app, "CurrentVersion", control(&request)).await {
        Ok(m) => m,
        Err(r) => return r,
    };
    answer(
        StatusCode::OK,
        Value::String(app.options.version.clone()).to_string(),
        malformed,
    )
}

/// `POST /api/{controller}/{method}`: only the order service's controller exists.
pub async fn method(
    State(app): State<Arc<AppState>>,
    Path((controller, method)): Path<(String, String)>,
    request: Request,
) -> Response {
    if controller != CONTROLLER {
        return json_error(
            StatusCode::NOT_FOUND,
            &format!("Nie znaleziono kontrolera '{controller}'."),
        );
    }
    let malformed = match enter(&app, &method, control(&request)).await {
        Ok(m) => m,
        Err(r) => return r,
    };
    let operator = match bearer(request.headers()) {
        Some(t) => app.sessions.use_token(&t, idle(&app)),
        None => None,
    };
    let Some(operator) = operator else {
        return json_error(StatusCode::UNAUTHORIZED, "Sesja wygasła albo nie istnieje.");
    };
    let Ok(bytes) = axum::body::to_bytes(request.into_body(), MAX_BODY).await else {
        return json_error(
            StatusCode::BAD_REQUEST,
            "Nie można odczytać treści żądania.",
        );
    };
    let pars: Option<Value> = if bytes.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        match serde_json::from_slice(&bytes) {
            Ok(v) => Some(v),
            Err(_) => {
                return json_error(StatusCode::BAD_REQUEST, "Treść żądania nie jest JSON.");
            }
        }
    };
    match call(&app, &operator, &method, pars.as_ref()) {
        Ok(result) => answer(StatusCode::OK, result.to_string(), malformed),
        Err(CallError::UnknownMethod(m)) => json_error(
            StatusCode::NOT_FOUND,
            &format!("Nie znaleziono metody '{CONTROLLER}/{m}'."),
        ),
        Err(CallError::Exception(m)) => {
            tracing::debug!(method, message = m, "method threw");
            json_error(StatusCode::BAD_REQUEST, &m)
        }
    }
}

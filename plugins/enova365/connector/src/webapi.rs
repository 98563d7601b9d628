//! The WebAPI client over either transport, with every failure classified, transient ones
//! retried inside the call with a bounded backoff, and secrets scrubbed from every message.
//!
//! - Dynamic WebAPI: `POST /api/LoginApi` with the application token answers a session token;
//!   `POST /api/ZamowieniaApi/{Method}` with it (body = parameters, answer = result). A 401/403
//!   means the session is gone (idle for five minutes, or the server restarted): log in again
//!   once and repeat, then fail `auth`. `POST /api/LogoutApi` when the client is dropped.
//! - MethodInvoker: `POST /api/MethodInvoker/InvokeServiceMethod` with the login in every body;
//!   the answer's envelope (`IsException`, `ExceptionMessage`, `IsEmpty`, `ResultInstance`).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use backon::BackoffBuilder;
use orderlink_plugin_api::model::ApiUsage;
use orderlink_plugin_api::sdk::block_on;
use orderlink_plugin_api::{ConnectorError, ErrorKind, Secret};
use reqwest::{StatusCode, Url};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};

use crate::config::{Config, Transport};

/// The Dynamic WebAPI controller of the order service (the add-on's implementation class).
pub const CONTROLLER: &str = "ZamowieniaApi";

/// What an exception message means.
pub fn classify_exception(message: &str) -> ErrorKind {
    let m = message.to_lowercase();
    let any = |words: &[&str]| words.iter().any(|w| m.contains(w));
    if any(&["argument"]) {
        ErrorKind::Permanent
    } else if any(&[
        "hasło",
        "haslo",
        "operator",
        "password",
        "zalogow",
        "login",
        "baza danych",
        "bazy danych",
        "database",
        "uprawnie",
        "unauthori",
        "token",
    ]) {
        ErrorKind::Auth
    } else if any(&[
        "usług",
        "uslug",
        "serwis",
        "service",
        "metod",
        "method",
        "kontroler",
    ]) {
        ErrorKind::Config
    } else {
        ErrorKind::Permanent
    }
}

/// The secrets of a client: kept out of every message.
struct Secrets {
    application_token: Option<Secret>,
    database: Option<Secret>,
    operator: Option<Secret>,
    password: Option<Secret>,
}

/// A client of one WebAPI server and its order service.
pub struct WebApi {
    http: reqwest::Client,
    transport: Transport,
    base: Url,
    secrets: Secrets,
    service: String,
    timeout: Duration,
    retries: usize,
    /// The Dynamic WebAPI session token, once logged in.
    session: Mutex<Option<String>>,
    usage: Mutex<ApiUsage>,
}

impl std::fmt::Debug for WebApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebApi")
            .field("base", &self.base.as_str())
            .field("transport", &self.transport)
            .field("service", &self.service)
            .finish_non_exhaustive()
    }
}

/// One attempt's failure: the error, and whether the session was refused (Dynamic WebAPI).
struct Failure {
    error: ConnectorError,
    session_refused: bool,
}

impl From<ConnectorError> for Failure {
    fn from(error: ConnectorError) -> Self {
        Failure {
            error,
            session_refused: false,
        }
    }
}

impl WebApi {
    /// A client for the config's server (no network call).
    pub fn new(config: &Config) -> Result<Self, ConnectorError> {
        let timeout = Duration::from_secs(config.timeout_secs);
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("orderlink-enova365/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ConnectorError::internal(format!("cannot build the HTTP client: {e}")))?;
        Ok(WebApi {
            http,
            transport: config.transport,
            base: config.base()?,
            secrets: Secrets {
                application_token: config.application_token.clone(),
                database: config.database.clone(),
                operator: config.operator.clone(),
                password: config.password.clone(),
            },
            service: config.service.trim().to_owned(),
            timeout,
            retries: config.retries as usize,
            session: Mutex::new(None),
            usage: Mutex::new(ApiUsage::default()),
        })
    }

    /// The transport in use.
    pub fn transport(&self) -> Transport {
        self.transport
    }

    /// The base URL (holds no secret).
    pub fn base(&self) -> &str {
        self.base.as_str()
    }

    fn url(&self, path: &str) -> Url {
        let mut url = self.base.clone();
        let full = format!("{}/{path}", url.path().trim_end_matches('/'));
        url.set_path(&full);
        url
    }

    /// Requests sent so far, by method (`LoginApi` and `LogoutApi` included).
    pub fn usage(&self) -> ApiUsage {
        self.usage.lock().map(|u| u.clone()).unwrap_or_default()
    }

    fn count(&self, method: &str) {
        if let Ok(mut u) = self.usage.lock() {
            u.requests += 1;
            *u.by_endpoint.entry(method.to_owned()).or_default() += 1;
        }
    }

    /// Replaces every secret with `***` in text that came from elsewhere.
    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_owned();
        let s = &self.secrets;
        for secret in [&s.application_token, &s.password, &s.database, &s.operator]
            .into_iter()
            .flatten()
        {
            let v = secret.expose();
            if !v.trim().is_empty() {
                out = out.replace(v, "***");
            }
        }
        if let Ok(guard) = self.session.lock() {
            if let Some(token) = guard.as_deref().filter(|t| !t.is_empty()) {
                out = out.replace(token, "***");
            }
        }
        out
    }

    fn fail(&self, kind: ErrorKind, method: &str, what: &str) -> ConnectorError {
        let message = self.scrub(&format!("enova365 {method}: {what}"));
        ConnectorError::new(kind, message)
    }

    fn transport_error(&self, method: &str, url: &Url, e: reqwest::Error) -> ConnectorError {
        let e = e.without_url();
        let what = if e.is_timeout() {
            format!("no answer from {url} within {} s", self.timeout.as_secs())
        } else {
            format!("request to {url} failed: {}", describe_chain(&e))
        };
        self.fail(ErrorKind::Transient, method, &what)
    }

    /// Calls a service method with its parameter object, retrying transient failures (5xx,
    /// dropped connections, timeouts, malformed answers, short rate limits) with a bounded
    /// backoff. Writes are safe to repeat: setting a value a document already has changes nothing.
    pub async fn call<P: Serialize, T: DeserializeOwned>(
        &self,
        method: &str,
        pars: Option<&P>,
    ) -> Result<T, ConnectorError> {
        let pars = match pars {
            Some(p) => Some(serde_json::to_value(p).map_err(|e| {
                ConnectorError::internal(format!("cannot encode {method} arguments: {e}"))
            })?),
            None => None,
        };
        let mut delays = backon::ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(200))
            .with_max_delay(Duration::from_secs(2))
            .with_max_times(self.retries)
            .with_jitter()
            .build();
        let mut attempt = 1;
        loop {
            let err = match self.once(method, pars.as_ref()).await {
                Ok(v) => {
                    return serde_json::from_value(v).map_err(|e| {
                        self.fail(
                            ErrorKind::Transient,
                            method,
                            &format!("the answer does not match the service contract: {e}"),
                        )
                    })
                }
                Err(e) => e,
            };
            if !matches!(err.kind, ErrorKind::Transient | ErrorKind::RateLimited) {
                tracing::warn!(
                    method,
                    kind = err.kind.as_str(),
                    message = err.message,
                    "enova365 WebAPI call failed"
                );
                return Err(err);
            }
            let Some(backoff) = delays.next() else {
                tracing::warn!(
                    method,
                    attempt,
                    message = err.message,
                    "enova365 WebAPI call failed; giving up"
                );
                return Err(err);
            };
            let wait = match err.retry_after {
                Some(wait) if wait > Duration::from_secs(5) => return Err(err),
                Some(wait) => wait,
                None => backoff,
            };
            tracing::info!(
                method,
                attempt,
                wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                message = err.message,
                "enova365 WebAPI call failed; retrying"
            );
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    /// One call without retries (a Dynamic WebAPI call logs in again once when its session is
    /// refused).
    async fn once(&self, method: &str, pars: Option<&Value>) -> Result<Value, ConnectorError> {
        match self.transport {
            Transport::MethodInvoker => self.invoke(method, pars).await,
            Transport::Dynamic => {
                let mut relogged = false;
                loop {
                    let session = self.session_token().await?;
                    match self.dynamic(method, pars, &session).await {
                        Ok(v) => return Ok(v),
                        Err(f) if f.session_refused && !relogged => {
                            tracing::info!(method, "enova365 session refused; logging in again");
                            self.forget_session(&session);
                            relogged = true;
                        }
                        Err(f) => {
                            if f.session_refused {
                                self.forget_session(&session);
                            }
                            return Err(f.error);
                        }
                    }
                }
            }
        }
    }

    fn forget_session(&self, token: &str) {
        if let Ok(mut s) = self.session.lock() {
            if s.as_deref() == Some(token) {
                *s = None;
            }
        }
    }

    /// The current session token, logging in when there is none.
    async fn session_token(&self) -> Result<String, ConnectorError> {
        if let Some(t) = self.session.lock().ok().and_then(|s| s.clone()) {
            return Ok(t);
        }
        let token = self.login().await?;
        if let Ok(mut s) = self.session.lock() {
            *s = Some(token.clone());
        }
        Ok(token)
    }

    async fn login(&self) -> Result<String, ConnectorError> {
        const METHOD: &str = "LoginApi";
        self.count(METHOD);
        let url = self.url("api/LoginApi");
        let app_token = self
            .secrets
            .application_token
            .as_ref()
            .map(|s| s.expose().trim().to_owned())
            .unwrap_or_default();
        let response = self
            .http
            .post(url.clone())
            .bearer_auth(app_token)
            .header(reqwest::header::CONTENT_LENGTH, "0")
            .send()
            .await
            .map_err(|e| self.transport_error(METHOD, &url, e))?;
        let status = response.status();
        if matches!(status.as_u16(), 401 | 403) {
            return Err(self.fail(
                ErrorKind::Auth,
                METHOD,
                &format!("HTTP {status}: the application token was refused"),
            ));
        }
        let (status, body) = self.body(METHOD, &url, response).await?;
        if !status.is_success() {
            return Err(self.http_error(METHOD, &url, status, &body, None).error);
        }
        let v: Value = serde_json::from_slice(&body).map_err(|e| {
            self.fail(
                ErrorKind::Transient,
                METHOD,
                &format!("malformed answer (not JSON: {e})"),
            )
        })?;
        v.get("Token")
            .and_then(Value::as_str)
            .filter(|t| !t.trim().is_empty())
            .map(str::to_owned)
            .ok_or_else(|| self.fail(ErrorKind::Transient, METHOD, "malformed answer (no Token)"))
    }

    /// Ends the session, if any (best effort).
    pub async fn logout(&self) {
        let Some(token) = self.session.lock().ok().and_then(|mut s| s.take()) else {
            return;
        };
        self.count("LogoutApi");
        let result = self
            .http
            .post(self.url("api/LogoutApi"))
            .bearer_auth(token)
            .header(reqwest::header::CONTENT_LENGTH, "0")
            .timeout(self.timeout.min(Duration::from_secs(3)))
            .send()
            .await;
        match result {
            Ok(r) => tracing::debug!(status = r.status().as_u16(), "enova365 session logged out"),
            Err(e) => tracing::debug!(error = %e.without_url(), "enova365 logout failed"),
        }
    }

    async fn body(
        &self,
        method: &str,
        url: &Url,
        response: reqwest::Response,
    ) -> Result<(StatusCode, Vec<u8>), ConnectorError> {
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| self.transport_error(method, url, e))?;
        Ok((status, bytes.to_vec()))
    }

    fn http_error(
        &self,
        method: &str,
        url: &Url,
        status: StatusCode,
        body: &[u8],
        retry_after: Option<Duration>,
    ) -> Failure {
        let message = serde_json::from_slice::<Value>(body).ok().and_then(|v| {
            ["Message", "message", "ExceptionMessage", "error"]
                .iter()
                .find_map(|k| v.get(*k).and_then(Value::as_str).map(str::to_owned))
        });
        let (kind, what) = match status.as_u16() {
            429 => (ErrorKind::RateLimited, format!("HTTP {status} from {url}")),
            500..=599 => (ErrorKind::Transient, format!("HTTP {status} from {url}")),
            401 | 403 => (
                ErrorKind::Auth,
                format!("HTTP {status}: the session was refused"),
            ),
            404 | 405 => (
                ErrorKind::Config,
                match self.transport {
                    Transport::Dynamic => format!(
                        "HTTP {status} from {url}: the orderlink add-on's service is not there \
                         (is the add-on installed and the WebAPI server restarted? is url right?)"
                    ),
                    Transport::MethodInvoker => format!(
                        "HTTP {status} from {url}: MethodInvoker is off on this server (switch it \
                         on, or use transport = \"dynamic\"), or url is wrong"
                    ),
                },
            ),
            _ => {
                let kind = message
                    .as_deref()
                    .map_or(ErrorKind::Permanent, classify_exception);
                (kind, format!("HTTP {status}"))
            }
        };
        let what = match message {
            Some(m) => format!("{what}: {m}"),
            None => what,
        };
        Failure {
            session_refused: matches!(status.as_u16(), 401 | 403),
            error: self.fail(kind, method, &what).with_retry_after(retry_after),
        }
    }

    async fn dynamic(
        &self,
        method: &str,
        pars: Option<&Value>,
        session: &str,
    ) -> Result<Value, Failure> {
        self.count(method);
        let url = self.url(&format!("api/{CONTROLLER}/{method}"));
        let started = Instant::now();
        let response = self
            .http
            .post(url.clone())
            .bearer_auth(session)
            .json(pars.unwrap_or(&json!({})))
            .send()
            .await
            .map_err(|e| self.transport_error(method, &url, e))?;
        let retry_after = retry_after(&response);
        let (status, bytes) = self.body(method, &url, response).await?;
        tracing::debug!(
            method,
            status = status.as_u16(),
            bytes = bytes.len(),
            elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            "enova365 WebAPI call"
        );
        if !status.is_success() {
            return Err(self.http_error(method, &url, status, &bytes, retry_after));
        }
        serde_json::from_slice(&bytes).map_err(|e| {
            Failure::from(self.fail(
                ErrorKind::Transient,
                method,
                &format!("malformed answer (not JSON: {e})"),
            ))
        })
    }

    async fn invoke(&self, method: &str, pars: Option<&Value>) -> Result<Value, ConnectorError> {
        self.count(method);
        let url = self.url("api/MethodInvoker/InvokeServiceMethod");
        let expose = |s: &Option<Secret>| {
            s.as_ref()
                .map(|s| s.expose().to_owned())
                .unwrap_or_default()
        };
        let args = match pars {
            Some(p) => json!({ "pars": p }),
            None => json!({}),
        };
        let body = json!({
            "DatabaseHandle": expose(&self.secrets.database),
            "Operator": expose(&self.secrets.operator),
            "Password": expose(&self.secrets.password),
            "ServiceName": self.service,
            "MethodName": method,
            "MethodArgs": args,
        });
        let response = self
            .http
            .post(url.clone())
            .json(&body)
            .send()
            .await
            .map_err(|e| self.transport_error(method, &url, e))?;
        let retry_after = retry_after(&response);
        let (status, bytes) = self.body(method, &url, response).await?;
        if !status.is_success() {
            return Err(self
                .http_error(method, &url, status, &bytes, retry_after)
                .error);
        }
        let malformed = |what: String| self.fail(ErrorKind::Transient, method, &what);
        let envelope: Value = serde_json::from_slice(&bytes)
            .map_err(|e| malformed(format!("malformed answer (not JSON: {e})")))?;
        match envelope.get("IsException").and_then(Value::as_bool) {
            Some(true) => {
                let message = envelope
                    .get("ExceptionMessage")
                    .and_then(Value::as_str)
                    .unwrap_or("(no message)");
                return Err(self.fail(classify_exception(message), method, message));
            }
            Some(false) => {}
            None => return Err(malformed("malformed answer (no IsException)".into())),
        }
        match envelope.get("ResultInstance") {
            Some(Value::String(inner)) => serde_json::from_str(inner).map_err(|e| {
                malformed(format!(
                    "malformed answer (ResultInstance string is not JSON: {e})"
                ))
            }),
            Some(Value::Null) | None => {
                let empty = envelope.get("IsEmpty").and_then(Value::as_bool) == Some(true);
                Err(malformed(if empty {
                    "the service answered IsEmpty: no result".into()
                } else {
                    "malformed answer (no ResultInstance)".into()
                }))
            }
            Some(other) => Ok(other.clone()),
        }
    }

    /// `GET /api/CurrentVersion`: the server's enova365 version (a JSON string, or an object
    /// with a version field).
    pub async fn current_version(&self) -> Result<String, ConnectorError> {
        const METHOD: &str = "CurrentVersion";
        self.count(METHOD);
        let url = self.url("api/CurrentVersion");
        let response = self
            .http
            .get(url.clone())
            .send()
            .await
            .map_err(|e| self.transport_error(METHOD, &url, e))?;
        let (status, bytes) = self.body(METHOD, &url, response).await?;
        if !status.is_success() {
            return Err(self.http_error(METHOD, &url, status, &bytes, None).error);
        }
        let text = String::from_utf8_lossy(&bytes).trim().to_owned();
        let version = match serde_json::from_str::<Value>(&text) {
            Ok(Value::String(s)) => s,
            Ok(Value::Object(o)) => o
                .iter()
                .find(|(k, _)| k.to_lowercase().contains("version"))
                .and_then(|(_, v)| v.as_str().map(str::to_owned))
                .unwrap_or(text),
            _ => text,
        };
        Ok(version)
    }

    /// Whether the transport not in use answers at this server: `Some(true)` it is there,
    /// `Some(false)` it is off (404), `None` it could not be told.
    pub async fn other_transport_answers(&self) -> Option<bool> {
        let (label, url) = match self.transport {
            Transport::Dynamic => (
                "MethodInvoker",
                self.url("api/MethodInvoker/InvokeServiceMethod"),
            ),
            Transport::MethodInvoker => ("LoginApi", self.url("api/LoginApi")),
        };
        self.count(label);
        let r = self.http.post(url).json(&json!({})).send().await.ok()?;
        match r.status().as_u16() {
            404 | 405 => Some(false),
            200..=499 => Some(true),
            _ => None,
        }
    }

    /// Ends the session synchronously (for `Drop`).
    pub fn logout_blocking(&self) {
        let has = self.session.lock().map(|s| s.is_some()).unwrap_or(false);
        if has {
            block_on(self.logout());
        }
    }
}

fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}

/// The error's text followed by its causes.
fn describe_chain(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exception_messages_are_classified() {
        let cases = [
            (
                "Nie można zalogować: nieprawidłowa nazwa operatora lub hasło.",
                ErrorKind::Auth,
            ),
            (
                "Nie można zalogować: baza danych wskazana w DatabaseHandle nie istnieje.",
                ErrorKind::Auth,
            ),
            ("Nieprawidłowy token aplikacji.", ErrorKind::Auth),
            ("Nie znaleziono usługi 'X.IApi, X'.", ErrorKind::Config),
            ("Usługa 'X' nie ma metody 'Foo'.", ErrorKind::Config),
            (
                "Nieprawidłowy argument 'Limit': wartość musi być od 1 do 500.",
                ErrorKind::Permanent,
            ),
            (
                "Object reference not set to an instance of an object.",
                ErrorKind::Permanent,
            ),
        ];
        for (message, kind) in cases {
            assert_eq!(classify_exception(message), kind, "{message}");
        }
    }

    #[test]
    fn scrub_hides_every_secret() {
        let config = Config::from_json(&json!({
            "url": "http://127.0.0.1:9",
            "transport": "method_invoker",
            "database": "BazaXq1",
            "operator": "OperXq2",
            "password": "HasloXq3"
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        let api = WebApi::new(&config).unwrap_or_else(|e| panic!("{e}"));
        let text = api.scrub("login OperXq2/HasloXq3 to BazaXq1 failed");
        assert_eq!(text, "login ***/*** to *** failed");
        let config = Config::from_json(&json!({
            "url": "http://127.0.0.1:9", "application_token": "TokXq4"
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        let api = WebApi::new(&config).unwrap_or_else(|e| panic!("{e}"));
        if let Ok(mut s) = api.session.lock() {
            *s = Some("SessXq5".into());
        }
        assert_eq!(api.scrub("TokXq4 SessXq5"), "*** ***");
        let debug = format!("{api:?}");
        for s in ["TokXq4", "SessXq5"] {
            assert!(!debug.contains(s), "{debug}");
        }
    }
}

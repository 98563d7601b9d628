//! The WebAPI client: one `POST .../api/MethodInvoker/InvokeServiceMethod` per service call, the
//! login in every body, `ResultInstance` as an object or a JSON string, every failure classified,
//! the login scrubbed from every message, and requests counted by method.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use orderlink_plugin_api::model::ApiUsage;
use orderlink_plugin_api::{ConnectorError, ErrorKind, Secret};
use reqwest::{StatusCode, Url};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};

use crate::config::Config;

/// What an `IsException: true` message means.
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
    ]) {
        ErrorKind::Auth
    } else if any(&["usług", "uslug", "serwis", "service", "metod", "method"]) {
        ErrorKind::Config
    } else {
        ErrorKind::Permanent
    }
}

/// A client of one WebAPI server, database and service.
pub struct WebApi {
    http: reqwest::Client,
    endpoint: Url,
    database: Secret,
    operator: Secret,
    password: Secret,
    service: String,
    timeout: Duration,
    usage: Mutex<ApiUsage>,
}

impl std::fmt::Debug for WebApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebApi")
            .field("endpoint", &self.endpoint.as_str())
            .field("database", &self.database)
            .field("operator", &self.operator)
            .field("password", &self.password)
            .field("service", &self.service)
            .finish()
    }
}

impl WebApi {
    /// A client for the config's server.
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
            endpoint: config.endpoint()?,
            database: config.database.clone(),
            operator: config.operator.clone(),
            password: config.password.clone(),
            service: config.service.trim().to_owned(),
            timeout,
            usage: Mutex::new(ApiUsage::default()),
        })
    }

    /// The endpoint URL (holds no secret).
    pub fn endpoint(&self) -> &str {
        self.endpoint.as_str()
    }

    /// The service name.
    pub fn service(&self) -> &str {
        &self.service
    }

    /// Requests sent so far, by method.
    pub fn usage(&self) -> ApiUsage {
        self.usage.lock().map(|u| u.clone()).unwrap_or_default()
    }

    fn count(&self, method: &str) {
        if let Ok(mut u) = self.usage.lock() {
            u.requests += 1;
            *u.by_endpoint.entry(method.to_owned()).or_default() += 1;
        }
    }

    /// Replaces the login's parts with `***` in text that came from elsewhere.
    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for secret in [&self.password, &self.database, &self.operator] {
            let s = secret.expose();
            if !s.is_empty() {
                out = out.replace(s, "***");
            }
        }
        out
    }

    fn fail(&self, kind: ErrorKind, method: &str, what: &str) -> ConnectorError {
        let message = self.scrub(&format!("enova365 {method}: {what}"));
        tracing::warn!(
            method,
            kind = kind.as_str(),
            message,
            "enova365 WebAPI call failed"
        );
        ConnectorError::new(kind, message)
    }

    fn transport(&self, method: &str, e: reqwest::Error) -> ConnectorError {
        let e = e.without_url();
        let what = if e.is_timeout() {
            format!(
                "no answer from {} within {} s",
                self.endpoint,
                self.timeout.as_secs()
            )
        } else {
            let text = describe_chain(&e);
            format!("request to {} failed: {text}", self.endpoint)
        };
        self.fail(ErrorKind::Transient, method, &what)
    }

    fn http_error(
        &self,
        method: &str,
        status: StatusCode,
        retry_after: Option<Duration>,
    ) -> ConnectorError {
        let kind = match status.as_u16() {
            429 => ErrorKind::RateLimited,
            500..=599 => ErrorKind::Transient,
            401 | 403 => ErrorKind::Auth,
            404 | 405 => ErrorKind::Config,
            _ => ErrorKind::Permanent,
        };
        let what = match kind {
            ErrorKind::Config => format!(
                "HTTP {status} from {}: no WebAPI MethodInvoker there, check url",
                self.endpoint
            ),
            _ => format!("HTTP {status} from {}", self.endpoint),
        };
        self.fail(kind, method, &what).with_retry_after(retry_after)
    }

    /// Calls a service method; `pars` travel as `MethodArgs.pars`.
    pub async fn call<P: Serialize, T: DeserializeOwned>(
        &self,
        method: &str,
        pars: Option<&P>,
    ) -> Result<T, ConnectorError> {
        self.count(method);
        let args = match pars {
            Some(p) => json!({ "pars": p }),
            None => json!({}),
        };
        let body = json!({
            "DatabaseHandle": self.database.expose(),
            "Operator": self.operator.expose(),
            "Password": self.password.expose(),
            "ServiceName": self.service,
            "MethodName": method,
            "MethodArgs": args,
        });
        let started = Instant::now();
        let response = self
            .http
            .post(self.endpoint.clone())
            .json(&body)
            .send()
            .await
            .map_err(|e| self.transport(method, e))?;
        let status = response.status();
        if !status.is_success() {
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            return Err(self.http_error(method, status, retry_after));
        }
        let bytes = response
            .bytes()
            .await
            .map_err(|e| self.transport(method, e))?;
        tracing::debug!(
            method,
            status = status.as_u16(),
            bytes = bytes.len(),
            elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            "enova365 WebAPI call"
        );
        let malformed = |what: String| self.fail(ErrorKind::Transient, method, &what);
        let envelope: Value = serde_json::from_slice(&bytes)
            .map_err(|e| malformed(format!("malformed answer (not JSON: {e})")))?;
        match envelope.get("IsException").and_then(Value::as_bool) {
            Some(true) => {
                let message = envelope
                    .get("ExceptionMessage")
                    .and_then(Value::as_str)
                    .unwrap_or("(no message)");
                let kind = classify_exception(message);
                return Err(self.fail(kind, method, message));
            }
            Some(false) => {}
            None => return Err(malformed("malformed answer (no IsException)".into())),
        }
        let result = match envelope.get("ResultInstance") {
            Some(Value::String(inner)) => serde_json::from_str(inner).map_err(|e| {
                malformed(format!(
                    "malformed answer (ResultInstance string is not JSON: {e})"
                ))
            })?,
            Some(Value::Null) | None => {
                return Err(malformed("malformed answer (no ResultInstance)".into()))
            }
            Some(other) => other.clone(),
        };
        serde_json::from_value(result).map_err(|e| {
            malformed(format!(
                "the answer does not match the service contract: {e}"
            ))
        })
    }
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
            ("Nieprawidłowe hasło operatora", ErrorKind::Auth),
            ("Nie znaleziono usługi 'X.IApi, X'.", ErrorKind::Config),
            ("Usługa 'X' nie ma metody 'Foo'.", ErrorKind::Config),
            (
                "Nieprawidłowy argument 'Limit': wartość musi być od 1 do 500.",
                ErrorKind::Permanent,
            ),
            (
                "Nieprawidłowe argumenty metody PobierzZamowienia",
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
    fn scrub_hides_every_part_of_the_login() {
        let config = Config::from_json(&json!({
            "url": "http://127.0.0.1:9",
            "database": "BazaXq1",
            "operator": "OperXq2",
            "password": "HasloXq3"
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        let api = WebApi::new(&config).unwrap_or_else(|e| panic!("{e}"));
        let text = api.scrub("login OperXq2/HasloXq3 to BazaXq1 failed");
        assert_eq!(text, "login ***/*** to *** failed");
        let debug = format!("{api:?}");
        for s in ["BazaXq1", "OperXq2", "HasloXq3"] {
            assert!(!debug.contains(s), "{debug}");
        }
    }
}

//! The HTTP client of one shop's Admin API: authentication, the request budget (per second and
//! per day), retries with backoff that honour `Retry-After`, error classification, the shop's
//! clock (from `Date` headers) and per-endpoint request counts.

use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use backon::{BackoffBuilder, ExponentialBuilder};
use chrono::{DateTime, Utc};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use orderlink_plugin_api::model::ApiUsage;
use orderlink_plugin_api::ConnectorError;
use reqwest::header::{HeaderValue, ACCEPT, DATE, RETRY_AFTER};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::config::IdoSellConfig;
use crate::wire::Fault;

/// Retries of one call after a transient failure or a short 429.
const MAX_RETRIES: usize = 2;
/// The longest `Retry-After` waited for inside a call; longer ones go back to the host.
const MAX_INLINE_WAIT: Duration = Duration::from_secs(5);

/// An HTTP method the connector uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// GET.
    Get,
    /// POST.
    Post,
    /// PUT.
    Put,
}

impl Method {
    fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
        }
    }
}

/// A successful (200 or 207) answer.
#[derive(Debug)]
pub struct Reply<T> {
    /// 200 or 207.
    pub status: u16,
    /// The parsed body.
    pub body: T,
    /// The shop's time when the request was sent, at the latest: its `Date` header minus the
    /// round trip. `None` without a `Date` header.
    pub shop_sent_at: Option<DateTime<Utc>>,
}

/// The shop's clock as seen through `Date` headers: the offset from ours, never overestimated.
/// A `Date` header is whole seconds, so each answer only bounds the offset from below; the
/// highest bound seen is kept (it only drops when the clocks jump apart by more than a second).
#[derive(Debug)]
struct ShopClock {
    skew_ms: AtomicI64,
}

impl Default for ShopClock {
    fn default() -> Self {
        ShopClock {
            skew_ms: AtomicI64::new(i64::MIN),
        }
    }
}

impl ShopClock {
    fn observe(&self, date: DateTime<Utc>, received: DateTime<Utc>) {
        let bound = (date - received).num_milliseconds();
        let known = self.skew_ms.load(Ordering::Relaxed);
        if known == i64::MIN || bound > known || bound < known - 1_000 {
            self.skew_ms.store(bound, Ordering::Relaxed);
        }
    }

    fn now(&self) -> DateTime<Utc> {
        let skew = match self.skew_ms.load(Ordering::Relaxed) {
            i64::MIN => 0,
            s => s,
        };
        Utc::now() + chrono::Duration::milliseconds(skew)
    }
}

/// The client of one shop.
pub struct ApiClient {
    http: reqwest::Client,
    base: String,
    key: HeaderValue,
    timeout: Duration,
    per_second: DefaultDirectRateLimiter,
    per_day: Option<DefaultDirectRateLimiter>,
    usage: Mutex<BTreeMap<String, u64>>,
    clock: ShopClock,
}

impl std::fmt::Debug for ApiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiClient")
            .field("base", &self.base)
            .field("api_key", &"***")
            .field("timeout", &self.timeout)
            .finish()
    }
}

fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = DateTime::parse_from_rfc2822(value).ok()?;
    (at.with_timezone(&Utc) - Utc::now()).to_std().ok()
}

impl ApiClient {
    /// A client for a checked config.
    pub fn new(config: &IdoSellConfig) -> Result<Self, ConnectorError> {
        let mut key = HeaderValue::from_str(config.api_key.expose()).map_err(|_| {
            ConnectorError::config(
                "invalid config: api_key has characters an HTTP header cannot carry",
            )
        })?;
        key.set_sensitive(true);
        let http = reqwest::Client::builder()
            .timeout(config.timeout())
            .connect_timeout(config.timeout().min(Duration::from_secs(10)))
            .user_agent(concat!("orderlink-idosell/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ConnectorError::internal(format!("cannot build the HTTP client: {e}")))?;
        let per_second = NonZeroU32::new(config.requests_per_second)
            .ok_or_else(|| ConnectorError::config("requests_per_second must be at least 1"))?;
        let per_day = match config.requests_per_day {
            None => None,
            Some(n) => {
                let n = NonZeroU32::new(n)
                    .ok_or_else(|| ConnectorError::config("requests_per_day must be at least 1"))?;
                let period = Duration::from_secs_f64(86_400.0 / f64::from(n.get()));
                let quota = Quota::with_period(period)
                    .ok_or_else(|| ConnectorError::config("requests_per_day is out of range"))?
                    .allow_burst(n);
                Some(RateLimiter::direct(quota))
            }
        };
        Ok(ApiClient {
            http,
            base: config.api_base(),
            key,
            timeout: config.timeout(),
            per_second: RateLimiter::direct(Quota::per_second(per_second)),
            per_day,
            usage: Mutex::new(BTreeMap::new()),
            clock: ShopClock::default(),
        })
    }

    /// The API base URL (`{url}/api/admin/v{N}`).
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The shop's time now, as well as its `Date` headers tell (never ahead of it).
    pub fn shop_now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Requests sent so far, by endpoint (`"POST /orders/orders/search"`).
    pub fn usage(&self) -> ApiUsage {
        let by_endpoint = self.usage.lock().unwrap_or_else(|p| p.into_inner()).clone();
        ApiUsage {
            requests: by_endpoint.values().sum(),
            by_endpoint,
        }
    }

    /// Calls an endpoint (`/orders/orders/search`...), retrying transient failures and short
    /// rate limits; answers 200 and 207 with their parsed body.
    pub async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        endpoint: &'static str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<Reply<T>, ConnectorError> {
        let mut delays = ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(200))
            .with_max_delay(Duration::from_secs(3))
            .with_max_times(MAX_RETRIES)
            .with_jitter()
            .build();
        let mut attempt = 1;
        loop {
            let err = match self.attempt(method, endpoint, query, body).await {
                Ok(reply) => return Ok(reply),
                Err(e) => e,
            };
            if !matches!(
                err.kind,
                orderlink_plugin_api::ErrorKind::Transient
                    | orderlink_plugin_api::ErrorKind::RateLimited
            ) {
                return Err(err);
            }
            let Some(backoff) = delays.next() else {
                return Err(err);
            };
            let wait = match err.retry_after {
                Some(wait) if wait > MAX_INLINE_WAIT => return Err(err),
                Some(wait) => wait,
                None => backoff,
            };
            tracing::warn!(
                method = method.as_str(),
                endpoint,
                attempt,
                wait_ms = wait.as_millis() as u64,
                error = %err,
                "IdoSell request failed; retrying"
            );
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    async fn attempt<T: DeserializeOwned>(
        &self,
        method: Method,
        endpoint: &'static str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<Reply<T>, ConnectorError> {
        let name = format!("{} {endpoint}", method.as_str());
        if let Some(day) = &self.per_day {
            if let Err(not_until) = day.check() {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                return Err(ConnectorError::rate_limited(
                    "the daily request budget (requests_per_day) is used up",
                    Some(wait),
                ));
            }
        }
        self.per_second.until_ready().await;
        *self
            .usage
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(name.clone())
            .or_insert(0) += 1;

        let url = format!("{}{endpoint}", self.base);
        let mut req = match method {
            Method::Get => self.http.get(url),
            Method::Post => self.http.post(url),
            Method::Put => self.http.put(url),
        }
        .header(ACCEPT, HeaderValue::from_static("application/json"))
        .header("X-API-KEY", self.key.clone());
        if !query.is_empty() {
            req = req.query(query);
        }
        if let Some(body) = body {
            req = req.json(body);
        }
        let started = Instant::now();
        let resp = req.send().await.map_err(|e| self.transport(&name, e))?;
        let status = resp.status().as_u16();
        let date = resp
            .headers()
            .get(DATE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| DateTime::parse_from_rfc2822(v).ok())
            .map(|d| d.with_timezone(&Utc));
        let header = |name| {
            resp.headers()
                .get(name)
                .and_then(|v: &HeaderValue| v.to_str().ok())
                .map(str::to_owned)
        };
        let retry_after = header(RETRY_AFTER).and_then(|v| parse_retry_after(&v));
        let x_error = header(reqwest::header::HeaderName::from_static("x-error"));
        let bytes = resp.bytes().await.map_err(|e| self.transport(&name, e))?;
        let elapsed = started.elapsed();
        tracing::debug!(
            request = %name,
            status,
            elapsed_ms = elapsed.as_millis() as u64,
            "IdoSell request"
        );
        let shop_sent_at = date.map(|d| {
            self.clock.observe(d, Utc::now());
            d - chrono::Duration::from_std(elapsed).unwrap_or_default()
        });
        let fault = || {
            serde_json::from_slice::<Value>(&bytes)
                .ok()
                .and_then(|v| v.get("errors").and_then(Fault::from_value))
                .map(|f| format!(": {}", f.message))
                .unwrap_or_default()
        };
        match status {
            200 | 207 => match serde_json::from_slice::<T>(&bytes) {
                Ok(body) => Ok(Reply {
                    status,
                    body,
                    shop_sent_at,
                }),
                Err(e) => Err(ConnectorError::transient(format!(
                    "{name}: HTTP {status} with a body that is not the expected JSON ({e})"
                ))),
            },
            401 => Err(ConnectorError::auth(format!(
                "{name}: the shop refused the API key (HTTP 401)"
            ))),
            403 => Err(ConnectorError::auth(format!(
                "{name}: the API key lacks a permission (HTTP 403: {})",
                x_error.unwrap_or_else(|| "access denied".into())
            ))),
            404 => Err(ConnectorError::config(format!(
                "{name}: HTTP 404 from {}; check url and api_version",
                self.base
            ))),
            422 => Err(ConnectorError::permanent(format!(
                "{name}: the shop refused the request as bad data (HTTP 422{})",
                fault()
            ))),
            429 => Err(ConnectorError::rate_limited(
                format!("{name}: the shop asks to slow down (HTTP 429)"),
                retry_after.or(Some(Duration::from_secs(1))),
            )),
            500..=599 => Err(ConnectorError::transient(format!(
                "{name}: the shop failed (HTTP {status}{})",
                fault()
            ))
            .with_retry_after(retry_after)),
            other => Err(ConnectorError::permanent(format!(
                "{name}: unexpected HTTP {other}{}",
                fault()
            ))),
        }
    }

    fn transport(&self, name: &str, e: reqwest::Error) -> ConnectorError {
        let what = if e.is_timeout() {
            format!("no answer within {} s", self.timeout.as_secs())
        } else if e.is_connect() {
            "cannot connect".to_owned()
        } else if e.is_body() || e.is_decode() {
            "the connection broke while reading the answer".to_owned()
        } else {
            "the connection broke before the answer came".to_owned()
        };
        let e = e.without_url();
        let mut cause = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            cause.push_str(": ");
            cause.push_str(&s.to_string());
            source = s.source();
        }
        ConnectorError::transient(format!("{name}: {what} ({cause})"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        assert_eq!(parse_retry_after("7"), Some(Duration::from_secs(7)));
        let later = (Utc::now() + chrono::Duration::seconds(30)).to_rfc2822();
        let d = parse_retry_after(&later).expect("a date");
        assert!(d <= Duration::from_secs(30) && d >= Duration::from_secs(25));
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn debug_output_hides_the_key() {
        let config = IdoSellConfig::parse(&serde_json::json!({
            "url": "http://127.0.0.1:9", "api_key": "very-secret-key"
        }))
        .expect("valid");
        let client = ApiClient::new(&config).expect("client");
        let text = format!("{client:?} {config:?}");
        assert!(!text.contains("very-secret-key"), "{text}");
    }
}

//! The connector's config: a typed struct parsed from the JSON the host hands over (its TOML
//! config maps 1:1), checked before any network call, and its JSON Schema for the manifest,
//! derived from the type (schemars).

use std::time::Duration;

use orderlink_plugin_api::{sdk, ConnectorError, Secret};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

/// API versions whose order endpoints the connector speaks (same shape in v6, v7 and v8).
pub const API_VERSIONS: [u32; 3] = [6, 7, 8];

/// Which order field is the order key that joins orders across systems.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize, JsonSchema)]
pub enum OrderKey {
    /// `orderSerialNumber` (an integer, sequential per shop).
    #[default]
    #[serde(rename = "orderSerialNumber")]
    SerialNumber,
    /// `orderId` (a string like `shop1-1234`).
    #[serde(rename = "orderId")]
    OrderId,
}

/// One IdoSell shop.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "IdoSell shop")]
pub struct IdoSellConfig {
    /// The shop's base URL, e.g. `https://shop.example.com`; the client appends
    /// `/api/admin/v{api_version}`.
    #[schemars(url)]
    pub url: String,
    /// The Admin API version: 6, 7 or 8.
    #[serde(default = "default_api_version")]
    #[schemars(extend("enum" = [6, 7, 8]))]
    pub api_version: u32,
    /// The Admin API key (`X-API-KEY`).
    #[schemars(with = "String", length(min = 1), extend("secret" = true, "writeOnly" = true))]
    pub api_key: Secret,
    /// The order key: `orderSerialNumber` (default) or `orderId`.
    #[serde(default)]
    pub order_key: OrderKey,
    /// Whether customers get the shop's e-mails and text messages about status changes this
    /// connector makes. Default: no (`dontSendMail`/`dontSendSMS` = `y`).
    #[serde(default)]
    pub notify_customers: bool,
    /// Timeout of one HTTP request, in seconds.
    #[serde(default = "default_timeout_secs")]
    #[schemars(range(min = 1, max = 600))]
    pub timeout_secs: u64,
    /// The most requests a second.
    #[serde(default = "default_requests_per_second")]
    #[schemars(range(min = 1, max = 1000))]
    pub requests_per_second: u32,
    /// The most requests a day (rolling), for shops whose plan charges per call.
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub requests_per_day: Option<u32>,
    /// Where the change feed starts when the host has no cursor yet: this many hours ago.
    #[serde(default = "default_initial_lookback_hours")]
    #[schemars(range(max = 2160))]
    pub initial_lookback_hours: u32,
}

fn default_api_version() -> u32 {
    6
}
fn default_timeout_secs() -> u64 {
    30
}
fn default_requests_per_second() -> u32 {
    5
}
fn default_initial_lookback_hours() -> u32 {
    24
}

impl IdoSellConfig {
    /// Parses and checks a config; every problem is a config error that never quotes the key.
    pub fn parse(value: &Value) -> Result<Self, ConnectorError> {
        if let Some(key) = value.get("api_key") {
            if !key.is_string() {
                return Err(ConnectorError::config(
                    "invalid config: api_key must be a string",
                ));
            }
        }
        let config: IdoSellConfig = sdk::parse_config(value)?;
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> Result<(), ConnectorError> {
        let bad = |m: String| Err(ConnectorError::config(format!("invalid config: {m}")));
        match reqwest::Url::parse(&self.url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {
                if u.query().is_some() || u.fragment().is_some() {
                    return bad("url must not have a query or fragment".into());
                }
                if !u.username().is_empty() || u.password().is_some() {
                    return bad("url must not carry credentials".into());
                }
            }
            Ok(_) => return bad("url must be an http:// or https:// address with a host".into()),
            Err(e) => return bad(format!("url is not a valid URL: {e}")),
        }
        if !API_VERSIONS.contains(&self.api_version) {
            return bad(format!(
                "api_version {} is not supported (use 6, 7 or 8)",
                self.api_version
            ));
        }
        let key = self.api_key.expose();
        if key.trim().is_empty() {
            return bad("api_key must not be empty".into());
        }
        if key.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return bad("api_key must not contain spaces or control characters".into());
        }
        if !(1..=600).contains(&self.timeout_secs) {
            return bad("timeout_secs must be from 1 to 600".into());
        }
        if !(1..=1000).contains(&self.requests_per_second) {
            return bad("requests_per_second must be from 1 to 1000".into());
        }
        if self.requests_per_day == Some(0) {
            return bad("requests_per_day must be at least 1 when set".into());
        }
        if self.initial_lookback_hours > 24 * 90 {
            return bad("initial_lookback_hours must be at most 2160 (90 days)".into());
        }
        Ok(())
    }

    /// `{url}/api/admin/v{api_version}`.
    pub fn api_base(&self) -> String {
        format!(
            "{}/api/admin/v{}",
            self.url.trim_end_matches('/'),
            self.api_version
        )
    }

    /// The request timeout.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs)
    }

    /// The JSON Schema of the config, derived from this type (the key is marked secret).
    pub fn schema() -> Value {
        serde_json::to_value(schemars::schema_for!(IdoSellConfig)).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use orderlink_plugin_api::ErrorKind;
    use serde_json::json;

    fn good() -> Value {
        json!({ "url": "http://127.0.0.1:9", "api_key": "k-123" })
    }

    #[test]
    fn defaults() {
        let c = IdoSellConfig::parse(&good()).expect("valid");
        assert_eq!(c.api_version, 6);
        assert_eq!(c.order_key, OrderKey::SerialNumber);
        assert!(!c.notify_customers);
        assert_eq!((c.timeout_secs, c.requests_per_second), (30, 5));
        assert_eq!(c.requests_per_day, None);
        assert_eq!(c.initial_lookback_hours, 24);
        assert_eq!(c.api_base(), "http://127.0.0.1:9/api/admin/v6");
        let with_slash =
            json!({ "url": "http://h/", "api_key": "k", "api_version": 8, "order_key": "orderId" });
        let c = IdoSellConfig::parse(&with_slash).expect("valid");
        assert_eq!(c.api_base(), "http://h/api/admin/v8");
        assert_eq!(c.order_key, OrderKey::OrderId);
    }

    #[test]
    fn bad_configs_are_config_errors_that_never_quote_the_key() {
        let cases = [
            json!({ "api_key": "k" }),
            json!({ "url": "http://h", "api_key": "k", "color": "red" }),
            json!({ "url": "ftp://h", "api_key": "k" }),
            json!({ "url": "not a url", "api_key": "k" }),
            json!({ "url": "http://h?x=1", "api_key": "k" }),
            json!({ "url": "http://h", "api_key": "k", "api_version": 5 }),
            json!({ "url": "http://h", "api_key": "" }),
            json!({ "url": "http://h", "api_key": 9_876_543_210_u64 }),
            json!({ "url": "http://h", "api_key": "has space-secret" }),
            json!({ "url": "http://h", "api_key": "k", "order_key": "email" }),
            json!({ "url": "http://h", "api_key": "k", "timeout_secs": 0 }),
            json!({ "url": "http://h", "api_key": "k", "requests_per_second": 0 }),
            json!({ "url": "http://h", "api_key": "k", "requests_per_day": 0 }),
        ];
        for case in cases {
            let e = IdoSellConfig::parse(&case).expect_err(&case.to_string());
            assert_eq!(e.kind, ErrorKind::Config, "{case}");
            assert!(!e.message.contains("9876543210"), "{e}");
            assert!(!e.message.contains("space-secret"), "{e}");
        }
    }

    #[test]
    fn the_schema_is_the_type_and_marks_the_key_secret() {
        let s = IdoSellConfig::schema();
        assert_eq!(s["properties"]["api_key"]["secret"], true);
        assert_eq!(s["properties"]["api_key"]["type"], "string");
        assert_eq!(s["type"], "object");
        assert_eq!(s["additionalProperties"], false);
        assert_eq!(s["required"], json!(["url", "api_key"]));
        assert_eq!(s["properties"]["api_version"]["default"], 6);
        assert_eq!(s["properties"]["timeout_secs"]["maximum"], 600);
        assert!(s["properties"]["initial_lookback_hours"]["description"]
            .as_str()
            .is_some_and(|d| d.contains("cursor")));
        let fields: Vec<&String> = s["properties"]
            .as_object()
            .map(|p| p.keys().collect())
            .unwrap_or_default();
        assert_eq!(fields.len(), 9, "{fields:?}");
    }
}

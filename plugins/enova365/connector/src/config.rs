//! The connector's config: where the WebAPI server is, the transport and its credentials (kept
//! out of logs, errors and `Debug`), which field is the order key, timeouts, page size and the
//! feed's overlap.

use orderlink_plugin_api::{ConnectorError, Secret};
use reqwest::Url;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The default name of the order service.
pub const DEFAULT_SERVICE: &str = "OrderLink.Enova365.IZamowieniaApi, OrderLink.Enova365";

/// The largest page the service serves (`Limit`).
pub const MAX_PAGE_SIZE: u32 = 500;

/// The most documents one `UstawPotwierdzenia` call may change.
pub const MAX_CHANGES: usize = 100;

/// Which field of a ZO holds the order key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum OrderKey {
    /// `ObcyNumer`, the foreign number (the default).
    #[default]
    ObcyNumer,
    /// A custom field (*cecha*) of this name.
    Cecha(String),
}

impl TryFrom<String> for OrderKey {
    type Error = String;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        if raw == "ObcyNumer" {
            return Ok(OrderKey::ObcyNumer);
        }
        match raw.strip_prefix("cecha:").map(str::trim) {
            Some(name) if !name.is_empty() => Ok(OrderKey::Cecha(name.to_owned())),
            _ => Err(format!(
                "order_key must be \"ObcyNumer\" or \"cecha:NAME\", got {raw:?}"
            )),
        }
    }
}

impl Serialize for OrderKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl std::fmt::Display for OrderKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OrderKey::ObcyNumer => f.write_str("ObcyNumer"),
            OrderKey::Cecha(name) => write!(f, "cecha:{name}"),
        }
    }
}

fn default_service() -> String {
    DEFAULT_SERVICE.to_owned()
}

fn default_timeout() -> u64 {
    30
}

fn default_page_size() -> u32 {
    100
}

fn default_overlap() -> u64 {
    DEFAULT_OVERLAP_SECS
}

/// How many seconds back the change feed re-reads once it has caught up, for transactions that
/// commit after a later one.
pub const DEFAULT_OVERLAP_SECS: u64 = 5;

/// How the connector reaches the order service.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Transport {
    /// The Dynamic WebAPI: `POST /api/LoginApi` with an application token, then
    /// `POST /api/ZamowieniaApi/{Method}` with the session token (enova365 2410 and later).
    #[default]
    Dynamic,
    /// The legacy `POST /api/MethodInvoker/InvokeServiceMethod` with the login in every body.
    MethodInvoker,
}

impl Transport {
    /// The config value.
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Dynamic => "dynamic",
            Transport::MethodInvoker => "method_invoker",
        }
    }
}

/// The config of one enova365 endpoint.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "enova365 connector")]
pub struct Config {
    /// The WebAPI server's base URL, e.g. `http://erp.local:9010`.
    #[schemars(extend("format" = "uri"))]
    pub url: String,
    /// `dynamic` (default) or `method_invoker`.
    #[serde(default)]
    pub transport: Transport,
    /// The application token (`dynamic`): sent to `LoginApi` as `Authorization: Bearer`.
    #[serde(default)]
    #[schemars(with = "Option<String>", extend("secret" = true, "writeOnly" = true))]
    pub application_token: Option<Secret>,
    /// `DatabaseHandle` (`method_invoker`).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub database: Option<Secret>,
    /// The enova365 operator: the login of `method_invoker`; with either transport, the feed
    /// leaves out documents this operator changed last (`PominOperatora`, orderlink's own writes).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub operator: Option<Secret>,
    /// The operator's password (`method_invoker`).
    #[serde(default)]
    #[schemars(with = "Option<String>", extend("secret" = true, "writeOnly" = true))]
    pub password: Option<Secret>,
    /// The order service's name (`method_invoker`).
    #[serde(default = "default_service")]
    pub service: String,
    /// Which field holds the order key: `"ObcyNumer"` or `"cecha:NAME"`.
    #[serde(default, deserialize_with = "order_key")]
    #[schemars(with = "String", pattern(r"^(ObcyNumer|cecha:.+)$"))]
    pub order_key: OrderKey,
    /// Request timeout in seconds.
    #[serde(default = "default_timeout")]
    #[schemars(range(min = 1, max = 3600))]
    pub timeout_secs: u64,
    /// Documents per request (1 to 500).
    #[serde(default = "default_page_size")]
    #[schemars(range(min = 1, max = 500))]
    pub page_size: u32,
    /// Seconds the caught-up feed re-reads (0 to 300).
    #[serde(default = "default_overlap")]
    #[schemars(range(max = 300))]
    pub feed_overlap_secs: u64,
    /// Leave documents `operator` changed last out of the feed (`PominOperatora`): orderlink's
    /// own writes are no news to it.
    #[serde(default = "default_true")]
    pub skip_own_writes: bool,
    /// Retries of a transient failure inside one call (0 to 10), with a backoff of 0.2 s
    /// doubling up to 2 s.
    #[serde(default = "default_retries")]
    #[schemars(range(max = 10))]
    pub retries: u32,
}

fn default_true() -> bool {
    true
}

fn default_retries() -> u32 {
    3
}

fn order_key<'de, D: serde::Deserializer<'de>>(d: D) -> Result<OrderKey, D::Error> {
    OrderKey::try_from(String::deserialize(d)?).map_err(serde::de::Error::custom)
}

fn filled(s: &Option<Secret>) -> bool {
    s.as_ref().is_some_and(|s| !s.expose().trim().is_empty())
}

impl Config {
    /// Parses and checks a config; every problem is a config error naming the field.
    pub fn from_json(value: &Value) -> Result<Self, ConnectorError> {
        let config: Config = orderlink_plugin_api::sdk::parse_config(value).map_err(|e| {
            // serde quotes a value of the wrong type: keep the secrets out of the message.
            let mut message = e.message;
            for field in ["database", "operator", "password", "application_token"] {
                let raw = match value.get(field) {
                    Some(Value::String(s)) => s.clone(),
                    Some(Value::Null) | None => continue,
                    Some(other) => other.to_string(),
                };
                if !raw.is_empty() {
                    message = message.replace(&raw, "***");
                }
            }
            ConnectorError::config(message)
        })?;
        config.base()?;
        match config.transport {
            Transport::Dynamic => {
                if !filled(&config.application_token) {
                    return Err(ConnectorError::config(
                        "application_token is required with transport = \"dynamic\" (an \
                         application token created for the orderlink operator in enova365)",
                    ));
                }
            }
            Transport::MethodInvoker => {
                for (name, v) in [
                    ("database", &config.database),
                    ("operator", &config.operator),
                    ("password", &config.password),
                ] {
                    if !filled(v) {
                        return Err(ConnectorError::config(format!(
                            "{name} is required with transport = \"method_invoker\""
                        )));
                    }
                }
            }
        }
        if config.service.trim().is_empty() {
            return Err(ConnectorError::config("service must not be empty"));
        }
        if !(1..=3600).contains(&config.timeout_secs) {
            return Err(ConnectorError::config(format!(
                "timeout_secs must be between 1 and 3600, got {}",
                config.timeout_secs
            )));
        }
        if !(1..=MAX_PAGE_SIZE).contains(&config.page_size) {
            return Err(ConnectorError::config(format!(
                "page_size must be between 1 and {MAX_PAGE_SIZE}, got {}",
                config.page_size
            )));
        }
        if config.retries > 10 {
            return Err(ConnectorError::config(format!(
                "retries must be between 0 and 10, got {}",
                config.retries
            )));
        }
        if config.feed_overlap_secs > 300 {
            return Err(ConnectorError::config(format!(
                "feed_overlap_secs must be between 0 and 300, got {}",
                config.feed_overlap_secs
            )));
        }
        Ok(config)
    }

    /// The server's base URL, checked (no credentials, query or fragment), without a trailing `/`.
    pub fn base(&self) -> Result<Url, ConnectorError> {
        let url = Url::parse(self.url.trim())
            .map_err(|e| ConnectorError::config(format!("url {:?} is not a URL: {e}", self.url)))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ConnectorError::config(format!(
                "url must be http or https, got {:?}",
                url.scheme()
            )));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(ConnectorError::config(
                "url must not hold credentials: use application_token (or database, operator \
                 and password)",
            ));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(ConnectorError::config(
                "url must not have a query or fragment",
            ));
        }
        Ok(url)
    }

    /// A path under the base URL, e.g. `api/LoginApi`.
    pub fn endpoint(&self, path: &str) -> Result<Url, ConnectorError> {
        let mut url = self.base()?;
        let full = format!("{}/{path}", url.path().trim_end_matches('/'));
        url.set_path(&full);
        Ok(url)
    }

    /// The operator whose writes the feed leaves out, if known.
    pub fn own_operator(&self) -> Option<&str> {
        self.operator
            .as_ref()
            .map(|o| o.expose().trim())
            .filter(|o| !o.is_empty())
    }
}

/// The JSON Schema of the config, derived from [`Config`] (secrets marked `"secret": true`).
pub fn schema() -> Value {
    serde_json::to_value(schemars::schema_for!(Config)).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use orderlink_plugin_api::ErrorKind;
    use serde_json::json;

    fn good() -> Value {
        json!({
            "url": "http://127.0.0.1:9/",
            "application_token": "TokenTajny",
            "operator": "OperatorTajny"
        })
    }

    fn legacy() -> Value {
        json!({
            "url": "http://127.0.0.1:9/",
            "transport": "method_invoker",
            "database": "FirmaTajna",
            "operator": "OperatorTajny",
            "password": "HasloTajne"
        })
    }

    fn with(mut v: Value, field: &str, value: Value) -> Value {
        if let Some(o) = v.as_object_mut() {
            o.insert(field.into(), value);
        }
        v
    }

    fn without(mut v: Value, field: &str) -> Value {
        if let Some(o) = v.as_object_mut() {
            o.remove(field);
        }
        v
    }

    #[test]
    fn defaults_and_endpoints() {
        let c = Config::from_json(&good()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.transport, Transport::Dynamic);
        assert_eq!(c.service, DEFAULT_SERVICE);
        assert_eq!(c.order_key, OrderKey::ObcyNumer);
        assert_eq!(
            (c.timeout_secs, c.page_size, c.feed_overlap_secs),
            (30, 100, 5)
        );
        assert_eq!(c.own_operator(), Some("OperatorTajny"));
        assert_eq!(
            c.endpoint("api/LoginApi").map(|u| u.to_string()).ok(),
            Some("http://127.0.0.1:9/api/LoginApi".to_owned())
        );
        let c = Config::from_json(&with(good(), "url", json!("https://erp.example/webapi/")))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            c.endpoint("api/MethodInvoker/InvokeServiceMethod")
                .map(|u| u.path().to_owned())
                .ok()
                .as_deref(),
            Some("/webapi/api/MethodInvoker/InvokeServiceMethod")
        );
        let c = Config::from_json(&without(good(), "operator")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.own_operator(), None);
        assert!(Config::from_json(&legacy()).is_ok());
    }

    #[test]
    fn order_key_is_obcy_numer_or_a_named_cecha() {
        let c = Config::from_json(&with(good(), "order_key", json!("cecha: NumerSklepu")))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.order_key, OrderKey::Cecha("NumerSklepu".into()));
        assert_eq!(c.order_key.to_string(), "cecha:NumerSklepu");
        for bad in ["obcynumer", "cecha:", "Cechy", ""] {
            let e = Config::from_json(&with(good(), "order_key", json!(bad))).err();
            assert_eq!(e.map(|e| e.kind), Some(ErrorKind::Config), "{bad}");
        }
    }

    #[test]
    fn bad_configs_are_config_errors_that_name_the_field() {
        let bad = [
            (json!({}), "url"),
            (without(good(), "application_token"), "application_token"),
            (
                with(good(), "application_token", json!(" ")),
                "application_token",
            ),
            (without(legacy(), "password"), "password"),
            (without(legacy(), "database"), "database"),
            (with(legacy(), "operator", json!("")), "operator"),
            (with(good(), "transport", json!("soap")), "transport"),
            (with(good(), "extra", json!(1)), "extra"),
            (with(good(), "url", json!("not a url")), "url"),
            (with(good(), "url", json!("ftp://host/")), "url"),
            (with(good(), "url", json!("http://user:pw@host/")), "url"),
            (with(good(), "page_size", json!(501)), "page_size"),
            (with(good(), "page_size", json!(0)), "page_size"),
            (with(good(), "timeout_secs", json!(0)), "timeout_secs"),
            (
                with(good(), "feed_overlap_secs", json!(301)),
                "feed_overlap_secs",
            ),
            (with(good(), "retries", json!(11)), "retries"),
            (with(legacy(), "password", json!(918273645)), "password"),
        ];
        for (b, field) in bad {
            let e = Config::from_json(&b).err();
            assert_eq!(e.as_ref().map(|e| e.kind), Some(ErrorKind::Config), "{b}");
            let text = format!("{e:?}");
            let named =
                text.contains(field) || (field == "transport" && text.contains("method_invoker"));
            assert!(
                named || matches!(field, "url" | "password"),
                "{field}: {text}"
            );
            for secret in ["FirmaTajna", "HasloTajne", "TokenTajny", "918273645"] {
                assert!(!text.contains(secret), "{text}");
            }
        }
    }

    #[test]
    fn debug_hides_the_secrets() {
        for c in [good(), legacy()] {
            let c = Config::from_json(&c).unwrap_or_else(|e| panic!("{e}"));
            let text = format!("{c:?}");
            assert!(text.contains("127.0.0.1"));
            for secret in ["FirmaTajna", "OperatorTajny", "HasloTajne", "TokenTajny"] {
                assert!(!text.contains(secret), "{text}");
            }
        }
    }

    #[test]
    fn the_schema_is_derived_from_the_config_type() {
        let s = schema();
        let props = &s["properties"];
        assert_eq!(s["additionalProperties"], json!(false));
        assert_eq!(s["required"], json!(["url"]));
        assert_eq!(props["timeout_secs"]["maximum"], json!(3600));
        assert_eq!(props["page_size"]["default"], json!(100));
        assert_eq!(props["order_key"]["default"], json!("ObcyNumer"));
        assert_eq!(
            props["order_key"]["pattern"],
            json!("^(ObcyNumer|cecha:.+)$")
        );
        assert_eq!(props["skip_own_writes"]["default"], json!(true));
        assert!(s.to_string().contains("method_invoker"), "{s}");
        // Every field of the type is in the schema, and nothing else.
        let names: Vec<&String> = props
            .as_object()
            .map(|o| o.keys().collect())
            .unwrap_or_default();
        assert_eq!(names.len(), 13, "{names:?}");
    }

    #[test]
    fn the_schema_marks_the_token_and_password_secret() {
        let info = orderlink_plugin_api::model::ConnectorInfo {
            name: "enova365".into(),
            role: orderlink_plugin_api::model::ConnectorRole::Erp,
            description: String::new(),
            config_schema: schema(),
            capabilities: vec![],
        };
        let mut secret = info.secret_fields();
        secret.sort();
        assert_eq!(
            secret,
            vec!["application_token".to_owned(), "password".to_owned()]
        );
    }
}

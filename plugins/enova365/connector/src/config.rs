//! The connector's config: where the WebAPI server is, the login (all three parts kept out of
//! logs, errors and `Debug`), the service, which field is the order key, timeouts and page size.

use orderlink_plugin_api::{ConnectorError, Secret};
use reqwest::Url;
use serde::Deserialize;
use serde_json::{json, Value};

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

/// The config of one enova365 endpoint.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The WebAPI server's base URL, e.g. `http://erp.local:8080`.
    pub url: String,
    /// `DatabaseHandle`: the enova365 database.
    pub database: Secret,
    /// The enova365 operator.
    pub operator: Secret,
    /// The operator's password.
    pub password: Secret,
    /// The order service's name.
    #[serde(default = "default_service")]
    pub service: String,
    /// Which field holds the order key: `"ObcyNumer"` or `"cecha:NAME"`.
    #[serde(default, deserialize_with = "order_key")]
    pub order_key: OrderKey,
    /// Request timeout in seconds.
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
    /// Documents per request (1 to 500).
    #[serde(default = "default_page_size")]
    pub page_size: u32,
}

fn order_key<'de, D: serde::Deserializer<'de>>(d: D) -> Result<OrderKey, D::Error> {
    OrderKey::try_from(String::deserialize(d)?).map_err(serde::de::Error::custom)
}

impl Config {
    /// Parses and checks a config; every problem is a config error naming the field.
    pub fn from_json(value: &Value) -> Result<Self, ConnectorError> {
        let config: Config = orderlink_plugin_api::sdk::parse_config(value).map_err(|e| {
            // serde quotes a value of the wrong type: keep the login out of the message.
            let mut message = e.message;
            for field in ["database", "operator", "password"] {
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
        config.endpoint()?;
        if config.database.expose().trim().is_empty() {
            return Err(ConnectorError::config("database must not be empty"));
        }
        if config.operator.expose().trim().is_empty() {
            return Err(ConnectorError::config("operator must not be empty"));
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
        Ok(config)
    }

    /// The `InvokeServiceMethod` URL under the base URL.
    pub fn endpoint(&self) -> Result<Url, ConnectorError> {
        let mut url = Url::parse(self.url.trim())
            .map_err(|e| ConnectorError::config(format!("url {:?} is not a URL: {e}", self.url)))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ConnectorError::config(format!(
                "url must be http or https, got {:?}",
                url.scheme()
            )));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(ConnectorError::config(
                "url must not hold credentials: use database, operator and password",
            ));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(ConnectorError::config(
                "url must not have a query or fragment",
            ));
        }
        let path = format!(
            "{}/api/MethodInvoker/InvokeServiceMethod",
            url.path().trim_end_matches('/')
        );
        url.set_path(&path);
        Ok(url)
    }
}

/// The JSON Schema of the config.
pub fn schema() -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "enova365 connector",
        "type": "object",
        "additionalProperties": false,
        "required": ["url", "database", "operator", "password"],
        "properties": {
            "url": {
                "type": "string",
                "format": "uri",
                "description": "Base URL of the Soneta WebAPI server, e.g. http://erp.local:8080"
            },
            "database": {
                "type": "string",
                "minLength": 1,
                "description": "DatabaseHandle: the enova365 database"
            },
            "operator": {
                "type": "string",
                "minLength": 1,
                "description": "The enova365 operator the service runs as"
            },
            "password": {
                "type": "string",
                "secret": true,
                "writeOnly": true,
                "description": "The operator's password"
            },
            "service": {
                "type": "string",
                "default": DEFAULT_SERVICE,
                "description": "The order service's name"
            },
            "order_key": {
                "type": "string",
                "default": "ObcyNumer",
                "pattern": "^(ObcyNumer|cecha:.+)$",
                "description": "Which ZO field holds the shop's order key: ObcyNumer or cecha:NAME"
            },
            "timeout_secs": {
                "type": "integer",
                "minimum": 1,
                "maximum": 3600,
                "default": 30,
                "description": "Request timeout in seconds"
            },
            "page_size": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_PAGE_SIZE,
                "default": 100,
                "description": "Documents per request"
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use orderlink_plugin_api::ErrorKind;

    fn good() -> Value {
        json!({
            "url": "http://127.0.0.1:9/",
            "database": "FirmaTajna",
            "operator": "OperatorTajny",
            "password": "HasloTajne"
        })
    }

    fn with(field: &str, value: Value) -> Value {
        let mut v = good();
        if let Some(o) = v.as_object_mut() {
            o.insert(field.into(), value);
        }
        v
    }

    #[test]
    fn defaults_and_endpoint() {
        let c = Config::from_json(&good()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.service, DEFAULT_SERVICE);
        assert_eq!(c.order_key, OrderKey::ObcyNumer);
        assert_eq!((c.timeout_secs, c.page_size), (30, 100));
        assert_eq!(
            c.endpoint().map(|u| u.to_string()).ok(),
            Some("http://127.0.0.1:9/api/MethodInvoker/InvokeServiceMethod".to_owned())
        );
        let c = Config::from_json(&with("url", json!("https://erp.example/webapi")))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            c.endpoint().map(|u| u.path().to_owned()).ok().as_deref(),
            Some("/webapi/api/MethodInvoker/InvokeServiceMethod")
        );
    }

    #[test]
    fn order_key_is_obcy_numer_or_a_named_cecha() {
        let c = Config::from_json(&with("order_key", json!("cecha: NumerSklepu")))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.order_key, OrderKey::Cecha("NumerSklepu".into()));
        assert_eq!(c.order_key.to_string(), "cecha:NumerSklepu");
        for bad in ["obcynumer", "cecha:", "Cechy", ""] {
            let e = Config::from_json(&with("order_key", json!(bad))).err();
            assert_eq!(e.map(|e| e.kind), Some(ErrorKind::Config), "{bad}");
        }
    }

    #[test]
    fn bad_configs_are_config_errors() {
        let mut missing = good();
        if let Some(o) = missing.as_object_mut() {
            o.remove("password");
        }
        let bad = [
            json!({}),
            missing,
            with("extra", json!(1)),
            with("url", json!("not a url")),
            with("url", json!("ftp://host/")),
            with("url", json!("http://user:pw@host/")),
            with("page_size", json!(501)),
            with("page_size", json!(0)),
            with("timeout_secs", json!(0)),
            with("database", json!(" ")),
            with("operator", json!("")),
            with("password", json!(918273645)),
        ];
        for b in bad {
            let e = Config::from_json(&b).err();
            assert_eq!(e.as_ref().map(|e| e.kind), Some(ErrorKind::Config), "{b}");
            let text = format!("{e:?}");
            for secret in ["FirmaTajna", "OperatorTajny", "HasloTajne", "918273645"] {
                assert!(!text.contains(secret), "{text}");
            }
        }
    }

    #[test]
    fn debug_hides_the_login() {
        let c = Config::from_json(&good()).unwrap_or_else(|e| panic!("{e}"));
        let text = format!("{c:?}");
        assert!(text.contains("127.0.0.1"));
        for secret in ["FirmaTajna", "OperatorTajny", "HasloTajne"] {
            assert!(!text.contains(secret), "{text}");
        }
    }

    #[test]
    fn the_schema_marks_the_password_secret() {
        let info = orderlink_plugin_api::model::ConnectorInfo {
            name: "enova365".into(),
            role: orderlink_plugin_api::model::ConnectorRole::Erp,
            description: String::new(),
            config_schema: schema(),
            capabilities: vec![],
        };
        assert_eq!(info.secret_fields(), vec!["password".to_owned()]);
    }
}

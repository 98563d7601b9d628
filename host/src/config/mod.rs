//! The orderlink config file (TOML): the state store, plugins, endpoints and links.
//!
//! Everything is checked here before any network call; an error names the file, the line and
//! the key, and says what would be valid.

pub mod connector_schema;
pub mod ranges;
pub mod secrets;
pub mod shared_store;
pub mod source;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use orderlink_plugin_api::Secret;
use serde::Deserialize;

pub use shared_store::SharedStore;
pub use source::{FileError, SourceFile};

// The link's shape is domain vocabulary; re-exported here because links are configured with it.
pub use crate::domain::{Direction, Scope, Side};

/// A configured system: a connector and its config (secrets already resolved).
#[derive(Clone, PartialEq)]
pub struct Endpoint {
    /// The endpoint's name in the config.
    pub name: String,
    /// The connector that talks to it.
    pub connector: String,
    /// The connector config, as JSON, secrets resolved. Never print it.
    pub config: serde_json::Value,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("name", &self.name)
            .field("connector", &self.connector)
            .field("config", &"<redacted>")
            .finish()
    }
}

/// A configured link between a shop and an ERP endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    /// Its name.
    pub name: String,
    /// The shop endpoint's name.
    pub shop: String,
    /// The ERP endpoint's name.
    pub erp: String,
    /// Status sync on or off.
    pub enabled: bool,
    /// Which way statuses flow.
    pub direction: Direction,
    /// For the direction into the shop: which orders it may touch.
    pub scope: Scope,
    /// The mapping file.
    pub mapping: PathBuf,
    /// How often to poll.
    pub poll_interval: Duration,
    /// How far polling slows down while the feeds stay idle (at least `poll_interval`).
    pub poll_interval_max: Duration,
    /// How often to list every order in scope from a source that can list (catches what a
    /// change feed missed); `None`: never. Default 6 h.
    pub sweep_interval: Option<Duration>,
    /// Shop statuses never overwritten (None: the shop connector's closed statuses).
    pub protected_shop: Option<Vec<String>>,
    /// ERP statuses never overwritten (None: the ERP connector's closed statuses).
    pub protected_erp: Option<Vec<String>>,
    /// With `both`: the side whose change wins when both changed since the last cycle.
    pub conflict_winner: Side,
    /// Orders per batch (1 to 100).
    pub batch_size: u32,
    /// How much of a host the link takes when hosts share the links (`weight`, default 1).
    pub weight: u32,
}

impl Link {
    /// The endpoint name of a side.
    pub fn endpoint(&self, side: Side) -> &str {
        match side {
            Side::Shop => &self.shop,
            Side::Erp => &self.erp,
        }
    }
}

/// The admin HTTP server of `orderlink run` (health, metrics, JSON API, status page).
#[derive(Debug, Clone)]
pub struct Admin {
    /// Where it listens (loopback unless said otherwise).
    pub listen: SocketAddr,
    /// The token writes (dead letter retry and discard) need when `listen` is not loopback.
    pub token: Option<Secret>,
}

impl Admin {
    /// Whether writes need the token: the server listens beyond this machine.
    pub fn writes_need_token(&self) -> bool {
        !self.listen.ip().is_loopback()
    }
}

/// The whole, checked config.
#[derive(Debug, Clone)]
pub struct Config {
    /// The config file.
    pub path: PathBuf,
    /// The state store file (SQLite), used when `shared` is not set.
    pub store: PathBuf,
    /// The state store shared by several hosts (`[store] url`), instead of the file.
    pub shared: Option<SharedStore>,
    /// How long the audit trail (and cursor checkpoints) are kept (`[store] audit_retention`).
    pub audit_retention: Duration,
    /// Plugin directories.
    pub plugin_dirs: Vec<PathBuf>,
    /// Plugin files.
    pub plugin_files: Vec<PathBuf>,
    /// Endpoints by name.
    pub endpoints: BTreeMap<String, Endpoint>,
    /// Links by name.
    pub links: BTreeMap<String, Link>,
    /// The admin HTTP server; `None`: off.
    pub admin: Option<Admin>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStore {
    path: Option<PathBuf>,
    url: Option<String>,
    password: Option<String>,
    lease: Option<String>,
    host: Option<String>,
    audit_retention: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlugins {
    #[serde(default)]
    dirs: Vec<PathBuf>,
    #[serde(default)]
    files: Vec<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAdmin {
    listen: Option<String>,
    token: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEndpoint {
    connector: String,
    #[serde(default)]
    config: toml::Table,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum RawScope {
    Unfulfilled,
    Recent,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLink {
    shop: String,
    erp: String,
    #[serde(default = "yes")]
    enabled: bool,
    direction: Direction,
    mapping: PathBuf,
    scope: Option<RawScope>,
    recent_days: Option<i64>,
    poll_interval: Option<String>,
    poll_interval_max: Option<String>,
    sweep_interval: Option<String>,
    protected_shop: Option<Vec<String>>,
    protected_erp: Option<Vec<String>>,
    conflict_winner: Option<Side>,
    batch_size: Option<i64>,
    weight: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    store: RawStore,
    #[serde(default)]
    plugins: RawPlugins,
    #[serde(default)]
    endpoints: BTreeMap<String, RawEndpoint>,
    #[serde(default)]
    links: BTreeMap<String, RawLink>,
    admin: Option<RawAdmin>,
}

/// The default `[store] audit_retention`: 90 days.
pub const DEFAULT_AUDIT_RETENTION: Duration = Duration::from_secs(90 * 24 * 3600);

/// Parses a duration like `500ms`, `5s`, `1m30s`, `2h` (humantime's syntax).
pub fn parse_duration(text: &str) -> Option<Duration> {
    humantime::parse_duration(text.trim()).ok()
}

fn names(map: &BTreeMap<String, RawEndpoint>) -> String {
    if map.is_empty() {
        "none defined".to_owned()
    } else {
        map.keys().cloned().collect::<Vec<_>>().join(", ")
    }
}

/// Checks the `[admin]` table.
fn load_admin(raw: &RawAdmin, src: &SourceFile, base: &Path) -> Result<Admin, FileError> {
    let text = raw.listen.as_deref().ok_or_else(|| {
        src.error_for_key(
            "admin",
            "needs listen = \"IP:PORT\" (e.g. \"127.0.0.1:9184\"); leave [admin] out to run without it",
        )
    })?;
    let listen: SocketAddr = text.trim().parse().map_err(|_| {
        src.error_for_key(
            "admin.listen",
            format!(
                "`{text}` is not an IP:PORT address (e.g. \"127.0.0.1:9184\", \"0.0.0.0:9184\")"
            ),
        )
    })?;
    let token = match &raw.token {
        None => None,
        Some(t) => {
            let mut v = serde_json::Value::String(t.clone());
            secrets::resolve(&mut v, "admin.token", base)
                .map_err(|(k, m)| src.error_for_key(&k, m))?;
            let t = v.as_str().unwrap_or_default().trim().to_owned();
            if t.len() < 16 {
                return Err(src.error_for_key(
                    "admin.token",
                    "must be at least 16 characters (use ${env:NAME} or ${file:PATH})",
                ));
            }
            Some(Secret::new(t))
        }
    };
    Ok(Admin { listen, token })
}

impl Config {
    /// An error about a key of this config file, located at its line (the file is read again:
    /// this is only for messages).
    pub fn error_for_key(&self, key: &str, message: impl Into<String>) -> FileError {
        match SourceFile::read(&self.path) {
            Ok(src) => src.error_for_key(key, message),
            Err(_) => FileError {
                file: self.path.clone(),
                line: None,
                key: Some(key.to_owned()),
                message: message.into(),
            },
        }
    }

    /// Checks an endpoint's connector config against the connector's published JSON Schema;
    /// each problem is located at its key's line (see [`connector_schema::check`]).
    pub fn check_connector_config(
        &self,
        endpoint: &str,
        schema: &serde_json::Value,
    ) -> Vec<FileError> {
        let (Some(ep), Ok(src)) = (self.endpoints.get(endpoint), SourceFile::read(&self.path))
        else {
            return Vec::new();
        };
        connector_schema::check(&src, endpoint, &ep.connector, schema, &ep.config)
    }

    /// Reads and checks a config file. No network, no plugins.
    pub fn load(path: &Path) -> Result<Config, FileError> {
        let src = SourceFile::read(path)?;
        let raw: RawConfig = src.parse_toml().map_err(|mut e| {
            if let Some(expected) = e.key.as_deref().and_then(ranges::expected_for) {
                e.message = format!("{}; {expected}", e.message);
            }
            e
        })?;
        let base = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        let rel = |p: &Path| {
            if p.is_absolute() {
                p.to_path_buf()
            } else {
                base.join(p)
            }
        };

        let mut endpoints = BTreeMap::new();
        for (name, ep) in &raw.endpoints {
            if ep.connector.trim().is_empty() {
                return Err(src.error_for_key(
                    &format!("endpoints.{name}.connector"),
                    "must name a connector (see `orderlink plugins`)",
                ));
            }
            let mut config = serde_json::to_value(&ep.config).map_err(|e| {
                src.error_for_key(&format!("endpoints.{name}.config"), e.to_string())
            })?;
            let key = format!("endpoints.{name}.config");
            secrets::resolve(&mut config, &key, &base)
                .map_err(|(k, m)| src.error_for_key(&k, m))?;
            endpoints.insert(
                name.clone(),
                Endpoint {
                    name: name.clone(),
                    connector: ep.connector.clone(),
                    config,
                },
            );
        }

        let mut links = BTreeMap::new();
        for (name, l) in &raw.links {
            let k = |field: &str| format!("links.{name}.{field}");
            for (field, ep) in [("shop", &l.shop), ("erp", &l.erp)] {
                if !raw.endpoints.contains_key(ep) {
                    return Err(src.error_for_key(
                        &k(field),
                        format!(
                            "no endpoint named `{ep}` (endpoints: {})",
                            names(&raw.endpoints)
                        ),
                    ));
                }
            }
            if l.shop == l.erp {
                return Err(src.error_for_key(
                    &k("erp"),
                    "the shop and the ERP must be different endpoints",
                ));
            }
            let recent_days = l
                .recent_days
                .map(|d| ranges::RECENT_DAYS.check(d))
                .transpose()
                .map_err(|m| src.error_for_key(&k("recent_days"), m))?;
            let scope = match (l.scope, recent_days) {
                (Some(RawScope::Unfulfilled), None) => Scope::Unfulfilled,
                (Some(RawScope::Unfulfilled), Some(_)) => {
                    return Err(src.error_for_key(
                        &k("recent_days"),
                        "only applies with scope = \"recent\"",
                    ))
                }
                (Some(RawScope::Recent), Some(d)) => Scope::CreatedWithinDays(d),
                (Some(RawScope::Recent), None) => {
                    return Err(src.error_for_key(
                        &k("scope"),
                        format!(
                            "scope = \"recent\" needs recent_days = N: orders created in the shop in the last N days ({})",
                            ranges::RECENT_DAYS.expected()
                        ),
                    ))
                }
                (None, _) if l.direction.into_shop() => {
                    return Err(src.error_for_key(
                        &format!("links.{name}"),
                        "the direction into the shop needs a scope: scope = \"unfulfilled\" (no sales document issued yet) or scope = \"recent\" with recent_days = N",
                    ))
                }
                (None, _) => Scope::Unfulfilled,
            };
            let poll_interval = match &l.poll_interval {
                None => Duration::from_secs(5),
                Some(text) => ranges::POLL_INTERVAL
                    .check(text)
                    .map_err(|m| src.error_for_key(&k("poll_interval"), m))?,
            };
            let sweep_interval = match l.sweep_interval.as_deref() {
                None => Some(Duration::from_secs(6 * 3600)),
                Some("off") => None,
                Some(text) => Some(
                    ranges::SWEEP_INTERVAL
                        .check(text)
                        .map_err(|m| src.error_for_key(&k("sweep_interval"), m))?,
                ),
            };
            let batch_size = match l.batch_size {
                None => 100,
                Some(n) => ranges::BATCH_SIZE
                    .check(n)
                    .map_err(|m| src.error_for_key(&k("batch_size"), m))?,
            };
            let weight = match l.weight {
                None => 1,
                Some(n) => ranges::WEIGHT
                    .check(n)
                    .map_err(|m| src.error_for_key(&k("weight"), m))?,
            };
            // An idle feed slows down to six times its interval unless told otherwise.
            let poll_interval_max = match &l.poll_interval_max {
                None => poll_interval.saturating_mul(6),
                Some(text) => {
                    let max = ranges::POLL_INTERVAL_MAX
                        .check(text)
                        .map_err(|m| src.error_for_key(&k("poll_interval_max"), m))?;
                    if max < poll_interval {
                        return Err(src.error_for_key(
                            &k("poll_interval_max"),
                            format!(
                                "`{text}` is shorter than poll_interval ({}): expected at least poll_interval",
                                humantime::format_duration(poll_interval)
                            ),
                        ));
                    }
                    max
                }
            };
            let mapping = rel(&l.mapping);
            if !mapping.is_file() {
                return Err(src.error_for_key(
                    &k("mapping"),
                    format!("mapping file {} does not exist", mapping.display()),
                ));
            }
            links.insert(
                name.clone(),
                Link {
                    name: name.clone(),
                    shop: l.shop.clone(),
                    erp: l.erp.clone(),
                    enabled: l.enabled,
                    direction: l.direction,
                    scope,
                    mapping,
                    poll_interval,
                    poll_interval_max,
                    sweep_interval,
                    protected_shop: l.protected_shop.clone(),
                    protected_erp: l.protected_erp.clone(),
                    conflict_winner: l.conflict_winner.unwrap_or(Side::Erp),
                    batch_size,
                    weight,
                },
            );
        }
        let audit_retention = match &raw.store.audit_retention {
            None => DEFAULT_AUDIT_RETENTION,
            Some(text) => ranges::AUDIT_RETENTION
                .check(text)
                .map_err(|m| src.error_for_key("store.audit_retention", m))?,
        };
        let shared = shared_store::load(
            &shared_store::RawShared {
                url: raw.store.url.as_deref(),
                password: raw.store.password.as_deref(),
                lease: raw.store.lease.as_deref(),
                host: raw.store.host.as_deref(),
                has_path: raw.store.path.is_some(),
            },
            &src,
            &base,
        )?;
        if links.is_empty() {
            return Err(src.error_at(
                None,
                "links",
                "no links defined: add a [links.NAME] table with shop, erp, direction and mapping",
            ));
        }
        let admin = match &raw.admin {
            None => None,
            Some(a) => Some(load_admin(a, &src, &base)?),
        };
        Ok(Config {
            admin,
            path: path.to_path_buf(),
            store: rel(raw
                .store
                .path
                .as_deref()
                .unwrap_or(Path::new("orderlink.sqlite"))),
            shared,
            audit_retention,
            plugin_dirs: raw.plugins.dirs.iter().map(|d| rel(d)).collect(),
            plugin_files: raw.plugins.files.iter().map(|d| rel(d)).collect(),
            endpoints,
            links,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, text: &str) -> PathBuf {
        std::fs::write(dir.join("m.toml"), "[to_shop]\n").unwrap();
        let p = dir.join("orderlink.toml");
        std::fs::write(&p, text).unwrap();
        p
    }

    const ENDPOINTS: &str =
        "[endpoints.s]\nconnector = \"idosell\"\n[endpoints.e]\nconnector = \"enova365\"\n";

    fn err(text: &str) -> String {
        let dir = tempfile::tempdir().unwrap();
        Config::load(&write(dir.path(), text))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn unknown_direction_says_line_and_valid_values() {
        let e = err(&format!("{ENDPOINTS}\n[links.l]\nshop = \"s\"\nerp = \"e\"\ndirection = \"up\"\nmapping = \"m.toml\"\n"));
        assert!(e.contains("orderlink.toml:9"), "{e}");
        assert!(e.contains("to_shop") && e.contains("both"), "{e}");
    }

    #[test]
    fn unknown_endpoint_names_the_key_and_the_defined_ones() {
        let e = err(&format!("{ENDPOINTS}\n[links.l]\nshop = \"x\"\nerp = \"e\"\ndirection = \"to_erp\"\nmapping = \"m.toml\"\n"));
        assert!(
            e.contains("orderlink.toml:7: links.l.shop: no endpoint named `x` (endpoints: e, s)"),
            "{e}"
        );
    }

    #[test]
    fn into_the_shop_needs_a_scope_and_recent_needs_days() {
        let base =
            format!("{ENDPOINTS}\n[links.l]\nshop = \"s\"\nerp = \"e\"\nmapping = \"m.toml\"\n");
        let e = err(&format!("{base}direction = \"both\"\n"));
        assert!(e.contains("needs a scope"), "{e}");
        let e = err(&format!(
            "{base}direction = \"to_shop\"\nscope = \"recent\"\n"
        ));
        assert!(e.contains("recent_days"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let c = Config::load(&write(
            dir.path(),
            &format!("{base}direction = \"to_shop\"\nscope = \"recent\"\nrecent_days = 14\npoll_interval = \"2m\"\n"),
        ))
        .unwrap();
        assert_eq!(c.links["l"].scope, Scope::CreatedWithinDays(14));
        assert_eq!(c.links["l"].poll_interval, Duration::from_secs(120));
        assert_eq!(c.audit_retention, DEFAULT_AUDIT_RETENTION);
    }

    #[test]
    fn audit_retention_takes_days_and_refuses_nonsense_at_its_line() {
        let base = format!("[store]\naudit_retention = \"RET\"\n{ENDPOINTS}\n[links.l]\nshop = \"s\"\nerp = \"e\"\nmapping = \"m.toml\"\ndirection = \"to_erp\"\n");
        let dir = tempfile::tempdir().unwrap();
        let c = Config::load(&write(dir.path(), &base.replace("RET", "30d"))).unwrap();
        assert_eq!(c.audit_retention, Duration::from_secs(30 * 86400));
        let e = err(&base.replace("RET", "soon"));
        assert!(e.contains("orderlink.toml:2: store.audit_retention"), "{e}");
        assert!(e.contains("90d"), "{e}");
    }

    #[test]
    fn a_missing_secret_variable_names_the_key() {
        let e = err("[endpoints.s]\nconnector = \"idosell\"\nconfig = { api_key = \"${env:ORDERLINK_UNSET_VAR_1}\" }\n");
        assert!(e.contains("endpoints.s.config.api_key"), "{e}");
        assert!(e.contains("ORDERLINK_UNSET_VAR_1"), "{e}");
    }

    #[test]
    fn admin_listen_must_be_an_address_and_the_token_is_a_secret() {
        let base = format!("{ENDPOINTS}[links.l]\nshop = \"s\"\nerp = \"e\"\ndirection = \"to_erp\"\nmapping = \"m.toml\"\n");
        let e = err(&format!("{base}[admin]\nlisten = \"localhost\"\n"));
        assert!(e.contains("orderlink.toml:11: admin.listen"), "{e}");
        assert!(e.contains("127.0.0.1:9184"), "{e}");
        std::env::set_var("ORDERLINK_TEST_ADMIN_TOKEN", "0123456789abcdef-secret");
        let dir = tempfile::tempdir().unwrap();
        let c = Config::load(&write(
            dir.path(),
            &format!("{base}[admin]\nlisten = \"0.0.0.0:9184\"\ntoken = \"${{env:ORDERLINK_TEST_ADMIN_TOKEN}}\"\n"),
        ))
        .unwrap();
        let admin = c.admin.clone().unwrap();
        assert!(admin.writes_need_token());
        assert_eq!(
            admin.token.as_ref().unwrap().expose(),
            "0123456789abcdef-secret"
        );
        assert!(!format!("{c:?}").contains("abcdef-secret"));
        let c = Config::load(&write(dir.path(), &base)).unwrap();
        assert!(c.admin.is_none(), "off unless set");
    }

    #[test]
    fn endpoint_debug_output_hides_the_config() {
        std::env::set_var("ORDERLINK_TEST_SECRET_DBG", "hunter2");
        let dir = tempfile::tempdir().unwrap();
        let c = Config::load(&write(
            dir.path(),
            "[endpoints.s]\nconnector = \"idosell\"\nconfig = { api_key = \"${env:ORDERLINK_TEST_SECRET_DBG}\" }\n[endpoints.e]\nconnector = \"enova365\"\n[links.l]\nshop = \"s\"\nerp = \"e\"\ndirection = \"to_erp\"\nmapping = \"m.toml\"\n",
        ))
        .unwrap();
        assert!(!format!("{c:?}").contains("hunter2"));
        assert_eq!(c.endpoints["s"].config["api_key"], "hunter2");
    }
}

//! The orderlink config file (TOML): the state store, plugins, endpoints and links.
//!
//! Everything is checked here before any network call; an error names the file, the line and
//! the key, and says what would be valid.

pub mod secrets;
pub mod source;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

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
    /// Shop statuses never overwritten (None: the shop connector's closed statuses).
    pub protected_shop: Option<Vec<String>>,
    /// ERP statuses never overwritten (None: the ERP connector's closed statuses).
    pub protected_erp: Option<Vec<String>>,
    /// With `both`: the side whose change wins when both changed since the last cycle.
    pub conflict_winner: Side,
    /// Orders per batch (1 to 100).
    pub batch_size: u32,
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

/// The whole, checked config.
#[derive(Debug, Clone)]
pub struct Config {
    /// The config file.
    pub path: PathBuf,
    /// The state store (SQLite file).
    pub store: PathBuf,
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
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStore {
    path: Option<PathBuf>,
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
    recent_days: Option<u32>,
    poll_interval: Option<String>,
    poll_interval_max: Option<String>,
    protected_shop: Option<Vec<String>>,
    protected_erp: Option<Vec<String>>,
    conflict_winner: Option<Side>,
    batch_size: Option<u32>,
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
}

/// The default `[store] audit_retention`: 90 days.
pub const DEFAULT_AUDIT_RETENTION: Duration = Duration::from_secs(90 * 24 * 3600);

/// Parses a duration like `500ms`, `5s`, `2m`, `1h`, `90d` (a bare number is seconds).
pub fn parse_duration(text: &str) -> Option<Duration> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num.parse().ok()?;
    let secs = match unit.trim() {
        "" | "s" => n,
        "ms" => n / 1000.0,
        "m" | "min" => n * 60.0,
        "h" => n * 3600.0,
        "d" => n * 86400.0,
        _ => return None,
    };
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs))
}

fn names(map: &BTreeMap<String, RawEndpoint>) -> String {
    if map.is_empty() {
        "none defined".to_owned()
    } else {
        map.keys().cloned().collect::<Vec<_>>().join(", ")
    }
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

    /// Reads and checks a config file. No network, no plugins.
    pub fn load(path: &Path) -> Result<Config, FileError> {
        let src = SourceFile::read(path)?;
        let raw: RawConfig = src.parse_toml()?;
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
            let scope = match (l.scope, l.recent_days) {
                (Some(RawScope::Unfulfilled), None) => Scope::Unfulfilled,
                (Some(RawScope::Unfulfilled), Some(_)) => {
                    return Err(src.error_for_key(
                        &k("recent_days"),
                        "only applies with scope = \"recent\"",
                    ))
                }
                (Some(RawScope::Recent), Some(d)) if d >= 1 => Scope::CreatedWithinDays(d),
                (Some(RawScope::Recent), _) => {
                    return Err(src.error_for_key(
                        &k("scope"),
                        "scope = \"recent\" needs recent_days = N (N >= 1): orders created in the shop in the last N days",
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
                Some(text) => parse_duration(text)
                    .filter(|d| *d >= Duration::from_millis(100))
                    .ok_or_else(|| {
                        src.error_for_key(
                            &k("poll_interval"),
                            format!("`{text}` is not a duration of at least 100ms (e.g. \"500ms\", \"5s\", \"2m\")"),
                        )
                    })?,
            };
            // An idle feed slows down to six times its interval unless told otherwise.
            let poll_interval_max = match &l.poll_interval_max {
                None => poll_interval.saturating_mul(6),
                Some(text) => parse_duration(text)
                    .filter(|d| *d >= poll_interval)
                    .ok_or_else(|| {
                        src.error_for_key(
                            &k("poll_interval_max"),
                            format!("`{text}` is not a duration of at least poll_interval (e.g. \"30s\", \"2m\")"),
                        )
                    })?,
            };
            let batch_size = l.batch_size.unwrap_or(100);
            if !(1..=100).contains(&batch_size) {
                return Err(src.error_for_key(&k("batch_size"), "must be between 1 and 100"));
            }
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
                    protected_shop: l.protected_shop.clone(),
                    protected_erp: l.protected_erp.clone(),
                    conflict_winner: l.conflict_winner.unwrap_or(Side::Erp),
                    batch_size,
                },
            );
        }
        let audit_retention = match &raw.store.audit_retention {
            None => DEFAULT_AUDIT_RETENTION,
            Some(text) => parse_duration(text)
                .filter(|d| *d >= Duration::from_secs(3600))
                .ok_or_else(|| {
                    src.error_for_key(
                        "store.audit_retention",
                        format!(
                            "`{text}` is not a duration of at least 1h (e.g. \"90d\", \"720h\")"
                        ),
                    )
                })?,
        };
        if links.is_empty() {
            return Err(src.error_at(
                None,
                "links",
                "no links defined: add a [links.NAME] table with shop, erp, direction and mapping",
            ));
        }
        Ok(Config {
            path: path.to_path_buf(),
            store: rel(raw
                .store
                .path
                .as_deref()
                .unwrap_or(Path::new("orderlink.sqlite"))),
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

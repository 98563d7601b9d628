//! Setting a link up: connectors for its endpoints, live vocabularies, the resolved mapping and
//! the protected statuses.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use orderlink_plugin_api::model::{Capability, ConnectorRole, Vocabulary};
use orderlink_plugin_api::sdk::Connector;
use orderlink_plugin_api::ConnectorError;

use super::decide::Rules;
use super::health::LinkHealth;
use super::instrument::{EndpointStats, Instrumented};
use super::progress::{Progress, Pull};
use crate::config::{Config, FileError, Link};
use crate::domain::Side;
use crate::mapping::{Mapping, MappingFile};
use crate::plugins::PluginSet;

/// Why a link cannot run.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The config or mapping is wrong (exit code 2).
    #[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))]
    Input(Vec<FileError>),
    /// An endpoint's connector could not be created or checked.
    #[error("endpoint `{endpoint}`: {source}")]
    Endpoint {
        /// The endpoint.
        endpoint: String,
        /// What the connector said.
        source: ConnectorError,
    },
}

impl SetupError {
    /// Whether the user's input is at fault (config, mapping, plugins), not the network.
    pub fn is_bad_input(&self) -> bool {
        match self {
            SetupError::Input(_) => true,
            SetupError::Endpoint { source, .. } => {
                matches!(source.kind, orderlink_plugin_api::ErrorKind::Config)
            }
        }
    }
}

/// A connected endpoint.
pub struct EndpointRuntime {
    /// Its name.
    pub name: String,
    /// The connector's display name (e.g. `idosell`).
    pub connector_name: String,
    /// The connector instance (shared by every link using the endpoint), timed into `stats`.
    pub connector: Arc<dyn Connector>,
    /// What the connector declares it can do.
    pub capabilities: Vec<Capability>,
    /// The host's view of its calls (latency, errors, rate-limit waits).
    pub stats: Arc<EndpointStats>,
}

impl EndpointRuntime {
    /// Whether the connector declares a capability.
    pub fn can(&self, capability: Capability) -> bool {
        self.capabilities.contains(&capability)
    }
}

/// Connected endpoints by name, or the setup problem of each.
pub type Endpoints = BTreeMap<String, Result<Arc<EndpointRuntime>, SetupError>>;

/// Creates a connector for every endpoint the config uses. Problems come back per endpoint.
pub fn connect_endpoints(config: &Config, plugins: &PluginSet) -> Endpoints {
    config
        .endpoints
        .keys()
        .map(|name| (name.clone(), connect_endpoint(config, plugins, name)))
        .collect()
}

/// Creates the connector of one endpoint of the config.
pub fn connect_endpoint(
    config: &Config,
    plugins: &PluginSet,
    name: &str,
) -> Result<Arc<EndpointRuntime>, SetupError> {
    let Some(ep) = config.endpoints.get(name) else {
        return Err(SetupError::Input(vec![config.error_for_key(
            "endpoints",
            format!("no endpoint named `{name}`"),
        )]));
    };
    let Some((lib, info)) = plugins.connector(&ep.connector) else {
        return Err(SetupError::Input(vec![config.error_for_key(
            &format!("endpoints.{name}.connector"),
            format!(
                "no plugin provides connector `{}` (available: {})",
                ep.connector,
                if plugins.connector_names().is_empty() {
                    "none: check the plugin directory".to_owned()
                } else {
                    plugins.connector_names().join(", ")
                }
            ),
        )]));
    };
    let role_ok = config.links.values().all(|l| {
        (l.shop != *name || info.role == ConnectorRole::Shop)
            && (l.erp != *name || info.role == ConnectorRole::Erp)
    });
    if !role_ok {
        return Err(SetupError::Input(vec![config.error_for_key(
            &format!("endpoints.{name}.connector"),
            format!(
                "connector `{}` is a {:?} connector but a link uses it on the other side",
                ep.connector, info.role
            ),
        )]));
    }
    // The config against the connector's published schema first: each problem at its key's line.
    let schema_errors = config.check_connector_config(name, &info.config_schema);
    if !schema_errors.is_empty() {
        return Err(SetupError::Input(schema_errors));
    }
    lib.create(&ep.connector, &ep.config)
        .map(|c| {
            let stats = Arc::new(EndpointStats::default());
            let inner = Arc::new(c) as Arc<dyn Connector>;
            Arc::new(EndpointRuntime {
                name: name.to_owned(),
                connector_name: ep.connector.clone(),
                connector: Arc::new(Instrumented::new(name, inner, stats.clone())),
                capabilities: info.capabilities.clone(),
                stats,
            })
        })
        .map_err(|source| {
            if source.kind == orderlink_plugin_api::ErrorKind::Config {
                SetupError::Input(vec![config.error_for_key(
                    &format!("endpoints.{name}.config"),
                    format!(
                        "connector `{}` refused its config: {}",
                        ep.connector, source.message
                    ),
                )])
            } else {
                SetupError::Endpoint {
                    endpoint: name.to_owned(),
                    source,
                }
            }
        })
}

/// Everything a link needs to run a cycle.
pub struct LinkPlan {
    /// The link's config.
    pub link: Link,
    /// The shop endpoint.
    pub shop: Arc<EndpointRuntime>,
    /// The ERP endpoint.
    pub erp: Arc<EndpointRuntime>,
    /// The mapping, resolved to codes.
    pub mapping: Mapping,
    /// Shop status codes never overwritten.
    pub protected_shop: HashSet<String>,
    /// ERP status codes never overwritten.
    pub protected_erp: HashSet<String>,
    /// How each side is doing (sides that fail rest for a while).
    pub health: Mutex<LinkHealth>,
    /// When each source side was last swept (or the plan made): shop, ERP.
    pub last_sweep: Mutex<[Instant; 2]>,
    /// Pulls cut by a cycle's page budget: the next cycle goes on from here.
    pub unfinished: Mutex<Unfinished>,
}

/// What a link's pulls cut by a cycle's page budget left for the next cycle.
#[derive(Debug, Default)]
pub struct Unfinished {
    /// Progress of pulls still going on (feeds, listings), to keep counting and reporting.
    pub progress: Vec<Progress>,
    /// The listing cursor of a sweep still going on: shop, ERP.
    pub sweep_cursor: [Option<String>; 2],
}

impl LinkPlan {
    /// The endpoint of a side.
    pub fn endpoint(&self, side: Side) -> &EndpointRuntime {
        match side {
            Side::Shop => &self.shop,
            Side::Erp => &self.erp,
        }
    }

    /// The rules the link's decisions follow.
    pub fn rules(&self) -> Rules<'_> {
        Rules {
            direction: self.link.direction,
            scope: self.link.scope,
            conflict_winner: self.link.conflict_winner,
            mapping: &self.mapping,
            protected_shop: &self.protected_shop,
            protected_erp: &self.protected_erp,
        }
    }

    fn with_health<T>(&self, f: impl FnOnce(&mut LinkHealth) -> T) -> T {
        f(&mut self.health.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Whether a side may be called now (it is not resting after failures).
    pub fn due(&self, side: Side) -> bool {
        self.with_health(|h| h.due(side, Instant::now()))
    }

    /// A call to a side failed: it rests.
    pub fn failed(&self, side: Side, retry_after: Option<Duration>, error: String) {
        self.with_health(|h| h.failed(side, Instant::now(), retry_after, error));
    }

    /// Whether a source side's periodic sweep is due.
    pub fn sweep_due(&self, side: Side) -> bool {
        let last = self
            .last_sweep
            .lock()
            .unwrap_or_else(PoisonError::into_inner)[side as usize];
        self.link
            .sweep_interval
            .is_some_and(|every| last.elapsed() >= every)
    }

    fn with_unfinished<T>(&self, f: impl FnOnce(&mut Unfinished) -> T) -> T {
        f(&mut self
            .unfinished
            .lock()
            .unwrap_or_else(PoisonError::into_inner))
    }

    /// The progress of a pull the last cycle left unfinished, or a new one.
    pub fn resume_progress(&self, side: Side, pull: Pull) -> Progress {
        self.with_unfinished(|u| {
            match u
                .progress
                .iter()
                .position(|p| p.side() == side && p.pull() == pull)
            {
                Some(i) => u.progress.swap_remove(i),
                None => Progress::new(&self.link.name, side, pull),
            }
        })
    }

    /// Keeps the progress of a pull the page budget cut, for the next cycle.
    pub fn keep_progress(&self, progress: Progress) {
        self.with_unfinished(|u| u.progress.push(progress));
    }

    /// The listing cursor of a sweep the last cycle left unfinished.
    pub fn take_sweep_cursor(&self, side: Side) -> Option<String> {
        self.with_unfinished(|u| u.sweep_cursor[side as usize].take())
    }

    /// Keeps the listing cursor of a sweep the page budget cut, for the next cycle.
    pub fn keep_sweep_cursor(&self, side: Side, cursor: String) {
        self.with_unfinished(|u| u.sweep_cursor[side as usize] = Some(cursor));
    }

    /// Whether a sweep of a source side was cut by a page budget and goes on.
    pub fn sweep_unfinished(&self, side: Side) -> bool {
        self.with_unfinished(|u| u.sweep_cursor[side as usize].is_some())
    }

    /// A source side was just swept.
    pub fn swept(&self, side: Side) {
        self.last_sweep
            .lock()
            .unwrap_or_else(PoisonError::into_inner)[side as usize] = Instant::now();
    }

    /// The last failure of a side, while it is failing.
    pub fn last_error(&self, side: Side) -> Option<String> {
        self.with_health(|h| h.side(side).last_error.clone())
    }

    /// A call to a side succeeded.
    pub fn succeeded(&self, side: Side) {
        self.with_health(|h| h.succeeded(side));
    }

    /// How long until a resting side may be called again, if one rests.
    pub fn next_retry_in(&self) -> Option<Duration> {
        self.with_health(|h| h.next_retry())
            .map(|at| at.saturating_duration_since(Instant::now()))
    }

    /// The protected codes of a side.
    pub fn protected(&self, side: Side) -> &HashSet<String> {
        match side {
            Side::Shop => &self.protected_shop,
            Side::Erp => &self.protected_erp,
        }
    }
}

fn protected_codes(
    listed: &Option<Vec<String>>,
    vocab: &Vocabulary,
    key: &str,
    config: &Config,
) -> Result<HashSet<String>, FileError> {
    match listed {
        None => Ok(vocab
            .statuses
            .iter()
            .filter(|s| s.closed)
            .map(|s| s.code.clone())
            .collect()),
        Some(names) => names
            .iter()
            .enumerate()
            .map(|(i, n)| {
                vocab.resolve(n).map(|s| s.code.clone()).ok_or_else(|| {
                    let known: Vec<&str> = vocab.statuses.iter().map(|s| s.code.as_str()).collect();
                    let mut e = config.error_for_key(
                        &format!("{key}[{i}]"),
                        format!(
                            "`{n}` is not a status of that system (its statuses: {})",
                            known.join(", ")
                        ),
                    );
                    e.key = Some(key.to_owned());
                    e
                })
            })
            .collect(),
    }
}

/// Reads both vocabularies and resolves the link's mapping against them.
pub fn plan_link(
    config: &Config,
    link: &Link,
    shop: Arc<EndpointRuntime>,
    erp: Arc<EndpointRuntime>,
) -> Result<LinkPlan, SetupError> {
    let mapping_file = MappingFile::load(&link.mapping).map_err(|e| SetupError::Input(vec![e]))?;
    let vocab = |ep: &EndpointRuntime| {
        ep.connector
            .vocabulary()
            .map_err(|source| SetupError::Endpoint {
                endpoint: ep.name.clone(),
                source,
            })
    };
    let shop_vocab = vocab(&shop)?;
    let erp_vocab = vocab(&erp)?;
    let mapping = mapping_file
        .resolve(
            link.direction,
            (&shop.connector_name, &shop_vocab),
            (&erp.connector_name, &erp_vocab),
        )
        .map_err(SetupError::Input)?;
    let key = |f: &str| format!("links.{}.{f}", link.name);
    let protected_shop = protected_codes(
        &link.protected_shop,
        &shop_vocab,
        &key("protected_shop"),
        config,
    )
    .map_err(|e| SetupError::Input(vec![e]))?;
    let protected_erp = protected_codes(
        &link.protected_erp,
        &erp_vocab,
        &key("protected_erp"),
        config,
    )
    .map_err(|e| SetupError::Input(vec![e]))?;
    Ok(LinkPlan {
        link: link.clone(),
        shop,
        erp,
        mapping,
        protected_shop,
        protected_erp,
        health: Mutex::new(LinkHealth::default()),
        last_sweep: Mutex::new([Instant::now(); 2]),
        unfinished: Mutex::new(Unfinished::default()),
    })
}

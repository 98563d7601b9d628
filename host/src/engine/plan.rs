//! Setting a link up: connectors for its endpoints, live vocabularies, the resolved mapping and
//! the protected statuses.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use orderlink_plugin_api::model::{ConnectorRole, Vocabulary};
use orderlink_plugin_api::sdk::Connector;
use orderlink_plugin_api::ConnectorError;

use super::instrument::{EndpointStats, Instrumented};
use crate::config::{Config, FileError, Link, Side};
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
    /// The host's view of its calls (latency, errors, rate-limit waits).
    pub stats: Arc<EndpointStats>,
}

/// Connected endpoints by name, or the setup problem of each.
pub type Endpoints = BTreeMap<String, Result<Arc<EndpointRuntime>, SetupError>>;

/// Creates a connector for every endpoint the config uses. Problems come back per endpoint.
pub fn connect_endpoints(config: &Config, plugins: &PluginSet) -> Endpoints {
    let mut out = BTreeMap::new();
    for (name, ep) in &config.endpoints {
        let result = match plugins.connector(&ep.connector) {
            None => Err(SetupError::Input(vec![config.error_for_key(
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
            )])),
            Some((lib, info)) => {
                let role_ok = config.links.values().all(|l| {
                    (l.shop != *name || info.role == ConnectorRole::Shop)
                        && (l.erp != *name || info.role == ConnectorRole::Erp)
                });
                if !role_ok {
                    Err(SetupError::Input(vec![config.error_for_key(
                        &format!("endpoints.{name}.connector"),
                        format!(
                            "connector `{}` is a {:?} connector but a link uses it on the other side",
                            ep.connector, info.role
                        ),
                    )]))
                } else {
                    lib.create(&ep.connector, &ep.config)
                        .map(|c| {
                            let stats = Arc::new(EndpointStats::default());
                            let inner = Arc::new(c) as Arc<dyn Connector>;
                            Arc::new(EndpointRuntime {
                                name: name.clone(),
                                connector_name: ep.connector.clone(),
                                connector: Arc::new(Instrumented::new(name, inner, stats.clone())),
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
                                    endpoint: name.clone(),
                                    source,
                                }
                            }
                        })
                }
            }
        };
        out.insert(name.clone(), result);
    }
    out
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
}

impl LinkPlan {
    /// The endpoint of a side.
    pub fn endpoint(&self, side: Side) -> &EndpointRuntime {
        match side {
            Side::Shop => &self.shop,
            Side::Erp => &self.erp,
        }
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
            .map(|n| {
                vocab
                    .resolve(n)
                    .map(|s| s.code.clone())
                    .ok_or_else(|| FileError {
                        file: config.path.clone(),
                        line: None,
                        key: Some(key.to_owned()),
                        message: format!("`{n}` is not a status of that system"),
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
    })
}

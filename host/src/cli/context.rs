//! What most commands start with: the checked config and the plugins it names.

use std::path::Path;

use super::BadInput;
use crate::config::{Config, Link};
use crate::engine::connect_endpoints;
use crate::engine::plan::Endpoints;
use crate::mapping::MappingFile;
use crate::plugins::PluginSet;

/// Loads and checks the config file (no network).
pub fn load_config(path: &Path) -> Result<Config, BadInput> {
    if !path.exists() {
        return Err(BadInput(format!(
            "config file {} does not exist (name one with --config FILE or ORDERLINK_CONFIG; default: {})",
            path.display(),
            super::DEFAULT_CONFIG
        )));
    }
    Config::load(path).map_err(|e| BadInput(e.to_string()))
}

/// Loads the plugins the config names (or the default directory), logging each problem.
pub fn load_plugins(config: &Config) -> PluginSet {
    let set = PluginSet::load_or_default(&config.plugin_dirs, &config.plugin_files);
    for p in &set.problems {
        tracing::warn!("plugin problem: {}", p.message);
    }
    set
}

/// Creates every endpoint's connector (no network call); bad input in any endpoint (an unknown
/// connector, a config the connector's schema refuses) stops the command before any endpoint
/// is called, with every such error at once.
pub fn connect_checked(config: &Config, plugins: &PluginSet) -> Result<Endpoints, BadInput> {
    let endpoints = connect_endpoints(config, plugins);
    let errors: Vec<String> = endpoints
        .values()
        .filter_map(|ep| ep.as_ref().err())
        .filter(|e| e.is_bad_input())
        .map(ToString::to_string)
        .collect();
    if errors.is_empty() {
        Ok(endpoints)
    } else {
        Err(BadInput(errors.join("\n")))
    }
}

/// A service failure as a command error: bad input keeps exit code 2.
pub fn service_error(e: crate::service::ServiceError) -> anyhow::Error {
    if e.is_bad_input() {
        BadInput(e.to_string()).into()
    } else {
        e.into()
    }
}

/// For `run`: fails (bad input, every reason at once) when no enabled link can start because an
/// endpoint of each is misconfigured, so that nothing is written, not even a new store file.
/// Links with a sound config start; the others stay off, as the supervisor decides.
pub fn some_link_can_start(config: &Config, plugins: &PluginSet) -> Result<(), BadInput> {
    let endpoints = connect_endpoints(config, plugins);
    let bad = |name: &str| {
        endpoints
            .get(name)
            .and_then(|e| e.as_ref().err())
            .filter(|e| e.is_bad_input())
    };
    let mut errors: Vec<String> = Vec::new();
    for link in config.links.values().filter(|l| l.enabled) {
        match (bad(&link.shop), bad(&link.erp)) {
            (None, None) => return Ok(()),
            (a, b) => errors.extend(
                a.into_iter()
                    .chain(b)
                    .map(|e| format!("link `{}`: {e}", link.name)),
            ),
        }
    }
    errors.dedup();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(BadInput(errors.join("\n")))
    }
}

/// Reads each link's mapping file and checks it has the tables its direction needs (no network):
/// every problem at once.
pub fn check_mappings<'a>(links: impl IntoIterator<Item = &'a Link>) -> Result<(), BadInput> {
    let mut errors = Vec::new();
    for link in links {
        match MappingFile::load(&link.mapping) {
            Ok(m) => errors.extend(
                m.check_tables(link.direction)
                    .iter()
                    .map(ToString::to_string),
            ),
            Err(e) => errors.push(e.to_string()),
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(BadInput(errors.join("\n")))
    }
}

//! What most commands start with: the checked config, the plugins it names, and connected
//! endpoints.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use super::BadInput;
use crate::config::Config;
use crate::engine::plan::EndpointRuntime;
use crate::engine::{connect_endpoints, SetupError};
use crate::plugins::loader::default_plugin_dir;
use crate::plugins::PluginSet;

/// Loads and checks the config file (no network).
pub fn load_config(path: &Path) -> Result<Config, BadInput> {
    Config::load(path).map_err(|e| BadInput(e.to_string()))
}

/// Loads the plugins the config names (or the default directory).
pub fn load_plugins(config: &Config) -> PluginSet {
    let dirs = if config.plugin_dirs.is_empty() && config.plugin_files.is_empty() {
        vec![default_plugin_dir()]
    } else {
        config.plugin_dirs.clone()
    };
    let set = PluginSet::load(&dirs, &config.plugin_files);
    for p in &set.problems {
        tracing::warn!("plugin problem: {}", p.message);
    }
    set
}

/// Connected endpoints by name, or the setup problem of each.
pub type Endpoints = BTreeMap<String, Result<Arc<EndpointRuntime>, SetupError>>;

/// Creates every endpoint's connector.
pub fn connect(config: &Config, plugins: &PluginSet) -> Endpoints {
    connect_endpoints(config, plugins)
}

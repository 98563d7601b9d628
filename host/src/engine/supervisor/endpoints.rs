//! The connectors of the endpoints in use, shared by the links that name them. An endpoint is
//! connected when a link first needs it and again after its config changed; an endpoint that
//! cannot be connected fails only the links that need it, which retry.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use crate::config::{Config, Endpoint};
use crate::engine::plan::{connect_endpoint, EndpointRuntime, SetupError};
use crate::plugins::PluginSet;

/// Connected endpoints by name, each with the config it was connected with.
#[derive(Default)]
pub struct EndpointTable {
    connected: Mutex<BTreeMap<String, (Endpoint, Arc<EndpointRuntime>)>>,
}

impl EndpointTable {
    /// The connector of endpoint `name` under `config`: the one already connected with the same
    /// settings, or a new one. Blocking (a plugin call): call it from a plain thread.
    pub fn get(
        &self,
        config: &Config,
        plugins: &PluginSet,
        name: &str,
    ) -> Result<Arc<EndpointRuntime>, SetupError> {
        let wanted = config.endpoints.get(name);
        if let (Some(w), Ok(table)) = (wanted, self.connected.lock()) {
            if let Some((ep, rt)) = table.get(name) {
                if ep == w {
                    return Ok(rt.clone());
                }
            }
        }
        let rt = connect_endpoint(config, plugins, name)?;
        if let (Some(w), Ok(mut table)) = (wanted, self.connected.lock()) {
            // Two links may connect the same endpoint at once: keep the first, drop the other.
            if let Some((ep, existing)) = table.get(name) {
                if ep == w {
                    return Ok(existing.clone());
                }
            }
            table.insert(name.to_owned(), (w.clone(), rt.clone()));
        }
        Ok(rt)
    }

    /// Forgets endpoints that no longer exist in `config` or whose settings changed (their
    /// connectors are dropped once no link holds them).
    pub fn retain_current(&self, config: &Config) {
        if let Ok(mut table) = self.connected.lock() {
            table.retain(|name, (ep, _)| config.endpoints.get(name) == Some(ep));
        }
    }
}

//! The SDK for connector authors: write a connector as ordinary Rust.
//!
//! A plugin crate (crate-type `cdylib`) implements [`Connector`] for each connector it provides,
//! registers a [`ConnectorFactory`] with [`register_connector!`](crate::register_connector), and
//! exports itself once with [`export_plugin!`](crate::export_plugin). The SDK turns every entry
//! point into a panic-guarded `extern "C"` function, gives the plugin its own async runtime
//! ([`block_on`]) and forwards its `tracing` events to the host.

pub mod export;
pub mod log_bridge;
pub mod runtime;

pub use runtime::{block_on, runtime};

use serde::de::DeserializeOwned;

use crate::error::ConnectorError;
use crate::model::{
    ApiUsage, ApplyRequest, ApplyResponse, ChangesPage, ChangesRequest, CheckReport, ConnectorInfo,
    ListPage, ListRequest, ReadRequest, ReadResponse, Vocabulary,
};

/// A connector instance: one configured endpoint of some system.
///
/// Methods are blocking; use [`block_on`] to run async HTTP calls on the plugin's runtime.
/// The host may call methods from several threads at once.
pub trait Connector: Send + Sync + 'static {
    /// Checks the config and that the system answers.
    fn check(&self) -> Result<CheckReport, ConnectorError>;
    /// The statuses the system knows.
    fn vocabulary(&self) -> Result<Vocabulary, ConnectorError>;
    /// Orders whose status may have changed since the cursor, and the next cursor.
    fn changes(&self, request: &ChangesRequest) -> Result<ChangesPage, ConnectorError>;
    /// Orders by key.
    fn read(&self, request: &ReadRequest) -> Result<ReadResponse, ConnectorError>;
    /// Applies status updates, one outcome per update.
    fn apply(&self, request: &ApplyRequest) -> Result<ApplyResponse, ConnectorError>;
    /// API requests made so far (ABI 1.1). The default reports none.
    fn api_usage(&self) -> ApiUsage {
        ApiUsage::default()
    }
    /// The orders in a scope, page by page (ABI 1.2). A connector that can list declares
    /// [`Capability::List`](crate::model::Capability::List); the default refuses.
    fn list(&self, request: &ListRequest) -> Result<ListPage, ConnectorError> {
        let _ = request;
        Err(ConnectorError::unsupported("list"))
    }
}

/// How a plugin makes one kind of connector; collected with `inventory`.
pub struct ConnectorFactory {
    /// Describes the connector (name, role, config schema, capabilities).
    pub info: fn() -> ConnectorInfo,
    /// Creates an instance from its JSON config. Bad config must give [`ConnectorError::config`].
    pub create: fn(&serde_json::Value) -> Result<Box<dyn Connector>, ConnectorError>,
}

inventory::collect!(ConnectorFactory);

/// Every connector factory registered in this binary.
pub fn factories() -> impl Iterator<Item = &'static ConnectorFactory> {
    inventory::iter::<ConnectorFactory>.into_iter()
}

/// Parses a connector config, turning serde's complaint into a config error that names the field.
pub fn parse_config<T: DeserializeOwned>(config: &serde_json::Value) -> Result<T, ConnectorError> {
    T::deserialize(config).map_err(|e| ConnectorError::config(format!("invalid config: {e}")))
}

/// Registers a connector factory: `register_connector!(info_fn, create_fn);`
#[macro_export]
macro_rules! register_connector {
    ($info:path, $create:path $(,)?) => {
        $crate::inventory::submit! {
            $crate::sdk::ConnectorFactory { info: $info, create: $create }
        }
    };
}

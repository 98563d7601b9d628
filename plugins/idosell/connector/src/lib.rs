//! The orderlink connector plugin for IdoSell shops: `liborderlink_idosell.so` provides the
//! `idosell` connector (role: shop), speaking the IdoSell Admin API v6 to v8.
//!
//! - [`config`]: the config and its JSON Schema.
//! - [`client`]: HTTP, the request budget, retries and error classification.
//! - [`feed`]: the change-feed cursor and walk (why it neither misses nor repeats changes).
//! - [`behaviour`]: what the shop does with sorts and ranges, probed at run time.
//! - [`requests`]: the request bodies.
//! - [`connector`]: the [`Connector`](orderlink_plugin_api::sdk::Connector) implementation.
//! - [`statuses`]: the status vocabulary; [`wire`]: the JSON the connector reads.
//!
//! Built as a `cdylib` for the host and as an `rlib` so benchmarks can call it in-process
//! through [`create`].

pub mod behaviour;
pub mod client;
pub mod config;
pub mod connector;
pub mod feed;
pub mod requests;
pub mod statuses;
pub mod wire;

use orderlink_plugin_api::model::{Capability, ConnectorInfo, ConnectorRole};
use orderlink_plugin_api::sdk::Connector;
use orderlink_plugin_api::ConnectorError;

pub use config::{IdoSellConfig, OrderKey};
pub use connector::IdoSellConnector;

/// The connector's name.
pub const CONNECTOR_NAME: &str = "idosell";

/// What the `idosell` connector is.
pub fn info() -> ConnectorInfo {
    ConnectorInfo {
        name: CONNECTOR_NAME.to_owned(),
        role: ConnectorRole::Shop,
        description:
            "IdoSell shop (Admin API v6-v8): order status change feed, reads and status updates"
                .to_owned(),
        config_schema: IdoSellConfig::schema(),
        capabilities: vec![
            Capability::Changes,
            Capability::List,
            Capability::Read,
            Capability::Apply,
            Capability::CreatedAt,
            Capability::ApiUsage,
        ],
    }
}

/// Creates an `idosell` connector from its JSON config (no network call).
pub fn create(config: &serde_json::Value) -> Result<Box<dyn Connector>, ConnectorError> {
    let config = IdoSellConfig::parse(config)?;
    tracing::debug!(url = %config.url, api_version = config.api_version, "creating an IdoSell connector");
    Ok(Box::new(IdoSellConnector::new(config)?))
}

orderlink_plugin_api::register_connector!(info, create);
orderlink_plugin_api::export_plugin!(name = "idosell", version = env!("CARGO_PKG_VERSION"));

//! The orderlink connector plugin for the enova365 ERP.
//!
//! It talks to the Soneta WebAPI server's generic `MethodInvoker` endpoint, where the orderlink
//! order service (`OrderLink.Enova365.IZamowieniaApi`) lists ZO documents by `Stamp`, sets their
//! `Potwierdzenie` in batches and names the confirmation values. The contract is
//! `shared/specs/enova365/README.md`; the config is documented in `plugins/enova365/README.md`.
//!
//! - [`config`]: the config and its JSON Schema.
//! - `webapi`: the HTTP client (login in every body, failures classified, secrets scrubbed).
//! - `contract`: the service's arguments and results.
//! - `order_state`, `outcome`: ZO → order state, per-document result → apply outcome.
//! - `cecha_index`: the key index used when the order key is a custom field.
//! - `connector`: the [`Connector`](orderlink_plugin_api::sdk::Connector) implementation.

mod cecha_index;
pub mod config;
mod connector;
mod contract;
mod order_state;
mod outcome;
mod webapi;

use orderlink_plugin_api::model::{Capability, ConnectorInfo, ConnectorRole};
use orderlink_plugin_api::sdk::Connector;
use orderlink_plugin_api::ConnectorError;

pub use connector::Enova365;

/// The connector's name.
pub const CONNECTOR: &str = "enova365";

/// Describes the connector.
pub fn info() -> ConnectorInfo {
    ConnectorInfo {
        name: CONNECTOR.into(),
        role: ConnectorRole::Erp,
        description: "enova365 ERP through the Soneta WebAPI order service: ZO Potwierdzenie"
            .into(),
        config_schema: config::schema(),
        capabilities: vec![
            Capability::Changes,
            Capability::Read,
            Capability::Apply,
            Capability::Fulfilment,
            Capability::CreatedAt,
            Capability::ApiUsage,
            Capability::Preconditions,
        ],
    }
}

/// Creates a connector from its JSON config.
pub fn create(config: &serde_json::Value) -> Result<Box<dyn Connector>, ConnectorError> {
    let config = config::Config::from_json(config)?;
    Ok(Box::new(Enova365::new(&config)?))
}

orderlink_plugin_api::register_connector!(info, create);
orderlink_plugin_api::export_plugin!(name = "enova365", version = env!("CARGO_PKG_VERSION"));

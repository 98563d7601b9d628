//! The orderlink connector plugin for the enova365 ERP.
//!
//! It talks to the orderlink add-on (`plugins/enova365/addon/`, service
//! `OrderLink.Enova365.IZamowieniaApi`) on the Soneta WebAPI server, over the Dynamic WebAPI
//! (default) or the legacy MethodInvoker: ZO documents by change time, their `Potwierdzenie` set
//! in batches with a compare-and-set, and the confirmation values. The contract is
//! `plugins/enova365/contract/`; the config is documented in `plugins/enova365/README.md`.
//!
//! - [`config`]: the config and its JSON Schema.
//! - `webapi`: the HTTP client over both transports (sessions, retries, failures classified,
//!   secrets scrubbed).
//! - `contract`: the service's arguments and results.
//! - `feed`: the change feed's cursor (position, settled mark, overlap dedupe).
//! - `order_state`, `outcome`: ZO → order state, per-document result → apply outcome.
//! - `cecha_index`: the key index used when the order key is a custom field.
//! - `connector`: the [`Connector`](orderlink_plugin_api::sdk::Connector) implementation.

mod cecha_index;
pub mod config;
mod connector;
mod contract;
mod feed;
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
        description:
            "enova365 ERP through the orderlink add-on on the Soneta WebAPI: ZO Potwierdzenie"
                .into(),
        config_schema: config::schema(),
        capabilities: vec![
            Capability::Changes,
            Capability::Read,
            Capability::Apply,
            Capability::Fulfilment,
            Capability::CreatedAt,
            Capability::ApiUsage,
            Capability::List,
            Capability::CompareAndSet,
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

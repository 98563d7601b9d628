//! What the user-facing commands do, as plain functions returning typed, serialisable results:
//! the CLI prints them, the admin API serialises them. No printing here.
//!
//! - [`mapping`]: a link's mapping resolved against the live status lists.
//! - [`history`]: every recorded decision about an order, and a distinct answer for one never seen.
//! - [`explain`]: what the next cycle would do with an order, and why (reads, never writes).
//! - [`reconcile`]: both systems compared order by order; drift and why the feed left it.
//! - [`resync`]: re-reading changes since a moment, or given orders, through the decide path.
//! - [`retention`]: pruning the audit trail.
//! - [`compare`]: one order's two sides under the link's rules (decide), shared by the above.
//! - [`link`]: setting up one link for these functions.

pub mod compare;
pub mod explain;
pub mod history;
pub mod link;
pub mod mapping;
pub mod reconcile;
pub mod resync;
pub mod retention;

use orderlink_plugin_api::ConnectorError;

use crate::engine::SetupError;
use crate::store::StoreError;

/// Why a service function failed.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The request names something that does not exist or is malformed (exit code 2).
    #[error("{0}")]
    BadInput(String),
    /// The state store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The link could not be set up (config, mapping, or an endpoint).
    #[error(transparent)]
    Setup(#[from] SetupError),
    /// A system the request needs cannot be reached or set up now.
    #[error("{0}")]
    Unavailable(String),
    /// A connector call failed.
    #[error("endpoint `{endpoint}`: {source}")]
    Connector {
        /// The endpoint.
        endpoint: String,
        /// What the connector said.
        source: ConnectorError,
    },
}

impl ServiceError {
    /// Whether the caller's input is at fault (exit code 2, HTTP 4xx).
    pub fn is_bad_input(&self) -> bool {
        match self {
            ServiceError::BadInput(_) => true,
            ServiceError::Setup(e) => e.is_bad_input(),
            ServiceError::Store(e) => e.is_bad_input(),
            ServiceError::Unavailable(_) | ServiceError::Connector { .. } => false,
        }
    }
}

//! The contract between the orderlink host and connector plugins.
//!
//! - [`abi`]: the `StableAbi` types that cross the library boundary (root module, connector
//!   vtable, host callbacks). Grows only by appending fields to prefix-type modules.
//! - [`model`]: the data (orders, statuses, batches) that travels as JSON inside ABI strings.
//! - [`error`]: classified errors (config, auth, transient, rate-limited, not found, conflict,
//!   permanent, internal).
//! - [`sdk`]: what a connector author uses: the [`sdk::Connector`] trait,
//!   [`register_connector!`], [`export_plugin!`], the plugin runtime and the log bridge.
//! - [`client`]: what a host uses: load a plugin library and drive its connectors.
//! - [`compat`]: which ABI versions a host accepts (same major, any minor), through `semver`.
//! - `testkit` (feature `testkit`): the conformance checks every connector's tests run.

pub mod abi;
pub mod client;
pub mod compat;
pub mod error;
pub mod model;
pub mod sdk;
pub mod secret;
#[cfg(feature = "testkit")]
pub mod testkit;
mod timestamp;

pub use error::{ConnectorError, ErrorKind};
pub use secret::Secret;

#[doc(hidden)]
pub use abi_stable;
#[doc(hidden)]
pub use inventory;

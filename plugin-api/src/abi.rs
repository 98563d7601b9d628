//! The types that cross the boundary between the host and a plugin library.
//!
//! Only `#[repr(C)]` + `StableAbi` types live here. Modules (`PluginModule`, `ConnectorVtable`,
//! `HostApi`) are abi_stable prefix types: a later ABI version may append fields after the last
//! one, and a host reads an appended field as `None` from a plugin built before it existed.
//! Payloads travel as JSON in [`RString`]s (see [`crate::model`]).
//!
//! ABI history:
//! - 1.0: `PluginModule { init, manifest, create }`, `ConnectorVtable { drop, check, vocabulary,
//!   changes, read, apply }`, `HostApi { max_level, log }`.
//! - 1.1: `ConnectorVtable::api_usage`.
//! - 1.2: `ConnectorVtable::list` (a listing of the orders in a scope); in the JSON model:
//!   `CheckReport::findings`, `StatusUpdate::expected_status`, `OutcomeKind::Conflict`,
//!   capabilities `list` and `compare_and_set`, unknown capabilities and outcomes tolerated.

use std::ffi::c_void;

use abi_stable::{
    declare_root_module_statics,
    library::RootModule,
    package_version_strings,
    sabi_types::VersionStrings,
    std_types::{ROption, RResult, RStr, RString},
    StableAbi,
};

use crate::error::{ConnectorError, ErrorKind};

/// The ABI version this crate defines (its package version).
pub const ABI_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The ABI generation: plugins built against any `ABI_MAJOR.x` load into this host.
pub const ABI_MAJOR: u64 = 1;

/// An error as it crosses the ABI.
#[repr(C)]
#[derive(StableAbi, Debug, Clone)]
pub struct AbiError {
    /// [`ErrorKind`] code (see [`ErrorKind::to_code`]).
    pub kind: u8,
    /// Message for people.
    pub message: RString,
    /// Delay before retrying, in milliseconds.
    pub retry_after_ms: ROption<u64>,
}

impl From<ConnectorError> for AbiError {
    fn from(e: ConnectorError) -> Self {
        AbiError {
            kind: e.kind.to_code(),
            message: e.message.into(),
            retry_after_ms: e
                .retry_after
                .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
                .into(),
        }
    }
}

impl From<AbiError> for ConnectorError {
    fn from(e: AbiError) -> Self {
        ConnectorError {
            kind: ErrorKind::from_code(e.kind),
            message: e.message.into(),
            retry_after: e
                .retry_after_ms
                .into_option()
                .map(std::time::Duration::from_millis),
        }
    }
}

/// The result of a call that answers JSON.
pub type JsonResult = RResult<RString, AbiError>;

/// One log event from a plugin.
#[repr(C)]
#[derive(StableAbi)]
pub struct LogRecord<'a> {
    /// 1 = error, 2 = warn, 3 = info, 4 = debug, 5 = trace.
    pub level: u8,
    /// The event's target (module path inside the plugin).
    pub target: RStr<'a>,
    /// The message.
    pub message: RStr<'a>,
    /// The event's other fields as a JSON object.
    pub fields_json: RStr<'a>,
}

/// What the host offers a plugin.
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = HostApiRef)))]
#[sabi(missing_field(option))]
pub struct HostApi {
    /// The most verbose level the host wants (0 = off, 1 = error ... 5 = trace).
    pub max_level: extern "C" fn() -> u8,
    /// Receives the plugin's log events.
    #[sabi(last_prefix_field)]
    pub log: extern "C" fn(record: &LogRecord<'_>),
}

/// The functions of one connector instance. Every function catches panics.
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = ConnectorVtableRef)))]
#[sabi(missing_field(option))]
pub struct ConnectorVtable {
    /// Frees the instance.
    pub drop: unsafe extern "C" fn(state: *mut c_void),
    /// Checks the config and that the system answers: a [`crate::model::CheckReport`].
    pub check: unsafe extern "C" fn(state: *const c_void) -> JsonResult,
    /// The status vocabulary: a [`crate::model::Vocabulary`].
    pub vocabulary: unsafe extern "C" fn(state: *const c_void) -> JsonResult,
    /// [`crate::model::ChangesRequest`] in, [`crate::model::ChangesPage`] out.
    pub changes: unsafe extern "C" fn(state: *const c_void, request: RStr<'_>) -> JsonResult,
    /// [`crate::model::ReadRequest`] in, [`crate::model::ReadResponse`] out.
    pub read: unsafe extern "C" fn(state: *const c_void, request: RStr<'_>) -> JsonResult,
    /// [`crate::model::ApplyRequest`] in, [`crate::model::ApplyResponse`] out.
    #[sabi(last_prefix_field)]
    pub apply: unsafe extern "C" fn(state: *const c_void, request: RStr<'_>) -> JsonResult,
    /// ABI 1.1: [`crate::model::ApiUsage`] out.
    pub api_usage: unsafe extern "C" fn(state: *const c_void) -> JsonResult,
    /// ABI 1.2: [`crate::model::ListRequest`] in, [`crate::model::ListPage`] out.
    pub list: unsafe extern "C" fn(state: *const c_void, request: RStr<'_>) -> JsonResult,
}

/// A connector instance created by a plugin: its state and its functions.
#[repr(C)]
#[derive(StableAbi)]
pub struct ConnectorInstance {
    /// The plugin's state, only ever passed back to `vtable`'s functions.
    pub state: *mut c_void,
    /// The instance's functions.
    pub vtable: ConnectorVtableRef,
}

/// The root module every plugin library exports.
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = PluginModuleRef)))]
#[sabi(missing_field(option))]
pub struct PluginModule {
    /// Hands the host's services to the plugin; called once, before anything else.
    pub init: extern "C" fn(host: HostApiRef) -> RResult<(), AbiError>,
    /// The [`crate::model::Manifest`] as JSON.
    pub manifest: extern "C" fn() -> JsonResult,
    /// Creates a connector instance from its JSON config.
    #[sabi(last_prefix_field)]
    pub create: extern "C" fn(
        connector: RStr<'_>,
        config_json: RStr<'_>,
    ) -> RResult<ConnectorInstance, AbiError>,
}

impl RootModule for PluginModuleRef {
    declare_root_module_statics! {PluginModuleRef}
    const BASE_NAME: &'static str = "orderlink_plugin";
    const NAME: &'static str = "orderlink_plugin";
    const VERSION_STRINGS: VersionStrings = package_version_strings!();
}

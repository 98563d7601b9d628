//! The plugin side of the ABI: the root module and the connector vtable, built from the
//! registered [`ConnectorFactory`]s, with every entry point panic-guarded.

use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::OnceLock;

use abi_stable::prefix_type::PrefixTypeTrait;
use abi_stable::std_types::{RResult, RStr, RString};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{factories, log_bridge, Connector};
use crate::abi::{
    AbiError, ConnectorInstance, ConnectorVtable, ConnectorVtableRef, HostApiRef, JsonResult,
    PluginModule, PluginModuleRef, ABI_VERSION,
};
use crate::error::ConnectorError;
use crate::model::Manifest;

/// A config key the SDK itself handles, never passed to the connector: names an entry point
/// (`create`, `check`, `vocabulary`, `changes`, `read`, `apply`) that must panic. The
/// conformance testkit uses it to prove that panics come back as errors.
pub const PANIC_PROBE_KEY: &str = "$orderlink_panic_probe";

struct Identity {
    name: &'static str,
    version: &'static str,
}

static IDENTITY: OnceLock<Identity> = OnceLock::new();
static VTABLE: OnceLock<ConnectorVtableRef> = OnceLock::new();

/// Builds the root module; called by the code [`export_plugin!`](crate::export_plugin) writes.
pub fn root_module(name: &'static str, version: &'static str) -> PluginModuleRef {
    let _ = IDENTITY.set(Identity { name, version });
    PluginModule {
        init,
        manifest,
        create,
    }
    .leak_into_prefix()
}

/// Runs `f`, turning a panic into an `internal` error.
pub fn guard<T>(f: impl FnOnce() -> Result<T, ConnectorError>) -> RResult<T, AbiError> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(v)) => RResult::ROk(v),
        Ok(Err(e)) => RResult::RErr(e.into()),
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_owned());
            RResult::RErr(ConnectorError::internal(format!("plugin panicked: {what}")).into())
        }
    }
}

fn to_json<T: Serialize>(value: &T) -> Result<RString, ConnectorError> {
    serde_json::to_string(value)
        .map(RString::from)
        .map_err(|e| ConnectorError::internal(format!("cannot encode answer: {e}")))
}

fn from_json<T: DeserializeOwned>(text: RStr<'_>) -> Result<T, ConnectorError> {
    serde_json::from_str(text.as_str())
        .map_err(|e| ConnectorError::internal(format!("cannot decode request from host: {e}")))
}

/// Builds the manifest from the registered factories.
pub fn build_manifest() -> Manifest {
    let (plugin, version) = IDENTITY
        .get()
        .map(|i| (i.name.to_owned(), i.version.to_owned()))
        .unwrap_or_else(|| ("unnamed".to_owned(), "0.0.0".to_owned()));
    Manifest {
        plugin,
        version,
        abi_version: ABI_VERSION.to_owned(),
        connectors: factories().map(|f| (f.info)()).collect(),
    }
}

extern "C" fn init(host: HostApiRef) -> RResult<(), AbiError> {
    guard(|| {
        log_bridge::install(host);
        Ok(())
    })
}

extern "C" fn manifest() -> JsonResult {
    guard(|| to_json(&build_manifest()))
}

/// The instance state behind a [`ConnectorInstance`].
struct Instance {
    inner: Box<dyn Connector>,
    panic_in: Option<String>,
}

impl Instance {
    fn probe(&self, entry: &str) {
        if self.panic_in.as_deref() == Some(entry) {
            panic!("panic probe in {entry}");
        }
    }
}

/// Creates an instance of the named connector; also used in-process by tests and benchmarks.
pub fn create_connector(
    connector: &str,
    config: &serde_json::Value,
) -> Result<Box<dyn Connector>, ConnectorError> {
    let factory = factories()
        .find(|f| (f.info)().name == connector)
        .ok_or_else(|| {
            let known: Vec<String> = factories().map(|f| (f.info)().name).collect();
            ConnectorError::config(format!(
                "this plugin has no connector named `{connector}` (it has: {})",
                known.join(", ")
            ))
        })?;
    (factory.create)(config)
}

extern "C" fn create(
    connector: RStr<'_>,
    config_json: RStr<'_>,
) -> RResult<ConnectorInstance, AbiError> {
    guard(|| {
        let mut config: serde_json::Value = serde_json::from_str(config_json.as_str())
            .map_err(|e| ConnectorError::config(format!("config is not valid JSON: {e}")))?;
        let panic_in = config
            .as_object_mut()
            .and_then(|o| o.remove(PANIC_PROBE_KEY))
            .and_then(|v| v.as_str().map(str::to_owned));
        if panic_in.as_deref() == Some("create") {
            panic!("panic probe in create");
        }
        let inner = create_connector(connector.as_str(), &config)?;
        let state = Box::into_raw(Box::new(Instance { inner, panic_in })) as *mut c_void;
        Ok(ConnectorInstance {
            state,
            vtable: vtable(),
        })
    })
}

fn vtable() -> ConnectorVtableRef {
    *VTABLE.get_or_init(|| {
        ConnectorVtable {
            drop: drop_instance,
            check,
            vocabulary,
            changes,
            read,
            apply,
            api_usage,
            list,
        }
        .leak_into_prefix()
    })
}

/// # Safety
/// `state` must come from [`create`] and not be used afterwards.
unsafe extern "C" fn drop_instance(state: *mut c_void) {
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: the host hands back the pointer `create` made, exactly once.
        drop(unsafe { Box::from_raw(state as *mut Instance) });
    }));
}

/// # Safety
/// `state` must come from [`create`] and still be alive.
unsafe fn instance<'a>(state: *const c_void) -> &'a Instance {
    // SAFETY: guaranteed by the caller.
    unsafe { &*(state as *const Instance) }
}

unsafe extern "C" fn check(state: *const c_void) -> JsonResult {
    guard(|| {
        let i = unsafe { instance(state) };
        i.probe("check");
        to_json(&i.inner.check()?)
    })
}

unsafe extern "C" fn vocabulary(state: *const c_void) -> JsonResult {
    guard(|| {
        let i = unsafe { instance(state) };
        i.probe("vocabulary");
        to_json(&i.inner.vocabulary()?)
    })
}

unsafe extern "C" fn changes(state: *const c_void, request: RStr<'_>) -> JsonResult {
    guard(|| {
        let i = unsafe { instance(state) };
        i.probe("changes");
        to_json(&i.inner.changes(&from_json(request)?)?)
    })
}

unsafe extern "C" fn read(state: *const c_void, request: RStr<'_>) -> JsonResult {
    guard(|| {
        let i = unsafe { instance(state) };
        i.probe("read");
        to_json(&i.inner.read(&from_json(request)?)?)
    })
}

unsafe extern "C" fn apply(state: *const c_void, request: RStr<'_>) -> JsonResult {
    guard(|| {
        let i = unsafe { instance(state) };
        i.probe("apply");
        to_json(&i.inner.apply(&from_json(request)?)?)
    })
}

unsafe extern "C" fn api_usage(state: *const c_void) -> JsonResult {
    guard(|| {
        let i = unsafe { instance(state) };
        to_json(&i.inner.api_usage())
    })
}

unsafe extern "C" fn list(state: *const c_void, request: RStr<'_>) -> JsonResult {
    guard(|| {
        let i = unsafe { instance(state) };
        i.probe("list");
        to_json(&i.inner.list(&from_json(request)?)?)
    })
}

/// Exports the plugin's root module. Use once per plugin crate:
/// `orderlink_plugin_api::export_plugin!(name = "my-plugin", version = env!("CARGO_PKG_VERSION"));`
#[macro_export]
macro_rules! export_plugin {
    (name = $name:expr, version = $version:expr $(,)?) => {
        #[doc(hidden)]
        #[allow(non_upper_case_globals)]
        #[no_mangle]
        pub static _1as_0lib_1header_0root_bmodule_bloader: $crate::abi_stable::library::LibHeader = {
            extern "C" fn orderlink_root_module() -> $crate::abi_stable::library::RootModuleResult {
                fn build() -> $crate::abi::PluginModuleRef {
                    $crate::sdk::export::root_module($name, $version)
                }
                $crate::abi_stable::library::__call_root_module_loader(build)
            }
            // SAFETY: the constructor returns the module type the header is declared for.
            unsafe {
                $crate::abi_stable::library::LibHeader::from_constructor::<$crate::abi::PluginModuleRef>(
                    orderlink_root_module,
                    $crate::abi_stable::library::CheckTypeLayout::Yes,
                )
            }
        };
    };
}

#[cfg(test)]
mod tests {
    #[test]
    fn exported_symbol_is_the_one_abi_stable_looks_up() {
        assert_eq!(
            abi_stable::library::ROOT_MODULE_LOADER_NAME,
            "_1as_0lib_1header_0root_bmodule_bloader"
        );
    }
}

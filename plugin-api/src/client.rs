//! The host side of the ABI: open a plugin library, read its manifest, and drive its connectors
//! through the same [`Connector`] trait a plugin implements.
//!
//! Each library is opened through its own header (not `RootModule::load_from_file`, which caches
//! one module per interface type), so several plugins load side by side. Libraries are never
//! unloaded.

use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use abi_stable::abi_stability::abi_checking::{
    check_layout_compatibility_with_globals, CheckingGlobals,
};
use abi_stable::library::{lib_header_from_raw_library, LibHeader, LibraryError, RawLibrary};
use abi_stable::prefix_type::WithMetadata;
use abi_stable::std_types::{RBoxError, RResult, RString};
use abi_stable::StableAbi;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::abi::{
    AbiError, ConnectorInstance, HostApi, HostApiRef, LogRecord, PluginModuleRef, ABI_MAJOR,
    ABI_VERSION,
};
use crate::compat::{compatible, AbiFit, AbiMismatch};
use crate::error::ConnectorError;
use crate::model::{
    ApiUsage, ApplyRequest, ApplyResponse, ChangesPage, ChangesRequest, CheckReport, ListPage,
    ListRequest, Manifest, ReadRequest, ReadResponse, Vocabulary,
};
use crate::sdk::Connector;

/// Why a plugin library could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file is not a loadable shared library.
    #[error("{path}: not a loadable shared library: {reason}")]
    NotALibrary {
        /// The file.
        path: PathBuf,
        /// What the dynamic loader said.
        reason: String,
    },
    /// A shared library, but it exports no orderlink root module.
    #[error(
        "{path}: a shared library, but not an orderlink plugin (it exports no plugin root module)"
    )]
    NotAPlugin {
        /// The file.
        path: PathBuf,
    },
    /// Built for an ABI this host does not accept, or declaring a version it cannot read.
    #[error("{path}: built for orderlink plugin ABI {plugin_abi}, refused: {reason}; this host (ABI {host_abi}) accepts plugins built for ABI {major}.x")]
    IncompatibleAbi {
        /// The file.
        path: PathBuf,
        /// The ABI version the plugin declares.
        plugin_abi: String,
        /// Why it is refused.
        reason: Box<AbiMismatch>,
        /// This host's ABI version.
        host_abi: String,
        /// The ABI generation this host accepts.
        major: u64,
    },
    /// The types the plugin was built with do not match this host's.
    #[error("{path}: the plugin's ABI types do not match this host's: {details}")]
    LayoutMismatch {
        /// The file.
        path: PathBuf,
        /// abi_stable's report.
        details: String,
    },
    /// The plugin failed (or panicked) while loading.
    #[error("{path}: the plugin failed while loading: {reason}")]
    Failed {
        /// The file.
        path: PathBuf,
        /// What happened.
        reason: String,
    },
}

extern "C" fn host_max_level() -> u8 {
    use tracing::level_filters::LevelFilter;
    match LevelFilter::current() {
        f if f == LevelFilter::OFF => 0,
        f if f == LevelFilter::ERROR => 1,
        f if f == LevelFilter::WARN => 2,
        f if f == LevelFilter::INFO => 3,
        f if f == LevelFilter::DEBUG => 4,
        _ => 5,
    }
}

extern "C" fn host_log(record: &LogRecord<'_>) {
    let _ = catch_unwind(AssertUnwindSafe(|| {
        let target = record.target.as_str();
        let message = record.message.as_str();
        let fields = record.fields_json.as_str();
        macro_rules! emit {
            ($level:expr) => {
                tracing::event!(target: "orderlink::plugin", $level, plugin_target = target, fields = fields, "{message}")
            };
        }
        match record.level {
            1 => emit!(tracing::Level::ERROR),
            2 => emit!(tracing::Level::WARN),
            3 => emit!(tracing::Level::INFO),
            4 => emit!(tracing::Level::DEBUG),
            _ => emit!(tracing::Level::TRACE),
        }
    }));
}

static HOST_API: WithMetadata<HostApi> = WithMetadata::new(HostApi {
    max_level: host_max_level,
    log: host_log,
});

/// The host services handed to plugins: their log events become `tracing` events of this
/// process with target `orderlink::plugin` and fields `plugin_target` and `fields`.
pub fn host_api() -> HostApiRef {
    HostApiRef(HOST_API.static_as_prefix())
}

/// Checks that the plugin's ABI types fit this host's and runs the plugin's root module
/// constructor.
///
/// abi_stable's own check takes the host's types as the interface the library must implement, so
/// it refuses a plugin whose prefix-type modules have fewer fields than the host's, which is
/// exactly a plugin built for an older 1.x ABI. For such a plugin the check runs the other way:
/// the plugin's types must be a prefix of the host's. The fields the plugin lacks then read as
/// `None`: a prefix-type accessor consults the field accessibility the plugin's module carries.
/// A plugin built for a newer minor has the longer modules, which is the direction abi_stable
/// checks by itself.
fn init_root_module(header: &LibHeader, fit: AbiFit) -> Result<PluginModuleRef, LibraryError> {
    match header.layout() {
        Some(plugin_layout) if fit == AbiFit::OlderMinor => {
            // Checked apart from abi_stable's process-wide record of prefix types, which
            // would otherwise keep the plugin's shorter modules as the reference for every
            // plugin loaded after it.
            check_layout_compatibility_with_globals(
                plugin_layout,
                PluginModuleRef::LAYOUT,
                &CheckingGlobals::new(),
            )
            .map_err(|e| LibraryError::AbiInstability(RBoxError::new(e)))?;
            // SAFETY: just checked: every type of the plugin's is a prefix of the host's.
            unsafe { header.init_root_module_with_unchecked_layout::<PluginModuleRef>() }
        }
        _ => header.init_root_module::<PluginModuleRef>(),
    }
}

/// A loaded plugin library.
#[derive(Clone)]
pub struct PluginLibrary {
    path: PathBuf,
    abi_version: String,
    abi_fit: AbiFit,
    module: PluginModuleRef,
    manifest: Manifest,
}

impl std::fmt::Debug for PluginLibrary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginLibrary")
            .field("path", &self.path)
            .field("abi_version", &self.abi_version)
            .field("abi_fit", &self.abi_fit)
            .field("manifest", &self.manifest)
            .finish()
    }
}

fn abi_call<T: DeserializeOwned>(result: RResult<RString, AbiError>) -> Result<T, ConnectorError> {
    match result {
        RResult::ROk(text) => serde_json::from_str(text.as_str()).map_err(|e| {
            ConnectorError::internal(format!("the plugin answered malformed JSON: {e}"))
        }),
        RResult::RErr(e) => Err(e.into()),
    }
}

fn encode<T: Serialize>(value: &T) -> Result<String, ConnectorError> {
    serde_json::to_string(value)
        .map_err(|e| ConnectorError::internal(format!("cannot encode request: {e}")))
}

impl PluginLibrary {
    /// Opens a plugin library, checks its ABI, initialises it and reads its manifest.
    pub fn load(path: &Path) -> Result<Self, LoadError> {
        let path = path.to_path_buf();
        let raw = RawLibrary::load_at(&path).map_err(|e| LoadError::NotALibrary {
            path: path.clone(),
            reason: match e {
                LibraryError::OpenError { err, .. } => err.to_string(),
                other => other.to_string(),
            },
        })?;
        // SAFETY: only reads the exported header symbol; the library stays loaded forever.
        let header = match unsafe { lib_header_from_raw_library(&raw) } {
            Ok(h) => h,
            Err(LibraryError::GetSymbolError { .. }) => {
                return Err(LoadError::NotAPlugin { path });
            }
            Err(e) => {
                return Err(LoadError::Failed {
                    path,
                    reason: e.to_string(),
                })
            }
        };
        std::mem::forget(raw);
        let plugin_abi = header.version_strings().version.to_string();
        let fit = match compatible(ABI_VERSION, &plugin_abi) {
            Ok(fit) => fit,
            Err(reason) => {
                return Err(LoadError::IncompatibleAbi {
                    path,
                    plugin_abi,
                    reason: Box::new(reason),
                    host_abi: ABI_VERSION.to_owned(),
                    major: ABI_MAJOR,
                })
            }
        };
        let module = init_root_module(header, fit).map_err(|e| match e {
            LibraryError::AbiInstability(details) => LoadError::LayoutMismatch {
                path: path.clone(),
                details: details.to_string(),
            },
            other => LoadError::Failed {
                path: path.clone(),
                reason: other.to_string(),
            },
        })?;
        let failed = |reason: String| LoadError::Failed {
            path: path.clone(),
            reason,
        };
        if let RResult::RErr(e) = (module.init())(host_api()) {
            return Err(failed(ConnectorError::from(e).to_string()));
        }
        let manifest: Manifest =
            abi_call((module.manifest())()).map_err(|e| failed(format!("manifest: {e}")))?;
        Ok(PluginLibrary {
            path,
            abi_version: plugin_abi,
            abi_fit: fit,
            module,
            manifest,
        })
    }

    /// The file it was loaded from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The ABI version the library was built against, read from its header (not its manifest).
    pub fn abi_version(&self) -> &str {
        &self.abi_version
    }

    /// How the library's ABI version stands to this host's (same, older or newer minor).
    pub fn abi_fit(&self) -> AbiFit {
        self.abi_fit
    }

    /// What the plugin reported about itself.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// Creates a connector instance from its config.
    pub fn create(
        &self,
        connector: &str,
        config: &serde_json::Value,
    ) -> Result<RemoteConnector, ConnectorError> {
        let config = encode(config)?;
        match (self.module.create())(connector.into(), config.as_str().into()) {
            RResult::ROk(instance) => Ok(RemoteConnector { instance }),
            RResult::RErr(e) => Err(e.into()),
        }
    }
}

/// A connector instance living in a plugin library, driven through the ABI.
pub struct RemoteConnector {
    instance: ConnectorInstance,
}

// SAFETY: the SDK only creates instances of `Connector: Send + Sync`, whose methods take `&self`.
unsafe impl Send for RemoteConnector {}
// SAFETY: as above.
unsafe impl Sync for RemoteConnector {}

impl RemoteConnector {
    fn state(&self) -> *const c_void {
        self.instance.state as *const c_void
    }

    /// Whether the plugin supports the ABI 1.1 `api_usage` call.
    pub fn has_api_usage(&self) -> bool {
        self.instance.vtable.api_usage().is_some()
    }

    /// Whether the plugin has the ABI 1.2 `list` call.
    pub fn has_list(&self) -> bool {
        self.instance.vtable.list().is_some()
    }
}

impl Drop for RemoteConnector {
    fn drop(&mut self) {
        // SAFETY: the state came from this vtable's `create` and is dropped once.
        unsafe { (self.instance.vtable.drop())(self.instance.state) }
    }
}

impl Connector for RemoteConnector {
    fn check(&self) -> Result<CheckReport, ConnectorError> {
        // SAFETY: state is alive for as long as self.
        abi_call(unsafe { (self.instance.vtable.check())(self.state()) })
    }

    fn vocabulary(&self) -> Result<Vocabulary, ConnectorError> {
        // SAFETY: as above.
        abi_call(unsafe { (self.instance.vtable.vocabulary())(self.state()) })
    }

    fn changes(&self, request: &ChangesRequest) -> Result<ChangesPage, ConnectorError> {
        let req = encode(request)?;
        // SAFETY: as above.
        abi_call(unsafe { (self.instance.vtable.changes())(self.state(), req.as_str().into()) })
    }

    fn read(&self, request: &ReadRequest) -> Result<ReadResponse, ConnectorError> {
        let req = encode(request)?;
        // SAFETY: as above.
        abi_call(unsafe { (self.instance.vtable.read())(self.state(), req.as_str().into()) })
    }

    fn apply(&self, request: &ApplyRequest) -> Result<ApplyResponse, ConnectorError> {
        let req = encode(request)?;
        // SAFETY: as above.
        abi_call(unsafe { (self.instance.vtable.apply())(self.state(), req.as_str().into()) })
    }

    fn api_usage(&self) -> ApiUsage {
        match self.instance.vtable.api_usage() {
            // SAFETY: as above.
            Some(f) => abi_call(unsafe { f(self.state()) }).unwrap_or_default(),
            None => ApiUsage::default(),
        }
    }

    fn list(&self, request: &ListRequest) -> Result<ListPage, ConnectorError> {
        match self.instance.vtable.list() {
            Some(f) => {
                let req = encode(request)?;
                // SAFETY: as above.
                abi_call(unsafe { f(self.state(), req.as_str().into()) })
            }
            None => Err(ConnectorError::unsupported(
                "list (the plugin predates ABI 1.2)",
            )),
        }
    }
}

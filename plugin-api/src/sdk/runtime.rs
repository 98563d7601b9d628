//! The plugin's own async runtime, for its HTTP calls.
//!
//! The host calls plugins from blocking threads; a connector runs its async work here with
//! [`block_on`]. The runtime is created on first use and lives as long as the process (plugins
//! are never unloaded).

use std::future::Future;
use std::sync::OnceLock;

use tokio::runtime::Runtime;

static RUNTIME: OnceLock<Runtime> = OnceLock::new();

/// The plugin's runtime (two worker threads, created on first use).
pub fn runtime() -> &'static Runtime {
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("orderlink-plugin")
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("cannot start the plugin runtime: {e}"))
    })
}

/// Runs a future to completion on the plugin's runtime, blocking the calling thread.
pub fn block_on<F: Future>(future: F) -> F::Output {
    runtime().block_on(future)
}

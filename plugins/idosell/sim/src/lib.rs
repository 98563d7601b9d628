//! `idosell-sim`: a simulator of the IdoSell Admin API order endpoints, for tests, benchmarks
//! and the demo. The binary (`src/main.rs`) wraps this library; tests and benchmarks may also run
//! it in-process with [`BackgroundSim`].
//!
//! - [`api`]: the Admin API (`/api/admin/v{N}/orders/...`) and the gate in front of it.
//! - [`control`]: the control API (`/_sim/...`).
//! - [`shop`]: orders, statuses and searching; [`statuses`]: built-in and custom statuses and
//!   the panel's rules; [`wire`]: the JSON shapes; [`body`]: the full order body of answers;
//!   [`clock`]: the shop's local time.
//! - [`faults`]: injected faults and the rate limit; [`state`]: what the handlers share.
//! - [`harness`]: drive a spawned simulator from tests and benchmarks.

pub mod api;
pub mod body;
pub mod clock;
pub mod control;
pub mod faults;
pub mod harness;
pub mod shop;
pub mod state;
pub mod statuses;
pub mod wire;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;

pub use state::{AppState, SimConfig};

/// The whole simulator: the Admin API behind its gate, and the control API.
pub fn router(state: Arc<AppState>) -> Router {
    let api = api::routes().layer(axum::middleware::from_fn_with_state(
        state.clone(),
        api::gate,
    ));
    Router::new()
        .merge(api)
        .merge(control::routes())
        .fallback(api::not_found)
        .with_state(state)
}

/// Serves until `shutdown` completes, then finishes the requests in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}

/// A simulator running in this process on its own thread and runtime, on loopback; stops when
/// dropped.
pub struct BackgroundSim {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl BackgroundSim {
    /// Starts a simulator on `127.0.0.1` at a free port.
    pub fn start(config: SimConfig) -> std::io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("idosell-sim")
            .enable_all()
            .build()?;
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let state = Arc::new(AppState::new(config));
        let thread = std::thread::Builder::new()
            .name("idosell-sim".into())
            .spawn(move || {
                let shutdown = async {
                    let _ = stopped.await;
                };
                if let Err(e) = runtime.block_on(serve(listener, state, shutdown)) {
                    tracing::error!(error = %e, "the simulator stopped");
                }
            })?;
        Ok(BackgroundSim {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// Its address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its base URL, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for BackgroundSim {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

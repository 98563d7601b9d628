//! A simulator of the Soneta enova365 WebAPI server with the orderlink order service installed
//! (the contract: `shared/specs/enova365/README.md`; the usage: `plugins/enova365/README.md`).
//!
//! - [`dynamic`]: the Dynamic WebAPI (`LoginApi`, `LogoutApi`, `CurrentVersion`,
//!   `/api/ZamowieniaApi/{Method}`) and its sessions.
//! - [`method_invoker`]: the legacy `POST /api/MethodInvoker/InvokeServiceMethod` (off unless
//!   switched on).
//! - [`service`]: the order service both transports call (the add-on's behaviour).
//! - [`gate`]: request counting and fault injection in front of every WebAPI request.
//! - [`control`]: the `/_sim/` control API (seed, load, clock, user actions, counters, faults,
//!   settings, sessions).
//! - [`store`], [`model`], [`seed`]: the ZO documents, their indexes and deterministic seeding.
//! - [`faults`], [`counters`]: injected faults and per-method request counters.
//! - [`server`]: the accept loop (it can drop a connection on purpose).

pub mod control;
pub mod counters;
pub mod dynamic;
pub mod faults;
pub mod gate;
pub mod method_invoker;
pub mod model;
pub mod seed;
pub mod server;
pub mod service;
pub mod store;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, Mutex};

use axum::routing::{get, post};
use axum::Router;
use tokio::net::TcpListener;

use crate::counters::Counters;
use crate::faults::{FaultRates, Faults};
use crate::store::Store;

/// The default name of the order service.
pub const DEFAULT_SERVICE: &str = "OrderLink.Enova365.IZamowieniaApi, OrderLink.Enova365";

/// The login the WebAPI accepts.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// `DatabaseHandle`.
    pub database: String,
    /// `Operator`.
    pub operator: String,
    /// `Password`.
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Credentials(***)")
    }
}

impl Default for Credentials {
    fn default() -> Self {
        Credentials {
            database: "Firma".into(),
            operator: "Administrator".into(),
            password: "secret".into(),
        }
    }
}

/// The enova365 version the simulator reports.
pub const VERSION: &str = "2510.2.2";

/// How long a Dynamic WebAPI session lives without a request on a real server.
pub const SESSION_IDLE_MS: u64 = 5 * 60 * 1000;

/// How the simulator behaves.
#[derive(Clone)]
pub struct SimOptions {
    /// The MethodInvoker login it accepts; `operator` is also the application token's operator.
    pub credentials: Credentials,
    /// The application token `LoginApi` accepts (empty: none).
    pub app_token: String,
    /// Serve the legacy MethodInvoker endpoint (off: 404, as current servers).
    pub method_invoker: bool,
    /// Idle time after which a Dynamic WebAPI session is gone, in milliseconds.
    pub session_idle_ms: u64,
    /// The version `GET /api/CurrentVersion` answers.
    pub version: String,
    /// The name of the order service.
    pub service_name: String,
    /// Send `ResultInstance` as a string holding JSON.
    pub result_as_string: bool,
    /// The largest `Limit` `PobierzZamowienia` accepts (the contract says 500).
    pub max_limit: u32,
    /// Initial fault rates.
    pub faults: FaultRates,
    /// Seed of the fault generator.
    pub fault_seed: u64,
}

impl std::fmt::Debug for SimOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimOptions")
            .field("credentials", &self.credentials)
            .field("app_token", &"***")
            .field("method_invoker", &self.method_invoker)
            .field("session_idle_ms", &self.session_idle_ms)
            .field("service_name", &self.service_name)
            .finish_non_exhaustive()
    }
}

/// The application token the simulator accepts unless told otherwise.
pub const DEFAULT_APP_TOKEN: &str = "orderlink-app-token";

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            credentials: Credentials::default(),
            app_token: DEFAULT_APP_TOKEN.into(),
            method_invoker: false,
            session_idle_ms: SESSION_IDLE_MS,
            version: VERSION.into(),
            service_name: DEFAULT_SERVICE.into(),
            result_as_string: false,
            max_limit: 500,
            faults: FaultRates::default(),
            fault_seed: 0,
        }
    }
}

/// Everything the handlers share.
#[derive(Debug)]
pub struct AppState {
    /// The options it started with.
    pub options: SimOptions,
    /// The documents.
    pub store: Mutex<Store>,
    /// Injected faults.
    pub faults: Faults,
    /// Request counters.
    pub counters: Counters,
    /// Send `ResultInstance` as a string (changeable at runtime).
    pub result_as_string: AtomicBool,
    /// Serve MethodInvoker (changeable at runtime).
    pub method_invoker: AtomicBool,
    /// The session idle time in milliseconds (changeable at runtime).
    pub session_idle_ms: AtomicU64,
    /// The Dynamic WebAPI sessions.
    pub sessions: dynamic::Sessions,
}

impl AppState {
    /// A simulator with no documents.
    pub fn new(options: SimOptions) -> Arc<Self> {
        Arc::new(AppState {
            store: Mutex::new(Store::new()),
            faults: Faults::new(options.faults.clone(), options.fault_seed),
            counters: Counters::default(),
            result_as_string: AtomicBool::new(options.result_as_string),
            method_invoker: AtomicBool::new(options.method_invoker),
            session_idle_ms: AtomicU64::new(options.session_idle_ms),
            sessions: dynamic::Sessions::default(),
            options,
        })
    }
}

/// The whole HTTP application: both WebAPI transports and the control API.
pub fn app(state: Arc<AppState>) -> Router {
    Router::new()
        .route(method_invoker::PATH, post(method_invoker::invoke))
        .route("/api/LoginApi", post(dynamic::login))
        .route("/api/LogoutApi", post(dynamic::logout))
        .route("/api/CurrentVersion", get(dynamic::version))
        .route("/api/{controller}/{method}", post(dynamic::method))
        .merge(control::routes())
        .with_state(state)
}

/// A simulator running on a background thread (for benchmarks and in-process tests); it stops
/// when dropped.
pub struct BackgroundSim {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its shared state.
    pub state: Arc<AppState>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl BackgroundSim {
    /// Starts a simulator on `127.0.0.1` on a free port, on its own runtime thread.
    pub fn start(options: SimOptions) -> std::io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("enova365-sim")
            .enable_all()
            .build()?;
        let listener = runtime.block_on(TcpListener::bind("127.0.0.1:0"))?;
        let addr = listener.local_addr()?;
        let state = AppState::new(options);
        let router = app(state.clone());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("enova365-sim".into())
            .spawn(move || {
                runtime.block_on(server::serve(listener, router, async {
                    let _ = stopped.await;
                }));
            })?;
        Ok(BackgroundSim {
            addr,
            state,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// The base URL, `http://127.0.0.1:PORT`.
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

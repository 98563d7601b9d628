//! The admin HTTP server of `orderlink run` (`[admin] listen = "127.0.0.1:9184"`): `/healthz`,
//! `/readyz`, `/metrics`, a JSON API under `/api/` and the status page at `/`.
//!
//! It runs on its own small tokio runtime and never calls a plugin from an async task: reads of
//! the store and of connectors (API usage, vocabularies) run on blocking threads. Writes (dead
//! letter retry and discard) need the configured token when the server listens beyond loopback,
//! and are refused from pages of other origins.

pub mod api;
pub mod auth;
pub mod metrics;
pub mod page;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use orderlink_plugin_api::model::Vocabulary;

use crate::config::{Admin, Config};
use crate::engine::live::LiveRegistry;
use crate::store::StateStore;

/// How long a connector's status list is kept for the status page.
const VOCABULARY_TTL: Duration = Duration::from_secs(300);

/// What the admin server reads: the config in force, the live registry, the store `run` holds,
/// cached vocabularies.
#[derive(Clone)]
pub struct AdminState {
    config: Arc<RwLock<Arc<Config>>>,
    live: LiveRegistry,
    store: Arc<dyn StateStore>,
    vocabularies: Arc<Mutex<HashMap<String, (Instant, Vocabulary)>>>,
}

impl AdminState {
    /// The state of a server for `config`, reading `live`.
    pub fn new(config: Arc<Config>, live: LiveRegistry, store: Arc<dyn StateStore>) -> Self {
        AdminState {
            config: Arc::new(RwLock::new(config)),
            live,
            store,
            vocabularies: Arc::default(),
        }
    }

    /// Replaces the config in force (after a reload).
    pub fn set_config(&self, config: Arc<Config>) {
        if let Ok(mut c) = self.config.write() {
            *c = config;
        }
        if let Ok(mut v) = self.vocabularies.lock() {
            v.clear();
        }
    }

    /// The config in force.
    pub fn config(&self) -> Arc<Config> {
        match self.config.read() {
            Ok(c) => c.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// The live registry.
    pub fn live(&self) -> &LiveRegistry {
        &self.live
    }

    /// The admin settings in force (`None` only if a reload turned the server off).
    pub fn admin(&self) -> Option<Admin> {
        self.config().admin.clone()
    }

    /// An endpoint's status list, from the cache or the connector. Blocking: call it from a
    /// blocking thread.
    pub fn vocabulary(&self, endpoint: &str) -> Result<Vocabulary, String> {
        if let Ok(cache) = self.vocabularies.lock() {
            if let Some((at, v)) = cache.get(endpoint) {
                if at.elapsed() < VOCABULARY_TTL {
                    return Ok(v.clone());
                }
            }
        }
        let ep = self
            .live
            .endpoints()
            .into_iter()
            .find(|e| e.name == endpoint)
            .ok_or_else(|| format!("endpoint `{endpoint}` is not connected"))?;
        let v = ep.connector.vocabulary().map_err(|e| e.to_string())?;
        if let Ok(mut cache) = self.vocabularies.lock() {
            cache.insert(endpoint.to_owned(), (Instant::now(), v.clone()));
        }
        Ok(v)
    }

    /// The state store `run` holds (its calls block: use from blocking threads).
    pub fn store(&self) -> Result<Arc<dyn StateStore>, ApiError> {
        Ok(self.store.clone())
    }
}

/// A failed admin request: a status and a message for people.
#[derive(Debug)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// What went wrong.
    pub message: String,
}

impl ApiError {
    /// A server-side failure (500).
    pub fn internal(e: impl std::fmt::Display) -> Self {
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: e.to_string(),
        }
    }
    /// Nothing of that name or id (404).
    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::NOT_FOUND,
            message: message.into(),
        }
    }
    /// The request may not do that (403).
    pub fn forbidden(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::FORBIDDEN,
            message: message.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            axum::Json(serde_json::json!({ "error": self.message })),
        )
            .into_response()
    }
}

/// Runs a blocking read or write off the async workers.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(ApiError::internal)?
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn readyz(axum::extract::State(state): axum::extract::State<AdminState>) -> Response {
    let now = chrono::Utc::now();
    let config = state.config();
    let live = state.live.snapshot();
    let mut problems = Vec::new();
    for link in config.links.values().filter(|l| l.enabled) {
        match live.iter().find(|l2| l2.link == link.name) {
            None => problems.push(format!("{}: not running", link.name)),
            Some(l) if !l.is_ready(now) => problems.push(format!(
                "{}: {} (no cycle in the last {:.0} s){}",
                l.link,
                serde_json::to_value(l.state)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                l.ready_bound_secs(),
                l.last_error
                    .as_deref()
                    .map(|e| format!(": {e}"))
                    .unwrap_or_default()
            )),
            Some(_) => {}
        }
    }
    if problems.is_empty() {
        (StatusCode::OK, "ready\n").into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready\n{}\n", problems.join("\n")),
        )
            .into_response()
    }
}

async fn metrics(
    axum::extract::State(state): axum::extract::State<AdminState>,
) -> Result<Response, ApiError> {
    let text = blocking(move || {
        let endpoints = state
            .live
            .endpoints()
            .into_iter()
            .map(|e| metrics::EndpointSample {
                name: e.name.clone(),
                usage: e.connector.api_usage(),
                stats: e.stats.clone(),
            })
            .collect();
        Ok(metrics::render(metrics::Sample {
            links: state.live.snapshot(),
            endpoints,
            now: chrono::Utc::now(),
        }))
    })
    .await?;
    Ok(([(header::CONTENT_TYPE, metrics::CONTENT_TYPE)], text).into_response())
}

/// The routes.
pub fn router(state: AdminState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/api/links", get(api::links))
        .route("/api/dead-letters", get(api::dead_letters))
        .route(
            "/api/dead-letters/{id}/{action}",
            post(api::dead_letter_action),
        )
        .route("/api/orders/{key}/history", get(api::history))
        .route("/", get(page::index))
        .route("/dead-letters/{id}/{action}", post(page::dead_letter_form))
        .with_state(state)
}

/// A running admin server.
pub struct AdminServer {
    thread: std::thread::JoinHandle<()>,
    /// The address it listens on.
    pub local_addr: std::net::SocketAddr,
}

impl AdminServer {
    /// Waits for the server to finish (after `stop` was set).
    pub fn join(self) {
        let _ = self.thread.join();
    }
}

/// Binds the address (an error here is reported at start) and serves until `stop` is set.
pub fn start(
    admin: &Admin,
    state: AdminState,
    stop: Arc<AtomicBool>,
) -> std::io::Result<AdminServer> {
    let listener = std::net::TcpListener::bind(admin.listen)?;
    listener.set_nonblocking(true)?;
    let local_addr = listener.local_addr()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .max_blocking_threads(4)
        .thread_name("orderlink-admin")
        .enable_all()
        .build()?;
    let thread = std::thread::Builder::new()
        .name("admin".into())
        .spawn(move || {
            runtime.block_on(async move {
                let listener = match tokio::net::TcpListener::from_std(listener) {
                    Ok(l) => l,
                    Err(e) => {
                        tracing::error!("admin server cannot listen: {e}");
                        return;
                    }
                };
                let shutdown = async move {
                    while !stop.load(Ordering::SeqCst) {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                };
                if let Err(e) = axum::serve(listener, router(state))
                    .with_graceful_shutdown(shutdown)
                    .await
                {
                    tracing::error!("admin server failed: {e}");
                }
            });
        })?;
    tracing::info!(listen = %local_addr, "admin server: http://{local_addr}/");
    Ok(AdminServer { thread, local_addr })
}

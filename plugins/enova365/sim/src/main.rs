//! `enova365-sim`: a simulator of the enova365 WebAPI server with the orderlink order service.
//!
//! Prints `listening on http://127.0.0.1:PORT` on stdout once ready; logs go to stderr.

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;

use anyhow::Context;
use clap::Parser;
use enova365_sim::faults::{FaultRates, DEFAULT_SLOW_MS};
use enova365_sim::seed::{seed, SeedRequest};
use enova365_sim::{
    app, server, AppState, Credentials, SimOptions, DEFAULT_APP_TOKEN, DEFAULT_SERVICE,
    SESSION_IDLE_MS, VERSION,
};
use tokio::net::TcpListener;

/// A simulator of the enova365 WebAPI server with the orderlink order service installed.
#[derive(Debug, Parser)]
#[command(name = "enova365-sim", version)]
struct Cli {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// The database (`DatabaseHandle`) it accepts.
    #[arg(long, default_value = "Firma")]
    database: String,
    /// The operator it accepts.
    #[arg(long, default_value = "Administrator")]
    operator: String,
    /// The operator's password.
    #[arg(
        long,
        env = "ENOVA365_SIM_PASSWORD",
        default_value = "secret",
        hide_env_values = true
    )]
    password: String,
    /// The application token `POST /api/LoginApi` accepts (its operator is `--operator`).
    #[arg(
        long,
        env = "ENOVA365_SIM_APP_TOKEN",
        default_value = DEFAULT_APP_TOKEN,
        hide_env_values = true,
        hide_default_value = true
    )]
    app_token: String,
    /// Serve the legacy `/api/MethodInvoker/InvokeServiceMethod` (off: 404, as current servers).
    #[arg(long)]
    method_invoker: bool,
    /// Dynamic WebAPI sessions end after this many milliseconds without a request.
    #[arg(long, default_value_t = SESSION_IDLE_MS)]
    session_idle_ms: u64,
    /// The name of the order service.
    #[arg(long, default_value = DEFAULT_SERVICE)]
    service_name: String,
    /// Seed documents at start with this seed (with `--documents`).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// How many ZO documents to seed at start, tied to IdoSell orders 1..=N by `ObcyNumer`.
    #[arg(long, default_value_t = 0)]
    documents: usize,
    /// Send `ResultInstance` as a string holding JSON.
    #[arg(long)]
    result_as_string: bool,
    /// The largest `Limit` `PobierzZamowienia` accepts.
    #[arg(long, default_value_t = 500)]
    max_limit: u32,
    /// Rate (0 to 1) of HTTP 500/502/503 answers.
    #[arg(long, default_value_t = 0.0)]
    error_rate: f64,
    /// Rate (0 to 1) of slow answers.
    #[arg(long, default_value_t = 0.0)]
    slow_rate: f64,
    /// How long a slow answer waits, in milliseconds.
    #[arg(long, default_value_t = DEFAULT_SLOW_MS)]
    slow_ms: u64,
    /// Rate (0 to 1) of connections dropped without an answer.
    #[arg(long, default_value_t = 0.0)]
    drop_rate: f64,
    /// Rate (0 to 1) of truncated JSON bodies.
    #[arg(long, default_value_t = 0.0)]
    malformed_rate: f64,
    /// Seed of the fault generator.
    #[arg(long, default_value_t = 0)]
    fault_seed: u64,
}

/// Resolves on SIGTERM or SIGINT. The handlers are installed before this returns, so a signal
/// sent right after the start line is never lost.
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
        let mut int = signal(SignalKind::interrupt()).context("cannot handle SIGINT")?;
        Ok(async move {
            tokio::select! {
                _ = term.recv() => {},
                _ = int.recv() => {},
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let cli = Cli::parse();
    let faults = FaultRates {
        error_rate: cli.error_rate,
        slow_rate: cli.slow_rate,
        slow_ms: cli.slow_ms,
        drop_rate: cli.drop_rate,
        malformed_rate: cli.malformed_rate,
    };
    faults.validate().map_err(anyhow::Error::msg)?;
    anyhow::ensure!(
        (1..=10_000).contains(&cli.max_limit),
        "--max-limit must be between 1 and 10000"
    );
    let state = AppState::new(SimOptions {
        credentials: Credentials {
            database: cli.database,
            operator: cli.operator,
            password: cli.password,
        },
        app_token: cli.app_token,
        method_invoker: cli.method_invoker,
        session_idle_ms: cli.session_idle_ms,
        version: VERSION.into(),
        service_name: cli.service_name,
        result_as_string: cli.result_as_string,
        max_limit: cli.max_limit,
        faults,
        fault_seed: cli.fault_seed,
    });
    if cli.documents > 0 {
        let mut store = state
            .store
            .lock()
            .map_err(|_| anyhow::anyhow!("the store is poisoned"))?;
        let n = seed(
            &mut store,
            &SeedRequest {
                seed: cli.seed,
                count: cli.documents,
                link_obcy_numer: true,
            },
        )?;
        tracing::info!(documents = n, seed = cli.seed, "seeded");
    }
    let listener = TcpListener::bind(cli.listen)
        .await
        .with_context(|| format!("cannot listen on {}", cli.listen))?;
    let addr = listener.local_addr()?;
    let shutdown = shutdown_signal()?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on http://{addr}")?;
        out.flush()?;
    }
    tracing::info!(%addr, "enova365 WebAPI simulator ready");
    server::serve(listener, app(state), shutdown).await;
    tracing::info!("stopped");
    Ok(())
}

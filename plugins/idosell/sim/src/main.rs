//! `idosell-sim`: serves a simulated IdoSell Admin API on loopback.
//!
//! Prints exactly one line to stdout, `listening on http://ADDR`, once it accepts connections;
//! logs go to stderr. Stops cleanly on SIGTERM or SIGINT.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use clap::Parser;
use idosell_sim::faults::Faults;
use idosell_sim::shop::MAX_SEED_ORDERS;
use idosell_sim::{AppState, SimConfig};

/// A simulator of the IdoSell Admin API order endpoints.
#[derive(Debug, Parser)]
#[command(name = "idosell-sim", version, about)]
struct Cli {
    /// Address to listen on (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// The API key with read and write rights.
    #[arg(long, env = "IDOSELL_SIM_API_KEY", hide_env_values = true)]
    api_key: String,
    /// A key with read rights only (writes get HTTP 403).
    #[arg(long, hide_env_values = true)]
    readonly_key: Option<String>,
    /// API versions served under /api/admin/v{N}.
    #[arg(long, value_delimiter = ',', default_value = "6,7,8")]
    versions: Vec<u32>,
    /// The shop login: order ids are `{shop}-{serial}`.
    #[arg(long, default_value = "shop1")]
    shop: String,
    /// Seed of the orders made at start.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// How many orders to make at start (at most 100000).
    #[arg(long, default_value_t = 0)]
    orders: u64,
    /// Requests per second before HTTP 429 (0 = no limit).
    #[arg(long, default_value_t = 0)]
    rate_limit: u32,
    /// Rate of HTTP 500/503 answers.
    #[arg(long, default_value_t = 0.0)]
    error_rate: f64,
    /// Rate of slow answers.
    #[arg(long, default_value_t = 0.0)]
    slow_rate: f64,
    /// Delay of a slow answer, in milliseconds.
    #[arg(long, default_value_t = 2000)]
    slow_ms: u64,
    /// Rate of connections dropped before the answer is complete.
    #[arg(long, default_value_t = 0.0)]
    drop_rate: f64,
    /// Rate of answers with a truncated, unparseable body.
    #[arg(long, default_value_t = 0.0)]
    malformed_rate: f64,
    /// Rate, per order inside a PUT batch, of failing it with faultCode 4.
    #[arg(long, default_value_t = 0.0)]
    batch_fail_rate: f64,
    /// Rate of injected HTTP 429 answers.
    #[arg(long, default_value_t = 0.0)]
    too_many_rate: f64,
    /// Retry-After (seconds) of injected 429 answers.
    #[arg(long, default_value_t = 1)]
    retry_after_secs: u64,
    /// Seed of the random source that draws faults.
    #[arg(long, default_value_t = 0)]
    fault_seed: u64,
    /// Ignore `ordersBy` in searches entirely and answer in an order unrelated to any field.
    #[arg(long)]
    ignore_sort: bool,
    /// Treat the end of a search's date range as exclusive (dates before it).
    #[arg(long)]
    exclusive_date_end: bool,
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let cli = Cli::parse();
    anyhow::ensure!(!cli.api_key.is_empty(), "--api-key must not be empty");
    anyhow::ensure!(
        !cli.versions.is_empty(),
        "--versions must name at least one version"
    );
    anyhow::ensure!(
        cli.orders <= MAX_SEED_ORDERS,
        "--orders must be at most {MAX_SEED_ORDERS}"
    );
    let faults = Faults {
        error_rate: cli.error_rate,
        slow_rate: cli.slow_rate,
        slow_ms: cli.slow_ms,
        drop_rate: cli.drop_rate,
        malformed_rate: cli.malformed_rate,
        batch_fail_rate: cli.batch_fail_rate,
        too_many_rate: cli.too_many_rate,
        retry_after_secs: cli.retry_after_secs,
    };
    faults.validate().map_err(anyhow::Error::msg)?;
    let config = SimConfig {
        api_key: cli.api_key,
        readonly_key: cli.readonly_key,
        versions: cli.versions,
        shop: cli.shop,
        seed: cli.seed,
        orders: cli.orders,
        rate_limit: cli.rate_limit,
        faults,
        fault_seed: cli.fault_seed,
        ignore_sort: cli.ignore_sort,
        exclusive_date_end: cli.exclusive_date_end,
    };
    let listener = tokio::net::TcpListener::bind(cli.listen)
        .await
        .with_context(|| format!("cannot listen on {}", cli.listen))?;
    let addr = listener.local_addr().context("no local address")?;
    tracing::info!(
        %addr,
        versions = ?config.versions,
        orders = config.orders,
        rate_limit = config.rate_limit,
        ignore_sort = config.ignore_sort,
        exclusive_date_end = config.exclusive_date_end,
        "idosell-sim started"
    );
    let state = Arc::new(AppState::new(config));
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on http://{addr}").context("cannot write to stdout")?;
        out.flush().context("cannot flush stdout")?;
    }
    idosell_sim::serve(listener, state, shutdown_signal())
        .await
        .context("server failed")?;
    Ok(())
}

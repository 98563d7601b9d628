//! `orderlink run`: the supervisor of every enabled link, until SIGTERM or Ctrl-C; SIGHUP
//! reloads the config and the mappings.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::mpsc;

use super::context::{load_config, load_plugins, some_link_can_start};
use super::{BadInput, EXIT_OK};
use crate::engine::live::LiveRegistry;
use crate::engine::supervisor::{Control, Ended, Supervisor, MAX_WORKERS};
use crate::store::open::open as open_store;
use crate::store::OpenMode;
use crate::store::StateStore;

/// Raises the soft limit of open files to the hard limit where the system allows it (many links
/// mean many sockets); logs what it got.
pub fn raise_open_file_limit() {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) => tracing::debug!(open_files = n, "open-file limit"),
        Err(e) => tracing::warn!("cannot raise the open-file limit: {e}"),
    }
}

/// Forwards signals to the supervisor: SIGTERM and SIGINT stop it (a second one exits at once
/// with code 1), SIGHUP reloads.
async fn forward_signals(control: mpsc::UnboundedSender<Control>) -> std::io::Result<()> {
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let mut hup = signal(SignalKind::hangup())?;
    tokio::spawn(async move {
        let mut stopping = false;
        loop {
            let c = tokio::select! {
                _ = term.recv() => Control::Stop,
                _ = int.recv() => Control::Stop,
                _ = hup.recv() => Control::Reload,
            };
            if c == Control::Stop {
                if stopping {
                    tracing::warn!("second stop signal: exiting at once");
                    std::process::exit(1);
                }
                stopping = true;
            }
            if control.send(c).is_err() {
                break;
            }
        }
    });
    Ok(())
}

/// Runs every enabled link until SIGTERM or Ctrl-C; then finishes the batches in flight and exits
/// 0. Exits 2 when no link can run because of the config or the mappings.
pub fn run(config_path: &Path) -> anyhow::Result<u8> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .max_blocking_threads(MAX_WORKERS)
        .thread_keep_alive(Duration::from_secs(10))
        .thread_name("orderlink-worker")
        .build()?;
    let (control_tx, control_rx) = mpsc::unbounded_channel();
    // Signals first: a SIGHUP during start-up must not kill the process.
    runtime.block_on(forward_signals(control_tx))?;
    raise_open_file_limit();
    let config = load_config(config_path)?;
    if config.links.values().all(|l| !l.enabled) {
        return Err(BadInput("every link has enabled = false: nothing to run".into()).into());
    }
    let plugins = load_plugins(&config);
    // Config errors first: when no link can start, nothing is written, not even a new store.
    some_link_can_start(&config, &plugins)?;
    // The store is judged and locked before any network call (a broken file is not the links'
    // fault); one store, one writer, for every link and the admin server.
    let store: Arc<dyn StateStore> = open_store(&config, OpenMode::Own)?;
    let live = LiveRegistry::new();
    // The admin server (off unless configured) reads the live registry; it stops with the run.
    let admin_stop = Arc::new(AtomicBool::new(false));
    let admin = match &config.admin {
        Some(a) => Some(
            crate::admin::start(
                a,
                crate::admin::AdminState::new(
                    Arc::new(config.clone()),
                    live.clone(),
                    store.clone(),
                ),
                admin_stop.clone(),
            )
            .map_err(|e| anyhow::anyhow!("admin server: cannot listen on {}: {e}", a.listen))?,
        ),
        None => None,
    };
    let supervisor = Supervisor::new(
        config_path.to_path_buf(),
        config,
        plugins,
        live,
        store.clone(),
    );
    let ended = runtime.block_on(supervisor.run(control_rx));
    admin_stop.store(true, Ordering::SeqCst);
    if let Some(admin) = admin {
        admin.join();
    }
    if let Err(e) = store.checkpoint() {
        tracing::warn!("cannot save the last cursors: {e}");
    }
    match ended {
        Ended::Stopped => {
            tracing::info!("stopped");
            Ok(EXIT_OK)
        }
        Ended::NothingCanRun(why) => Err(BadInput(why.join("\n")).into()),
    }
}

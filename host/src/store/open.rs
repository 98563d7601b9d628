//! Opening the store a config names: the SQLite file of one host, or the PostgreSQL store that
//! several hosts share (`[store] url`).

use std::time::Duration;

use super::postgres::{PgOptions, PostgresStore};
use super::sqlite::{OpenMode, SqliteStore};
use super::{StateStore, StoreError};
use crate::config::Config;

/// Opens the config's store for `mode`, as the host `orderlink run` is. A shared store is
/// judged (and, to own it, migrated) before anything else; a read never changes it.
pub fn open(config: &Config, mode: OpenMode) -> Result<std::sync::Arc<dyn StateStore>, StoreError> {
    open_as(config, mode, None)
}

/// Opens the config's store for a one-off command (`sync`, `resync`, `reconcile`...): on a
/// shared store it takes part under a name of its own (`HOST+COMMAND-PID`), so it never takes
/// or gives back the leases of a `run` on the same machine.
pub fn open_command(
    config: &Config,
    mode: OpenMode,
    command: &str,
) -> Result<std::sync::Arc<dyn StateStore>, StoreError> {
    open_as(config, mode, Some(command))
}

fn open_as(
    config: &Config,
    mode: OpenMode,
    command: Option<&str>,
) -> Result<std::sync::Arc<dyn StateStore>, StoreError> {
    match &config.shared {
        None => Ok(std::sync::Arc::new(SqliteStore::open(&config.store, mode)?)),
        Some(shared) => Ok(std::sync::Arc::new(PostgresStore::connect(
            PgOptions {
                url: shared.url.clone(),
                password: shared.password.as_ref().map(|p| p.expose().to_owned()),
                lease: shared.lease,
                heartbeat: command.is_none(),
                host: match command {
                    None => shared.host.clone(),
                    Some(c) => format!("{}+{c}-{}", shared.host, std::process::id()),
                },
            },
            mode != OpenMode::Read,
        )?)),
    }
}

/// Whether the config's store exists already (a shared store is taken to: reads judge it).
pub fn exists(config: &Config) -> bool {
    config.shared.is_some() || config.store.exists()
}

/// The config's store, for messages (never with a password).
pub fn describe(config: &Config) -> String {
    match &config.shared {
        None => config.store.display().to_string(),
        Some(s) => super::postgres::redact_url(&s.url),
    }
}

/// How often a host coordinates its leases on a shared store: a third of the lease period
/// (on a store file, which needs no leases, never more than once a minute).
pub fn coordinate_every(config: &Config) -> Duration {
    match &config.shared {
        None => Duration::from_secs(60),
        Some(s) => crate::lease::renew_every(s.lease),
    }
}

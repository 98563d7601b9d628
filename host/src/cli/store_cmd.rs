//! `orderlink store migrate --to postgres://...`: moves a single host's state (the SQLite file
//! the config names) into an empty PostgreSQL store, so that several hosts can share it.

use std::path::Path;
use std::time::Duration;

use super::context::load_config;
use super::{BadInput, EXIT_OK};
use crate::config::shared_store::default_host;
use crate::store::postgres::{redact_url, PgOptions, PostgresStore};
use crate::store::{OpenMode, SqliteStore};

/// What to do with the store.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum StoreAction {
    /// Copy the store file's state into an empty PostgreSQL database (all or nothing). The
    /// password comes from $PGPASSWORD, never from the command line. Stop `orderlink run` first:
    /// the store file is locked while it copies.
    Migrate {
        /// postgres://USER@HOST:PORT/DATABASE (no password inside).
        #[arg(long)]
        to: String,
    },
}

/// Runs a store action.
pub fn run(config_path: &Path, action: &StoreAction) -> anyhow::Result<u8> {
    let StoreAction::Migrate { to } = action;
    let config = load_config(config_path)?;
    if config.shared.is_some() {
        return Err(BadInput(format!(
            "{}: [store] url is set already; `store migrate` copies from the store file ([store] path) of a single host",
            config_path.display()
        ))
        .into());
    }
    if !config.store.exists() {
        return Err(BadInput(format!(
            "state store {} does not exist: nothing to migrate",
            config.store.display()
        ))
        .into());
    }
    if redact_url(to) != *to {
        return Err(
            BadInput("--to must not hold the password: give it in $PGPASSWORD".to_owned()).into(),
        );
    }
    // The file is judged and locked first (no `run` may write while it is copied).
    let from = SqliteStore::open(&config.store, OpenMode::Own)?;
    let to_store = PostgresStore::connect(
        PgOptions {
            url: to.clone(),
            password: std::env::var("PGPASSWORD").ok(),
            lease: Duration::from_secs(30),
            host: default_host(),
            heartbeat: false,
        },
        true,
    )?;
    let copied = to_store.import(&from)?;
    for (table, rows) in &copied {
        println!("{table}: {rows} rows");
    }
    println!(
        "copied {} into {}; now set [store] url = \"{to}\" (and password) in {}, remove path, and start the hosts",
        config.store.display(),
        redact_url(to),
        config_path.display()
    );
    Ok(EXIT_OK)
}

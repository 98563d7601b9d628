//! The engine's end-to-end tests of `sync.rs`, run on a PostgreSQL store (the harness sees
//! this binary's name: `sync_env::on_postgres`).

#[path = "sync.rs"]
mod on_postgres;

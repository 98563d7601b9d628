//! The engine's end-to-end tests of `supervisor.rs`, run on a PostgreSQL store (the harness
//! sees this binary's name: `sync_env::on_postgres`).

#[path = "supervisor.rs"]
mod on_postgres;

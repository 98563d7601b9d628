//! The engine's end-to-end tests of `crash.rs`, run on a PostgreSQL store (the harness sees
//! this binary's name: `sync_env::on_postgres`).

#[path = "crash.rs"]
mod on_postgres;

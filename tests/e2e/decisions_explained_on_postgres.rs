//! The engine's end-to-end tests of `decisions_explained.rs`, run on a PostgreSQL store (the harness sees
//! this binary's name: `sync_env::on_postgres`).

#[path = "decisions_explained.rs"]
mod on_postgres;

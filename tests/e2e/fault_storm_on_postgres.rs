//! The engine's end-to-end tests of `fault_storm.rs`, run on a PostgreSQL store (the harness sees
//! this binary's name: `sync_env::on_postgres`).

#[path = "fault_storm.rs"]
mod on_postgres;

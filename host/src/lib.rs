//! The orderlink host: loads connector plugins and keeps order statuses in step between the
//! endpoints of each configured link.

pub mod admin;
pub mod cli;
pub mod config;
pub mod domain;
pub mod engine;
pub mod lease;
pub mod logging;
pub mod mapping;
pub mod plugins;
pub mod service;
pub mod store;

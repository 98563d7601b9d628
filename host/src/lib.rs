//! The orderlink host: loads connector plugins and keeps order statuses in step between the
//! endpoints of each configured link.

pub mod cli;
pub mod plugins;

//! End-to-end test support for orderlink: run the `orderlink` binary as a user would, find the
//! plugin libraries the workspace builds, build crates that live outside the workspace (test
//! fixtures, examples) and lay out temporary plugin directories.
//!
//! Tests assume `cargo build --workspace` ran first (the project's test command does it).

pub mod cluster;
pub mod external;
pub mod memory_links;
pub mod orderlink;
pub mod plugin_dir;
pub mod postgres;
pub mod running;
pub mod sims;
pub mod storm;
pub mod sync_env;

use std::path::PathBuf;

pub use orderlink::{run, Run};
pub use plugin_dir::PluginDir;

/// The workspace's root directory.
pub fn workspace_root() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.parent().map(PathBuf::from).unwrap_or(here)
}

/// A plugin library the workspace builds, by its lib name (`orderlink_memory`).
pub fn workspace_plugin(lib_name: &str) -> PathBuf {
    orderlink_plugin_api::testkit::artifacts::cdylib(lib_name)
}

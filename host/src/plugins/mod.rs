//! Finding and loading connector plugins.

pub mod loader;

pub use loader::{PluginProblem, PluginSet};

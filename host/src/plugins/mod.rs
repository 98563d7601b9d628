//! Finding and loading connector plugins.

pub mod elf_check;
pub mod loader;

pub use loader::{PluginProblem, PluginSet};

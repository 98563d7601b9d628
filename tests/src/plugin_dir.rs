//! Temporary plugin directories.

use std::path::{Path, PathBuf};

use tempfile::TempDir;

/// A temporary directory to hand the binary as `--plugin-dir`, removed when dropped.
pub struct PluginDir {
    dir: TempDir,
}

impl PluginDir {
    /// An empty directory.
    pub fn new() -> Self {
        PluginDir {
            dir: tempfile::Builder::new()
                .prefix("orderlink-plugins-")
                .tempdir()
                .unwrap_or_else(|e| panic!("cannot make a temporary directory: {e}")),
        }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Copies a library in under its own file name; returns the copy.
    pub fn add(&self, library: &Path) -> PathBuf {
        let name = library
            .file_name()
            .unwrap_or_else(|| panic!("{} has no file name", library.display()));
        self.add_as(library, &name.to_string_lossy())
    }

    /// Copies a library in under another file name; returns the copy.
    pub fn add_as(&self, library: &Path, name: &str) -> PathBuf {
        let to = self.path().join(name);
        std::fs::copy(library, &to).unwrap_or_else(|e| {
            panic!("cannot copy {} to {}: {e}", library.display(), to.display())
        });
        to
    }

    /// Writes a file with the given contents; returns its path.
    pub fn write(&self, name: &str, contents: &[u8]) -> PathBuf {
        let to = self.path().join(name);
        std::fs::write(&to, contents)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", to.display()));
        to
    }
}

impl Default for PluginDir {
    fn default() -> Self {
        Self::new()
    }
}

//! Loads every plugin library in the plugin directories and any explicit paths, side by side,
//! and reports each problem without stopping: a file that is not a shared library, a library that
//! is not a plugin, a plugin built for another ABI, a plugin that fails or panics while loading,
//! two plugins claiming one connector name. A file is checked before the dynamic loader maps it
//! (`elf_check`): a truncated library would otherwise kill the process.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use orderlink_plugin_api::client::PluginLibrary;
use orderlink_plugin_api::model::ConnectorInfo;

/// One plugin that could not be used, or one connector of it that was skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginProblem {
    /// The file concerned.
    pub path: PathBuf,
    /// What is wrong, for people.
    pub message: String,
}

impl std::fmt::Display for PluginProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// The plugins found, and the problems met while loading them.
#[derive(Debug, Default)]
pub struct PluginSet {
    /// Loaded plugin libraries, in load order.
    pub plugins: Vec<PluginLibrary>,
    /// Which plugin (index into `plugins`) provides each connector name.
    connectors: BTreeMap<String, usize>,
    /// Everything that went wrong.
    pub problems: Vec<PluginProblem>,
}

/// The default plugin directory: `$ORDERLINK_PLUGIN_DIR`, else `plugins/` beside the executable
/// if it exists, else `../lib/orderlink/plugins` from it if that exists (the installed layout:
/// `/usr/bin/orderlink` finds `/usr/lib/orderlink/plugins`), else the executable's own directory.
pub fn default_plugin_dir() -> PathBuf {
    let exe_dir = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| PathBuf::from("."));
    choose_default_plugin_dir(std::env::var_os("ORDERLINK_PLUGIN_DIR"), &exe_dir, |p| {
        p.is_dir()
    })
}

/// The rule of [`default_plugin_dir`], given the variable, the executable's directory and a
/// way to tell directories.
pub fn choose_default_plugin_dir(
    env: Option<std::ffi::OsString>,
    exe_dir: &Path,
    is_dir: impl Fn(&Path) -> bool,
) -> PathBuf {
    if let Some(dir) = env {
        return PathBuf::from(dir);
    }
    let beside = exe_dir.join("plugins");
    if is_dir(&beside) {
        return beside;
    }
    if let Some(prefix) = exe_dir.parent() {
        let installed = prefix.join("lib").join("orderlink").join("plugins");
        if is_dir(&installed) {
            return installed;
        }
    }
    exe_dir.to_path_buf()
}

fn is_library_name(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.ends_with(std::env::consts::DLL_SUFFIX))
}

impl PluginSet {
    /// Loads the shared libraries in each directory (files ending in the platform's library
    /// suffix, in name order), then each explicit file.
    pub fn load(dirs: &[PathBuf], files: &[PathBuf]) -> PluginSet {
        let mut set = PluginSet::default();
        for dir in dirs {
            match std::fs::read_dir(dir) {
                Ok(entries) => {
                    let mut paths: Vec<PathBuf> = entries
                        .filter_map(|e| e.ok().map(|e| e.path()))
                        .filter(|p| p.is_file() && is_library_name(p))
                        .collect();
                    paths.sort();
                    for path in paths {
                        set.load_one(&path);
                    }
                }
                Err(e) => set.problems.push(PluginProblem {
                    path: dir.clone(),
                    message: format!("{}: cannot read plugin directory: {e}", dir.display()),
                }),
            }
        }
        for file in files {
            set.load_one(file);
        }
        set
    }

    fn load_one(&mut self, path: &Path) {
        let canonical = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        if self
            .plugins
            .iter()
            .any(|p| p.path().canonicalize().ok().as_deref() == Some(canonical.as_path()))
        {
            return;
        }
        if let Err(e) = super::elf_check::check_file(path) {
            let message = format!("{}: {e}", path.display());
            tracing::warn!("plugin skipped: {message}");
            self.problems.push(PluginProblem {
                path: path.to_path_buf(),
                message,
            });
            return;
        }
        let library = match PluginLibrary::load(path) {
            Ok(lib) => lib,
            Err(e) => {
                tracing::warn!(path = %path.display(), "plugin skipped: {e}");
                self.problems.push(PluginProblem {
                    path: path.to_path_buf(),
                    message: e.to_string(),
                });
                return;
            }
        };
        let index = self.plugins.len();
        for c in &library.manifest().connectors {
            match self.connectors.get(&c.name) {
                Some(&other) => {
                    let first = &self.plugins[other];
                    let message = format!(
                        "{}: connector `{}` is already provided by plugin `{}` ({}); this one is ignored",
                        path.display(),
                        c.name,
                        first.manifest().plugin,
                        first.path().display()
                    );
                    tracing::warn!("{message}");
                    self.problems.push(PluginProblem {
                        path: path.to_path_buf(),
                        message,
                    });
                }
                None => {
                    self.connectors.insert(c.name.clone(), index);
                }
            }
        }
        self.plugins.push(library);
    }

    /// Like [`PluginSet::load`], but with no directory and no file given, loads the default
    /// plugin directory ([`default_plugin_dir`]).
    pub fn load_or_default(dirs: &[PathBuf], files: &[PathBuf]) -> PluginSet {
        if dirs.is_empty() && files.is_empty() {
            PluginSet::load(&[default_plugin_dir()], &[])
        } else {
            PluginSet::load(dirs, files)
        }
    }

    /// The plugin that provides a connector, and the connector's description.
    pub fn connector(&self, name: &str) -> Option<(&PluginLibrary, &ConnectorInfo)> {
        let lib = &self.plugins[*self.connectors.get(name)?];
        let info = lib.manifest().connectors.iter().find(|c| c.name == name)?;
        Some((lib, info))
    }

    /// Every usable connector name, sorted.
    pub fn connector_names(&self) -> Vec<&str> {
        self.connectors.keys().map(String::as_str).collect()
    }

    /// Whether the given plugin's connector is the one in use (not shadowed by a duplicate).
    pub fn is_active(&self, plugin_index: usize, connector: &str) -> bool {
        self.connectors.get(connector) == Some(&plugin_index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_installed_binary_finds_usr_lib_orderlink_plugins() {
        let only =
            |dirs: &'static [&'static str]| move |p: &Path| dirs.iter().any(|d| p == Path::new(d));
        let bin = Path::new("/usr/bin");
        assert_eq!(
            choose_default_plugin_dir(None, bin, only(&["/usr/lib/orderlink/plugins"])),
            PathBuf::from("/usr/lib/orderlink/plugins")
        );
        assert_eq!(
            choose_default_plugin_dir(
                Some("/opt/p".into()),
                bin,
                only(&["/usr/lib/orderlink/plugins"])
            ),
            PathBuf::from("/opt/p")
        );
        let dev = Path::new("/src/target/debug");
        assert_eq!(
            choose_default_plugin_dir(None, dev, only(&["/src/target/debug/plugins"])),
            PathBuf::from("/src/target/debug/plugins")
        );
        assert_eq!(
            choose_default_plugin_dir(None, dev, only(&[])),
            dev.to_path_buf()
        );
    }
}

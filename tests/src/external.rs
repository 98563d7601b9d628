//! Building crates that live outside the workspace (test fixtures, examples) the way their
//! authors would, with a plain `cargo build`, into one shared target directory,
//! `<target>/external`, so their common dependencies compile once.
//!
//! A manifest is built at most once per test process; threads asking meanwhile wait for that
//! build. Test processes building at the same time are serialised by cargo's own lock on the
//! target directory, which is not the workspace's (a nested build inside `cargo test` must not
//! wait for the lock its parent holds).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use orderlink_plugin_api::testkit::artifacts;

use crate::workspace_root;

/// The manifest of the plugin-host fixtures workspace.
pub const FIXTURES: &str = "tests/fixtures/Cargo.toml";
/// The manifest of the example connector built outside the workspace.
pub const FILE_SHOP: &str = "examples/file-shop/Cargo.toml";

/// The target directory of all outside builds.
pub fn target_dir() -> PathBuf {
    let profile = artifacts::profile_dir();
    profile
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or(profile)
        .join("external")
}

/// The outputs of one outside build.
#[derive(Debug, Clone)]
pub struct Built {
    profile_dir: PathBuf,
}

impl Built {
    /// A plugin library the build made, by its lib name; panics if missing.
    pub fn cdylib(&self, lib_name: &str) -> PathBuf {
        let path = self.profile_dir.join(format!(
            "{}{lib_name}{}",
            std::env::consts::DLL_PREFIX,
            std::env::consts::DLL_SUFFIX
        ));
        assert!(path.exists(), "the build made no {}", path.display());
        path
    }
}

static BUILDS: Mutex<BTreeMap<PathBuf, Result<Built, String>>> = Mutex::new(BTreeMap::new());

/// Builds the crate or workspace whose manifest is at `manifest` (relative to the workspace
/// root) once per process; panics with cargo's output if the build fails.
pub fn build(manifest: &str) -> Built {
    let manifest = workspace_root().join(manifest);
    let mut builds = BUILDS.lock().unwrap_or_else(PoisonError::into_inner);
    let result = builds
        .entry(manifest.clone())
        .or_insert_with(|| cargo_build(&manifest));
    match result {
        Ok(built) => built.clone(),
        Err(e) => panic!("{e}"),
    }
}

/// The plugin-host fixtures (`tests/fixtures`), built.
pub fn fixtures() -> Built {
    build(FIXTURES)
}

/// The example connector `examples/file-shop`, built.
pub fn file_shop() -> Built {
    build(FILE_SHOP)
}

fn cargo_build(manifest: &Path) -> Result<Built, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let target = target_dir();
    let started = Instant::now();
    let output = Command::new(&cargo)
        .arg("build")
        .arg("--manifest-path")
        .arg(manifest)
        .arg("--target-dir")
        .arg(&target)
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET_DIR")
        .output()
        .map_err(|e| format!("cannot run {}: {e}", Path::new(&cargo).display()))?;
    if !output.status.success() {
        return Err(format!(
            "`cargo build --manifest-path {} --target-dir {}` failed ({}):\n{}",
            manifest.display(),
            target.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    eprintln!(
        "built {} into {} in {:.1?}",
        manifest.display(),
        target.display(),
        started.elapsed()
    );
    Ok(Built {
        profile_dir: target.join("debug"),
    })
}

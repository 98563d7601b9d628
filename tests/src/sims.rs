//! Simulator processes and the `orderlink` binary, for end-to-end tests, benchmarks and the demo.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Output, Stdio};

use orderlink_plugin_api::testkit::artifacts;
use serde_json::Value;

/// A running simulator (or any server printing `listening on URL` first); stopped on drop.
pub struct SimProcess {
    child: Child,
    _stdout: BufReader<ChildStdout>,
    /// Its base URL, e.g. `http://127.0.0.1:41234`.
    pub url: String,
}

impl SimProcess {
    /// Starts a workspace binary with arguments and waits for its `listening on` line.
    pub fn start(binary: &str, args: &[&str]) -> SimProcess {
        let path = artifacts::binary(binary);
        let mut child = Command::new(&path)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", path.display()));
        let stdout = child.stdout.take().expect("piped stdout");
        let mut line = String::new();
        let mut reader = BufReader::new(stdout);
        reader
            .read_line(&mut line)
            .unwrap_or_else(|e| panic!("{binary}: no output: {e}"));
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("{binary} printed `{line}` instead of `listening on URL`"))
            .to_owned();
        SimProcess {
            child,
            _stdout: reader,
            url,
        }
    }

    /// POSTs JSON to a control path and returns the JSON answer.
    pub fn post(&self, path: &str, body: Value) -> Value {
        let url = format!("{}{path}", self.url);
        match ureq::post(&url).send_json(body) {
            Ok(r) => r.into_json().unwrap_or(Value::Null),
            Err(e) => panic!("POST {url}: {e}"),
        }
    }

    /// GETs a control path as JSON.
    pub fn get(&self, path: &str) -> Value {
        let url = format!("{}{path}", self.url);
        match ureq::get(&url).call() {
            Ok(r) => r.into_json().unwrap_or(Value::Null),
            Err(e) => panic!("GET {url}: {e}"),
        }
    }

    /// Kills the process at once (SIGKILL).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for SimProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The directory holding the workspace's plugin libraries (`target/debug`).
pub fn plugin_dir() -> PathBuf {
    artifacts::profile_dir()
}

/// Runs `orderlink` with arguments in a directory, with extra environment variables.
pub fn orderlink(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    crate::orderlink::command()
        .current_dir(dir)
        .args(args)
        .env("RUST_LOG", "warn")
        .envs(env.iter().copied())
        .output()
        .unwrap_or_else(|e| panic!("cannot run orderlink: {e}"))
}

/// Starts `orderlink run --config CONFIG` in a directory, output discarded.
pub fn spawn_run(dir: &Path, config: &Path, env: &[(&str, &str)]) -> Child {
    crate::orderlink::command()
        .current_dir(dir)
        .arg("run")
        .arg("--config")
        .arg(config)
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start orderlink run: {e}"))
}

/// Sends SIGTERM to a child process.
pub fn terminate(child: &Child) {
    if let Ok(pid) = i32::try_from(child.id()) {
        // SAFETY: kill(2) with a pid we own.
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
    }
}

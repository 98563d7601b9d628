//! Running the `orderlink` binary.

use std::ffi::OsStr;
use std::path::PathBuf;
use std::process::Command;

use orderlink_plugin_api::testkit::artifacts;

/// The `orderlink` binary built in this workspace.
pub fn binary() -> PathBuf {
    artifacts::binary("orderlink")
}

/// A command for the `orderlink` binary, isolated from the caller's environment: no default
/// plugin directory, no default config, no log filter, no colours.
pub fn command() -> Command {
    let mut cmd = Command::new(binary());
    cmd.env_remove("ORDERLINK_PLUGIN_DIR")
        .env_remove("ORDERLINK_CONFIG")
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1");
    cmd
}

/// What one run of the binary did.
#[derive(Clone)]
pub struct Run {
    /// The command line, for messages.
    pub args: Vec<String>,
    /// The exit code; `None` when a signal ended the process (a crash or abort).
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "orderlink {}", self.args.join(" "))?;
        writeln!(f, "exit code: {:?}", self.code)?;
        writeln!(f, "--- stdout ---\n{}", self.stdout)?;
        write!(f, "--- stderr ---\n{}", self.stderr)
    }
}

impl Run {
    /// Panics (showing the whole run) unless the process exited with `code`.
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, Some(code), "unexpected exit code:\n{self:?}");
        self
    }

    /// Standard output as JSON; panics (showing the whole run) if it is not JSON.
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{self:?}"))
    }
}

/// Runs `orderlink ARGS` to completion.
pub fn run<I, S>(args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let args: Vec<_> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
    let output = command()
        .args(&args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", binary().display()));
    Run {
        args: args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect(),
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

//! Configs of many links on the memory plugin (no network: every endpoint is an in-memory shop or
//! ERP inside the host), and a running `orderlink run` whose log is kept in a file, for the
//! supervisor's end-to-end tests and its scale benchmark.

use std::fmt::Write as _;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::postgres::{PgServer, PG_PASSWORD, PG_PASSWORD_ENV};
use crate::sync_env::postgres_if_wanted;

/// The mapping of the memory connectors' statuses (both tables complete).
pub const MEMORY_MAPPING: &str = r#"
[to_shop]
new = "new"
packed = "packed"
sent = "sent"
delivered = "delivered"
cancelled = "cancelled"

[to_erp]
new = "new"
packed = "packed"
sent = "sent"
"#;

/// A temp dir with a config of links on the memory plugin.
pub struct MemoryLinks {
    /// The temp dir (config, mapping, store, log).
    pub dir: TempDir,
    /// The config file.
    pub config: PathBuf,
    /// The PostgreSQL server holding the store, when the tests run on PostgreSQL.
    pub pg: Option<PgServer>,
}

/// The config text of `n` links named `l0000`.. each with its own memory shop and ERP holding
/// `orders` orders (ERP `packed`, shop `new`: the first cycle writes them all), polled every
/// `interval` (an `orderlink` duration) with `extra` lines added to each link.
pub fn config_text(n: usize, orders: usize, interval: &str, extra: &str) -> String {
    let mut text = format!(
        "[store]\npath = \"state.sqlite\"\n\n[plugins]\nfiles = [\"{}\"]\n",
        crate::workspace_plugin("orderlink_memory").display()
    );
    let seed = |status: &str| {
        (1..=orders)
            .map(|k| format!("{{ key = \"{k}\", status = \"{status}\" }}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (shop_orders, erp_orders) = (seed("new"), seed("packed"));
    for i in 0..n {
        let _ = write!(
            text,
            "\n[endpoints.s{i:04}]\nconnector = \"memory-shop\"\n[endpoints.s{i:04}.config]\norders = [{shop_orders}]\n\
             \n[endpoints.e{i:04}]\nconnector = \"memory-erp\"\n[endpoints.e{i:04}.config]\norders = [{erp_orders}]\n\
             \n[links.l{i:04}]\nshop = \"s{i:04}\"\nerp = \"e{i:04}\"\ndirection = \"to_shop\"\nscope = \"recent\"\nrecent_days = 30\n\
             mapping = \"mapping.toml\"\npoll_interval = \"{interval}\"\n{extra}\n"
        );
    }
    text
}

impl MemoryLinks {
    /// `n` links (see [`config_text`]) with the complete mapping in `mapping.toml`.
    pub fn new(n: usize, orders: usize, interval: &str, extra: &str) -> MemoryLinks {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("no temp dir: {e}"));
        let config = dir.path().join("orderlink.toml");
        let pg = postgres_if_wanted();
        let mut text = config_text(n, orders, interval, extra);
        if let Some(pg) = &pg {
            text = text.replacen("path = \"state.sqlite\"", &pg.store_toml("orderlink"), 1);
        }
        std::fs::write(&config, text).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(dir.path().join("mapping.toml"), MEMORY_MAPPING)
            .unwrap_or_else(|e| panic!("{e}"));
        MemoryLinks { dir, config, pg }
    }

    /// Writes a file in the temp dir.
    pub fn write(&self, name: &str, text: &str) {
        std::fs::write(self.dir.path().join(name), text).unwrap_or_else(|e| panic!("{e}"));
    }

    /// Starts `orderlink run` on this config at log level `level`.
    pub fn run(&self, level: &str) -> RunningHost {
        RunningHost::start(self.dir.path(), &self.config, level)
    }
}

/// An `orderlink run` in the background, its stderr in `run.log`; killed on drop.
pub struct RunningHost {
    child: Child,
    log: PathBuf,
}

impl RunningHost {
    /// Starts `orderlink --log LEVEL run --config CONFIG` in `dir`.
    pub fn start(dir: &Path, config: &Path, level: &str) -> RunningHost {
        let log = dir.join("run.log");
        let file = File::create(&log).unwrap_or_else(|e| panic!("{}: {e}", log.display()));
        let child = crate::orderlink::command()
            .current_dir(dir)
            .args(["--log", level, "run", "--config"])
            .arg(config)
            .env(PG_PASSWORD_ENV, PG_PASSWORD)
            .stdout(Stdio::null())
            .stderr(Stdio::from(file))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start orderlink run: {e}"));
        RunningHost { child, log }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// How many log lines contain `needle`.
    pub fn count(&self, needle: &str) -> usize {
        self.log().lines().filter(|l| l.contains(needle)).count()
    }

    /// Waits until the log holds `n` lines containing `needle`; panics with the log after
    /// `timeout`, or when the process ended first.
    #[track_caller]
    pub fn wait_for(&mut self, needle: &str, n: usize, timeout: Duration) {
        let until = Instant::now() + timeout;
        while self.count(needle) < n {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "orderlink ended ({status}) before logging `{needle}` {n} times:\n{}",
                    self.log()
                );
            }
            if Instant::now() > until {
                panic!(
                    "no `{needle}` ({n} times) within {timeout:?}:\n{}",
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Sends a signal (`libc::SIGHUP`, `libc::SIGTERM`...).
    pub fn signal(&self, sig: i32) {
        if let Ok(pid) = i32::try_from(self.child.id()) {
            // SAFETY: kill(2) on our own child.
            unsafe {
                libc::kill(pid, sig);
            }
        }
    }

    /// Waits for the process to end; its exit code (None: ended by a signal).
    pub fn wait(&mut self, timeout: Duration) -> Option<i32> {
        let until = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            if Instant::now() > until {
                let _ = self.child.kill();
                panic!("orderlink did not end within {timeout:?}:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for RunningHost {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

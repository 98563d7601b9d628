//! `orderlink run` in the background with its log captured, and its admin server's address.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A running `orderlink run`; stopped with SIGTERM (then SIGKILL) on drop.
pub struct Running {
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
}

impl Running {
    /// Starts `orderlink <global args> run --config CONFIG` in `dir` at log level info.
    pub fn start(dir: &Path, config: &Path, global_args: &[&str], env: &[(&str, &str)]) -> Running {
        let mut child = crate::orderlink::command()
            .current_dir(dir)
            .args(global_args)
            .arg("run")
            .arg("--config")
            .arg(config)
            .env("RUST_LOG", "info")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start orderlink run: {e}"));
        let stderr = child.stderr.take().expect("piped stderr");
        let log = Arc::new(Mutex::new(Vec::new()));
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Ok(mut l) = sink.lock() {
                    l.push(line);
                }
            }
        });
        Running { child, log }
    }

    /// The log lines so far.
    pub fn log(&self) -> Vec<String> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Waits (up to 20 s) for a log line containing `needle` and returns it.
    pub fn wait_for_line(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(l) = self.log().into_iter().find(|l| l.contains(needle)) {
                return l;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "orderlink run exited ({status}) before logging `{needle}`:\n{}",
                    self.log().join("\n")
                );
            }
            if Instant::now() > deadline {
                panic!(
                    "no log line with `{needle}` in 20 s:\n{}",
                    self.log().join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The admin server's base URL (`http://127.0.0.1:PORT`), from its start-up log line.
    pub fn admin_url(&mut self) -> String {
        let line = self.wait_for_line("admin server: http://");
        let start = line.find("http://").unwrap_or(0);
        line[start..]
            .split(|c: char| c.is_whitespace() || c == '"')
            .next()
            .unwrap_or_default()
            .trim_end_matches('/')
            .to_owned()
    }

    /// Sends SIGTERM and waits for the exit code (SIGKILL after 20 s).
    pub fn stop(&mut self) -> Option<i32> {
        crate::sims::terminate(&self.child);
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return status.code(),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50))
                }
                _ => {
                    let _ = self.child.kill();
                    return self.child.wait().ok().and_then(|s| s.code());
                }
            }
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.stop();
        }
    }
}

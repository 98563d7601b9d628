//! Drives a simulator from tests and benchmarks: spawn the `idosell-sim` binary, learn its
//! port from the line it prints, and call its control API with a blocking client.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{json, Value};

/// What went wrong driving a simulator.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    /// The binary could not be started.
    #[error("cannot start {binary}: {source}")]
    Spawn {
        /// The binary.
        binary: String,
        /// Why.
        source: std::io::Error,
    },
    /// It did not print `listening on http://...` in time.
    #[error("the simulator did not say where it listens: {0}")]
    NoAddress(String),
    /// A control call failed.
    #[error("control call {call} failed: {reason}")]
    Control {
        /// Method and path.
        call: String,
        /// Why.
        reason: String,
    },
}

/// A simulator process; killed when dropped.
pub struct SimProcess {
    child: Child,
    url: String,
}

impl SimProcess {
    /// Starts `binary` with `args` (`--listen 127.0.0.1:0` is added unless given) and waits for
    /// its `listening on` line. Its stderr is discarded unless `IDOSELL_SIM_STDERR` is set.
    pub fn spawn(binary: &Path, args: &[&str]) -> Result<Self, HarnessError> {
        let mut cmd = Command::new(binary);
        if !args.contains(&"--listen") {
            cmd.args(["--listen", "127.0.0.1:0"]);
        }
        cmd.args(args).stdin(Stdio::null()).stdout(Stdio::piped());
        if std::env::var_os("IDOSELL_SIM_STDERR").is_some() {
            cmd.stderr(Stdio::inherit());
        } else {
            cmd.stderr(Stdio::null());
        }
        let mut child = cmd.spawn().map_err(|source| HarnessError::Spawn {
            binary: binary.display().to_string(),
            source,
        })?;
        let Some(stdout) = child.stdout.take() else {
            let _ = child.kill();
            return Err(HarnessError::NoAddress("no stdout".into()));
        };
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let read = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(read.map(|_| line));
        });
        let line = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(Ok(line)) => line,
            Ok(Err(e)) => {
                let _ = child.kill();
                return Err(HarnessError::NoAddress(e.to_string()));
            }
            Err(_) => {
                let _ = child.kill();
                return Err(HarnessError::NoAddress("timed out".into()));
            }
        };
        let Some(url) = line.trim().strip_prefix("listening on ") else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(HarnessError::NoAddress(format!("it printed {line:?}")));
        };
        Ok(SimProcess {
            url: url.to_owned(),
            child,
        })
    }

    /// Its base URL, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// A client for its control API.
    pub fn control(&self) -> Control {
        Control::new(&self.url)
    }

    /// Sends SIGTERM and waits for it to exit.
    pub fn terminate(mut self) -> std::io::Result<ExitStatus> {
        Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()?;
        self.child.wait()
    }
}

impl Drop for SimProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A blocking client for the control API (`/_sim/...`).
#[derive(Clone)]
pub struct Control {
    base: String,
    agent: ureq::Agent,
}

impl Control {
    /// A client for the simulator at `url`.
    pub fn new(url: &str) -> Self {
        Control {
            base: url.trim_end_matches('/').to_owned(),
            // No pooled connections: a fault test may have the simulator drop connections, and
            // a control call must never reuse one the simulator has closed.
            agent: ureq::AgentBuilder::new()
                .timeout(Duration::from_secs(60))
                .max_idle_connections(0)
                .build(),
        }
    }

    fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Result<Value, HarnessError> {
        let url = format!("{}{path}", self.base);
        let failed = |reason: String| HarnessError::Control {
            call: format!("{method} {path}"),
            reason,
        };
        let req = self.agent.request(method, &url);
        let res = match body {
            Some(b) => req.send_json(b.clone()),
            None => req.call(),
        };
        match res {
            Ok(r) => r.into_json::<Value>().map_err(|e| failed(e.to_string())),
            Err(ureq::Error::Status(code, r)) => {
                let text = r.into_string().unwrap_or_default();
                Err(failed(format!("HTTP {code}: {text}")))
            }
            Err(e) => Err(failed(e.to_string())),
        }
    }

    /// `GET` a control path.
    pub fn get(&self, path: &str) -> Result<Value, HarnessError> {
        self.call("GET", path, None)
    }

    /// `POST` to a control path.
    pub fn post(&self, path: &str, body: &Value) -> Result<Value, HarnessError> {
        self.call("POST", path, Some(body))
    }

    /// Replaces all orders with `count` deterministic ones.
    pub fn seed(&self, seed: u64, count: u64) -> Result<Value, HarnessError> {
        self.post("/_sim/seed", &json!({ "seed": seed, "count": count }))
    }

    /// Creates one order (fields as `POST /_sim/orders` takes them).
    pub fn create_order(&self, order: &Value) -> Result<Value, HarnessError> {
        self.post("/_sim/orders", order)
    }

    /// One order as the control API shows it.
    pub fn order(&self, serial: u64) -> Result<Value, HarnessError> {
        self.get(&format!("/_sim/orders/{serial}"))
    }

    /// The current status code and status id of an order.
    pub fn status_of(&self, serial: u64) -> Result<(String, u64), HarnessError> {
        let o = self.order(serial)?;
        Ok((
            o["orderStatus"].as_str().unwrap_or_default().to_owned(),
            o["orderStatusId"].as_u64().unwrap_or_default(),
        ))
    }

    /// Changes a status as a shop operator would (panel rules apply).
    pub fn set_status(&self, serial: u64, status: &str) -> Result<Value, HarnessError> {
        self.post(
            &format!("/_sim/orders/{serial}/status"),
            &json!({ "status": status }),
        )
    }

    /// Changes a status to a status id as a shop operator would.
    pub fn set_status_id(&self, serial: u64, status_id: u32) -> Result<Value, HarnessError> {
        self.post(
            &format!("/_sim/orders/{serial}/status"),
            &json!({ "statusId": status_id }),
        )
    }

    /// Edits an order without changing its status (moves its change date).
    pub fn touch(&self, serial: u64) -> Result<Value, HarnessError> {
        self.post(&format!("/_sim/orders/{serial}/touch"), &json!({}))
    }

    /// Sets the status of orders `from..=to` as an operator would.
    pub fn bulk_status(&self, from: u64, to: u64, status: &str) -> Result<Value, HarnessError> {
        self.post(
            "/_sim/bulk-status",
            &json!({ "from": from, "to": to, "status": status }),
        )
    }

    /// Defines a custom status.
    pub fn define_status(
        &self,
        id: u32,
        parent_id: u32,
        name: &str,
    ) -> Result<Value, HarnessError> {
        self.post(
            "/_sim/statuses",
            &json!({ "id": id, "parentId": parent_id, "panelName": name }),
        )
    }

    /// Requests by endpoint (`"POST /orders/orders/search"`), plus `"total"`.
    pub fn counters(&self) -> Result<BTreeMap<String, u64>, HarnessError> {
        let v = self.get("/_sim/counters")?;
        serde_json::from_value(v).map_err(|e| HarnessError::Control {
            call: "GET /_sim/counters".into(),
            reason: e.to_string(),
        })
    }

    /// Zeroes the counters.
    pub fn reset_counters(&self) -> Result<(), HarnessError> {
        self.post("/_sim/counters/reset", &json!({})).map(drop)
    }

    /// Sets fault rates (fields as `POST /_sim/faults` takes them).
    pub fn set_faults(&self, faults: &Value) -> Result<Value, HarnessError> {
        self.post("/_sim/faults", faults)
    }

    /// Turns every fault off.
    pub fn clear_faults(&self) -> Result<(), HarnessError> {
        self.post("/_sim/faults/clear", &json!({})).map(drop)
    }

    /// Sets the request-rate limit (0 = none).
    pub fn set_rate_limit(&self, per_second: u32) -> Result<(), HarnessError> {
        self.post("/_sim/rate-limit", &json!({ "per_second": per_second }))
            .map(drop)
    }

    /// E-mails and text messages sent to customers so far.
    pub fn notifications(&self) -> Result<(u64, u64), HarnessError> {
        let v = self.get("/_sim/notifications")?;
        Ok((
            v["mail"].as_u64().unwrap_or_default(),
            v["sms"].as_u64().unwrap_or_default(),
        ))
    }
}

//! Test support: the simulator binary on loopback (both transports on), its control API, the real plugin file, and a
//! capture of every log event (the plugin's arrive through the host callback).

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};

use orderlink_plugin_api::client::{PluginLibrary, RemoteConnector};
use orderlink_plugin_api::sdk::block_on;
use orderlink_plugin_api::testkit::artifacts;
use serde_json::{json, Value};

/// The login every simulator in these tests accepts: distinctive, so a leak is easy to find.
pub const DATABASE: &str = "FirmaQx7Baza";
/// See [`DATABASE`].
pub const OPERATOR: &str = "OperatorQx7Zenon";
/// See [`DATABASE`].
pub const PASSWORD: &str = "HasloQx7-tajne!";
/// A wrong password some tests send.
pub const WRONG_PASSWORD: &str = "ZleHasloQx7-inne!";
/// The application token the simulators accept.
pub const APP_TOKEN: &str = "TokenAplikacjiQx7-sekret";
/// An application token the simulators refuse.
pub const WRONG_TOKEN: &str = "TokenAplikacjiQx7-obcy";

/// A running `enova365-sim`, killed on drop.
pub struct Sim {
    child: Child,
    _stdout: BufReader<ChildStdout>,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
}

fn http() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(reqwest::Client::new)
}

impl Sim {
    /// Starts the simulator with the test login and extra arguments.
    pub fn start(extra: &[&str]) -> Sim {
        let path = artifacts::binary("enova365-sim");
        let mut child = Command::new(&path)
            .args(["--listen", "127.0.0.1:0", "--database", DATABASE])
            .args(["--operator", OPERATOR, "--password", PASSWORD])
            .args(["--app-token", APP_TOKEN, "--method-invoker"])
            .args(extra)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", path.display()));
        let Some(stdout) = child.stdout.take() else {
            panic!("no stdout");
        };
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        reader
            .read_line(&mut line)
            .unwrap_or_else(|e| panic!("enova365-sim wrote nothing: {e}"));
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("enova365-sim printed {line:?}"))
            .to_owned();
        Sim {
            child,
            _stdout: reader,
            url,
        }
    }

    /// A control call; returns the status and the JSON answer.
    pub fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let url = format!("{}{path}", self.url);
        block_on(async {
            let mut req = http().request(method, &url);
            if let Some(b) = body {
                req = req.json(&b);
            }
            let resp = req.send().await.unwrap_or_else(|e| panic!("{url}: {e}"));
            let status = resp.status().as_u16();
            let value = resp.json::<Value>().await.unwrap_or(Value::Null);
            (status, value)
        })
    }

    /// POSTs to the control API, asserting success.
    pub fn post(&self, path: &str, body: Value) -> Value {
        let (status, v) = self.call(reqwest::Method::POST, path, Some(body));
        assert!((200..300).contains(&status), "POST {path}: {status} {v}");
        v
    }

    /// GETs from the control API, asserting success.
    pub fn get(&self, path: &str) -> Value {
        let (status, v) = self.call(reqwest::Method::GET, path, None);
        assert!((200..300).contains(&status), "GET {path}: {status} {v}");
        v
    }

    /// Creates a ZO from explicit fields; returns it.
    pub fn create(&self, fields: Value) -> Value {
        self.post("/_sim/documents", fields)
    }

    /// A ZO by foreign number.
    pub fn zo(&self, obcy: &str) -> Value {
        self.get(&format!("/_sim/documents/by-obcy/{obcy}"))
    }

    /// A user action on a ZO by foreign number.
    pub fn act(&self, obcy: &str, action: &str, body: Value) -> Value {
        self.post(&format!("/_sim/documents/by-obcy/{obcy}/{action}"), body)
    }

    /// Sets fault rates.
    pub fn faults(&self, rates: Value) {
        self.post("/_sim/faults", rates);
    }

    /// Requests the simulator served for a method.
    pub fn served(&self, method: &str) -> u64 {
        self.get("/_sim/counters")["by_method"][method]
            .as_u64()
            .unwrap_or(0)
    }

    /// Requests the simulator served in all.
    pub fn served_total(&self) -> u64 {
        self.get("/_sim/counters")["total"].as_u64().unwrap_or(0)
    }

    /// Seeds `count` linked documents.
    pub fn seed(&self, seed: u64, count: usize) {
        self.post(
            "/_sim/seed",
            json!({"seed": seed, "count": count, "link_obcy_numer": true}),
        );
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A working connector config for a simulator: the Dynamic WebAPI with the application token;
/// `operator` names orderlink's operator, so the feed leaves its own writes out.
pub fn config(sim: &Sim) -> Value {
    json!({
        "url": sim.url,
        "application_token": APP_TOKEN,
        "operator": OPERATOR,
        "timeout_secs": 5,
    })
}

/// A working config over the legacy MethodInvoker.
pub fn config_mi(sim: &Sim) -> Value {
    json!({
        "url": sim.url,
        "transport": "method_invoker",
        "database": DATABASE,
        "operator": OPERATOR,
        "password": PASSWORD,
        "timeout_secs": 5,
    })
}

/// Both transports' configs, named.
pub fn configs(sim: &Sim) -> [(&'static str, Value); 2] {
    [("dynamic", config(sim)), ("method_invoker", config_mi(sim))]
}

/// `config` (Dynamic WebAPI) with some fields replaced.
pub fn with(mut c: Value, fields: Value) -> Value {
    if let (Some(o), Some(f)) = (c.as_object_mut(), fields.as_object()) {
        for (k, v) in f {
            o.insert(k.clone(), v.clone());
        }
    }
    c
}

/// `config` with some fields replaced.
pub fn config_with(sim: &Sim, fields: Value) -> Value {
    let mut c = config(sim);
    if let (Some(o), Some(f)) = (c.as_object_mut(), fields.as_object()) {
        for (k, v) in f {
            o.insert(k.clone(), v.clone());
        }
    }
    c
}

#[derive(Clone)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut b) = self.0.lock() {
            b.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn capture() -> &'static Capture {
    static CAPTURE: OnceLock<Capture> = OnceLock::new();
    CAPTURE.get_or_init(|| Capture(Arc::new(Mutex::new(Vec::new()))))
}

/// Every log line captured so far (this process's and the plugin's, at every level).
pub fn logs() -> String {
    capture()
        .0
        .lock()
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

/// The plugin file, loaded once (after the log capture is installed, so the plugin's log bridge
/// forwards every level).
pub fn plugin() -> &'static PluginLibrary {
    static PLUGIN: OnceLock<PluginLibrary> = OnceLock::new();
    PLUGIN.get_or_init(|| {
        let writer = capture().clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        let _ = tracing::subscriber::set_global_default(subscriber);
        let path = artifacts::cdylib("orderlink_enova365");
        PluginLibrary::load(&path).unwrap_or_else(|e| panic!("{e}"))
    })
}

/// A connector instance through the plugin file.
pub fn connect(config: &Value) -> RemoteConnector {
    plugin()
        .create("enova365", config)
        .unwrap_or_else(|e| panic!("create: {e}"))
}

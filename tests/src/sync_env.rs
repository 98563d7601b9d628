//! A complete sync setup on loopback: an IdoSell simulator, an enova365 simulator seeded with the
//! same linked orders, a config and a mapping file in a temp dir, and the `orderlink` binary.

use std::path::PathBuf;
use std::process::Output;

use serde_json::{json, Value};
use tempfile::TempDir;

use crate::postgres::{PgServer, PG_PASSWORD, PG_PASSWORD_ENV};
use crate::sims::{orderlink, plugin_dir, SimProcess};

/// The API key the IdoSell simulator accepts in these setups.
pub const SHOP_KEY: &str = "test-shop-key-123";
/// The enova365 secret in these setups: the application token of the Dynamic WebAPI (and the
/// operator's password, should a test switch to MethodInvoker).
pub const ERP_PASSWORD: &str = "test-erp-pass-456";

/// The mapping most tests use.
pub const MAPPING: &str = r#"
[to_shop]
Niepotwierdzony = "new"
Potwierdzony = "on_order"
Zaakceptowany = "packed"

[to_erp]
new = "Niepotwierdzony"
on_order = "Potwierdzony"
packed = "Zaakceptowany"
packed_ready = "Zaakceptowany"
"#;

/// One shop simulator + one ERP simulator with `n` linked orders.
pub struct SimPair {
    /// The IdoSell simulator.
    pub shop: SimProcess,
    /// The enova365 simulator.
    pub erp: SimProcess,
}

impl SimPair {
    /// Starts and seeds both simulators with `n` linked orders (serial 1..=n = ObcyNumer).
    pub fn start(n: usize, seed: u64) -> SimPair {
        let shop = SimProcess::start(
            "idosell-sim",
            &["--listen", "127.0.0.1:0", "--api-key", SHOP_KEY],
        );
        let erp = SimProcess::start(
            "enova365-sim",
            &[
                "--listen",
                "127.0.0.1:0",
                "--database",
                "Firma",
                "--operator",
                "Administrator",
                "--password",
                ERP_PASSWORD,
                "--app-token",
                ERP_PASSWORD,
            ],
        );
        shop.post(
            "/_sim/seed",
            json!({"seed": seed, "count": n, "shop": "shop1"}),
        );
        erp.post(
            "/_sim/seed",
            json!({"seed": seed, "count": n, "link_obcy_numer": true}),
        );
        SimPair { shop, erp }
    }

    /// The shop status of an order.
    pub fn shop_status(&self, key: &str) -> String {
        let v = self.shop.get(&format!("/_sim/orders/{key}"));
        v.get("orderStatus")
            .or_else(|| v.get("status"))
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no status in {v}"))
            .to_owned()
    }

    /// Changes an order's status as a shop operator would.
    pub fn set_shop_status(&self, key: &str, status: &str) {
        self.shop.post(
            &format!("/_sim/orders/{key}/status"),
            json!({"status": status}),
        );
    }

    /// The statuses the shop was set to through its API, in order (from the order's history).
    pub fn shop_status_writes(&self, key: &str) -> Vec<String> {
        let v = self.shop.get(&format!("/_sim/orders/{key}"));
        v.get("history")
            .and_then(Value::as_array)
            .map(|events| {
                events
                    .iter()
                    .filter(|e| e.get("username").and_then(Value::as_str) == Some("api"))
                    .filter_map(|e| e.get("eventDetails").and_then(Value::as_str))
                    .filter_map(|d| {
                        d.rsplit_once(" to \"")
                            .map(|(_, t)| t.trim_end_matches('"').to_owned())
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The ERP `Potwierdzenie` of the ZO linked to an order.
    pub fn erp_status(&self, key: &str) -> String {
        let v = self.erp.get(&format!("/_sim/documents/by-obcy/{key}"));
        v.get("Potwierdzenie")
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no Potwierdzenie in {v}"))
            .to_owned()
    }

    /// Changes a ZO's `Potwierdzenie` as an ERP user would.
    pub fn set_erp_status(&self, key: &str, value: &str) {
        self.erp.post(
            &format!("/_sim/documents/by-obcy/{key}/potwierdzenie"),
            json!({"value": value}),
        );
    }

    /// An ERP user action on a ZO: `approve`, `invoice`, `receipt`, `cancel`, `lock`.
    pub fn erp_action(&self, key: &str, action: &str) {
        self.erp.post(
            &format!("/_sim/documents/by-obcy/{key}/{action}"),
            json!({}),
        );
    }

    /// Keys (of `1..=n`) of ZOs with no sales document yet, not cancelled or locked.
    pub fn open_keys(&self, n: usize) -> Vec<String> {
        (1..=n)
            .map(|k| k.to_string())
            .filter(|k| {
                let zo = self.erp.get(&format!("/_sim/documents/by-obcy/{k}"));
                zo.get("Zrealizowane").and_then(Value::as_bool) == Some(false)
                    && zo.get("Stan").and_then(Value::as_str) != Some("Anulowany")
                    && zo.get("Stan").and_then(Value::as_str) != Some("Zablokowany")
            })
            .collect()
    }

    /// Total API requests each simulator has served (control calls excluded).
    pub fn request_counts(&self) -> (u64, u64) {
        let total = |v: Value| v.get("total").and_then(Value::as_u64).unwrap_or(0);
        (
            total(self.shop.get("/_sim/counters")),
            total(self.erp.get("/_sim/counters")),
        )
    }

    /// The endpoints section of a config for this pair, named `shop` and `erp`.
    pub fn endpoints_toml(&self, shop_name: &str, erp_name: &str) -> String {
        self.endpoints_toml_with(shop_name, erp_name, "")
    }

    /// The endpoints section with `extra` lines (e.g. `timeout_secs = 1`) in both connector
    /// configs.
    pub fn endpoints_toml_with(&self, shop_name: &str, erp_name: &str, extra: &str) -> String {
        format!(
            r#"
[endpoints.{shop_name}]
connector = "idosell"
[endpoints.{shop_name}.config]
url = "{}"
api_key = "${{env:ORDERLINK_TEST_SHOP_KEY}}"
api_version = 6
requests_per_second = 1000
{extra}

[endpoints.{erp_name}]
connector = "enova365"
[endpoints.{erp_name}.config]
url = "{}"
application_token = "${{env:ORDERLINK_TEST_ERP_PASSWORD}}"
operator = "Administrator"
{extra}
"#,
            self.shop.url, self.erp.url
        )
    }
}

/// Which store the engine's end-to-end tests run against: a test binary whose name ends in
/// `_on_postgres` (the same test file registered twice in Cargo.toml) runs every [`SyncEnv`]
/// on a throwaway PostgreSQL store; any other on a store file.
pub fn on_postgres() -> bool {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .and_then(|stem| stem.rsplit_once('-').map(|(name, _hash)| name.to_owned()))
        .is_some_and(|name| name.ends_with("_on_postgres"))
}

/// A throwaway PostgreSQL server with a database `orderlink`, when this test binary runs on
/// PostgreSQL ([`on_postgres`]).
pub fn postgres_if_wanted() -> Option<PgServer> {
    on_postgres().then(|| {
        let pg = PgServer::start();
        pg.create_database("orderlink");
        pg
    })
}

/// A temp dir holding a config, a mapping and the state store (a file, or a PostgreSQL
/// database), with helpers to run orderlink.
pub struct SyncEnv {
    /// The temp dir.
    pub dir: TempDir,
    /// The simulators.
    pub sims: SimPair,
    /// The config file.
    pub config: PathBuf,
    /// The PostgreSQL server holding the store, when the tests run on PostgreSQL.
    pub pg: Option<PgServer>,
}

impl SyncEnv {
    /// Sims with `n` orders, one link `main` whose table body is `link_body` (direction, scope...).
    pub fn new(n: usize, link_body: &str, mapping: &str) -> SyncEnv {
        SyncEnv::with_endpoint_lines(n, link_body, mapping, "")
    }

    /// Like [`SyncEnv::new`], with `extra` lines in both connector configs.
    pub fn with_endpoint_lines(n: usize, link_body: &str, mapping: &str, extra: &str) -> SyncEnv {
        let sims = SimPair::start(n, 7);
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("no temp dir: {e}"));
        std::fs::write(dir.path().join("mapping.toml"), mapping).unwrap_or_else(|e| panic!("{e}"));
        let config = dir.path().join("orderlink.toml");
        let pg = postgres_if_wanted();
        let store = match &pg {
            None => "path = \"state.sqlite\"".to_owned(),
            Some(pg) => pg.store_toml("orderlink"),
        };
        let text = format!(
            "[store]\n{store}\n\n[plugins]\ndirs = [\"{}\"]\n{}\n[links.main]\nshop = \"shop\"\nerp = \"erp\"\nmapping = \"mapping.toml\"\npoll_interval = \"200ms\"\n{link_body}\n",
            plugin_dir().display(),
            sims.endpoints_toml_with("shop", "erp", extra),
        );
        std::fs::write(&config, text).unwrap_or_else(|e| panic!("{e}"));
        SyncEnv {
            dir,
            sims,
            config,
            pg,
        }
    }

    /// Whether the store is sound (`ok`): SQLite's `PRAGMA integrity_check` of the store file;
    /// on PostgreSQL (which keeps its own consistency) that it is orderlink's and no write is
    /// queued twice for one order.
    pub fn store_check(&self) -> String {
        match &self.pg {
            None => rusqlite::Connection::open_with_flags(
                self.dir.path().join("state.sqlite"),
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
            )
            .and_then(|db| db.query_row("PRAGMA integrity_check", [], |r| r.get::<_, String>(0)))
            .unwrap_or_else(|e| format!("cannot check the store: {e}")),
            Some(pg) => {
                let ours = pg.sql("orderlink", "SELECT COUNT(*) FROM orderlink_identity");
                let twice = pg.sql(
                    "orderlink",
                    "SELECT COUNT(*) FROM (SELECT 1 FROM outbox GROUP BY link, target, key HAVING COUNT(*) > 1) d",
                );
                if ours == ["1"] && twice == ["0"] {
                    "ok".to_owned()
                } else {
                    format!("identity rows {ours:?}, orders queued twice {twice:?}")
                }
            }
        }
    }

    /// The secrets orderlink reads from the environment.
    pub fn secrets() -> [(&'static str, &'static str); 3] {
        [
            ("ORDERLINK_TEST_SHOP_KEY", SHOP_KEY),
            ("ORDERLINK_TEST_ERP_PASSWORD", ERP_PASSWORD),
            (PG_PASSWORD_ENV, PG_PASSWORD),
        ]
    }

    /// Runs `orderlink <args> --config <config>`.
    pub fn orderlink(&self, args: &[&str]) -> Output {
        let config = self.config.display().to_string();
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--config", &config]);
        orderlink(self.dir.path(), &all, &Self::secrets())
    }

    /// With a `to_erp` link and `n` orders: makes the ERP refuse an order's next write for good
    /// (its ZO is cancelled after the first sync) and runs `sync --once` with `args` so that
    /// the write becomes a dead letter. Returns the order key and that run.
    pub fn make_dead_letter(&self, n: usize, args: &[&str]) -> (String, Output) {
        self.sync_once();
        let key = self.sims.open_keys(n)[0].clone();
        self.sims.set_erp_status(&key, "Niepotwierdzony");
        self.sims.erp_action(&key, "cancel");
        // The shop's change feed has one-second resolution.
        std::thread::sleep(std::time::Duration::from_millis(1100));
        self.sims.set_shop_status(&key, "on_order");
        self.settle_shop();
        let mut all = args.to_vec();
        all.extend(["sync", "--once"]);
        (key, self.orderlink(&all))
    }

    /// Runs `orderlink <args> --json --config <config>`, asserting it exits 0; returns the JSON
    /// it printed.
    pub fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.push("--json");
        let out = self.orderlink(&all);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "orderlink {all:?} failed ({:?}):\n{stdout}\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("orderlink {all:?} printed no JSON ({e}):\n{stdout}"))
    }

    /// Runs `orderlink <args> --config <config>`, asserting it exits 0; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.orderlink(args);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "orderlink {args:?} failed ({:?}):\n{stdout}\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    }

    /// Waits until the shop's changes made so far are settled: the IdoSell feed hands a change
    /// over once the shop's clock is two seconds past its second.
    pub fn settle_shop(&self) {
        std::thread::sleep(std::time::Duration::from_millis(3_100));
    }

    /// `orderlink sync --once`, run again (resuming from its cursor) up to `attempts` times
    /// while it fails; asserts the last one exits 0 and returns its stdout.
    pub fn sync_once_retrying(&self, attempts: usize) -> String {
        for _ in 1..attempts {
            let out = self.orderlink(&["sync", "--once"]);
            if out.status.success() {
                return String::from_utf8_lossy(&out.stdout).into_owned();
            }
        }
        self.sync_once()
    }

    /// `orderlink sync --once`, asserting it exits 0; returns stdout.
    pub fn sync_once(&self) -> String {
        let out = self.orderlink(&["sync", "--once"]);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "sync failed ({:?}):\n{stdout}\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    }
}

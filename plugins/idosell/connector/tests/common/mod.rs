//! Shared by the connector's tests: the real plugin file and the simulator binary, both found
//! next to the test executable (`target/debug`, after `cargo build --workspace`).

#![allow(dead_code)]

use std::collections::BTreeSet;
use std::sync::OnceLock;

use idosell_sim::harness::{Control, SimProcess};
use orderlink_plugin_api::client::{PluginLibrary, RemoteConnector};
use orderlink_plugin_api::model::{ChangesRequest, OrderState};
use orderlink_plugin_api::sdk::Connector;
use orderlink_plugin_api::testkit::artifacts;
use orderlink_plugin_api::ConnectorError;
use serde_json::{json, Value};

pub const KEY: &str = "idosell-test-key-5f2c9a";
pub const READONLY_KEY: &str = "idosell-readonly-key-77e1";

/// The plugin library, loaded once per test binary.
pub fn plugin() -> &'static PluginLibrary {
    static LIB: OnceLock<PluginLibrary> = OnceLock::new();
    LIB.get_or_init(|| {
        let path = artifacts::cdylib("orderlink_idosell");
        PluginLibrary::load(&path).unwrap_or_else(|e| panic!("cannot load {}: {e}", path.display()))
    })
}

/// Starts the simulator binary with the test keys.
pub fn sim(extra: &[&str]) -> SimProcess {
    let mut args = vec!["--api-key", KEY, "--readonly-key", READONLY_KEY];
    args.extend_from_slice(extra);
    SimProcess::spawn(&artifacts::binary("idosell-sim"), &args)
        .unwrap_or_else(|e| panic!("cannot start the simulator: {e}"))
}

/// A working config for a simulator, with a generous budget and short timeout; `extra` fields
/// override.
pub fn config(sim: &SimProcess, extra: Value) -> Value {
    let mut c = json!({
        "url": sim.url(),
        "api_key": KEY,
        "requests_per_second": 1000,
        "timeout_secs": 5
    });
    if let (Some(c), Some(extra)) = (c.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            c.insert(k.clone(), v.clone());
        }
    }
    c
}

/// A connector instance through the plugin file.
pub fn connect(sim: &SimProcess, extra: Value) -> RemoteConnector {
    plugin()
        .create("idosell", &config(sim, extra))
        .unwrap_or_else(|e| panic!("cannot create the connector: {e}"))
}

/// Pages through the change feed from `cursor` until it says there is no more.
pub fn drain(
    c: &dyn Connector,
    cursor: Option<String>,
    limit: u32,
) -> Result<(String, Vec<OrderState>), ConnectorError> {
    let mut cursor = cursor;
    let mut all = Vec::new();
    for _ in 0..10_000 {
        let page = c.changes(&ChangesRequest {
            cursor: cursor.clone(),
            limit,
        })?;
        all.extend(page.orders);
        cursor = Some(page.next_cursor);
        if !page.has_more {
            break;
        }
    }
    Ok((cursor.unwrap_or_default(), all))
}

/// Keys of the orders in a feed batch.
pub fn keys(orders: &[OrderState]) -> BTreeSet<String> {
    orders.iter().map(|o| o.key.clone()).collect()
}

/// Waits until the shop's clock has settled every change made so far (the feed reads changes
/// two seconds after their second ends).
pub fn settle() {
    std::thread::sleep(std::time::Duration::from_millis(3_100));
}

/// The simulator's request counters.
pub fn counters(c: &Control) -> std::collections::BTreeMap<String, u64> {
    c.counters().unwrap_or_else(|e| panic!("{e}"))
}

/// An IdoSell date (Europe/Warsaw) as RFC 3339 UTC, as `OrderState::changed_at` shows it.
pub fn shop_time_to_utc(text: &str) -> String {
    use chrono::TimeZone;
    let naive = chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S")
        .unwrap_or_else(|e| panic!("{text}: {e}"));
    chrono_tz::Europe::Warsaw
        .from_local_datetime(&naive)
        .earliest()
        .map(|t| t.with_timezone(&chrono::Utc).to_rfc3339())
        .unwrap_or_default()
}

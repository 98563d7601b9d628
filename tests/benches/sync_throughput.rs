//! How fast and how cheaply orderlink moves a burst of status changes.
//!
//! 10,000 linked orders (override with `ORDERS=N`); 10,000 `Potwierdzenie` changes in enova365,
//! then `orderlink sync --once` every 200 ms until IdoSell matches: the wall time until then
//! (process starts and plugin loads included), and API requests made to each system against the
//! lower bound (one request per 100 orders per step). The same into the ERP.
//!
//! `cargo build --release --workspace && cargo bench -p orderlink-e2e --bench sync_throughput`
//! (the bench runs the release `orderlink`, plugins and simulators beside it).

use std::time::Instant;

use orderlink_e2e::sync_env::{SyncEnv, MAPPING};
use serde_json::{json, Value};

fn counters(v: &Value) -> String {
    v.as_object()
        .map(|m| {
            m.iter()
                .filter(|(_, n)| n.as_u64().unwrap_or(0) > 0)
                .map(|(k, n)| format!("{k}={n}"))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

/// Orders whose ZO accepts a new `Potwierdzenie` (not cancelled or locked); with
/// `unfulfilled_only`, also without a sales document (the scope into the shop).
fn writable(env: &SyncEnv, n: usize, unfulfilled_only: bool) -> Vec<String> {
    (1..=n)
        .map(|k| k.to_string())
        .filter(|k| {
            let zo = env.sims.erp.get(&format!("/_sim/documents/by-obcy/{k}"));
            (!unfulfilled_only || zo["Zrealizowane"] == false)
                && zo["Stan"] != "Anulowany"
                && zo["Stan"] != "Zablokowany"
        })
        .collect()
}

fn report(label: &str, env: &SyncEnv, changes: usize, secs: f64, runs: usize) {
    let shop = env.sims.shop.get("/_sim/counters");
    let erp = env.sims.erp.get("/_sim/counters");
    let bound = changes.div_ceil(100);
    println!(
        "{label}: {changes} changes applied in {secs:.2} s over {runs} run(s) of sync --once ({:.0} orders/s)",
        changes as f64 / secs
    );
    println!(
        "  IdoSell requests: {} [{}]",
        shop["total"],
        counters(&shop)
    );
    println!("  enova365 requests: {} [{}]", erp["total"], counters(&erp));
    println!("  lower bound: {bound} requests per step (feed page, target read, target write)");
}

/// The number of writes a `sync --once` run reports (`..., N changed, ...`).
fn changed(output: &str) -> usize {
    output
        .split(", ")
        .find_map(|part| part.strip_suffix(" changed"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

/// Runs `sync --once` every 200 ms until the runs have applied `expected` writes, or 16 runs in
/// a row applied nothing at all (at most 60 runs): the wall time from the first run's
/// start to the last run's end, and how many runs. The IdoSell feed holds back a second until it
/// is settled (2 s), so a burst stamped within one second shows up after that.
fn sync_until_applied(env: &SyncEnv, expected: usize) -> (f64, usize) {
    let started = Instant::now();
    let mut applied = 0;
    let mut quiet_runs = 0;
    for runs in 1..=60 {
        let now = changed(&env.sync_once());
        applied += now;
        quiet_runs = if now == 0 { quiet_runs + 1 } else { 0 };
        if applied >= expected || (applied == 0 && quiet_runs > 15) {
            return (started.elapsed().as_secs_f64(), runs);
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    (started.elapsed().as_secs_f64(), 60)
}

fn main() {
    let n: usize = std::env::var("ORDERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);

    // enova365 -> IdoSell
    let env = SyncEnv::new(
        n,
        "direction = \"to_shop\"\nscope = \"unfulfilled\"\n",
        MAPPING,
    );
    env.sync_once();
    let keys = writable(&env, n, true);
    let values = ["Niepotwierdzony", "Potwierdzony", "Zaakceptowany"];
    let shop_codes = ["new", "on_order", "packed"];
    let mut expected = Vec::new();
    for k in &keys {
        let cur = env.sims.erp_status(k);
        let i = values
            .iter()
            .position(|v| *v == cur)
            .map(|i| (i + 1) % 3)
            .unwrap_or(0);
        env.sims.set_erp_status(k, values[i]);
        expected.push((k.clone(), shop_codes[i]));
    }
    env.sims.shop.post("/_sim/counters/reset", json!({}));
    env.sims.erp.post("/_sim/counters/reset", json!({}));
    // An order whose shop status already is the one the new ERP value maps to needs no write.
    let needed = expected
        .iter()
        .filter(|(k, s)| env.sims.shop_status(k) != *s)
        .count();
    let (spent, cycles) = sync_until_applied(&env, needed);
    let behind = expected
        .iter()
        .filter(|(k, s)| env.sims.shop_status(k) != *s)
        .count();
    assert_eq!(behind, 0, "orders not matching in IdoSell");
    report("into IdoSell", &env, needed, spent, cycles);
    drop(env);

    // IdoSell -> enova365
    let env = SyncEnv::new(n, "direction = \"to_erp\"\n", MAPPING);
    env.sync_once();
    let keys = writable(&env, n, false);
    for k in &keys {
        env.sims.set_erp_status(k, "Niepotwierdzony");
    }
    // Every order leaves `on_order` first (to `suspended`, which [to_erp] does not list), so the
    // burst below changes all of them.
    env.sims.shop.post(
        "/_sim/bulk-status",
        json!({"from": 1, "to": n, "status": "suspended", "force": true}),
    );
    sync_until_applied(&env, usize::MAX);
    env.sims.shop.post(
        "/_sim/bulk-status",
        json!({"from": 1, "to": n, "status": "on_order", "force": true}),
    );
    env.sims.shop.post("/_sim/counters/reset", json!({}));
    env.sims.erp.post("/_sim/counters/reset", json!({}));
    let (spent, cycles) = sync_until_applied(&env, keys.len());
    let behind: Vec<&String> = keys
        .iter()
        .filter(|k| env.sims.erp_status(k) != "Potwierdzony")
        .collect();
    if let Some(k) = behind.first() {
        let out = env.orderlink(&["history", "--order", k]);
        panic!(
            "{} orders not matching in enova365, e.g. {k}: shop {:?}, erp {:?}\n{}",
            behind.len(),
            env.sims.shop.get(&format!("/_sim/orders/{k}")),
            env.sims.erp.get(&format!("/_sim/documents/by-obcy/{k}")),
            String::from_utf8_lossy(&out.stdout)
        );
    }
    report("into enova365", &env, keys.len(), spent, cycles);
}

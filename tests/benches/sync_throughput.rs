//! How fast and how cheaply orderlink moves a burst of status changes.
//!
//! 10,000 linked orders (override with `ORDERS=N`); 10,000 `Potwierdzenie` changes in enova365,
//! then `orderlink sync --once` until IdoSell matches: the wall time of those runs (process start,
//! plugin load and the whole cycle; the checks between runs are not counted), and API requests made to each
//! system against the lower bound (one request per 100 orders per step). The same into the ERP.
//!
//! `cargo bench -p orderlink-e2e --bench sync_throughput`

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

fn writable(env: &SyncEnv, n: usize) -> Vec<String> {
    (1..=n)
        .map(|k| k.to_string())
        .filter(|k| {
            let zo = env.sims.erp.get(&format!("/_sim/documents/by-obcy/{k}"));
            zo["Zrealizowane"] == false && zo["Stan"] != "Anulowany" && zo["Stan"] != "Zablokowany"
        })
        .collect()
}

fn report(label: &str, env: &SyncEnv, changed: usize, secs: f64, cycles: usize) {
    let shop = env.sims.shop.get("/_sim/counters");
    let erp = env.sims.erp.get("/_sim/counters");
    let bound = changed.div_ceil(100);
    println!("{label}: {changed} changes applied in {secs:.2} s over {cycles} cycle(s) ({:.0} orders/s)", changed as f64 / secs);
    println!("  IdoSell requests: {} [{}]", shop["total"], counters(&shop));
    println!("  enova365 requests: {} [{}]", erp["total"], counters(&erp));
    println!("  lower bound: {bound} requests per step (feed page, target read, target write)");
}

fn main() {
    let n: usize = std::env::var("ORDERS").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000);

    // enova365 -> IdoSell
    let env = SyncEnv::new(n, "direction = \"to_shop\"\nscope = \"unfulfilled\"\n", MAPPING);
    env.sync_once();
    let keys = writable(&env, n);
    let values = ["Niepotwierdzony", "Potwierdzony", "Zaakceptowany"];
    let shop_codes = ["new", "on_order", "packed"];
    let mut expected = Vec::new();
    for k in &keys {
        let cur = env.sims.erp_status(k);
        let i = values.iter().position(|v| *v == cur).map(|i| (i + 1) % 3).unwrap_or(0);
        env.sims.set_erp_status(k, values[i]);
        expected.push((k.clone(), shop_codes[i]));
    }
    env.sims.shop.post("/_sim/counters/reset", json!({}));
    env.sims.erp.post("/_sim/counters/reset", json!({}));
    let mut spent = 0.0;
    let mut cycles = 0;
    loop {
        let started = Instant::now();
        env.sync_once();
        spent += started.elapsed().as_secs_f64();
        cycles += 1;
        let behind = expected.iter().filter(|(k, s)| env.sims.shop_status(k) != *s).count();
        if behind == 0 || cycles == 5 {
            break;
        }
    }
    report("into IdoSell", &env, expected.len(), spent, cycles);
    drop(env);

    // IdoSell -> enova365
    let env = SyncEnv::new(n, "direction = \"to_erp\"\n", MAPPING);
    env.sync_once();
    let keys = writable(&env, n);
    for k in &keys {
        env.sims.set_erp_status(k, "Niepotwierdzony");
    }
    std::thread::sleep(std::time::Duration::from_millis(1100));
    env.sims.shop.post("/_sim/bulk-status", json!({"from": 1, "to": n, "status": "on_order", "force": true}));
    env.sims.shop.post("/_sim/counters/reset", json!({}));
    env.sims.erp.post("/_sim/counters/reset", json!({}));
    let mut spent = 0.0;
    let mut cycles = 0;
    loop {
        let started = Instant::now();
        env.sync_once();
        spent += started.elapsed().as_secs_f64();
        cycles += 1;
        let behind = keys.iter().filter(|k| env.sims.erp_status(k) != "Potwierdzony").count();
        if behind == 0 || cycles == 5 {
            break;
        }
    }
    report("into enova365", &env, keys.len(), spent, cycles);
}

//! How fast and how cheaply orderlink moves a burst of status changes.
//!
//! 10,000 linked orders (override with `ORDERS=N`); 10,000 `Potwierdzenie` changes in enova365,
//! then `orderlink sync --once` every 200 ms until IdoSell matches: the wall time until then
//! (process starts and plugin loads included), and API requests made to each system against the
//! lower bound (one request per 100 orders per step). The same into the ERP.
//!
//! Then a burst under `orderlink run` (`-- burst` runs only this part): 500 linked orders, one
//! link into the ERP polled every 1 s; the host idles for a while (feed requests per idle link
//! per day, from the simulators' counters), then 500 shop orders change at once; the latency
//! of each from the change to its write recorded as applied (the store's audit trail): p50,
//! p95, max. Twice: with the IdoSell feed's `poll_after_ms` honoured (poll again as soon as the
//! held-back second settles) and ignored (`ORDERLINK_POLL_AFTER=ignore`: the next poll waits
//! for the link's pace).
//!
//! `cargo build --release --workspace && cargo bench -p orderlink-e2e --bench sync_throughput
//! [-- burst]` (the bench runs the release `orderlink`, plugins and simulators beside it).

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use orderlink_e2e::running::Running;
use orderlink_e2e::sync_env::{SyncEnv, MAPPING};
use rand::Rng;
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

/// Now, in ms since the epoch.
fn unix_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Latencies (ms) from `since_ms` to each write into the ERP recorded as applied after it.
fn applied_since(env: &SyncEnv, since_ms: i64) -> Vec<i64> {
    let path = env.dir.path().join("state.sqlite");
    let Ok(db) =
        rusqlite::Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
    else {
        return Vec::new();
    };
    let query = "SELECT CAST((julianday(at) - 2440587.5) * 86400000.0 AS INTEGER) - ?1 FROM audit
         WHERE target = 'erp' AND action LIKE 'applied%'
           AND (julianday(at) - 2440587.5) * 86400000.0 >= ?1";
    let Ok(mut stmt) = db.prepare(query) else {
        return Vec::new();
    };
    stmt.query_map([since_ms], |r| r.get::<_, i64>(0))
        .map(|rows| rows.filter_map(Result::ok).collect())
        .unwrap_or_default()
}

fn percentile(sorted: &[i64], p: f64) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

/// One burst run (see the module doc); `honour`: the feed's `poll_after_ms` followed;
/// `adaptive`: an idle link slows down to its default ceiling (6 x the interval), else it polls
/// at a fixed 1 s.
fn burst(n: usize, idle: Duration, honour: bool, adaptive: bool) {
    let body = if adaptive {
        "direction = \"to_erp\"\n"
    } else {
        "direction = \"to_erp\"\npoll_interval_max = \"1s\"\n"
    };
    let env = SyncEnv::new(n, body, MAPPING);
    let text = std::fs::read_to_string(&env.config).unwrap_or_default();
    std::fs::write(
        &env.config,
        text.replace("poll_interval = \"200ms\"", "poll_interval = \"1s\""),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    env.sync_once();
    let keys = writable(&env, n, false);
    for k in &keys {
        env.sims.set_erp_status(k, "Niepotwierdzony");
    }
    // Every order leaves `on_order` first (to `suspended`, which [to_erp] does not list), and
    // the feed is read past that, so that the burst below changes all of them.
    env.sims.shop.post(
        "/_sim/bulk-status",
        json!({"from": 1, "to": n, "status": "suspended", "force": true}),
    );
    env.settle_shop();
    env.sync_once();
    let mut vars: Vec<(&str, &str)> = SyncEnv::secrets().to_vec();
    if !honour {
        vars.push(("ORDERLINK_POLL_AFTER", "ignore"));
    }
    let level = std::env::var("BURST_LOG").unwrap_or_else(|_| "info".to_owned());
    let mut run = Running::start(env.dir.path(), &env.config, &["--log", &level], &vars);
    run.wait_for_line("link ready");
    // Idle: the pace settles, then the requests of the window are counted.
    std::thread::sleep(Duration::from_secs(10));
    env.sims.shop.post("/_sim/counters/reset", json!({}));
    env.sims.erp.post("/_sim/counters/reset", json!({}));
    let t = Instant::now();
    std::thread::sleep(idle);
    let (shop, erp) = env.sims.request_counts();
    let window = t.elapsed().as_secs_f64();
    let per_day = (shop + erp) as f64 / window * 86_400.0;

    // Bursts at random moments (not in step with the polls or the shop's seconds), every order
    // changing each time (to `on_order`, then `packed`, ...): the latencies of all pooled.
    let bursts: usize = std::env::var("BURSTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let mut lat = Vec::new();
    let mut rng = rand::thread_rng();
    for b in 0..bursts {
        std::thread::sleep(Duration::from_millis(rng.gen_range(1_000..3_000)));
        let status = if b % 2 == 0 { "on_order" } else { "packed" };
        let t0 = unix_ms();
        env.sims.shop.post(
            "/_sim/bulk-status",
            json!({"from": 1, "to": n, "status": status, "force": true}),
        );
        let until = Instant::now() + Duration::from_secs(60);
        let mut this = applied_since(&env, t0);
        while this.len() < keys.len() && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(50));
            this = applied_since(&env, t0);
        }
        lat.extend(this);
    }
    run.stop();
    if std::env::var_os("BURST_LOG").is_some() {
        println!("{}", run.log().join("\n"));
    }
    lat.sort_unstable();
    println!(
        "{bursts} bursts of {} shop changes, poll_interval 1 s {}, poll_after {}: {} applied; change to applied \
         p50 {} ms, p95 {} ms, max {} ms; idle: {per_day:.0} API requests per link per day \
         (IdoSell {shop}, enova365 {erp} in {:.0} s)",
        keys.len(),
        if adaptive { "(idle: up to 6 s)" } else { "(fixed)" },
        if honour { "honoured" } else { "ignored" },
        lat.len(),
        percentile(&lat, 0.5),
        percentile(&lat, 0.95),
        lat.last().copied().unwrap_or(0),
        window,
    );
}

fn main() {
    let idle = Duration::from_secs(
        std::env::var("IDLE_SECS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(30),
    );
    let only_burst = std::env::args().any(|a| a == "burst");
    if !only_burst {
        throughput();
    }
    let only = |v: &str| std::env::var("BURST").map_or(true, |b| b == v);
    for adaptive in [false, true] {
        for honour in [true, false] {
            if !only(&format!("{adaptive},{honour}")) {
                continue;
            }
            burst(500, idle, honour, adaptive);
        }
    }
}

fn throughput() {
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

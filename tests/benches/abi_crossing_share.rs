//! What the plugin ABI costs a real batch: the crossing's share of a batch's wall time against
//! the loopback simulators.
//!
//! 1. The crossing alone, per order: the in-memory connector (`memory-shop`) reads and applies
//!    batches of 100 orders, once linked into this process and called directly, once loaded from
//!    its plugin file and called through the ABI (JSON both ways, ABI strings, panic guard). The
//!    difference is what crossing the ABI costs.
//! 2. A batch against a system: the IdoSell and enova365 connector plugins, loaded from their
//!    files the way the host loads them, read a batch of 100 orders from their simulators over
//!    real HTTP on loopback (the cycle's target read).
//! 3. The share: 100 crossings / one batch's wall time.
//!
//! `cargo build --release -p orderlink-connector-idosell -p orderlink-connector-enova365 \
//!   -p idosell-sim -p enova365-sim -p orderlink-memory-plugin`, then
//! `cargo bench -p orderlink-e2e --bench abi_crossing_share` (the bench uses the release plugins
//! and simulators beside it). It prints its figures; it asserts nothing about time.

use std::hint::black_box;
use std::time::{Duration, Instant};

use orderlink_e2e::sync_env::{SimPair, ERP_PASSWORD, SHOP_KEY};
use orderlink_plugin_api::client::PluginLibrary;
use orderlink_plugin_api::model::{ApplyRequest, OutcomeKind, ReadRequest, StatusUpdate};
use orderlink_plugin_api::sdk::Connector;
use orderlink_plugin_api::testkit::artifacts;
use serde_json::{json, Value};

/// Orders per batch: the host's batch size for both systems.
const BATCH: usize = 100;
/// Batches per measurement of the crossing (in memory: fast).
const MEMORY_RUNS: usize = 2_000;
/// Batches per measurement against a simulator.
const SIM_RUNS: usize = 200;

fn keys() -> Vec<String> {
    (1..=BATCH).map(|k| k.to_string()).collect()
}

/// The median of `runs` timings of `op` (one batch each).
fn median_batch(runs: usize, mut op: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            op();
            start.elapsed()
        })
        .collect();
    times.sort();
    times[runs / 2]
}

fn per_order(batch: Duration) -> f64 {
    batch.as_secs_f64() * 1e6 / BATCH as f64
}

fn load(lib_name: &str) -> PluginLibrary {
    let path = artifacts::cdylib(lib_name);
    PluginLibrary::load(&path).unwrap_or_else(|e| panic!("cannot load {}: {e}", path.display()))
}

fn read_batch(connector: &dyn Connector, request: &ReadRequest) {
    let response = connector
        .read(black_box(request))
        .unwrap_or_else(|e| panic!("read failed: {e}"));
    assert_eq!(response.orders.len(), BATCH, "{:?}", response.missing);
}

/// Apply requests alternating between two statuses, so that every update changes the order.
fn apply_batches() -> [ApplyRequest; 2] {
    let batch = |status: &str| ApplyRequest {
        updates: keys()
            .into_iter()
            .map(|key| StatusUpdate {
                key,
                status: status.to_owned(),
                expected_version: None,
                expected_status: None,
            })
            .collect(),
    };
    [batch("packed"), batch("sent")]
}

/// Per order, in µs: (read in process, read through the ABI, apply in process, apply through
/// the ABI), the memory connector both ways, interleaved.
fn crossing() -> [f64; 4] {
    let orders: Vec<Value> = keys()
        .into_iter()
        .map(|key| json!({ "key": key, "status": "new" }))
        .collect();
    let config = json!({ "orders": orders });
    let direct = orderlink_memory::create(&config)
        .unwrap_or_else(|e| panic!("cannot create the in-process connector: {e}"));
    let library = load("orderlink_memory");
    let remote = library
        .create("memory-shop", &config)
        .unwrap_or_else(|e| panic!("cannot create memory-shop through the ABI: {e}"));
    let read = ReadRequest { keys: keys() };
    let applies = apply_batches();
    let apply = |c: &dyn Connector, n: &mut usize| {
        *n += 1;
        let response = c
            .apply(black_box(&applies[*n % 2]))
            .unwrap_or_else(|e| panic!("apply failed: {e}"));
        assert!(response
            .outcomes
            .iter()
            .all(|o| o.outcome == OutcomeKind::Done && o.changed));
    };
    let (mut n_direct, mut n_remote) = (0, 0);
    // Warm up both, then measure each twice, alternating, and keep the better median.
    for _ in 0..200 {
        read_batch(direct.as_ref(), &read);
        read_batch(&remote, &read);
    }
    let mut best = [f64::MAX; 4];
    for _ in 0..2 {
        let figures = [
            per_order(median_batch(MEMORY_RUNS, || {
                read_batch(direct.as_ref(), &read)
            })),
            per_order(median_batch(MEMORY_RUNS, || read_batch(&remote, &read))),
            per_order(median_batch(MEMORY_RUNS, || {
                apply(direct.as_ref(), &mut n_direct)
            })),
            per_order(median_batch(MEMORY_RUNS, || apply(&remote, &mut n_remote))),
        ];
        for (b, f) in best.iter_mut().zip(figures) {
            *b = b.min(f);
        }
    }
    best
}

/// Milliseconds per batch of 100 orders read through the loaded plugin from its simulator.
fn simulator_batch(library: &PluginLibrary, connector: &str, config: Value) -> f64 {
    let remote = library
        .create(connector, &config)
        .unwrap_or_else(|e| panic!("cannot create {connector}: {e}"));
    let read = ReadRequest { keys: keys() };
    for _ in 0..10 {
        read_batch(&remote, &read);
    }
    median_batch(SIM_RUNS, || read_batch(&remote, &read)).as_secs_f64() * 1e3
}

fn main() {
    let [read_direct, read_abi, apply_direct, apply_abi] = crossing();
    let read_crossing = read_abi - read_direct;
    let apply_crossing = apply_abi - apply_direct;
    println!("the ABI crossing, memory connector, batches of {BATCH} (median of {MEMORY_RUNS}):");
    println!(
        "{:<8} {:>16} {:>16} {:>16}",
        "call", "in process", "through the ABI", "crossing"
    );
    for (call, direct, abi, cross) in [
        ("read", read_direct, read_abi, read_crossing),
        ("apply", apply_direct, apply_abi, apply_crossing),
    ] {
        println!(
            "{call:<8} {:>13.3} µs {:>13.3} µs {:>13.3} µs   per order",
            direct, abi, cross
        );
    }

    let sims = SimPair::start(1_000, 7);
    let idosell = load("orderlink_idosell");
    let enova = load("orderlink_enova365");
    let shop_ms = simulator_batch(
        &idosell,
        "idosell",
        json!({
            "url": sims.shop.url,
            "api_key": SHOP_KEY,
            "api_version": 6,
            "requests_per_second": 1000,
        }),
    );
    let erp_ms = simulator_batch(
        &enova,
        "enova365",
        json!({
            "url": sims.erp.url,
            "application_token": ERP_PASSWORD,
            "operator": "Administrator",
        }),
    );
    println!(
        "\na batch of {BATCH} orders read from a loopback simulator through the loaded plugin \
         (median of {SIM_RUNS}), and the crossing's share of it:"
    );
    let crossing_ms = read_crossing * BATCH as f64 / 1e3;
    for (system, ms) in [("IdoSell", shop_ms), ("enova365", erp_ms)] {
        println!(
            "{system:<9} {ms:>8.3} ms per batch; crossing {crossing_ms:.3} ms = {:.2} % of it",
            crossing_ms / ms * 100.0
        );
    }
}

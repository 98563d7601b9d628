//! What crossing the plugin ABI costs: the same connector (the in-memory `memory-shop`) applied
//! and read in batches of 100 orders, once linked into this process and called directly, once
//! loaded from its plugin file and called through the ABI (JSON encoding, ABI strings, panic
//! guard), the way the host calls every connector.
//!
//! `cargo bench -p orderlink --bench abi_crossing` builds the plugin file with the bench profile
//! alongside; the summary at the end gives the time per order both ways and their ratio.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput};
use orderlink_plugin_api::client::PluginLibrary;
use orderlink_plugin_api::model::{ApplyRequest, OutcomeKind, ReadRequest, StatusUpdate};
use orderlink_plugin_api::sdk::Connector;
use orderlink_plugin_api::testkit::artifacts;
use serde_json::json;

/// Orders per batch: the host's batch size for both systems.
const BATCH: usize = 100;

fn keys() -> Vec<String> {
    (1..=BATCH).map(|k| format!("{k:06}")).collect()
}

fn config() -> serde_json::Value {
    let orders: Vec<_> = keys()
        .into_iter()
        .map(|key| json!({ "key": key, "status": "new" }))
        .collect();
    json!({ "orders": orders })
}

/// One way of calling the connector, with its own batches.
struct Subject {
    name: &'static str,
    connector: Box<dyn Connector>,
    batches: Batches,
}

/// The two ways of calling the same connector.
fn subjects() -> Vec<Subject> {
    let in_process = orderlink_memory::create(&config())
        .unwrap_or_else(|e| panic!("cannot create the in-process connector: {e}"));
    let path = artifacts::cdylib("orderlink_memory");
    let library = PluginLibrary::load(&path)
        .unwrap_or_else(|e| panic!("cannot load {}: {e}", path.display()));
    let through_abi = library
        .create("memory-shop", &config())
        .unwrap_or_else(|e| panic!("cannot create memory-shop through the ABI: {e}"));
    vec![
        Subject {
            name: "in_process",
            connector: in_process,
            batches: Batches::new(),
        },
        Subject {
            name: "through_abi",
            connector: Box::new(through_abi),
            batches: Batches::new(),
        },
    ]
}

/// Applies one batch, alternating between two statuses so that every update changes the order.
struct Batches {
    requests: [ApplyRequest; 2],
    next: usize,
}

impl Batches {
    fn new() -> Self {
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
        Batches {
            requests: [batch("packed"), batch("sent")],
            next: 0,
        }
    }

    fn apply(&mut self, connector: &dyn Connector) {
        let request = &self.requests[self.next];
        self.next = 1 - self.next;
        let response = connector
            .apply(black_box(request))
            .unwrap_or_else(|e| panic!("apply failed: {e}"));
        assert!(response
            .outcomes
            .iter()
            .all(|o| o.outcome == OutcomeKind::Done && o.changed));
    }
}

fn read(connector: &dyn Connector, request: &ReadRequest) {
    let response = connector
        .read(black_box(request))
        .unwrap_or_else(|e| panic!("read failed: {e}"));
    assert_eq!(response.orders.len(), BATCH);
}

fn bench(c: &mut Criterion, subjects: &mut [Subject]) {
    let read_request = ReadRequest { keys: keys() };
    let mut group = c.benchmark_group("apply_100");
    group.throughput(Throughput::Elements(BATCH as u64));
    for s in subjects.iter_mut() {
        let (connector, batches) = (s.connector.as_ref(), &mut s.batches);
        group.bench_function(BenchmarkId::from_parameter(s.name), |b| {
            b.iter(|| batches.apply(connector))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("read_100");
    group.throughput(Throughput::Elements(BATCH as u64));
    for s in subjects.iter() {
        group.bench_function(BenchmarkId::from_parameter(s.name), |b| {
            b.iter(|| read(s.connector.as_ref(), &read_request))
        });
    }
    group.finish();
}

/// Mean time per order of `runs` batches of `op`.
fn per_order(runs: u32, mut op: impl FnMut()) -> Duration {
    let start = Instant::now();
    for _ in 0..runs {
        op();
    }
    start.elapsed() / (runs * BATCH as u32)
}

/// One line per call: time per order in-process, through the ABI, and the ratio.
fn summary(subjects: &mut [Subject]) {
    const RUNS: u32 = 300;
    let read_request = ReadRequest { keys: keys() };
    println!("\nper order, batches of {BATCH} ({RUNS} batches each):");
    println!(
        "{:<8} {:>14} {:>14} {:>8}",
        "call", "in-process", "through ABI", "ratio"
    );
    type Op = fn(&mut Subject, &ReadRequest);
    let ops: [(&str, Op); 2] = [
        ("apply", |s, _| s.batches.apply(s.connector.as_ref())),
        ("read", |s, r| read(s.connector.as_ref(), r)),
    ];
    for (label, op) in ops {
        let times: Vec<Duration> = subjects
            .iter_mut()
            .map(|s| per_order(RUNS, || op(s, &read_request)))
            .collect();
        let (direct, abi) = (times[0], times[1]);
        println!(
            "{label:<8} {:>14} {:>14} {:>7.2}x",
            format!("{direct:.2?}"),
            format!("{abi:.2?}"),
            abi.as_secs_f64() / direct.as_secs_f64()
        );
    }
}

fn main() {
    let mut subjects = subjects();
    let mut criterion = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30)
        .configure_from_args();
    bench(&mut criterion, &mut subjects);
    criterion.final_summary();
    summary(&mut subjects);
}

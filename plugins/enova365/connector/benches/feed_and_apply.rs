//! Requests and wall time for bulk work against the simulator on loopback: the change feed of
//! 10,000 changed ZOs, 10,000 `Potwierdzenie` writes (with and without versions), reads by key.
//! The lower bound is one request per 100 documents.
//!
//! `cargo bench -p orderlink-connector-enova365 --bench feed_and_apply`

use std::time::Instant;

use enova365_sim::seed::{seed, SeedRequest};
use enova365_sim::{BackgroundSim, Credentials, SimOptions};
use orderlink_plugin_api::model::{
    ApplyRequest, ChangesRequest, OrderState, OutcomeKind, ReadRequest, StatusUpdate,
};
use orderlink_plugin_api::sdk::export::create_connector;
use orderlink_plugin_api::sdk::Connector;
use serde_json::json;

const DOCUMENTS: usize = 10_000;
const BATCH: usize = 100;

struct Phase<'a> {
    c: &'a dyn Connector,
    sim: &'a BackgroundSim,
}

impl Phase<'_> {
    fn requests(&self) -> u64 {
        self.sim.state.counters.snapshot().total
    }

    fn run<T>(&self, name: &str, docs: usize, f: impl FnOnce() -> T) -> T {
        let before = self.requests();
        let started = Instant::now();
        let out = f();
        let elapsed = started.elapsed();
        let used = self.requests() - before;
        let bound = docs.div_ceil(BATCH);
        println!(
            "{name:<44} {docs:>6} docs  {used:>5} requests (lower bound {bound:>3})  {:>8.1} ms  {:>8.0} docs/s",
            elapsed.as_secs_f64() * 1000.0,
            docs as f64 / elapsed.as_secs_f64().max(1e-9)
        );
        out
    }

    fn drain(&self, mut cursor: Option<String>) -> (Vec<OrderState>, String) {
        let mut orders = Vec::new();
        loop {
            let page = self
                .c
                .changes(&ChangesRequest {
                    cursor: cursor.clone(),
                    limit: BATCH as u32,
                })
                .unwrap_or_else(|e| panic!("changes: {e}"));
            orders.extend(page.orders);
            cursor = Some(page.next_cursor.clone());
            if !page.has_more {
                return (orders, page.next_cursor);
            }
        }
    }

    fn apply(&self, updates: Vec<StatusUpdate>) -> (usize, usize) {
        let (mut done, mut refused) = (0, 0);
        for batch in updates.chunks(BATCH) {
            let r = self
                .c
                .apply(&ApplyRequest {
                    updates: batch.to_vec(),
                })
                .unwrap_or_else(|e| panic!("apply: {e}"));
            for o in r.outcomes {
                if o.outcome == OutcomeKind::Done {
                    done += 1;
                } else {
                    refused += 1;
                }
            }
        }
        (done, refused)
    }
}

fn next_status(s: &str) -> &'static str {
    match s {
        "Niepotwierdzony" => "Potwierdzony",
        "Potwierdzony" => "Zaakceptowany",
        _ => "Niepotwierdzony",
    }
}

fn main() {
    let credentials = Credentials {
        database: "Firma".into(),
        operator: "Administrator".into(),
        password: "bench-password".into(),
    };
    let sim = BackgroundSim::start(SimOptions {
        credentials: credentials.clone(),
        ..SimOptions::default()
    })
    .unwrap_or_else(|e| panic!("cannot start the simulator: {e}"));
    {
        let mut store = sim
            .state
            .store
            .lock()
            .unwrap_or_else(|_| panic!("store poisoned"));
        seed(
            &mut store,
            &SeedRequest {
                seed: 1,
                count: DOCUMENTS,
                link_obcy_numer: true,
            },
        )
        .unwrap_or_else(|e| panic!("seed: {e}"));
    }
    let config = json!({
        "url": sim.url(),
        "database": credentials.database,
        "operator": credentials.operator,
        "password": credentials.password,
    });
    let connector = create_connector(orderlink_enova365::CONNECTOR, &config)
        .unwrap_or_else(|e| panic!("create: {e}"));
    let p = Phase {
        c: connector.as_ref(),
        sim: &sim,
    };
    println!(
        "enova365 connector against enova365-sim on loopback, {DOCUMENTS} ZOs, batches of {BATCH}"
    );

    let (orders, cursor) = p.run("change feed: 10,000 changed documents", DOCUMENTS, || {
        p.drain(None)
    });
    assert_eq!(orders.len(), DOCUMENTS);

    let with_versions: Vec<StatusUpdate> = orders
        .iter()
        .map(|o| StatusUpdate {
            key: o.key.clone(),
            status: next_status(&o.status).into(),
            expected_version: o.version.clone(),
            expected_status: None,
        })
        .collect();
    let (done, refused) = p.run("apply with versions (1 write / 100)", DOCUMENTS, || {
        p.apply(with_versions)
    });
    println!("    {done} done, {refused} refused (cancelled or locked ZOs)");

    let (changed, _) = p.run("change feed: documents changed by the apply", done, || {
        p.drain(Some(cursor))
    });
    assert_eq!(changed.len(), done);

    let without_versions: Vec<StatusUpdate> = changed
        .iter()
        .map(|o| StatusUpdate {
            key: o.key.clone(),
            status: next_status(&o.status).into(),
            expected_version: None,
            expected_status: None,
        })
        .collect();
    let n = without_versions.len();
    let (done, _) = p.run("apply without versions (read + write / 100)", n, || {
        p.apply(without_versions)
    });
    println!("    {done} done");

    let keys: Vec<String> = orders.iter().map(|o| o.key.clone()).collect();
    let found = p.run("read by key", DOCUMENTS, || {
        p.c.read(&ReadRequest { keys })
            .unwrap_or_else(|e| panic!("read: {e}"))
            .orders
            .len()
    });
    assert_eq!(found, DOCUMENTS);

    let usage = p.c.api_usage();
    println!(
        "connector api_usage: {} requests {:?}; simulator counted {}",
        usage.requests,
        usage.by_endpoint,
        p.requests()
    );
}

//! Requests and wall time for bulk work against the simulator on loopback (Dynamic WebAPI):
//! the change feed of 10,000 changed ZOs, an idle feed cycle, 10,000 compare-and-set
//! `Potwierdzenie` writes, the feed after them with and without `PominOperatora`, 10,000 changes
//! by ERP users, the listing of unfulfilled orders, reads by key. The lower bound is one request
//! per 100 documents (one per cycle when idle); the one `LoginApi` request is counted too.
//!
//! `cargo bench -p orderlink-connector-enova365 --bench feed_and_apply`

use std::time::Instant;

use enova365_sim::model::Potwierdzenie;
use enova365_sim::seed::{seed, SeedRequest};
use enova365_sim::store::USER;
use enova365_sim::{BackgroundSim, Credentials, SimOptions};
use orderlink_plugin_api::model::{
    ApplyRequest, ChangesRequest, ListRequest, OrderState, OutcomeKind, ReadRequest, StatusUpdate,
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
        let bound = docs.div_ceil(BATCH).max(1);
        println!(
            "{name:<56} {docs:>6} docs  {used:>5} requests (lower bound {bound:>3})  {:>8.1} ms  {:>8.0} docs/s",
            elapsed.as_secs_f64() * 1000.0,
            docs as f64 / elapsed.as_secs_f64().max(1e-9)
        );
        out
    }

    fn drain(&self, cursor: Option<String>) -> (Vec<OrderState>, String) {
        drain(self.c, cursor)
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

fn drain(c: &dyn Connector, mut cursor: Option<String>) -> (Vec<OrderState>, String) {
    let mut orders = Vec::new();
    loop {
        let page = c
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
        operator: "orderlink".into(),
        password: "bench-password".into(),
    };
    let sim = BackgroundSim::start(SimOptions {
        credentials: credentials.clone(),
        app_token: "bench-app-token".into(),
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
        "application_token": "bench-app-token",
        "operator": credentials.operator,
    });
    let connector = create_connector(orderlink_enova365::CONNECTOR, &config)
        .unwrap_or_else(|e| panic!("create: {e}"));
    let mut echoes = config.clone();
    echoes["skip_own_writes"] = json!(false);
    let with_echoes = create_connector(orderlink_enova365::CONNECTOR, &echoes)
        .unwrap_or_else(|e| panic!("create: {e}"));
    let p = Phase {
        c: connector.as_ref(),
        sim: &sim,
    };
    println!(
        "enova365 connector (Dynamic WebAPI) against enova365-sim on loopback, {DOCUMENTS} ZOs, \
         batches of {BATCH}"
    );

    let (orders, cursor) = p.run("change feed: 10,000 changed documents", DOCUMENTS, || {
        p.drain(None)
    });
    assert_eq!(orders.len(), DOCUMENTS);
    let (idle, cursor) = p.run("change feed: one idle cycle", 0, || p.drain(Some(cursor)));
    assert!(idle.is_empty());

    let updates: Vec<StatusUpdate> = orders
        .iter()
        .map(|o| StatusUpdate {
            key: o.key.clone(),
            status: next_status(&o.status).into(),
            expected_version: None,
            expected_status: Some(o.status.clone()),
        })
        .collect();
    let (done, refused) = p.run("apply, compare-and-set (1 write / 100)", DOCUMENTS, || {
        p.apply(updates)
    });
    println!("    {done} done, {refused} refused (cancelled or locked ZOs)");

    let (echo, _) = p.run(
        "feed after the apply, echoes counted (no PominOperatora)",
        done,
        || drain(with_echoes.as_ref(), Some(cursor.clone())),
    );
    println!("    {} own writes read back", echo.len());
    let (own, cursor) = p.run("feed after the apply with PominOperatora", 0, || {
        p.drain(Some(cursor))
    });
    assert!(own.is_empty(), "{} own writes came back", own.len());

    let user_changes = {
        let mut store = sim
            .state
            .store
            .lock()
            .unwrap_or_else(|_| panic!("store poisoned"));
        let mut n = 0;
        for id in 1001..1001 + DOCUMENTS as u64 {
            let value = match store.get(id).map(|d| d.potwierdzenie) {
                Some(Potwierdzenie::Odrzucony) => Potwierdzenie::Niepotwierdzony,
                _ => Potwierdzenie::Odrzucony,
            };
            if store.set_potwierdzenie(id, value, USER) == Ok(true) {
                n += 1;
            }
        }
        n
    };
    let (changed, _) = p.run("change feed: changes by ERP users", user_changes, || {
        p.drain(Some(cursor))
    });
    assert_eq!(changed.len(), user_changes);

    let listed = p.run("listing: unfulfilled orders", DOCUMENTS, || {
        let mut request = ListRequest {
            limit: BATCH as u32,
            unfulfilled_only: true,
            ..ListRequest::default()
        };
        let mut n = 0;
        loop {
            let page = p.c.list(&request).unwrap_or_else(|e| panic!("list: {e}"));
            n += page.orders.len();
            match page.next_cursor {
                Some(c) => request.cursor = Some(c),
                None => return n,
            }
        }
    });
    println!("    {listed} unfulfilled");

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

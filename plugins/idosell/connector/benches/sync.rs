//! Requests used and wall time of the `idosell` connector against the simulator (in-process,
//! on loopback): reading the changes of 10,000 modified orders and applying 10,000 status
//! changes, against the lower bound of one request per 100 orders.
//!
//! Run with `cargo bench -p orderlink-connector-idosell --bench sync`.

use std::time::{Duration, Instant};

use idosell_sim::harness::Control;
use idosell_sim::{BackgroundSim, SimConfig};
use orderlink_plugin_api::model::{
    ApplyRequest, ChangesRequest, OutcomeKind, ReadRequest, StatusUpdate,
};
use orderlink_plugin_api::sdk::Connector;
use serde_json::json;

const ORDERS: u64 = 10_000;
const KEY: &str = "bench-key";

type Error = Box<dyn std::error::Error>;

fn requests(c: &dyn Connector) -> u64 {
    c.api_usage().requests
}

/// Reads the feed from `cursor` to its end; returns the next cursor and how many orders came.
fn drain(c: &dyn Connector, cursor: Option<String>) -> Result<(String, u64), Error> {
    let mut cursor = cursor;
    let mut n = 0;
    loop {
        let page = c.changes(&ChangesRequest {
            cursor: cursor.clone(),
            limit: 100,
        })?;
        n += page.orders.len() as u64;
        cursor = Some(page.next_cursor);
        if !page.has_more {
            return Ok((cursor.unwrap_or_default(), n));
        }
    }
}

fn report(what: &str, orders: u64, requests: u64, took: Duration) {
    let bound = orders.div_ceil(100);
    println!(
        "{what:<58} {orders:>6} orders  {requests:>4} requests (lower bound {bound:>3}, {:>5.2}x)  {:>8.1} ms  {:>7.0} orders/s",
        requests as f64 / bound as f64,
        took.as_secs_f64() * 1e3,
        orders as f64 / took.as_secs_f64()
    );
}

fn settle() {
    // The feed reads a second once the shop's clock is two seconds past it.
    std::thread::sleep(Duration::from_millis(3_100));
}

fn main() -> Result<(), Error> {
    let sim = BackgroundSim::start(SimConfig {
        api_key: KEY.into(),
        orders: ORDERS,
        seed: 1,
        ..SimConfig::default()
    })?;
    let control = Control::new(&sim.url());
    let c = orderlink_idosell::create(&json!({
        "url": sim.url(),
        "api_key": KEY,
        "requests_per_second": 1000,
        "initial_lookback_hours": 96
    }))?;
    c.check()?;
    // The newest seeded change is handed over once its second has settled.
    settle();

    // 1. The seeded orders' changes, spread over 20 hours.
    let before = requests(c.as_ref());
    let started = Instant::now();
    let (cursor, n) = drain(c.as_ref(), None)?;
    report(
        "changes: 10,000 orders changed over 20 hours",
        n,
        requests(c.as_ref()) - before,
        started.elapsed(),
    );
    assert_eq!(n, ORDERS);

    // 2. Apply 10,000 status changes, 100 per call (the host's batch size).
    let before = requests(c.as_ref());
    let started = Instant::now();
    let mut done = 0;
    for chunk in (1..=ORDERS).collect::<Vec<_>>().chunks(100) {
        let updates = chunk
            .iter()
            .map(|n| StatusUpdate {
                key: n.to_string(),
                status: "lost".into(),
                expected_version: None,
                expected_status: None,
            })
            .collect();
        let r = c.apply(&ApplyRequest { updates })?;
        done += r
            .outcomes
            .iter()
            .filter(|o| o.outcome == OutcomeKind::Done)
            .count() as u64;
    }
    report(
        "apply: 10,000 status changes",
        done,
        requests(c.as_ref()) - before,
        started.elapsed(),
    );
    assert_eq!(done, ORDERS);

    // 3. Read the changes those writes made (thousands per second, same-second bursts).
    settle();
    let before = requests(c.as_ref());
    let started = Instant::now();
    let (cursor, n) = drain(c.as_ref(), Some(cursor))?;
    report(
        "changes: the 10,000 orders the apply changed",
        n,
        requests(c.as_ref()) - before,
        started.elapsed(),
    );
    assert_eq!(n, ORDERS);

    // 4. An operator changes all 10,000 in one second; read them.
    control.post(
        "/_sim/bulk-status",
        &json!({ "from": 1, "to": ORDERS, "status": "missing", "force": true }),
    )?;
    settle();
    let before = requests(c.as_ref());
    let started = Instant::now();
    let (_, n) = drain(c.as_ref(), Some(cursor))?;
    report(
        "changes: 10,000 orders changed in the same second",
        n,
        requests(c.as_ref()) - before,
        started.elapsed(),
    );
    assert_eq!(n, ORDERS);

    // 5. Read 10,000 orders by key.
    let before = requests(c.as_ref());
    let started = Instant::now();
    let keys: Vec<String> = (1..=ORDERS).map(|n| n.to_string()).collect();
    let mut found = 0;
    for chunk in keys.chunks(100) {
        found += c
            .read(&ReadRequest {
                keys: chunk.to_vec(),
            })?
            .orders
            .len() as u64;
    }
    report(
        "read: 10,000 orders by key",
        found,
        requests(c.as_ref()) - before,
        started.elapsed(),
    );

    // 6. Bytes of a page of 100 full orders, and parsing it: only the fields the connector
    //    reads (its wire types) against the whole body as a JSON tree.
    let body = ureq::post(&format!("{}/api/admin/v6/orders/orders/search", sim.url()))
        .set("X-API-KEY", KEY)
        .send_json(json!({ "params": { "resultsLimit": 100 } }))?
        .into_string()?;
    let rounds = 50;
    let started = Instant::now();
    for _ in 0..rounds {
        let a: orderlink_idosell::wire::OrdersAnswer = serde_json::from_str(&body)?;
        assert_eq!(a.results.len(), 100);
    }
    let typed = started.elapsed() / rounds;
    let started = Instant::now();
    for _ in 0..rounds {
        let v: serde_json::Value = serde_json::from_str(&body)?;
        assert!(v["Results"].is_array());
    }
    let tree = started.elapsed() / rounds;
    println!(
        "a search page of 100 orders: {} bytes; parse only what the connector reads {:.2} ms, the whole tree {:.2} ms",
        body.len(),
        typed.as_secs_f64() * 1e3,
        tree.as_secs_f64() * 1e3
    );

    let usage = c.api_usage();
    println!("requests by endpoint: {:?}", usage.by_endpoint);
    println!("simulator counters:   {:?}", control.counters()?);
    Ok(())
}

//! How fast the simulator answers search pages over 100,000 orders, over loopback HTTP and
//! in-process. Run with `cargo bench -p idosell-sim --bench search`.

use std::time::{Duration, Instant};

use idosell_sim::shop::{DateFilter, DateKind, Query, Shop, SortKey};
use idosell_sim::{clock, BackgroundSim, SimConfig};
use serde_json::{json, Value};

const ORDERS: u64 = 100_000;
const ROUNDS: usize = 200;

fn summary(name: &str, mut times: Vec<Duration>) {
    times.sort();
    let pick = |q: f64| times[((times.len() - 1) as f64 * q) as usize];
    println!(
        "{name:<48} median {:>8.3} ms   p95 {:>8.3} ms   max {:>8.3} ms",
        pick(0.5).as_secs_f64() * 1e3,
        pick(0.95).as_secs_f64() * 1e3,
        pick(1.0).as_secs_f64() * 1e3
    );
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let now = clock::now();
    let cases: Vec<(&str, Value)> = vec![
        (
            "page 500 of all orders by serial",
            json!({ "resultsPage": 500, "resultsLimit": 100 }),
        ),
        (
            "modified in the last day, sorted, page 0",
            json!({
                "ordersRange": { "ordersDateRange": { "ordersDateType": "modified",
                    "ordersDateBegin": clock::format(now - 86_400) } },
                "ordersBy": [{ "elementName": "modification_time", "sortDirection": "ASC" },
                             { "elementName": "id", "sortDirection": "ASC" }],
                "resultsLimit": 100
            }),
        ),
        (
            "modified in the last day, by serial, page 100",
            json!({
                "ordersRange": { "ordersDateRange": { "ordersDateType": "modified",
                    "ordersDateBegin": clock::format(now - 86_400) } },
                "resultsPage": 100, "resultsLimit": 100
            }),
        ),
        (
            "status packed, page 0",
            json!({ "ordersStatuses": ["packed"], "resultsLimit": 100 }),
        ),
    ];

    let sim = BackgroundSim::start(SimConfig {
        api_key: "bench".into(),
        orders: ORDERS,
        ..SimConfig::default()
    })?;
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(30))
        .build();
    let url = format!("{}/api/admin/v6/orders/orders/search", sim.url());
    println!("search over {ORDERS} orders, {ROUNDS} requests each, loopback HTTP:");
    for (name, params) in &cases {
        let mut times = Vec::with_capacity(ROUNDS);
        for _ in 0..ROUNDS {
            let started = Instant::now();
            let body: Value = agent
                .post(&url)
                .set("X-API-KEY", "bench")
                .send_json(json!({ "params": params }))?
                .into_json()?;
            times.push(started.elapsed());
            assert!(body["Results"].is_array(), "{body}");
        }
        summary(name, times);
    }

    let mut shop = Shop::new("shop1");
    shop.seed(1, ORDERS, "shop1", now);
    let queries = [
        (
            "in-process: page 500 by serial",
            Query {
                page: 500,
                limit: 100,
                ..Query::default()
            },
        ),
        (
            "in-process: modified last day, sorted",
            Query {
                dates: Some(DateFilter {
                    kind: DateKind::Modified,
                    begin: Some(now - 86_400),
                    end: None,
                }),
                order_by: vec![(SortKey::Modified, false), (SortKey::Serial, false)],
                limit: 100,
                ..Query::default()
            },
        ),
        (
            "in-process: modified last day, by serial",
            Query {
                dates: Some(DateFilter {
                    kind: DateKind::Modified,
                    begin: Some(now - 86_400),
                    end: None,
                }),
                limit: 100,
                ..Query::default()
            },
        ),
    ];
    println!("in-process Shop::search:");
    for (name, q) in &queries {
        let mut times = Vec::with_capacity(ROUNDS);
        for _ in 0..ROUNDS {
            let started = Instant::now();
            let page = shop.search(q);
            times.push(started.elapsed());
            assert_eq!(page.serials.len(), 100);
        }
        summary(name, times);
    }
    Ok(())
}

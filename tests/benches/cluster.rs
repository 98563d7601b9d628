//! Several hosts sharing links through PostgreSQL, against one host on a store file, over the
//! simulators (one pair per link). Prints: how long the hosts take to share the links, a
//! burst of ERP changes applied (writes per second per host), PostgreSQL statements (round
//! trips, counted by `pg_stat_statements`) per cycle, the takeover time after `kill -9` of one
//! host, and the same burst on one host with a store file.
//!
//! `cargo bench -p orderlink-e2e --bench cluster` (300 links; `ORDERLINK_BENCH_LINKS=N` for
//! another count). Needs Debian's `postgresql`.

use std::time::{Duration, Instant};

use orderlink_e2e::cluster::{Cluster, ClusterOptions};

const ORDERS: usize = 40;
/// Changes per link in one burst.
const PER_LINK: usize = 4;
const LEASE: &str = "10s";

/// Per link, [`PER_LINK`] open orders whose shop status the mapping writes and that are not
/// `packed` in the shop yet.
fn burst_orders(c: &Cluster) -> Vec<(usize, String)> {
    c.pairs
        .iter()
        .enumerate()
        .flat_map(|(i, p)| {
            p.open_keys(ORDERS)
                .into_iter()
                .filter(|k| ["new", "on_order"].contains(&p.shop_status(k).as_str()))
                .take(PER_LINK)
                .map(move |k| (i, k))
        })
        .collect()
}

/// Sets every order's ERP status to `Zaakceptowany` and waits until the shops say `packed`;
/// returns the time.
fn burst(c: &Cluster, orders: &[(usize, String)]) -> Duration {
    let start = Instant::now();
    for (i, k) in orders {
        c.pairs[*i].set_erp_status(k, "Zaakceptowany");
    }
    loop {
        let left = orders
            .iter()
            .filter(|(i, k)| c.pairs[*i].shop_status(k) != "packed")
            .count();
        if left == 0 {
            return start.elapsed();
        }
        if start.elapsed() > Duration::from_secs(600) {
            panic!(
                "{left} of {} changes not applied after 10 min",
                orders.len()
            );
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Cycles a cleanly stopped host reported in its last line.
fn cycles_of(log: &str) -> u64 {
    log.lines()
        .rev()
        .find_map(|l| {
            let i = l.find("stopped after ")?;
            l[i + 14..].split_whitespace().next()?.parse().ok()
        })
        .unwrap_or(0)
}

fn statements(c: &Cluster) -> u64 {
    c.sql("SELECT COALESCE(SUM(calls), 0)::bigint FROM pg_stat_statements WHERE query NOT LIKE '%pg_stat_statements%'")
        .first()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn main() {
    let links: usize = std::env::var("ORDERLINK_BENCH_LINKS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    println!("cluster bench: {links} links over {links} simulator pairs, lease {LEASE}, poll 1s");
    let started = Instant::now();
    let mut c = Cluster::start_with(&ClusterOptions {
        links,
        orders: ORDERS,
        direction: "to_shop",
        lease: LEASE,
        poll: "1s",
        pg_options: "-c shared_preload_libraries=pg_stat_statements",
    });
    println!(
        "  simulators and PostgreSQL up in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    for _ in 0..3 {
        c.start_host();
    }
    let shared = c.wait_balanced(3, Duration::from_secs(600));
    println!(
        "  3 hosts hold {links} links evenly after {:.1} s",
        shared.as_secs_f64()
    );
    // Let the first syncs finish before measuring.
    std::thread::sleep(Duration::from_secs(5));
    c.sql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
    c.sql("SELECT pg_stat_statements_reset()");
    let per_host: Vec<Vec<String>> = (0..3)
        .map(|i| c.held_by(i).into_iter().map(|(l, _)| l).collect())
        .collect();
    let orders = burst_orders(&c);
    let took = burst(&c, &orders);
    let total = orders.len() as f64 / took.as_secs_f64();
    println!(
        "  burst: {} changes applied in {:.2} s: {:.0} writes/s in all",
        orders.len(),
        took.as_secs_f64(),
        total
    );
    for (i, held) in per_host.iter().enumerate() {
        let mine = orders
            .iter()
            .filter(|(l, _)| held.contains(&format!("l{l}")))
            .count();
        println!(
            "    host {i}: {} links, {mine} writes: {:.0} writes/s",
            held.len(),
            mine as f64 / took.as_secs_f64()
        );
    }
    std::thread::sleep(Duration::from_secs(10));
    let calls = statements(&c);
    let mut cycles = 0;
    for i in 0..3 {
        c.stop(i);
        cycles += cycles_of(&c.log(i));
    }
    println!(
        "  PostgreSQL: {calls} statements over {cycles} cycles (the burst and 10 s idle, leases included): {:.2} per cycle",
        calls as f64 / cycles.max(1) as f64
    );

    // Takeover: three hosts again, then kill -9 one.
    for _ in 0..3 {
        c.start_host();
    }
    c.wait_balanced(3, Duration::from_secs(600));
    c.kill(3);
    let killed_at = Instant::now();
    c.wait_balanced(2, Duration::from_secs(600));
    println!(
        "  kill -9 of one host: its links run elsewhere after {:.1} s (lease {LEASE})",
        killed_at.elapsed().as_secs_f64()
    );
    let orders = burst_orders(&c);
    let two = burst(&c, &orders);
    println!(
        "  burst on 2 hosts: {} changes in {:.2} s: {:.0} writes/s",
        orders.len(),
        two.as_secs_f64(),
        orders.len() as f64 / two.as_secs_f64()
    );
    c.stop(4);
    c.stop(5);

    // One host, store file.
    let single = c.single_host_config();
    let h = c.start_host_with(&single);
    // As long as the hosts ran before their first burst.
    std::thread::sleep(Duration::from_secs(5));
    let orders = burst_orders(&c);
    let one = burst(&c, &orders);
    println!(
        "  burst on 1 host with a store file: {} changes in {:.2} s: {:.0} writes/s",
        orders.len(),
        one.as_secs_f64(),
        orders.len() as f64 / one.as_secs_f64()
    );
    c.stop(h);
}

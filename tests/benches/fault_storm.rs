//! The fault storm at full size: thousands of linked orders, both simulators faulted at about
//! 10 % (5xx, 429, slow past the timeout, dropped connections, malformed bodies, per-order
//! failures), all three directions, changes made while `orderlink run` keeps the link. Prints,
//! per direction: changes, faults expected, requests until settled against the lower bound, time
//! to settle, and orders wrong or lost (must be 0).
//!
//! `cargo bench -p orderlink-e2e --bench fault_storm` (after `cargo build --workspace`);
//! `STORM_ORDERS` (default 5000) and `STORM_CHANGES` (default 3000) size it.

use std::time::Duration;

use orderlink_e2e::storm::{Flow, Storm};

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs this too: keep that quick.
    let quick = !std::env::args().any(|a| a == "--bench");
    let orders = env_number("STORM_ORDERS", if quick { 200 } else { 5000 });
    let changes = env_number("STORM_CHANGES", if quick { 40 } else { 3000 });
    let rounds = 10;
    let mut failed = false;
    for (flow, seed) in [(Flow::ToShop, 1), (Flow::ToErp, 2), (Flow::Both, 3)] {
        let storm = Storm {
            orders,
            flow,
            fault_rate: 0.1,
            rounds,
            changes_per_round: changes.div_ceil(rounds),
            round_gap: Duration::from_millis(1000),
            tail: Duration::from_secs(10),
            settle_timeout: Duration::from_secs(600),
            seed,
        };
        let report = storm.run();
        println!("{}", report.figures(flow));
        for line in report.wrong.iter().take(10) {
            println!("  wrong: {line}");
        }
        failed |= !report.wrong.is_empty() || report.settle.is_none();
    }
    if failed {
        std::process::exit(1);
    }
}

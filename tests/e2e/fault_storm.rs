//! The fault storm, small: both simulators faulted at about 10 % while `orderlink run` keeps a
//! link and statuses keep changing; once the faults stop, every changed order corresponds under
//! the mapping with its latest change kept, or its history explains why not. One test per
//! direction. The full-size storm is the `fault_storm` benchmark.

use std::time::Duration;

use orderlink_e2e::storm::{Flow, Storm};

fn storm(flow: Flow, seed: u64) {
    let storm = Storm {
        orders: 240,
        flow,
        fault_rate: 0.1,
        rounds: 6,
        changes_per_round: 20,
        round_gap: Duration::from_millis(700),
        tail: Duration::from_secs(3),
        settle_timeout: Duration::from_secs(45),
        seed,
    };
    let report = storm.run();
    eprintln!("{}", report.figures(flow));
    assert!(
        report.wrong.is_empty(),
        "{} orders wrong or lost after the storm:\n{}",
        report.wrong.len(),
        report.wrong.join("\n")
    );
    assert!(
        report.settle.is_some(),
        "the link did not settle: {}",
        report.figures(flow)
    );
}

#[test]
fn a_storm_into_the_shop_loses_nothing_and_no_stale_write_wins() {
    storm(Flow::ToShop, 11);
}

#[test]
fn a_storm_into_the_erp_loses_nothing_and_no_stale_write_wins() {
    storm(Flow::ToErp, 12);
}

#[test]
fn a_storm_both_ways_loses_nothing_and_no_stale_write_wins() {
    storm(Flow::Both, 13);
}

//! The crash test: `orderlink run` is killed with SIGKILL at seeded random moments while the
//! statuses keep changing on both sides; after a final clean run every changed order
//! corresponds under the mapping with its latest change kept (or its history explains why), the
//! final run stops with exit 0 and the store file is sound. Built on the fault-storm harness.

use std::time::Duration;

use orderlink_e2e::storm::{Flow, Storm};

#[test]
fn kill_9_at_random_moments_while_statuses_change_loses_nothing() {
    let storm = Storm {
        orders: 200,
        flow: Flow::Both,
        fault_rate: 0.0,
        rounds: 8,
        changes_per_round: 15,
        round_gap: Duration::from_millis(900),
        tail: Duration::from_millis(500),
        settle_timeout: Duration::from_secs(45),
        seed: 21,
    };
    let report = storm.run_with_kills(15);
    eprintln!("{}; {} kills", report.figures(Flow::Both), report.kills);
    assert_eq!(report.kills, 15, "{}", report.figures(Flow::Both));
    assert!(
        report.wrong.is_empty(),
        "{} orders wrong or lost after {} kills:\n{}",
        report.wrong.len(),
        report.kills,
        report.wrong.join("\n")
    );
    assert!(
        report.settle.is_some(),
        "did not settle: {}",
        report.figures(Flow::Both)
    );
    assert_eq!(
        report.final_exit,
        Some(0),
        "the final clean run did not stop cleanly"
    );
    assert_eq!(report.store_check, "ok", "the store is not sound");
}

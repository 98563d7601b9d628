//! Every fault kind of the simulator, through the real plugin file: each is classified, retried
//! where that can help, and never loses or repeats a change.

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use common::{connect, counters, keys, sim};
use orderlink_plugin_api::model::{
    ApplyRequest, ChangesRequest, OrderState, OutcomeKind, ReadRequest, StatusUpdate,
};
use orderlink_plugin_api::sdk::Connector;
use orderlink_plugin_api::ErrorKind;
use serde_json::json;

/// Drains the feed the way the host does: on a retryable error, ask again with the same cursor.
fn drain_like_the_host(c: &dyn Connector, limit: u32) -> (Vec<OrderState>, usize) {
    let mut cursor = None;
    let mut all = Vec::new();
    let mut errors = 0;
    for _ in 0..2_000 {
        match c.changes(&ChangesRequest {
            cursor: cursor.clone(),
            limit,
        }) {
            Ok(page) => {
                all.extend(page.orders);
                cursor = Some(page.next_cursor);
                if !page.has_more {
                    return (all, errors);
                }
            }
            Err(e) => {
                assert!(e.kind.is_retryable(), "{e}");
                errors += 1;
            }
        }
    }
    panic!("the feed did not end");
}

fn assert_every_order_once(all: &[OrderState], n: u64) {
    let expected: BTreeSet<String> = (1..=n).map(|k| k.to_string()).collect();
    assert_eq!(all.len() as u64, n, "some order came twice or not at all");
    assert_eq!(keys(all), expected);
}

#[test]
fn server_errors_drops_malformed_bodies_and_429s_are_retried() {
    let sim = sim(&["--orders", "600", "--fault-seed", "4"]);
    let control = sim.control();
    let c = connect(&sim, json!({ "initial_lookback_hours": 96 }));
    for faults in [
        json!({ "error_rate": 0.3 }),
        json!({ "drop_rate": 0.3 }),
        json!({ "malformed_rate": 0.3 }),
        json!({ "too_many_rate": 0.3, "retry_after_secs": 1 }),
    ] {
        control.clear_faults().expect("clear");
        control.set_faults(&faults).expect("faults");
        let (all, _) = drain_like_the_host(&c, 100);
        assert_every_order_once(&all, 600);
        let read = c
            .read(&ReadRequest {
                keys: (1..=100).map(|k| k.to_string()).collect(),
            })
            .or_else(|_| {
                c.read(&ReadRequest {
                    keys: (1..=100).map(|k| k.to_string()).collect(),
                })
            })
            .expect("read");
        assert_eq!(read.orders.len(), 100, "{faults}");
    }
}

#[test]
fn every_fault_kind_is_classified_when_it_persists() {
    let sim = sim(&["--orders", "50"]);
    let control = sim.control();
    let c = connect(
        &sim,
        json!({ "initial_lookback_hours": 96, "timeout_secs": 1 }),
    );
    let first = || {
        c.changes(&ChangesRequest {
            cursor: None,
            limit: 100,
        })
    };
    c.check()
        .expect("the custom statuses are cached before faults start");

    for (faults, kind, words) in [
        (
            json!({ "error_rate": 1.0 }),
            ErrorKind::Transient,
            "HTTP 50",
        ),
        (
            json!({ "drop_rate": 1.0 }),
            ErrorKind::Transient,
            "connection broke",
        ),
        (
            json!({ "malformed_rate": 1.0 }),
            ErrorKind::Transient,
            "not the expected JSON",
        ),
        (
            json!({ "slow_rate": 1.0, "slow_ms": 1500 }),
            ErrorKind::Transient,
            "no answer within 1 s",
        ),
        (
            json!({ "too_many_rate": 1.0, "retry_after_secs": 1 }),
            ErrorKind::RateLimited,
            "HTTP 429",
        ),
    ] {
        control.clear_faults().expect("clear");
        control.set_faults(&faults).expect("faults");
        control.reset_counters().expect("reset");
        let e = first().expect_err(&faults.to_string());
        assert_eq!(e.kind, kind, "{faults}: {e}");
        assert!(e.message.contains(words), "{faults}: {e}");
        // One try and two retries.
        let n = counters(&control);
        assert_eq!(
            n.get("POST /orders/orders/search"),
            Some(&3),
            "{faults}: {n:?}"
        );
    }

    // A long Retry-After is handed to the host at once instead of waited for.
    control.clear_faults().expect("clear");
    control
        .set_faults(&json!({ "too_many_rate": 1.0, "retry_after_secs": 60 }))
        .expect("faults");
    control.reset_counters().expect("reset");
    let started = Instant::now();
    let e = first().expect_err("429");
    assert_eq!(e.kind, ErrorKind::RateLimited);
    assert_eq!(e.retry_after, Some(Duration::from_secs(60)));
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(counters(&control).get("total"), Some(&1));
    control.clear_faults().expect("clear");
}

#[test]
fn a_failing_order_inside_a_batch_is_retried_alone() {
    let sim = sim(&["--orders", "200", "--fault-seed", "8"]);
    let control = sim.control();
    let c = connect(&sim, json!({}));
    control
        .set_faults(&json!({ "batch_fail_rate": 0.2 }))
        .expect("faults");
    let updates: Vec<StatusUpdate> = (1..=100)
        .map(|n| StatusUpdate {
            key: n.to_string(),
            status: "lost".into(),
            expected_version: None,
            expected_status: None,
        })
        .collect();
    let r = c
        .apply(&ApplyRequest {
            updates: updates.clone(),
        })
        .expect("apply");
    let retry: Vec<&str> = r
        .outcomes
        .iter()
        .filter(|o| o.outcome == OutcomeKind::Retry)
        .map(|o| o.key.as_str())
        .collect();
    assert!(!retry.is_empty() && retry.len() < 60, "{retry:?}");
    for o in &r.outcomes {
        let (status, _) = control
            .status_of(o.key.parse().expect("serial"))
            .expect("order");
        match o.outcome {
            OutcomeKind::Done => assert_eq!(status, "lost"),
            OutcomeKind::Retry => {
                assert_eq!(o.code, "4");
                assert_ne!(status, "lost");
            }
            OutcomeKind::Failed | OutcomeKind::Conflict | OutcomeKind::Unknown => panic!("{o:?}"),
        }
    }
    control.clear_faults().expect("clear");
    let again: Vec<StatusUpdate> = updates
        .into_iter()
        .filter(|u| retry.contains(&u.key.as_str()))
        .collect();
    let r = c.apply(&ApplyRequest { updates: again }).expect("apply");
    assert!(r
        .outcomes
        .iter()
        .all(|o| o.outcome == OutcomeKind::Done && o.changed));
    assert!((1..=100).all(|n| control.status_of(n).expect("order").0 == "lost"));

    // A whole batch that cannot get through comes back as retryable outcomes.
    control
        .set_faults(&json!({ "error_rate": 1.0 }))
        .expect("faults");
    let r = c
        .apply(&ApplyRequest {
            updates: vec![StatusUpdate {
                key: "150".into(),
                status: "ready".into(),
                expected_version: None,
                expected_status: None,
            }],
        })
        .expect("apply");
    assert_eq!(
        (r.outcomes[0].outcome, r.outcomes[0].code.as_str()),
        (OutcomeKind::Retry, "transient")
    );
}

#[test]
fn the_request_budget_keeps_under_the_shops_rate_limit() {
    // The shop allows 4 requests a second; the connector is told to use 3.
    let sim = sim(&["--orders", "900", "--rate-limit", "4"]);
    let control = sim.control();
    let c = connect(
        &sim,
        json!({ "initial_lookback_hours": 96, "requests_per_second": 3 }),
    );
    std::thread::sleep(Duration::from_millis(1100));
    control.reset_counters().expect("reset");
    let (all, errors) = drain_like_the_host(&c, 100);
    assert_every_order_once(&all, 900);
    assert_eq!(errors, 0);
    let n = counters(&control);
    let searches = n.get("POST /orders/orders/search").copied().unwrap_or(0);
    // No 429 was answered (it would have cost a repeated request).
    assert_eq!(n.get("total").copied(), Some(searches + 1), "{n:?}");
    // Nine pages and three searches finding out what the shop does with sorts and ranges.
    assert!(searches <= 9 + 3, "{n:?}");

    // A shop's own limit that the budget does not know about: 429s are waited out.
    let greedy = connect(&sim, json!({ "initial_lookback_hours": 96 }));
    let (all, _) = drain_like_the_host(&greedy, 100);
    assert_every_order_once(&all, 900);

    // The daily budget: once used up, no request goes out.
    let frugal = connect(&sim, json!({ "requests_per_day": 2 }));
    control.set_rate_limit(0).expect("no limit");
    frugal.vocabulary().expect("first request");
    frugal
        .read(&ReadRequest {
            keys: vec!["1".into()],
        })
        .expect("second request");
    control.reset_counters().expect("reset");
    let e = frugal
        .read(&ReadRequest {
            keys: vec!["2".into()],
        })
        .expect_err("budget used up");
    assert_eq!(e.kind, ErrorKind::RateLimited);
    assert!(
        e.retry_after.is_some_and(|d| d > Duration::from_secs(3600)),
        "{e:?}"
    );
    assert_eq!(counters(&control).get("total"), Some(&0));
}

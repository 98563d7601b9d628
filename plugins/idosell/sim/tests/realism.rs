//! Faults and the rate limit, set by flags and by the control API.

mod common;

use std::time::Duration;

use common::{call, put, search, start, KEY};
use serde_json::json;

#[test]
fn rate_limit_answers_429_with_retry_after() {
    let sim = start(&["--orders", "3", "--rate-limit", "2"]);
    let replies: Vec<_> = (0..6).map(|_| search(&sim, json!({}))).collect();
    let limited: Vec<_> = replies.iter().filter(|r| r.status == 429).collect();
    assert!(
        !limited.is_empty(),
        "no 429 in {:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    for r in &limited {
        let secs: u64 = r
            .retry_after
            .as_deref()
            .and_then(|s| s.parse().ok())
            .expect("Retry-After");
        assert!(secs >= 1);
    }
    // The control API is never limited; lifting the limit takes effect at once.
    sim.control().set_rate_limit(0).expect("lift");
    assert!((0..10).all(|_| search(&sim, json!({})).status == 200));
}

#[test]
fn each_fault_kind_can_be_switched_on_and_off() {
    let sim = start(&["--orders", "5", "--error-rate", "1"]);
    let c = sim.control();
    let r = search(&sim, json!({}));
    assert!(r.status == 500 || r.status == 503, "{}", r.status);
    // Faults never touch the control API.
    assert_eq!(c.get("/_sim/info").expect("info")["orders"], 5);
    c.clear_faults().expect("clear");
    assert_eq!(search(&sim, json!({})).status, 200);

    c.set_faults(&json!({ "too_many_rate": 1.0, "retry_after_secs": 7 }))
        .expect("faults");
    let r = search(&sim, json!({}));
    assert_eq!((r.status, r.retry_after.as_deref()), (429, Some("7")));
    c.clear_faults().expect("clear");

    c.set_faults(&json!({ "malformed_rate": 1.0 }))
        .expect("faults");
    let r = search(&sim, json!({}));
    assert_eq!(r.status, 200);
    assert!(
        serde_json::from_str::<serde_json::Value>(&r.text).is_err(),
        "{}",
        r.text
    );
    c.clear_faults().expect("clear");

    c.set_faults(&json!({ "drop_rate": 1.0 })).expect("faults");
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(10))
        .build();
    let res = agent
        .post(&format!("{}/api/admin/v6/orders/orders/search", sim.url()))
        .set("X-API-KEY", KEY)
        .send_json(json!({ "params": {} }))
        .map_err(|e| e.to_string())
        .and_then(|r| r.into_string().map_err(|e| e.to_string()));
    assert!(res.is_err(), "a dropped connection gave {res:?}");
    c.clear_faults().expect("clear");

    c.set_faults(&json!({ "slow_rate": 1.0, "slow_ms": 3000 }))
        .expect("faults");
    let quick = ureq::AgentBuilder::new()
        .timeout(Duration::from_millis(300))
        .build();
    let res = quick
        .post(&format!("{}/api/admin/v6/orders/orders/search", sim.url()))
        .set("X-API-KEY", KEY)
        .send_json(json!({ "params": {} }));
    assert!(
        matches!(res, Err(ureq::Error::Transport(_))),
        "a slow answer came in time: {res:?}"
    );
    c.clear_faults().expect("clear");

    c.set_faults(&json!({ "batch_fail_rate": 1.0 }))
        .expect("faults");
    let r = put(
        &sim,
        json!([{ "orderSerialNumber": 1, "orderStatus": "lost" }, { "orderSerialNumber": 2, "orderStatus": "lost" }]),
    );
    assert_eq!(r.status, 207);
    for o in r.json()["results"]["ordersResults"]
        .as_array()
        .expect("results")
    {
        assert_eq!(o["faultCode"], 4);
    }
    assert_ne!(c.status_of(1).expect("order").0, "lost");
    c.clear_faults().expect("clear");

    assert!(c.set_faults(&json!({ "error_rate": 2.0 })).is_err());
    // camelCase names are accepted too.
    let set = c.set_faults(&json!({ "errorRate": 0.25 })).expect("faults");
    assert_eq!(set["error_rate"], 0.25);
    c.clear_faults().expect("clear");
    assert!(c.set_faults(&json!({ "no_such_fault": 0.1 })).is_err());
    assert_eq!(
        call(&sim, "GET", "/orders/statuses", Some(KEY), None).status,
        200
    );
}

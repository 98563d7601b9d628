//! Reads, status changes, the vocabulary, keys and versions, through the real plugin file.

mod common;

use common::{connect, counters, sim, READONLY_KEY};
use orderlink_plugin_api::model::{ApplyRequest, OutcomeKind, ReadRequest, StatusUpdate};
use orderlink_plugin_api::sdk::Connector;
use orderlink_plugin_api::ErrorKind;
use serde_json::json;

fn update(key: &str, status: &str) -> StatusUpdate {
    StatusUpdate {
        key: key.into(),
        status: status.into(),
        expected_version: None,
        expected_status: None,
    }
}

#[test]
fn reads_in_batches_of_100_and_reports_missing_keys() {
    let sim = sim(&["--orders", "300"]);
    let control = sim.control();
    let c = connect(&sim, json!({}));
    let mut keys: Vec<String> = (1..=245).map(|n| n.to_string()).collect();
    keys.extend(["9999".to_owned(), "abc".to_owned(), "0".to_owned()]);
    control.reset_counters().expect("reset");
    let r = c.read(&ReadRequest { keys: keys.clone() }).expect("read");
    assert_eq!(r.orders.len(), 245);
    assert_eq!(
        r.missing,
        vec!["9999".to_owned(), "abc".to_owned(), "0".to_owned()]
    );
    let n = counters(&control);
    assert_eq!(n.get("GET /orders/orders"), Some(&3), "{n:?}");
    for o in &r.orders {
        let (status, _) = control
            .status_of(o.key.parse().expect("serial"))
            .expect("order");
        assert_eq!(o.status, status, "order {}", o.key);
    }
    assert!(c
        .read(&ReadRequest { keys: vec![] })
        .expect("read")
        .orders
        .is_empty());
}

#[test]
fn applies_in_batches_with_one_outcome_per_order() {
    let sim = sim(&[]);
    let control = sim.control();
    for n in 1..=150u64 {
        control
            .create_order(&json!({ "orderSerialNumber": n, "orderStatus": "on_order" }))
            .expect("create");
    }
    control
        .create_order(&json!({ "orderSerialNumber": 200, "orderStatus": "finished" }))
        .expect("create");
    control
        .create_order(&json!({ "orderSerialNumber": 201, "orderStatus": "on_order", "documentsIssued": true }))
        .expect("create");
    control
        .define_status(45, 3, "Packed by team B")
        .expect("custom status");
    let c = connect(&sim, json!({}));
    control.reset_counters().expect("reset");

    let mut updates: Vec<StatusUpdate> = (1..=145)
        .map(|n| update(&n.to_string(), "packed"))
        .collect();
    updates.push(update("146", "45"));
    updates.push(update("147", "id:45"));
    updates.push(update("148", "no_such_status"));
    updates.push(update("200", "on_order"));
    updates.push(update("201", "canceled"));
    updates.push(update("not-a-number", "packed"));
    updates.push(update("999", "packed"));
    let r = c
        .apply(&ApplyRequest {
            updates: updates.clone(),
        })
        .expect("apply");
    assert_eq!(r.outcomes.len(), updates.len());
    let n = counters(&control);
    assert_eq!(n.get("PUT /orders/orders"), Some(&2), "{n:?}");
    let outcome = |key: &str| r.outcomes.iter().find(|o| o.key == key).expect(key);
    for n in 1..=147 {
        let o = outcome(&n.to_string());
        assert_eq!((o.outcome, o.changed), (OutcomeKind::Done, true), "{o:?}");
    }
    assert_eq!(
        control.status_of(146).expect("order"),
        ("on_order".into(), 45)
    );
    assert_eq!(
        control.status_of(147).expect("order"),
        ("on_order".into(), 45)
    );
    assert_eq!(control.status_of(145).expect("order").0, "packed");
    for (key, code) in [
        ("148", "5"),
        ("200", "2214"),
        ("201", "24"),
        ("not-a-number", "bad_key"),
        ("999", "1"),
    ] {
        let o = outcome(key);
        assert_eq!(
            (o.outcome, o.code.as_str()),
            (OutcomeKind::Failed, code),
            "{o:?}"
        );
    }
    assert_eq!(control.status_of(200).expect("order").0, "finished");
    // Customers are not notified by default.
    assert_eq!(control.notifications().expect("notifications"), (0, 0));

    // The same statuses again: done, nothing changed, the shop's change dates stay.
    let before = control.order(10).expect("order")["orderChangeDate"].clone();
    let again = c
        .apply(&ApplyRequest {
            updates: vec![update("10", "packed"), update("146", "45")],
        })
        .expect("apply");
    for o in &again.outcomes {
        assert_eq!((o.outcome, o.changed), (OutcomeKind::Done, false), "{o:?}");
    }
    assert_eq!(control.order(10).expect("order")["orderChangeDate"], before);

    // Reads report custom statuses by id.
    let read = c
        .read(&ReadRequest {
            keys: vec!["146".into(), "10".into()],
        })
        .expect("read");
    let statuses: Vec<&str> = read.orders.iter().map(|o| o.status.as_str()).collect();
    assert_eq!(statuses, vec!["45", "packed"]);

    // With notify_customers, the shop sends its messages.
    let loud = connect(&sim, json!({ "notify_customers": true }));
    loud.apply(&ApplyRequest {
        updates: vec![update("1", "ready")],
    })
    .expect("apply");
    assert_eq!(control.notifications().expect("notifications"), (1, 1));

    let usage = c.api_usage();
    assert_eq!(usage.by_endpoint.get("PUT /orders/orders"), Some(&3));
    assert_eq!(usage.requests, usage.by_endpoint.values().sum::<u64>());
}

#[test]
fn vocabulary_keys_and_versions() {
    let sim = sim(&["--orders", "5", "--versions", "7,8"]);
    let control = sim.control();
    control
        .define_status(50, 4, "Waiting for courier")
        .expect("custom status");
    let c = connect(&sim, json!({ "api_version": 7 }));
    let report = c.check().expect("check");
    assert!(
        report.details.contains("/api/admin/v7"),
        "{}",
        report.details
    );
    let v = c.vocabulary().expect("vocabulary");
    let custom = v.resolve("Waiting for courier").expect("custom status");
    assert_eq!(
        (custom.code.as_str(), custom.aliases.as_slice()),
        ("50", &["id:50".to_owned()][..])
    );
    for closed in [
        "finished",
        "finished_ext",
        "canceled",
        "lost",
        "false",
        "joined",
        "missing",
    ] {
        assert!(v.resolve(closed).is_some_and(|s| s.closed), "{closed}");
    }
    // An order in a status the vocabulary lists only as known-but-unsettable is carried as is.
    control
        .post(
            "/_sim/orders/3/status",
            &json!({ "status": "returned", "force": true }),
        )
        .expect("operator change");
    let read = c
        .read(&ReadRequest {
            keys: vec!["3".into()],
        })
        .expect("read");
    assert_eq!(read.orders[0].status, "returned");

    let by_id = connect(&sim, json!({ "api_version": 8, "order_key": "orderId" }));
    let r = by_id
        .read(&ReadRequest {
            keys: vec!["shop1-2".into(), "shop1-77".into()],
        })
        .expect("read");
    assert_eq!(r.orders.len(), 1);
    assert_eq!(r.orders[0].key, "shop1-2");
    assert_eq!(r.missing, vec!["shop1-77".to_owned()]);
    let applied = by_id
        .apply(&ApplyRequest {
            updates: vec![update("shop1-2", "lost")],
        })
        .expect("apply");
    assert_eq!(applied.outcomes[0].outcome, OutcomeKind::Done);
    assert_eq!(control.status_of(2).expect("order").0, "lost");

    let v6 = connect(&sim, json!({ "api_version": 6 }));
    let e = v6.check().expect_err("v6 is not served");
    assert_eq!(e.kind, ErrorKind::Config, "{e}");
}

#[test]
fn keys_are_refused_as_auth_errors() {
    let sim = sim(&["--orders", "3"]);
    let wrong = connect(&sim, json!({ "api_key": "wrong-key" }));
    let e = wrong.check().expect_err("wrong key");
    assert_eq!(e.kind, ErrorKind::Auth, "{e}");
    let read_only = connect(&sim, json!({ "api_key": READONLY_KEY }));
    read_only.check().expect("reads are allowed");
    let e = read_only
        .apply(&ApplyRequest {
            updates: vec![update("1", "lost")],
        })
        .expect_err("writes are not");
    assert_eq!(e.kind, ErrorKind::Auth);
    assert!(e.message.contains("Scope: orders, level: rw"), "{e}");
}

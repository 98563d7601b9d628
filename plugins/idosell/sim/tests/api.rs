//! The simulator binary on loopback: CLI, auth, search, reads, status changes, statuses,
//! history, versions and counters.

mod common;

use common::{call, call_version, put, search, serials, start, KEY, READONLY_KEY};
use serde_json::json;

#[test]
fn prints_its_address_and_stops_on_sigterm() {
    let sim = start(&["--orders", "10"]);
    assert!(sim.url().starts_with("http://127.0.0.1:"), "{}", sim.url());
    let info = sim.control().get("/_sim/info").expect("info");
    assert_eq!(info["orders"], 10);
    let status = sim.terminate().expect("terminates");
    assert!(status.success(), "{status:?}");
}

#[test]
fn keys_are_checked() {
    let sim = start(&["--orders", "5"]);
    let body = json!({ "params": {} });
    let none = call(&sim, "POST", "/orders/orders/search", None, Some(&body));
    assert_eq!(none.status, 401);
    let wrong = call(
        &sim,
        "POST",
        "/orders/orders/search",
        Some("nope"),
        Some(&body),
    );
    assert_eq!(wrong.status, 401);
    let read = call(
        &sim,
        "POST",
        "/orders/orders/search",
        Some(READONLY_KEY),
        Some(&body),
    );
    assert_eq!(read.status, 200);
    let write = call(
        &sim,
        "PUT",
        "/orders/orders",
        Some(READONLY_KEY),
        Some(
            &json!({ "params": { "orders": [{ "orderSerialNumber": 1, "orderStatus": "lost" }] } }),
        ),
    );
    assert_eq!(write.status, 403);
    assert_eq!(write.x_error.as_deref(), Some("Scope: orders, level: rw"));
    assert_ne!(sim.control().status_of(1).expect("order").0, "lost");
    let ok = put(
        &sim,
        json!([{ "orderSerialNumber": 1, "orderStatus": "lost" }]),
    );
    assert_eq!(sim.control().status_of(1).expect("order").0, "lost");
    assert_eq!(ok.status, 200, "{}", ok.text);
}

#[test]
fn versions_are_configurable() {
    let sim = start(&["--versions", "7,8", "--orders", "3"]);
    let body = json!({ "params": {} });
    for (v, expected) in [(6, 404), (7, 200), (8, 200)] {
        let r = call_version(
            &sim,
            v,
            "POST",
            "/orders/orders/search",
            Some(KEY),
            Some(&body),
        );
        assert_eq!(r.status, expected, "v{v}");
    }
}

#[test]
fn search_filters_pages_and_reports_empty_results_as_207() {
    let sim = start(&[]);
    let c = sim.control();
    c.seed(42, 250).expect("seed");
    // Pages are 0-based, at most 100, and cover every order exactly once.
    let mut all = Vec::new();
    for page in 0..3 {
        let r = search(&sim, json!({ "resultsPage": page, "resultsLimit": 100 }));
        assert_eq!(r.status, 200);
        let body = r.json();
        assert_eq!(body["resultsNumberAll"], 250);
        assert_eq!(body["resultsNumberPage"], 3);
        assert_eq!(body["resultsPage"], page);
        all.extend(serials(&r));
    }
    assert_eq!(all, (1..=250).collect::<Vec<_>>());
    let beyond = search(&sim, json!({ "resultsPage": 3, "resultsLimit": 100 }));
    assert_eq!(beyond.status, 207);
    assert_eq!(search(&sim, json!({ "resultsLimit": 101 })).status, 422);
    assert_eq!(search(&sim, json!({ "resultsLimit": 0 })).status, 422);

    // Serial numbers, statuses and dates.
    let r = search(&sim, json!({ "ordersSerialNumbers": [7, 3, 999] }));
    assert_eq!(serials(&r), vec![3, 7]);
    c.set_status(3, "packed").expect("operator change");
    c.set_status(5, "packed").expect("operator change");
    let packed = serials(&search(
        &sim,
        json!({ "ordersStatuses": ["packed"], "resultsLimit": 100 }),
    ));
    assert!(packed.contains(&3) && packed.contains(&5));
    for s in &packed {
        assert_eq!(c.status_of(*s).expect("order").0, "packed");
    }
    let changed_at = c.order(3).expect("order")["orderChangeDate"]
        .as_str()
        .expect("date")
        .to_owned();
    let r = search(
        &sim,
        json!({
            "ordersRange": { "ordersDateRange": {
                "ordersDateType": "modified", "ordersDateBegin": changed_at } },
            "ordersBy": [{ "elementName": "modification_time", "sortDirection": "ASC" }]
        }),
    );
    let recent = serials(&r);
    assert!(recent.contains(&3) && recent.contains(&5), "{recent:?}");
    assert!(recent.len() < 250);

    // Serial-number range with a single change-date second, sorted.
    let r = search(
        &sim,
        json!({
            "ordersRange": {
                "ordersDateRange": { "ordersDateType": "modified",
                    "ordersDateBegin": changed_at, "ordersDateEnd": changed_at },
                "ordersSerialNumberRange": { "ordersSerialNumberBegin": 4 }
            }
        }),
    );
    assert!(!serials(&r).contains(&3));

    // Add dates: an order placed long ago.
    c.create_order(&json!({
        "orderSerialNumber": 1000, "orderStatus": "on_order",
        "orderAddDate": "2020-01-15 12:00:00"
    }))
    .expect("create");
    let r = search(
        &sim,
        json!({ "ordersRange": { "ordersDateRange": {
            "ordersDateType": "add", "ordersDateBegin": "2020-01-01 00:00:00",
            "ordersDateEnd": "2020-02-01 00:00:00" } } }),
    );
    assert_eq!(serials(&r), vec![1000]);

    // Nothing matches: HTTP 207 with faultCode 2.
    let r = search(&sim, json!({ "ordersSerialNumbers": [123456] }));
    assert_eq!(r.status, 207);
    assert_eq!(r.json()["errors"]["faultCode"], 2);
    assert_eq!(
        search(
            &sim,
            json!({ "ordersRange": { "ordersDateRange": {
            "ordersDateType": "modified", "ordersDateBegin": "yesterday" } } })
        )
        .status,
        422
    );
}

#[test]
fn get_reads_up_to_100_orders() {
    let sim = start(&["--orders", "150"]);
    let list = (1..=100)
        .map(|n| n.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let r = call(
        &sim,
        "GET",
        &format!("/orders/orders?ordersSerialNumbers={list}"),
        Some(KEY),
        None,
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["Results"].as_array().map(Vec::len), Some(100));
    let too_many = format!("{list},101");
    let r = call(
        &sim,
        "GET",
        &format!("/orders/orders?ordersSerialNumbers={too_many}"),
        Some(KEY),
        None,
    );
    assert_eq!(r.status, 422);
    let r = call(
        &sim,
        "GET",
        "/orders/orders?ordersSerialNumbers=5,9999",
        Some(KEY),
        None,
    );
    assert_eq!(r.status, 207);
    let body = r.json();
    assert_eq!(body["resultsNumberAll"], 1);
    assert!(body["Results"][0]["orderDetails"]["orderStatusId"].is_u64());
    assert_eq!(body["Results"][1]["errors"][0]["faultCode"], 2);
    let r = call(
        &sim,
        "GET",
        "/orders/orders?ordersIds=shop1-7",
        Some(KEY),
        None,
    );
    assert_eq!(r.json()["Results"][0]["orderSerialNumber"], 7);
}

#[test]
fn put_applies_the_panel_rules_per_order() {
    let sim = start(&[]);
    let c = sim.control();
    for n in 1..=5 {
        c.create_order(&json!({ "orderSerialNumber": n, "orderStatus": "new" }))
            .expect("create");
    }
    c.create_order(&json!({ "orderSerialNumber": 20, "orderStatus": "finished" }))
        .expect("create");
    c.create_order(&json!({ "orderSerialNumber": 21, "orderStatus": "canceled" }))
        .expect("create");
    c.create_order(
        &json!({ "orderSerialNumber": 22, "orderStatus": "on_order", "documentsIssued": true }),
    )
    .expect("create");
    c.define_status(45, 3, "Packed by team B")
        .expect("custom status");

    let before = c.order(2).expect("order");
    let r = put(
        &sim,
        json!([
            { "orderSerialNumber": 1, "orderStatus": "packed", "settings": { "dontSendMail": "y", "dontSendSMS": "y" } },
            { "orderId": "shop1-2", "orderStatusId": 45 },
            { "orderSerialNumber": 20, "orderStatus": "on_order" },
            { "orderSerialNumber": 20, "orderStatus": "lost" },
            { "orderSerialNumber": 21, "orderStatus": "new" },
            { "orderSerialNumber": 22, "orderStatus": "canceled" },
            { "orderSerialNumber": 3, "orderStatus": "no_such_status" },
            { "orderSerialNumber": 4, "orderStatus": "joined" },
            { "orderSerialNumber": 5, "orderStatus": "returned" },
            { "orderSerialNumber": 404, "orderStatus": "packed" },
            { "orderStatus": "packed" }
        ]),
    );
    assert_eq!(r.status, 207, "{}", r.text);
    let codes: Vec<i64> = r.json()["results"]["ordersResults"]
        .as_array()
        .expect("results")
        .iter()
        .map(|o| o["faultCode"].as_i64().expect("code"))
        .collect();
    assert_eq!(codes, vec![0, 0, 2214, 0, 2214, 24, 5, 6, 2, 1, 1]);
    assert_eq!(c.status_of(1).expect("order").0, "packed");
    assert_eq!(c.status_of(2).expect("order"), ("on_order".to_owned(), 45));
    assert_eq!(c.status_of(20).expect("order").0, "lost");
    assert_ne!(c.order(2).expect("order")["orderChangeDate"], json!(null));
    assert_eq!(
        c.order(2).expect("order")["history"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    assert_ne!(
        before["orderStatusId"],
        c.order(2).expect("order")["orderStatusId"]
    );
    // Only order 2 was changed without dontSendMail/dontSendSMS.
    assert_eq!(c.notifications().expect("notifications"), (2, 2));

    // Setting the status an order has changes nothing.
    let stamp = c.order(1).expect("order")["orderChangeDate"].clone();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let r = put(
        &sim,
        json!([{ "orderSerialNumber": 1, "orderStatus": "packed" }]),
    );
    assert_eq!(r.status, 200);
    assert_eq!(c.order(1).expect("order")["orderChangeDate"], stamp);
    assert_eq!(
        c.order(1).expect("order")["history"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );

    let many: Vec<_> = (1..=101)
        .map(|n| json!({ "orderSerialNumber": n, "orderStatus": "packed" }))
        .collect();
    assert_eq!(put(&sim, json!(many)).status, 422);
}

#[test]
fn statuses_history_and_counters() {
    let sim = start(&["--orders", "5"]);
    let c = sim.control();
    c.define_status(45, 3, "Packed by team B")
        .expect("custom status");
    c.define_status(46, 4, "Waiting for courier")
        .expect("custom status");
    assert!(c.define_status(3, 1, "Clash").is_err());
    let r = call(&sim, "GET", "/orders/statuses", Some(KEY), None);
    assert_eq!(
        r.json(),
        json!({ "statuses": [
            { "id": 45, "parentId": 3, "panelName": "Packed by team B" },
            { "id": 46, "parentId": 4, "panelName": "Waiting for courier" } ] })
    );
    c.set_status_id(2, 46).expect("operator change");
    c.touch(2).expect("edit");
    let r = call(
        &sim,
        "GET",
        "/orders/history?orderSerialNumber=2",
        Some(KEY),
        None,
    );
    let events = r.json()["historyEvents"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(events.len(), 3, "{events:?}");
    assert!(events[1]["eventDetails"]
        .as_str()
        .unwrap_or("")
        .contains("Waiting for courier"));
    let r = call(
        &sim,
        "GET",
        "/orders/history?orderSerialNumber=77",
        Some(KEY),
        None,
    );
    assert_eq!(r.status, 207);

    c.reset_counters().expect("reset");
    search(&sim, json!({}));
    search(&sim, json!({}));
    call(&sim, "GET", "/orders/statuses", Some(KEY), None);
    call(&sim, "GET", "/orders/statuses", Some("wrong"), None);
    let counters = c.counters().expect("counters");
    assert_eq!(counters.get("POST /orders/orders/search"), Some(&2));
    assert_eq!(counters.get("GET /orders/statuses"), Some(&2));
    assert_eq!(counters.get("total"), Some(&4));
    c.reset_counters().expect("reset");
    assert_eq!(c.counters().expect("counters").get("total"), Some(&0));
}

#[test]
fn seeding_is_deterministic_and_bounded() {
    let sim = start(&[]);
    let c = sim.control();
    let statuses = |c: &idosell_sim::harness::Control| -> Vec<String> {
        (1..=30).map(|n| c.status_of(n).expect("order").0).collect()
    };
    c.seed(9, 30).expect("seed");
    let first = statuses(&c);
    c.seed(10, 30).expect("seed");
    let other = statuses(&c);
    c.seed(9, 30).expect("seed");
    assert_eq!(statuses(&c), first);
    assert_ne!(first, other);
    assert_eq!(c.order(30).expect("order")["orderId"], "shop1-30");
    assert!(c.seed(1, 100_001).is_err());
    c.seed(3, 100_000).expect("the largest seed");
    let r = search(
        &sim,
        json!({ "ordersStatuses": ["new"], "resultsLimit": 1 }),
    );
    assert!(r.json()["resultsNumberAll"].as_u64().unwrap_or(0) > 5_000);
}

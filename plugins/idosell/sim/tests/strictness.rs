//! The simulator is not kinder than a shop: what it does not implement it refuses, naming it;
//! it can play a shop that ignores every sort and one whose date-range end is exclusive; it
//! never reports an unknown order as serial number 0; its answers are as large as a live shop's.

mod common;

use common::{call, search, serials, start, KEY};
use serde_json::json;

#[test]
fn unimplemented_filters_and_sort_names_are_refused_by_name() {
    let sim = start(&["--orders", "30"]);
    let r = search(
        &sim,
        json!({ "clients": [{ "clientLogin": "x" }], "orderSource": { "shopsIds": [1] } }),
    );
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(
        r.text.contains("clients") && r.text.contains("orderSource"),
        "{}",
        r.text
    );
    let r = search(
        &sim,
        json!({ "ordersRange": { "ordersDateRange": { "ordersDateType": "dispatch",
            "ordersDateBegin": "2026-01-01 00:00:00" }, "somethingElse": 1 } }),
    );
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.text.contains("ordersRange.somethingElse"), "{}", r.text);
    let r = search(
        &sim,
        json!({ "ordersRange": { "ordersDateRange": { "ordersDateType": "dispatch",
            "ordersDateBegin": "2026-01-01 00:00:00" } } }),
    );
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.text.contains("dispatch"), "{}", r.text);
    let r = search(
        &sim,
        json!({ "ordersBy": [{ "elementName": "order_cost", "sortDirection": "ASC" }] }),
    );
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.text.contains("order_cost"), "{}", r.text);
    // What it implements works: serial numbers descending.
    let r = search(
        &sim,
        json!({ "ordersBy": [{ "elementName": "sn", "sortDirection": "DESC" }], "resultsLimit": 5 }),
    );
    assert_eq!(serials(&r), vec![30, 29, 28, 27, 26], "{}", r.text);
    let r = call(
        &sim,
        "GET",
        "/orders/orders?orderExternalId=ABC",
        Some(KEY),
        None,
    );
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.text.contains("orderExternalId"), "{}", r.text);
}

#[test]
fn a_shop_that_ignores_every_sort() {
    let sim = start(&["--orders", "200", "--ignore-sort"]);
    let asc = search(
        &sim,
        json!({ "ordersBy": [{ "elementName": "sn", "sortDirection": "ASC" }], "resultsLimit": 50 }),
    );
    let desc = search(
        &sim,
        json!({ "ordersBy": [{ "elementName": "sn", "sortDirection": "DESC" }], "resultsLimit": 50 }),
    );
    let (a, d) = (serials(&asc), serials(&desc));
    assert_eq!(a, d, "the sort is ignored");
    assert_eq!(a.len(), 50);
    let mut sorted = a.clone();
    sorted.sort();
    assert_ne!(a, sorted, "not in serial-number order either");
    // Names are not even looked at; filters still are.
    let r = search(
        &sim,
        json!({ "ordersBy": [{ "elementName": "no_such_sort" }], "ordersSerialNumbers": [3] }),
    );
    assert_eq!(serials(&r), vec![3], "{}", r.text);
    // The pages still partition the matches.
    let mut all = Vec::new();
    for page in 0..4 {
        all.extend(serials(&search(
            &sim,
            json!({ "resultsPage": page, "resultsLimit": 50 }),
        )));
    }
    all.sort();
    assert_eq!(all, (1..=200).collect::<Vec<u64>>());
}

#[test]
fn the_date_range_end_can_be_exclusive() {
    for (flags, inclusive) in [(vec![], true), (vec!["--exclusive-date-end"], false)] {
        let sim = start(&flags);
        let c = sim.control();
        c.create_order(&json!({ "orderSerialNumber": 1, "orderStatus": "new",
            "orderAddDate": "2026-03-01 10:00:00", "orderChangeDate": "2026-03-02 12:00:00" }))
            .expect("create");
        let window = |begin: &str, end: &str| {
            serials(&search(
                &sim,
                json!({ "ordersRange": { "ordersDateRange": { "ordersDateType": "modified",
                    "ordersDateBegin": begin, "ordersDateEnd": end } } }),
            ))
        };
        let at = "2026-03-02 12:00:00";
        assert_eq!(window(at, at).len(), usize::from(inclusive), "{flags:?}");
        assert_eq!(window(at, "2026-03-02 12:00:01"), vec![1], "{flags:?}");
        assert_eq!(
            window("2026-03-02 11:59:59", at).len(),
            usize::from(inclusive)
        );
        let info = c.get("/_sim/info").expect("info");
        assert_eq!(info["exclusiveDateEnd"], !inclusive);
    }
}

#[test]
fn unknown_orders_are_named_as_asked_never_serial_zero() {
    let sim = start(&["--orders", "5"]);
    let r = call(
        &sim,
        "GET",
        "/orders/orders?ordersIds=shop1-2,shop1-777",
        Some(KEY),
        None,
    );
    assert_eq!(r.status, 207, "{}", r.text);
    let body = r.json();
    let results = body["Results"].as_array().expect("Results");
    assert_eq!(results.len(), 2);
    let unknown = &results[1];
    assert_eq!(unknown["orderId"], "shop1-777");
    assert!(unknown.get("orderSerialNumber").is_none(), "{unknown}");
    assert!(unknown["errors"].is_array());
}

#[test]
fn answers_carry_the_full_order_body() {
    let sim = start(&["--orders", "100"]);
    let r = search(&sim, json!({ "resultsLimit": 100 }));
    assert_eq!(r.status, 200);
    // A live shop's page of 100 orders runs to hundreds of kilobytes.
    assert!(r.text.len() > 250_000, "{} bytes", r.text.len());
    for o in r.json()["Results"].as_array().expect("Results") {
        let client = &o["clientResult"];
        for part in [
            "clientBillingAddress",
            "clientDeliveryAddress",
            "payerAddress",
            "clientAccount",
        ] {
            assert!(client[part].is_object(), "{part}: {o}");
        }
        let d = &o["orderDetails"];
        assert!(
            d["payments"]["orderCurrency"]["orderProductsCost"].is_f64(),
            "{d}"
        );
        assert!(d["dispatch"]["courierName"].is_string(), "{d}");
        let products = d["productsResults"].as_array().expect("products");
        assert!((1..=5).contains(&products.len()));
        assert!(products
            .iter()
            .all(|p| p["productQuantity"].as_f64() > Some(0.0)));
    }
}

//! Every kind of answer the simulator gives validates against `orders-openapi-v6.json`.

mod common;

use common::{call, put, search, start, Reply, KEY};
use serde_json::{json, Value};

/// The published spec is IdoSell's document, not ours: it is read from the shared specs folder
/// beside the repository (`$ORDERLINK_SPECS_DIR` overrides), never copied into it.
fn spec_path() -> std::path::PathBuf {
    let dir = std::env::var_os("ORDERLINK_SPECS_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../../shared/specs")
        });
    dir.join("idosell/orders-openapi-v6.json")
}

fn spec() -> Value {
    let path = spec_path();
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (the shared specs folder sits beside the repository; set ORDERLINK_SPECS_DIR)",
            path.display()
        )
    });
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn response_schema(spec: &Value, path: &str, method: &str, status: u16) -> Value {
    let response = &spec["paths"][path][method]["responses"][status.to_string()];
    assert!(
        response.is_object(),
        "the spec has no {status} answer for {method} {path}"
    );
    response["content"]["application/json"]["schema"].clone()
}

fn check(spec: &Value, path: &str, method: &str, reply: &Reply) {
    let schema = response_schema(spec, path, method, reply.status);
    if schema.is_null() {
        // The spec describes no body for this status (401, 403, 404, 422, 429, 500).
        return;
    }
    let validator = jsonschema::validator_for(&schema).expect("the spec's schema compiles");
    let body = reply.json();
    let errors: Vec<String> = validator
        .iter_errors(&body)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "{method} {path} {}: {errors:?}\n{}",
        reply.status,
        reply.text
    );
}

#[test]
fn answers_validate_against_the_spec() {
    let spec = spec();
    let sim = start(&["--orders", "120"]);
    let c = sim.control();
    c.define_status(45, 3, "Packed by team B")
        .expect("custom status");
    c.set_status_id(7, 45).expect("operator change");
    c.touch(8).expect("edit");

    let search_path = "/orders/orders/search";
    let orders_path = "/orders/orders";
    let mut checked = 0;
    let mut seen = std::collections::BTreeSet::new();
    let replies = vec![
        (
            search_path,
            "post",
            search(&sim, json!({ "resultsLimit": 100, "resultsPage": 1 })),
        ),
        (
            search_path,
            "post",
            search(&sim, json!({ "ordersSerialNumbers": [7, 8] })),
        ),
        (
            search_path,
            "post",
            search(&sim, json!({ "ordersSerialNumbers": [99999] })),
        ),
        (
            search_path,
            "post",
            search(&sim, json!({ "resultsLimit": 500 })),
        ),
        (
            orders_path,
            "get",
            call(
                &sim,
                "GET",
                "/orders/orders?ordersSerialNumbers=1,2,7",
                Some(KEY),
                None,
            ),
        ),
        (
            orders_path,
            "get",
            call(
                &sim,
                "GET",
                "/orders/orders?ordersSerialNumbers=1,99999",
                Some(KEY),
                None,
            ),
        ),
        (
            orders_path,
            "put",
            put(
                &sim,
                json!([{ "orderSerialNumber": 1, "orderStatus": "packed" }]),
            ),
        ),
        (
            orders_path,
            "put",
            put(
                &sim,
                json!([{ "orderSerialNumber": 2, "orderStatus": "packed" }, { "orderSerialNumber": 3, "orderStatus": "nope" }]),
            ),
        ),
        (
            orders_path,
            "put",
            call(
                &sim,
                "PUT",
                orders_path,
                Some("wrong"),
                Some(&json!({ "params": {} })),
            ),
        ),
        (
            "/orders/history",
            "get",
            call(
                &sim,
                "GET",
                "/orders/history?orderSerialNumber=7",
                Some(KEY),
                None,
            ),
        ),
        (
            "/orders/history",
            "get",
            call(
                &sim,
                "GET",
                "/orders/history?orderSerialNumber=99999",
                Some(KEY),
                None,
            ),
        ),
    ];
    for (path, method, reply) in &replies {
        check(&spec, path, method, reply);
        seen.insert((path.to_string(), method.to_string(), reply.status));
        checked += 1;
    }
    assert_eq!(checked, replies.len());
    for expected in [
        (search_path, "post", 200),
        (search_path, "post", 207),
        (search_path, "post", 422),
        (orders_path, "get", 200),
        (orders_path, "get", 207),
        (orders_path, "put", 200),
        (orders_path, "put", 207),
        (orders_path, "put", 401),
        ("/orders/history", "get", 200),
        ("/orders/history", "get", 207),
    ] {
        assert!(
            seen.contains(&(expected.0.to_string(), expected.1.to_string(), expected.2)),
            "no {expected:?} answer was checked"
        );
    }
}

#[test]
fn the_check_catches_a_wrong_type() {
    // The schemas have no `required` lists, so make sure a wrong type does fail them.
    let spec = spec();
    let schema = response_schema(&spec, "/orders/orders/search", "post", 200);
    let validator = jsonschema::validator_for(&schema).expect("compiles");
    let good = json!({ "Results": [{ "orderSerialNumber": 1, "orderDetails": { "orderStatus": "new" } }] });
    let bad = json!({ "Results": [{ "orderSerialNumber": "1", "orderDetails": { "orderStatus": "new" } }] });
    assert!(validator.is_valid(&good));
    assert!(!validator.is_valid(&bad));
}

//! Every kind of answer the simulator gives validates against the project's own schema of the
//! answers orderlink relies on (`plugins/idosell/schema/orders-api.schema.json`), on any clone.

mod common;

use common::{sample_replies, start, SAMPLE_KINDS};
use serde_json::{json, Value};

fn project_schema() -> Value {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../schema/orders-api.schema.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A validator for one `$defs` entry of the project schema.
fn validator(def: &str) -> jsonschema::Validator {
    let mut schema = project_schema();
    schema["$ref"] = json!(format!("#/$defs/{def}"));
    jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{def}: {e}"))
}

fn def_for(path: &str, method: &str, status: u16) -> &'static str {
    match (path, method, status) {
        ("/orders/orders/search", "post", 200) => "searchAnswer",
        ("/orders/orders/search", "post", 207) => "emptySearchAnswer",
        ("/orders/orders", "get", 200 | 207) => "getAnswer",
        ("/orders/orders", "put", 200 | 207) => "putAnswer",
        ("/orders/history", "get", 200 | 207) => "historyAnswer",
        _ => "refusal",
    }
}

#[test]
fn answers_validate_against_the_project_schema() {
    let sim = start(&["--orders", "120"]);
    let replies = sample_replies(&sim);
    let mut seen = std::collections::BTreeSet::new();
    for (path, method, reply) in &replies {
        let def = def_for(path, method, reply.status);
        let body = reply.json();
        let errors: Vec<String> = validator(def)
            .iter_errors(&body)
            .map(|e| format!("{e} at {}", e.instance_path))
            .collect();
        assert!(
            errors.is_empty(),
            "{method} {path} {} against {def}: {errors:?}\n{}",
            reply.status,
            reply.text
        );
        seen.insert((path.to_string(), method.to_string(), reply.status));
    }
    for (path, method, status) in SAMPLE_KINDS {
        assert!(
            seen.contains(&(path.to_string(), method.to_string(), status)),
            "no {method} {path} {status} answer was checked"
        );
    }
    let statuses = common::call(&sim, "GET", "/orders/statuses", Some(common::KEY), None);
    assert!(
        validator("statusesAnswer").is_valid(&statuses.json()),
        "{}",
        statuses.text
    );
}

#[test]
fn the_schema_catches_what_the_connector_depends_on() {
    let answer = validator("searchAnswer");
    let order = json!({ "orderId": "shop1-1", "orderSerialNumber": 1, "orderDetails": {
        "orderStatus": "new", "orderAddDate": "2026-11-02 10:15:00",
        "orderChangeDate": "2026-11-03 08:00:12" } });
    let page = |o: Value| {
        json!({ "Results": [o], "resultsNumberAll": 1, "resultsNumberPage": 1,
        "resultsPage": 0, "resultsLimit": 100 })
    };
    assert!(answer.is_valid(&page(order.clone())));
    let mut bad = order.clone();
    bad["orderSerialNumber"] = json!("1");
    assert!(!answer.is_valid(&page(bad)), "a serial number as a string");
    let mut bad = order.clone();
    bad["orderDetails"]["orderChangeDate"] = json!("2026-11-03T08:00:12Z");
    assert!(!answer.is_valid(&page(bad)), "a date in another format");
    let mut bad = order;
    bad["orderDetails"]
        .as_object_mut()
        .map(|d| d.remove("orderStatus"));
    assert!(!answer.is_valid(&page(bad)), "no status");
    // An unknown order in a GET is named as asked, never as serial number 0.
    let get = validator("getAnswer");
    let unknown = |entry: Value| json!({ "Results": [entry], "errors": { "faultCode": 2, "faultString": "x" } });
    let errors = json!([{ "faultCode": 2, "faultString": "Order not found" }]);
    assert!(get.is_valid(&unknown(json!({ "orderId": "shop1-9", "errors": errors }))));
    assert!(!get.is_valid(&unknown(
        json!({ "orderId": "shop1-9", "orderSerialNumber": 0, "errors": errors })
    )));
    // An empty search is a 207 with faultCode 2, nothing else.
    let empty = validator("emptySearchAnswer");
    assert!(empty.is_valid(&json!({ "errors": { "faultCode": 2, "faultString": "x" } })));
    assert!(!empty.is_valid(&json!({ "errors": { "faultCode": 3, "faultString": "x" } })));
}

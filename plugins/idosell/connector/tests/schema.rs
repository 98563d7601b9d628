//! The requests the connector sends validate against the project's own schema of them
//! (`plugins/idosell/schema/orders-api.schema.json`), on any clone.

use orderlink_idosell::requests::{self, Search};
use serde_json::{json, Value};

fn validator(def: &str) -> jsonschema::Validator {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../schema/orders-api.schema.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut schema: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    schema["$ref"] = json!(format!("#/$defs/{def}"));
    jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{def}: {e}"))
}

fn assert_valid(v: &jsonschema::Validator, body: &Value) {
    let errors: Vec<String> = v
        .iter_errors(body)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{errors:?}\n{body}");
}

#[test]
fn every_search_the_connector_makes_fits_the_schema() {
    let v = validator("searchRequest");
    let t = 1_793_000_000;
    for search in [
        // The feed's window, sorted and narrowing.
        Search {
            dates: Some(("modified", Some(t - 1), Some(t + 60))),
            serials: Some((1, orderlink_idosell::feed::MAX_SERIAL)),
            sort: Some(("sn", false)),
            limit: 100,
            ..Search::default()
        },
        Search {
            dates: Some(("modified", Some(t), Some(t + 1))),
            serials: Some((40, 79)),
            limit: 37,
            ..Search::default()
        },
        // The probes.
        Search {
            sort: Some(("id", true)),
            limit: 10,
            ..Search::default()
        },
        // A listing since a moment.
        Search {
            dates: Some(("add", Some(t), None)),
            serials: Some((101, orderlink_idosell::feed::MAX_SERIAL)),
            sort: Some(("sn", false)),
            limit: 100,
            ..Search::default()
        },
    ] {
        assert_valid(&v, &search.body());
    }
    // The schema does catch a sort name the API does not have, and a date in another format.
    let mut bad = Search {
        sort: Some(("modification_date", false)),
        limit: 10,
        ..Search::default()
    }
    .body();
    assert!(!v.is_valid(&bad));
    bad = Search {
        dates: Some(("modified", Some(t), None)),
        limit: 10,
        ..Search::default()
    }
    .body();
    bad["params"]["ordersRange"]["ordersDateRange"]["ordersDateBegin"] =
        json!("2026-11-30T10:00:00");
    assert!(!v.is_valid(&bad));
}

#[test]
fn status_changes_fit_the_schema() {
    let v = validator("putRequest");
    let body = requests::put(vec![
        json!({ "orderSerialNumber": 17, "orderStatus": "packed",
            "settings": { "dontSendMail": "y", "dontSendSMS": "y" } }),
        json!({ "orderId": "shop1-18", "orderStatusId": 45 }),
    ]);
    assert_valid(&v, &body);
    assert!(!v.is_valid(&requests::put(vec![])));
    assert!(!v.is_valid(&requests::put(vec![json!({ "orderStatus": "packed" })])));
}

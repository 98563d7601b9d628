//! End-to-end: the commands that explain decisions (`history`, `explain`, `reconcile`,
//! `resync`, `mapping show`), driven through the `orderlink` binary against both simulators.

use orderlink_e2e::sync_env::{SyncEnv, MAPPING};
use serde_json::Value;

const TO_SHOP: &str = "direction = \"to_shop\"\nscope = \"unfulfilled\"\n";
const BOTH: &str = "direction = \"both\"\nscope = \"unfulfilled\"\n";

fn codes(list: &Value) -> Vec<String> {
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["code"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn mapping_show_resolves_panel_names_and_lists_what_is_not_mapped() {
    let mapping = MAPPING.replace(
        "on_order = \"Potwierdzony\"",
        "\"In progress\" = \"Potwierdzony\"",
    );
    let env = SyncEnv::new(2, BOTH, &mapping);
    let v = env.json(&["mapping", "show"]);
    let link = &v[0];
    assert_eq!(link["resolved"], true, "{v}");
    let rule = link["to_erp"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["from"] == "In progress"))
        .unwrap_or_else(|| panic!("no `In progress` rule: {v}"));
    assert_eq!(rule["from_code"], "on_order", "{v}");
    assert_eq!(rule["to_code"], "Potwierdzony", "{v}");
    let shop = codes(&link["unmapped_shop"]);
    assert!(shop.contains(&"suspended".to_owned()), "{shop:?}");
    assert!(!shop.contains(&"on_order".to_owned()), "{shop:?}");
    assert!(
        codes(&link["unmapped_erp"])
            .iter()
            .all(|c| c != "Potwierdzony"),
        "{v}"
    );
    let text = env.ok(&["mapping", "show"]);
    assert!(text.contains("In progress [on_order]"), "{text}");
    assert!(
        text.contains("not mapped into the ERP") && text.contains("suspended"),
        "{text}"
    );
}

#[test]
fn history_tells_a_never_seen_order_from_one_seen_and_left_alone() {
    let env = SyncEnv::new(5, TO_SHOP, MAPPING);
    env.sync_once();
    let never = env.json(&["history", "--order", "99999"]);
    assert_eq!(never["verdict"], "never_seen", "{never}");
    let summary = never["summary"].as_str().unwrap_or_default();
    assert!(
        summary.contains("never seen") && summary.contains("since 20"),
        "{summary}"
    );
    let seen = env.json(&["history", "--order", "1"]);
    assert_ne!(seen["verdict"], "never_seen", "{seen}");
    assert_eq!(seen["known"][0]["link"], "main", "{seen}");
    assert!(seen["known"][0]["erp_status"].is_string(), "{seen}");
    let text = env.ok(&["history", "--order", "99999"]);
    assert!(text.contains("never seen by any link"), "{text}");
    let text = env.ok(&["history", "--order", "1"]);
    assert!(!text.contains("never seen"), "{text}");
    assert!(text.contains("90d"), "the retention is shown: {text}");
}

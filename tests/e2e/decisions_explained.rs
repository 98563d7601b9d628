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

#[test]
fn resync_since_a_moment_rereads_the_changes_since_and_rewrites_only_what_drifted() {
    let env = SyncEnv::new(10, TO_SHOP, MAPPING);
    env.sync_once();
    let followed = env.json(&["history", "--order", "1"])["feeds"][0]["followed_since"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("no checkpoint after the first sync"));
    let (a, b) = ("2", "3");
    env.sims.set_erp_status(a, "Zaakceptowany");
    env.sims.set_erp_status(b, "Potwierdzony");
    env.sync_once();
    assert_eq!(env.sims.shop_status(a), "packed");
    // A shop operator undoes it by hand; the link follows only the ERP's feed, so it stays.
    env.sims.set_shop_status(a, "new");
    let r = env.json(&["resync", "--link", "main", "--since", &followed]);
    assert_eq!(env.sims.shop_status(a), "packed", "{r}");
    assert_eq!(env.sims.shop_status(b), "on_order", "{r}");
    let applied: Vec<&str> = r["cycle"]["applied"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(
        applied.len(),
        1,
        "only the drifted order is written again: {r}"
    );
    assert!(applied[0].starts_with(&format!("shop {a}:")), "{r}");
    let pulled = r["cycle"]["pulled"].as_u64().unwrap_or(0);
    assert!(
        (2..10).contains(&pulled),
        "only the changes since then are re-read: {r}"
    );
    assert!(r["cursors"][0]["checkpoint_at"].is_string(), "{r}");

    // Before the oldest checkpoint: the feed starts over from the connector's start point.
    let r = env.json(&["resync", "--link", "main", "--since", "2h"]);
    assert_eq!(r["cursors"][0]["checkpoint_at"], Value::Null, "{r}");
    assert!(
        r["cursors"][0]["note"]
            .as_str()
            .unwrap_or("")
            .contains("start point"),
        "{r}"
    );
    assert_eq!(r["cycle"]["pulled"], 10, "{r}");
    assert_eq!(
        r["cycle"]["applied"].as_array().map(Vec::len),
        Some(0),
        "{r}"
    );

    let out = env.orderlink(&["resync", "--link", "main", "--since", "yesterday"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--since: `yesterday`"));
}

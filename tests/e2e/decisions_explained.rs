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
    // An order invoiced in the ERP is out of the link's scope: history says so.
    let invoiced = &open_keys(&env, 5)[0];
    env.sims.erp_action(invoiced, "approve");
    env.sims.erp_action(invoiced, "invoice");
    env.sims.set_erp_status(invoiced, "Zaakceptowany");
    env.sync_once();
    let h = env.json(&["history", "--order", invoiced]);
    assert_ne!(h["verdict"], "never_seen", "{h}");
    let summary = h["summary"].as_str().unwrap_or_default();
    assert!(summary.contains("out of scope: fulfilled"), "{h}");
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

/// Keys of ZOs with no sales document yet, in a status the shop may change.
fn open_keys(env: &SyncEnv, n: usize) -> Vec<String> {
    (1..=n)
        .map(|k| k.to_string())
        .filter(|k| {
            let zo = env.sims.erp.get(&format!("/_sim/documents/by-obcy/{k}"));
            zo.get("Zrealizowane").and_then(Value::as_bool) == Some(false)
                && zo.get("Stan").and_then(Value::as_str) != Some("Anulowany")
                && zo.get("Stan").and_then(Value::as_str) != Some("Zablokowany")
        })
        .collect()
}

fn verdict(e: &Value) -> &Value {
    &e["verdicts"][0]
}

#[test]
fn explain_says_what_the_next_cycle_would_do_and_writes_nothing() {
    let env = SyncEnv::new(12, TO_SHOP, MAPPING);
    env.sync_once();
    let keys = open_keys(&env, 12);
    let (changed, protected, invoiced, calm) = (&keys[0], &keys[1], &keys[2], &keys[3]);
    env.sims.set_erp_status(changed, "Zaakceptowany");
    env.sims.set_shop_status(protected, "finished");
    env.sims.set_erp_status(protected, "Zaakceptowany");
    env.sims.erp_action(invoiced, "approve");
    env.sims.erp_action(invoiced, "invoice");
    env.sims.set_erp_status(invoiced, "Zaakceptowany");
    let shop_before = env.sims.shop_status(changed);

    let e = env.json(&["explain", "--order", changed]);
    let v = verdict(&e);
    assert_eq!(v["action"], "write", "{e}");
    assert_eq!(v["wanted"], "packed", "{e}");
    assert_eq!(v["feed_has_change"], true, "{e}");
    assert_eq!(e["in_sync"], false, "{e}");
    let next = e["next_cycle"][0].as_str().unwrap_or_default();
    assert!(
        next.contains("reads it from the enova365 feed") && next.contains("packed"),
        "{e}"
    );
    assert_eq!(
        env.sims.shop_status(changed),
        shop_before,
        "explain wrote to the shop"
    );

    let e = env.json(&["explain", "--order", protected]);
    assert_eq!(verdict(&e)["skip_reason"], "protected", "{e}");
    let e = env.json(&["explain", "--order", invoiced]);
    assert_eq!(verdict(&e)["skip_reason"], "out of scope: fulfilled", "{e}");
    let e = env.json(&["explain", "--order", calm]);
    assert_eq!(e["in_sync"], true, "{e}");
    assert_eq!(verdict(&e)["feed_has_change"], false, "{e}");
    assert!(
        e["next_cycle"][0]
            .as_str()
            .unwrap_or_default()
            .starts_with("leaves it alone"),
        "{e}"
    );
    let text = env.ok(&["explain", "--order", changed]);
    assert!(
        text.contains("the next cycle:") && text.contains("sets the shop"),
        "{text}"
    );
    // What explain predicted is what the cycle does.
    env.sync_once();
    assert_eq!(env.sims.shop_status(changed), "packed");
    assert_eq!(env.sims.shop_status(protected), "finished");
}

#[test]
fn reconcile_reports_drift_with_causes_and_fix_queues_writes_through_the_outbox() {
    let env = SyncEnv::new(20, TO_SHOP, MAPPING);
    env.sync_once();
    let keys = open_keys(&env, 20);
    let (by_hand, protected) = (&keys[0], &keys[1]);
    let erp_of = |k: &str| env.sims.erp_status(k);
    // A shop operator changes one order by hand; another is closed in the shop.
    env.sims.set_shop_status(by_hand, "suspended");
    env.sims.set_shop_status(protected, "finished");
    if erp_of(protected) == "Zaakceptowany" {
        env.sims.set_erp_status(protected, "Potwierdzony");
        env.sync_once();
    }
    // An order both systems have but no feed has reported yet.
    env.sims.shop.post(
        "/_sim/orders",
        serde_json::json!({"orderSerialNumber": 21, "orderStatus": "new"}),
    );
    env.sims.erp.post(
        "/_sim/documents",
        serde_json::json!({"ObcyNumer": "21", "Potwierdzenie": "Potwierdzony", "Stan": "Zatwierdzony"}),
    );
    let before = env.sims.request_counts();
    let r = env.json(&["reconcile", "--link", "main"]);
    let after = env.sims.request_counts();
    let drift = r["drift"].as_array().cloned().unwrap_or_default();
    let find = |k: &str| {
        drift
            .iter()
            .find(|d| d["key"] == k)
            .cloned()
            .unwrap_or_else(|| panic!("order {k} not reported as drifting: {r}"))
    };
    let d = find(by_hand);
    assert_eq!(d["cause"], "changed outside orderlink", "{r}");
    assert_eq!(d["fixable"], true, "{r}");
    assert_eq!(d["queued"], false, "{r}");
    let d = find("21");
    assert_eq!(d["cause"], "never seen by the feed", "{r}");
    assert_eq!(d["fixable"], true, "{r}");
    assert!(
        r["listing"]
            .as_str()
            .unwrap_or("")
            .contains("enova365 listing"),
        "the ERP lists the unfulfilled orders: {r}"
    );
    let d = find(protected);
    assert_eq!(d["cause"], "protected", "{r}");
    assert_eq!(d["fixable"], false, "{r}");
    // The seeded data has drift of its own (e.g. a ZO in `Odrzucony`, which the mapping leaves
    // out): none of it is fixable.
    let fixable: Vec<&Value> = drift.iter().filter(|d| d["fixable"] == true).collect();
    assert_eq!(fixable.len(), 2, "{r}");
    let drifting = drift.len();
    assert!(
        r["compared"].as_u64().unwrap_or(0) >= keys.len() as u64,
        "{r}"
    );
    // The request cost is the connectors' own count, within what the simulators served.
    let cost = |side: &str| {
        r["cost"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["side"] == side))
            .and_then(|c| c["requests"].as_u64())
            .unwrap_or(0)
    };
    assert!(
        cost("shop") >= 1 && cost("shop") <= after.0 - before.0,
        "{r}"
    );
    assert!(cost("erp") >= 1 && cost("erp") <= after.1 - before.1, "{r}");
    assert_eq!(
        env.sims.shop_status(by_hand),
        "suspended",
        "reconcile wrote without --fix"
    );

    let r = env.json(&["reconcile", "--link", "main", "--fix"]);
    assert_eq!(r["queued"], 2, "{r}");
    assert_eq!(
        env.sims.shop_status(by_hand),
        "suspended",
        "--fix queues, the cycle writes"
    );
    let status = env.json(&["status"]);
    assert_eq!(status[0]["pending"], 2, "{status}");
    env.sync_once();
    let want = match erp_of(by_hand).as_str() {
        "Niepotwierdzony" => "new",
        "Potwierdzony" => "on_order",
        _ => "packed",
    };
    assert_eq!(env.sims.shop_status(by_hand), want);
    assert_eq!(env.sims.shop_status("21"), "on_order");
    let r = env.json(&["reconcile", "--link", "main"]);
    assert_eq!(
        r["drift"].as_array().map(Vec::len),
        Some(drifting - 2),
        "{r}"
    );
    let h = env.json(&["history", "--order", by_hand]);
    assert!(
        h["decisions"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|d| d["why"].as_str().unwrap_or("").starts_with("reconcile")),
        "{h}"
    );
    let text = env.ok(&["reconcile", "--link", "main"]);
    assert!(text.contains("API requests: shop `shop`: "), "{text}");
}

#[test]
fn resync_of_given_orders_rewrites_the_drifted_and_skips_the_rest() {
    let env = SyncEnv::new(10, TO_SHOP, MAPPING);
    env.sync_once();
    let keys = open_keys(&env, 10);
    let (drifted, calm) = (&keys[0], &keys[1]);
    let before = env.sims.shop_status(drifted);
    env.sims.set_shop_status(drifted, "suspended");
    let r = env.json(&[
        "resync", "--link", "main", "--order", drifted, calm, "99999",
    ]);
    assert_eq!(env.sims.shop_status(drifted), before, "{r}");
    let applied = r["cycle"]["applied"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(applied.len(), 1, "{r}");
    let calm_v = r["verdicts"]
        .as_array()
        .and_then(|v| {
            v.iter().find(|v| {
                v["source_status"].is_string()
                    && v["target_status"] == env.sims.shop_status(calm).as_str()
                    && v["action"] == "skip"
            })
        })
        .cloned();
    assert!(calm_v.is_some_and(|v| v["skip_reason"] == "in sync"), "{r}");
    assert!(
        r["missing"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|m| m.as_str().unwrap_or("").starts_with("99999")),
        "{r}"
    );
}

//! The change feed by (`Zmieniono`, `ID`) over both transports: changes made while paging, the
//! overlap re-read without duplicates, orderlink's own writes left out; reads by key in batches;
//! what an order state carries.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use orderlink_plugin_api::model::{
    ApplyRequest, ChangesPage, ChangesRequest, OrderState, ReadRequest, StatusUpdate,
};
use orderlink_plugin_api::sdk::Connector;
use serde_json::json;

use crate::support::{config, configs, connect, with, Sim};

fn page(c: &dyn Connector, cursor: Option<String>) -> ChangesPage {
    c.changes(&ChangesRequest { cursor, limit: 100 })
        .unwrap_or_else(|e| panic!("changes: {e}"))
}

/// Pages until caught up; every order returned, and the cursor.
fn drain(c: &dyn Connector, cursor: Option<String>) -> (Vec<OrderState>, String, u64) {
    let mut seen = Vec::new();
    let mut cursor = cursor;
    let mut pages = 0;
    loop {
        let p = page(c, cursor.clone());
        pages += 1;
        seen.extend(p.orders);
        cursor = Some(p.next_cursor);
        if !p.has_more {
            return (seen, cursor.unwrap_or_default(), pages);
        }
    }
}

fn set_clock(sim: &Sim, at: &str) {
    sim.post("/_sim/clock", json!({ "now": at }));
}

#[test]
fn the_feed_sees_changes_made_while_paging_once_and_nothing_twice() {
    let sim = Sim::start(&[]);
    for (transport, cfg) in configs(&sim) {
        set_clock(&sim, "2030-03-02T10:00:00+01:00");
        sim.seed(11, 248);
        sim.create(json!({"ObcyNumer": "L-1", "Stan": "Bufor"}));
        sim.create(json!({"ObcyNumer": "L-2", "Stan": "Bufor"}));
        let c = connect(&cfg);
        let first = page(&c, None);
        assert_eq!(first.orders.len(), 100, "{transport}");
        assert!(first.has_more);

        // While the host pages, an ERP user changes one order already read and one not yet.
        set_clock(&sim, "2030-03-02T10:00:01+01:00");
        let read_one = first
            .orders
            .iter()
            .find(|o| o.key != "L-1" && o.key != "L-2");
        let read_one = read_one.unwrap_or_else(|| panic!("no order"));
        let (read_key, read_status) = (read_one.key.clone(), read_one.status.clone());
        let new_status = if read_status == "Odrzucony" {
            "Potwierdzony"
        } else {
            "Odrzucony"
        };
        let (status, _) = sim.call(
            reqwest::Method::PATCH,
            &format!("/_sim/documents/by-obcy/{read_key}"),
            Some(json!({"Cechy": {"Sklep": new_status}})),
        );
        assert_eq!(status, 200);
        let unread = (1..=248)
            .map(|i| i.to_string())
            .find(|k| first.orders.iter().all(|o| &o.key != k))
            .unwrap_or_default();
        let (status, _) = sim.call(
            reqwest::Method::PATCH,
            &format!("/_sim/documents/by-obcy/{unread}"),
            Some(json!({"Cechy": {"Sklep": "shop2"}})),
        );
        assert_eq!(status, 200);

        let (rest, cursor, pages) = drain(&c, Some(first.next_cursor.clone()));
        let mut count: BTreeMap<String, usize> = BTreeMap::new();
        for o in first.orders.iter().chain(&rest) {
            *count.entry(o.key.clone()).or_default() += 1;
        }
        assert_eq!(count.len(), 250, "{transport}: every order is seen");
        assert_eq!(
            count.get(&read_key),
            Some(&2),
            "{transport}: changed after it was read"
        );
        assert_eq!(count.get(&unread), Some(&1), "{transport}");
        assert_eq!(pages, 2, "{transport}: 151 more at 100 a page");

        // Caught up: the next polls re-read the overlap and return nothing again.
        set_clock(&sim, "2030-03-02T10:00:03+01:00");
        let before = sim.served("PobierzZamowienia");
        let (again, cursor, _) = drain(&c, Some(cursor));
        assert!(again.is_empty(), "{transport}: {again:?}");
        assert_eq!(
            sim.served("PobierzZamowienia") - before,
            1,
            "one request when idle"
        );
        // A change inside the overlap window with an earlier time (a late commit) is caught.
        set_clock(&sim, "2030-03-02T10:00:02+01:00");
        sim.act("L-1", "potwierdzenie", json!({"value": "Odrzucony"}));
        sim.act("L-2", "potwierdzenie", json!({"value": "Niepotwierdzony"}));
        set_clock(&sim, "2030-03-02T10:00:04+01:00");
        let (late, cursor, _) = drain(&c, Some(cursor));
        let keys: Vec<&str> = late.iter().map(|o| o.key.as_str()).collect();
        // L-2 already had the value: no change, nothing to report.
        assert_eq!(keys, ["L-1"], "{transport}");
        set_clock(&sim, "2030-03-02T10:01:00+01:00");
        assert!(drain(&c, Some(cursor)).0.is_empty(), "{transport}");
        sim.post("/_sim/clock", json!({"now": null}));
    }
}

#[test]
fn the_feed_leaves_out_orderlinks_own_writes() {
    let sim = Sim::start(&[]);
    sim.create(json!({"ObcyNumer": "W-1", "Stan": "Bufor"}));
    sim.create(json!({"ObcyNumer": "W-2", "Stan": "Bufor"}));
    for (transport, cfg) in configs(&sim) {
        let c = connect(&cfg);
        let (_, cursor, _) = drain(&c, None);
        let target = if transport == "dynamic" {
            "Potwierdzony"
        } else {
            "Zaakceptowany"
        };
        let out = c
            .apply(&ApplyRequest {
                updates: vec![StatusUpdate {
                    key: "W-1".into(),
                    status: target.into(),
                    expected_version: None,
                    expected_status: None,
                }],
            })
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(out.outcomes[0].changed, "{transport}");
        sim.act("W-2", "potwierdzenie", json!({"value": target}));
        let (seen, _, _) = drain(&c, Some(cursor));
        let keys: Vec<&str> = seen.iter().map(|o| o.key.as_str()).collect();
        assert_eq!(
            keys,
            ["W-2"],
            "{transport}: its own write is not an echo to process"
        );
        // Without the operator configured, the feed includes it.
        let all = connect(&with(config(&sim), json!({"operator": null})));
        let (seen, _, _) = drain(&all, None);
        assert!(seen.iter().any(|o| o.key == "W-1"), "{transport}");
    }
}

#[test]
fn documents_without_a_key_are_skipped_but_passed() {
    let sim = Sim::start(&[]);
    sim.create(json!({"ObcyNumer": ""}));
    sim.create(json!({"ObcyNumer": "K-1"}));
    sim.create(json!({}));
    let c = connect(&config(&sim));
    let p = page(&c, None);
    let keys: Vec<&str> = p.orders.iter().map(|o| o.key.as_str()).collect();
    assert_eq!(keys, vec!["K-1"]);
    assert!(!p.has_more);
    assert!(p.next_cursor.starts_with("z1;"), "{}", p.next_cursor);
}

#[test]
fn an_order_state_carries_status_fulfilment_and_dates() {
    let sim = Sim::start(&[]);
    let zo = sim.create(
        json!({"ObcyNumer": "F-1", "Data": "2026-01-15", "Stan": "Bufor",
        "Potwierdzenie": "Zaakceptowany"}),
    );
    sim.create(json!({"ObcyNumer": "F-2", "Data": "2026-07-15"}));
    let c = connect(&config(&sim));
    let read = |keys: &[&str]| {
        c.read(&ReadRequest {
            keys: keys.iter().map(|k| k.to_string()).collect(),
        })
        .unwrap_or_else(|e| panic!("read: {e}"))
    };
    let r = read(&["F-1", "F-2"]);
    let f1 = &r.orders[0];
    assert_eq!(f1.key, "F-1");
    assert_eq!(f1.id, zo["ID"].as_u64().map(|i| i.to_string()));
    assert_eq!(f1.status, "Zaakceptowany");
    assert_eq!(f1.fulfilled, Some(false));
    let utc = |s: &str| {
        DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    };
    // `Data` is a Polish date: midnight in Warsaw (CET in January, CEST in July).
    assert_eq!(f1.created_at, utc("2026-01-14T23:00:00Z"));
    assert_eq!(r.orders[1].created_at, utc("2026-07-14T22:00:00Z"));
    assert_eq!(f1.changed_at, zo["Zmieniono"].as_str().and_then(utc));
    assert_eq!(f1.version, None, "no Stamp: the contract has no version");

    sim.act("F-1", "approve", json!({}));
    let after = sim.act("F-1", "receipt", json!({}));
    let f1 = read(&["F-1"]).orders.remove(0);
    assert_eq!(f1.fulfilled, Some(true));
    assert!(after["DokumentySprzedazy"][0]
        .as_str()
        .is_some_and(|n| n.starts_with("PAR/")));
}

#[test]
fn reads_by_key_go_in_batches_of_the_page_size() {
    let sim = Sim::start(&[]);
    sim.seed(12, 250);
    for (transport, cfg) in configs(&sim) {
        sim.post("/_sim/counters/reset", json!({}));
        let c = connect(&cfg);
        let mut keys: Vec<String> = (1..=250).map(|i| i.to_string()).collect();
        keys.extend(["9999".to_owned(), "".to_owned(), "17".to_owned()]);
        let r = c
            .read(&ReadRequest { keys })
            .unwrap_or_else(|e| panic!("read: {e}"));
        assert_eq!(r.orders.len(), 250, "{transport}");
        assert_eq!(r.missing, vec!["9999".to_owned(), "".to_owned()]);
        assert_eq!(r.orders[16].key, "17");
        assert_eq!(
            sim.served("PobierzZamowienia"),
            3,
            "{transport}: 251 distinct keys, 100 a request"
        );
    }
}

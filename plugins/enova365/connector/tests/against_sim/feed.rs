//! The change feed by `Stamp`, reads by key in batches, and what an order state carries.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use orderlink_plugin_api::model::{ChangesPage, ChangesRequest, OrderState, ReadRequest};
use orderlink_plugin_api::sdk::Connector;
use serde_json::json;

use crate::support::{config, connect, Sim};

fn page(c: &dyn Connector, cursor: Option<String>) -> ChangesPage {
    c.changes(&ChangesRequest { cursor, limit: 100 })
        .unwrap_or_else(|e| panic!("changes: {e}"))
}

#[test]
fn the_feed_pages_by_stamp_and_sees_documents_changed_while_paging() {
    let sim = Sim::start(&[]);
    sim.seed(11, 250);
    let c = connect(&config(&sim));

    let first = page(&c, None);
    assert_eq!(first.orders.len(), 100);
    assert!(first.has_more);
    let keys: Vec<&str> = first.orders.iter().map(|o| o.key.as_str()).collect();
    let expected: Vec<String> = (1..=100).map(|i| i.to_string()).collect();
    assert_eq!(
        keys,
        expected.iter().map(String::as_str).collect::<Vec<_>>()
    );

    // While the host pages, an ERP user edits one order already read and one not read yet.
    let before_5 = sim.zo("5");
    let new_5 = if before_5["Potwierdzenie"] == "Odrzucony" {
        "Potwierdzony"
    } else {
        "Odrzucony"
    };
    sim.act("5", "potwierdzenie", json!({"value": new_5}));
    let (status, _) = sim.call(
        reqwest::Method::PATCH,
        "/_sim/documents/by-obcy/200",
        Some(json!({"Cechy": {"Sklep": "shop2"}})),
    );
    assert_eq!(status, 200);

    let mut seen: Vec<OrderState> = first.orders.clone();
    let mut cursor = first.next_cursor.clone();
    let mut pages = 1;
    loop {
        let p = page(&c, Some(cursor.clone()));
        pages += 1;
        seen.extend(p.orders);
        assert!(p.next_cursor.parse::<u64>().ok() >= cursor.parse::<u64>().ok());
        cursor = p.next_cursor;
        if !p.has_more {
            break;
        }
    }
    let mut count: BTreeMap<&str, usize> = BTreeMap::new();
    for o in &seen {
        *count.entry(o.key.as_str()).or_default() += 1;
    }
    assert_eq!(count.len(), 250, "every order is seen");
    assert_eq!(
        count.get("5"),
        Some(&2),
        "the order changed after it was read comes again"
    );
    assert_eq!(count.get("200"), Some(&1));
    let last_5 = seen
        .iter()
        .rev()
        .find(|o| o.key == "5")
        .map(|o| o.status.clone());
    assert_eq!(last_5.as_deref(), Some(new_5));

    // The end of the feed: nothing new, the cursor stays.
    let end = page(&c, Some(cursor.clone()));
    assert!(end.orders.is_empty() && !end.has_more);
    assert_eq!(end.next_cursor, cursor);

    // Every request is counted, by the connector and by the simulator alike.
    let usage = c.api_usage();
    assert_eq!(
        usage.by_endpoint.get("PobierzZamowienia"),
        Some(&(pages + 1))
    );
    assert_eq!(sim.served("PobierzZamowienia"), pages + 1);
    assert_eq!(pages, 3, "251 changes at 100 a page");
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
    let max = sim.get("/_sim/state")["max_stamp"].as_u64();
    assert_eq!(p.next_cursor.parse::<u64>().ok(), max);
    assert!(!p.has_more);
}

#[test]
fn an_order_state_carries_status_fulfilment_dates_and_version() {
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
    assert!(f1.changed_at.is_some());
    assert_eq!(f1.version, zo["Stamp"].as_u64().map(|s| s.to_string()));

    // Only an approved ZO can be invoiced; the invoice makes it fulfilled and moves the stamp.
    let (status, _) = sim.call(
        reqwest::Method::POST,
        "/_sim/documents/by-obcy/F-1/invoice",
        None,
    );
    assert_eq!(status, 409);
    sim.act("F-1", "approve", json!({}));
    let after = sim.act("F-1", "receipt", json!({}));
    let f1 = read(&["F-1"]).orders.remove(0);
    assert_eq!(f1.fulfilled, Some(true));
    assert_eq!(f1.version, after["Stamp"].as_u64().map(|s| s.to_string()));
    assert!(after["DokumentySprzedazy"][0]
        .as_str()
        .is_some_and(|n| n.starts_with("PAR/")));
}

#[test]
fn reads_by_key_go_in_batches_of_the_page_size() {
    let sim = Sim::start(&[]);
    sim.seed(12, 250);
    let c = connect(&config(&sim));
    let mut keys: Vec<String> = (1..=250).map(|i| i.to_string()).collect();
    keys.extend(["9999".to_owned(), "".to_owned(), "17".to_owned()]);
    let r = c
        .read(&ReadRequest { keys })
        .unwrap_or_else(|e| panic!("read: {e}"));
    assert_eq!(r.orders.len(), 250);
    assert_eq!(r.missing, vec!["9999".to_owned(), "".to_owned()]);
    assert_eq!(r.orders[16].key, "17");
    assert_eq!(
        sim.served("PobierzZamowienia"),
        3,
        "251 distinct keys, 100 a request"
    );
}

//! The change feed through the real plugin file: every change exactly once, through paging,
//! same-second bursts and edits landing while it pages.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{connect, counters, drain, keys, settle, sim};
use orderlink_plugin_api::model::{ChangesRequest, OrderState};
use orderlink_plugin_api::sdk::Connector;
use rand::{Rng, SeedableRng};
use serde_json::json;

#[test]
fn pages_through_every_change_once_with_few_requests() {
    let sim = sim(&["--orders", "1000", "--seed", "3"]);
    let control = sim.control();
    let c = connect(&sim, json!({ "initial_lookback_hours": 96 }));
    control.reset_counters().expect("reset");

    let (end, all) = drain(&c, None, 100).expect("drain");
    let got: Vec<&str> = all.iter().map(|o| o.key.as_str()).collect();
    assert_eq!(keys(&all).len(), got.len(), "an order came twice");
    assert_eq!(
        keys(&all),
        (1..=1000).map(|n| n.to_string()).collect::<BTreeSet<_>>()
    );
    let n = counters(&control);
    // 1000 orders in pages of 100, three searches finding out what the shop does with sorts
    // and ranges, and the custom-status list.
    let searches = n.get("POST /orders/orders/search").copied().unwrap_or(0);
    assert_eq!(searches, 10 + 3, "{n:?}");
    assert_eq!(n.get("GET /orders/statuses"), Some(&1), "{n:?}");
    for o in &all {
        assert!(o.created_at.is_some() && o.changed_at.is_some(), "{o:?}");
        assert_eq!(o.id.as_deref(), Some(format!("shop1-{}", o.key).as_str()));
    }

    // Nothing new: no orders, one search.
    settle();
    control.reset_counters().expect("reset");
    let (end, again) = drain(&c, Some(end), 100).expect("drain");
    assert!(again.is_empty(), "{:?}", keys(&again));
    assert_eq!(
        counters(&control).get("POST /orders/orders/search"),
        Some(&1)
    );

    // A burst of 250 changes in the same second, read 7 at a time.
    control
        .define_status(45, 3, "Packed by team B")
        .expect("custom status");
    let burst = control
        .post(
            "/_sim/bulk-status",
            &json!({ "from": 101, "to": 350, "statusId": 45 }),
        )
        .expect("bulk");
    assert_eq!(burst["changed"], 250);
    control.touch(900).expect("edit");
    settle();
    let vocabulary = c.vocabulary().expect("vocabulary");
    assert!(vocabulary.resolve("id:45").is_some());
    control.reset_counters().expect("reset");
    let (end_burst, burst_100) = drain(&c, Some(end.clone()), 100).expect("drain");
    // N changes cost at most ceil(N / 100) + 1 searches.
    assert_eq!(burst_100.len(), 251);
    let searches = counters(&control)
        .get("POST /orders/orders/search")
        .copied()
        .unwrap_or(0);
    assert!(searches <= 3 + 1, "{searches} searches for 251 changes");
    let (_, none) = drain(&c, Some(end_burst), 100).expect("drain");
    assert!(none.is_empty());
    // The same changes read 7 at a time.
    let (_, burst) = drain(&c, Some(end), 7).expect("drain");
    let burst_keys: Vec<String> = burst.iter().map(|o| o.key.clone()).collect();
    assert_eq!(burst_keys.len(), 251, "every change once");
    let expected: BTreeSet<String> = (101..=350).chain([900]).map(|n| n.to_string()).collect();
    assert_eq!(keys(&burst), expected);
    for o in burst.iter().filter(|o| o.key != "900") {
        assert_eq!(o.status, "45", "{o:?}");
    }
}

/// Polls as the host does: again after `poll_after_ms` when the page says, until `want`
/// orders came or `polls` polls were made.
fn poll_like_the_host(
    c: &dyn Connector,
    cursor: String,
    want: usize,
    polls: usize,
) -> (String, Vec<OrderState>, Vec<u64>) {
    let mut cursor = cursor;
    let mut got = Vec::new();
    let mut waits = Vec::new();
    for _ in 0..polls {
        let page = c
            .changes(&ChangesRequest {
                cursor: Some(cursor.clone()),
                limit: 100,
            })
            .expect("changes");
        got.extend(page.orders);
        cursor = page.next_cursor;
        if page.has_more {
            continue;
        }
        if got.len() >= want {
            break;
        }
        let wait = page.poll_after_ms.unwrap_or(1_000);
        waits.push(wait);
        std::thread::sleep(Duration::from_millis(wait));
    }
    (cursor, got, waits)
}

#[test]
fn a_change_is_held_until_its_second_settles_then_comes_once() {
    let sim = sim(&["--orders", "50", "--seed", "2"]);
    let control = sim.control();
    let c = connect(&sim, json!({ "initial_lookback_hours": 96 }));
    let (end, _) = drain(&c, None, 100).expect("drain");
    // Three changes of one order, probably within one second: its state once it settled.
    for status in ["lost", "missing", "false"] {
        control
            .post(
                "/_sim/orders/5/status",
                &json!({ "status": status, "force": true }),
            )
            .expect("operator change");
    }
    let page = c
        .changes(&ChangesRequest {
            cursor: Some(end.clone()),
            limit: 100,
        })
        .expect("changes");
    assert!(page.orders.is_empty(), "not settled yet: {:?}", page.orders);
    let wait = page
        .poll_after_ms
        .expect("the feed says when to poll again");
    assert!((50..=3_100).contains(&wait), "{wait}");
    let (cursor, orders, waits) = poll_like_the_host(&c, page.next_cursor, 1, 6);
    assert_eq!(keys(&orders), BTreeSet::from(["5".to_owned()]), "{waits:?}");
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0].status, "false");
    assert!(waits.iter().all(|w| *w <= 3_100), "{waits:?}");
    // Never again; a later change does come.
    let (cursor, orders, _) = poll_like_the_host(&c, cursor, 1, 2);
    assert!(orders.is_empty(), "{orders:?}");
    control.set_status(6, "lost").expect("operator change");
    let (_, orders, _) = poll_like_the_host(&c, cursor, 1, 6);
    assert_eq!(keys(&orders), BTreeSet::from(["6".to_owned()]));
}

#[test]
fn the_cursor_starts_at_the_configured_lookback() {
    let sim = sim(&[]);
    let control = sim.control();
    let hours_ago = |h: i64| {
        (chrono::Utc::now().with_timezone(&chrono_tz::Europe::Warsaw) - chrono::Duration::hours(h))
            .format("%Y-%m-%d %H:%M:%S")
            .to_string()
    };
    control
        .create_order(&json!({ "orderSerialNumber": 1, "orderStatus": "on_order",
            "orderAddDate": hours_ago(24 * 10), "orderChangeDate": hours_ago(30) }))
        .expect("create");
    control
        .create_order(&json!({ "orderSerialNumber": 2, "orderStatus": "packed",
            "orderAddDate": hours_ago(3), "orderChangeDate": hours_ago(2) }))
        .expect("create");
    let default = connect(&sim, json!({}));
    let (_, recent) = drain(&default, None, 100).expect("drain");
    assert_eq!(keys(&recent), BTreeSet::from(["2".to_owned()]));
    let wide = connect(&sim, json!({ "initial_lookback_hours": 48 }));
    let (_, both) = drain(&wide, None, 100).expect("drain");
    assert_eq!(
        keys(&both),
        BTreeSet::from(["1".to_owned(), "2".to_owned()])
    );
    let old = both.iter().find(|o| o.key == "1").expect("order 1");
    let age = chrono::Utc::now() - old.created_at.expect("created_at");
    assert!(
        (age - chrono::Duration::days(10)).num_seconds().abs() < 5,
        "{age:?}"
    );
}

#[test]
fn order_ids_can_be_the_key() {
    let sim = sim(&["--orders", "20", "--shop", "demo"]);
    let c = connect(
        &sim,
        json!({ "order_key": "orderId", "initial_lookback_hours": 96, "api_version": 8 }),
    );
    let (_, all) = drain(&c, None, 100).expect("drain");
    assert!(keys(&all).contains("demo-5"), "{:?}", keys(&all));
    assert!(all.iter().all(|o| o.key.starts_with("demo-")));
}

/// What the feed said about one order, last.
fn last_states(states: &[OrderState]) -> BTreeMap<String, (String, String)> {
    let mut out = BTreeMap::new();
    for s in states {
        let at = s.changed_at.map(|t| t.to_rfc3339()).unwrap_or_default();
        out.insert(s.key.clone(), (s.status.clone(), at));
    }
    out
}

/// Hammers a shop playing `flags` with edits while the feed pages, and checks every change came
/// once and none was missed; returns the feed's findings about the shop.
fn hammer(flags: &[&str]) -> Vec<(String, String)> {
    const ORDERS: u64 = 600;
    let mut args = vec!["--orders", "600", "--seed", "5"];
    args.extend_from_slice(flags);
    let sim = sim(&args);
    let control = sim.control();
    let c = connect(&sim, json!({ "initial_lookback_hours": 96 }));
    let findings: Vec<(String, String)> = c
        .check()
        .expect("check")
        .findings
        .into_iter()
        .map(|f| (f.name, f.value))
        .collect();
    let (start, initial) = drain(&c, None, 100).expect("initial drain");
    assert_eq!(initial.len() as u64, ORDERS);

    // An operator edits orders for four seconds: single changes, notes, and bursts of a few
    // hundred orders in the same second, while the feed is read in small pages.
    let stop = Arc::new(AtomicBool::new(false));
    let editor = {
        let control = control.clone();
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut rng = rand::rngs::StdRng::seed_from_u64(99);
            let mut touched = BTreeSet::new();
            let statuses = ["packed", "ready", "on_order", "suspended", "packed_ready"];
            let started = Instant::now();
            let mut round = 0u64;
            while started.elapsed() < Duration::from_secs(3) {
                round += 1;
                if round.is_multiple_of(40) {
                    let from = rng.gen_range(1..ORDERS - 150);
                    let status = statuses[rng.gen_range(0..statuses.len())];
                    control.bulk_status(from, from + 149, status).expect("bulk");
                    touched.extend(from..=from + 149);
                } else {
                    let serial = rng.gen_range(1..=ORDERS);
                    if rng.gen_bool(0.2) {
                        control.touch(serial).expect("edit");
                    } else {
                        let status = statuses[rng.gen_range(0..statuses.len())];
                        control.set_status(serial, status).expect("operator change");
                    }
                    touched.insert(serial);
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            stop.store(true, Ordering::SeqCst);
            touched
        })
    };

    let mut seen: Vec<OrderState> = Vec::new();
    let mut cursor = Some(start);
    let mut pages = 0;
    while !stop.load(Ordering::SeqCst) {
        let page = c
            .changes(&ChangesRequest {
                cursor: cursor.clone(),
                limit: 37,
            })
            .expect("changes");
        pages += 1;
        seen.extend(page.orders);
        cursor = Some(page.next_cursor);
        if !page.has_more {
            std::thread::sleep(Duration::from_millis(150));
        }
    }
    let touched = editor.join().expect("the editor finished");
    settle();
    // The window open when the editor stopped, then one up to the settled present.
    let (end, rest) = drain(&c, cursor, 37).expect("final drain");
    seen.extend(rest);
    let (end, rest) = drain(&c, Some(end), 37).expect("final drain");
    seen.extend(rest);
    assert!(
        pages >= 3,
        "the feed was read while orders changed ({pages} pages)"
    );

    // Exactly once: no (order, change date, status) twice.
    let mut told_once = BTreeSet::new();
    for s in &seen {
        let change = (s.key.clone(), s.changed_at, s.status.clone());
        assert!(told_once.insert(change.clone()), "{change:?} came twice");
    }
    // Nothing missed: the last thing said about each order that changed is its state now;
    // orders that did not change (edits that set the status they had) never came.
    let before = last_states(&initial);
    let told = last_states(&seen);
    let mut changed = 0;
    for serial in &touched {
        let key = serial.to_string();
        let order = control.order(*serial).expect("order");
        let now_at =
            common::shop_time_to_utc(order["orderChangeDate"].as_str().unwrap_or_default());
        let now_status = order["orderStatus"].as_str().unwrap_or_default().to_owned();
        if before.get(&key).map(|(_, at)| at) == Some(&now_at) {
            assert!(
                !told.contains_key(&key),
                "order {key} came without a change"
            );
            continue;
        }
        changed += 1;
        let (status, at) = told
            .get(&key)
            .unwrap_or_else(|| panic!("the change of order {key} was missed"));
        assert_eq!((status, at), (&now_status, &now_at), "order {key}");
    }
    assert!(changed > 100, "only {changed} orders changed");
    for key in told.keys() {
        let serial: u64 = key.parse().expect("serial");
        assert!(
            touched.contains(&serial),
            "order {key} came without a change"
        );
    }
    let (_, after) = drain(&c, Some(end), 100).expect("drain");
    assert!(after.is_empty(), "{flags:?}");
    findings
}

fn finding<'a>(findings: &'a [(String, String)], name: &str) -> &'a str {
    findings
        .iter()
        .find(|(n, _)| n == name)
        .map_or("", |(_, v)| v.as_str())
}

#[test]
fn hammered_while_paging_a_shop_that_sorts() {
    let f = hammer(&[]);
    assert_eq!(finding(&f, "orders_sort_by_serial_number"), "honoured (sn)");
    assert_eq!(finding(&f, "orders_date_range_end"), "inclusive");
    assert_eq!(finding(&f, "orders_serial_number_range"), "honoured");
}

#[test]
fn hammered_while_paging_a_shop_that_ignores_every_sort() {
    let f = hammer(&["--ignore-sort"]);
    assert_eq!(finding(&f, "orders_sort_by_serial_number"), "ignored");
    assert_eq!(
        finding(&f, "change_feed_strategy"),
        "serial-range narrowing"
    );
}

#[test]
fn hammered_while_paging_a_shop_with_an_exclusive_date_end() {
    let f = hammer(&["--exclusive-date-end"]);
    assert_eq!(finding(&f, "orders_date_range_end"), "exclusive");
    assert_eq!(finding(&f, "orders_date_range_begin"), "inclusive");
}

#[test]
fn hammered_while_paging_a_shop_that_ignores_sorts_with_an_exclusive_date_end() {
    let f = hammer(&["--ignore-sort", "--exclusive-date-end"]);
    assert_eq!(finding(&f, "orders_sort_by_serial_number"), "ignored");
    assert_eq!(finding(&f, "orders_date_range_end"), "exclusive");
}

//! `list` (ABI 1.2): the orders in a scope, paged, through the real plugin file, whether or not
//! the shop honours a sort.

mod common;

use std::collections::BTreeSet;

use common::{connect, keys, sim};
use orderlink_plugin_api::model::{ListRequest, OrderState};
use orderlink_plugin_api::sdk::Connector;
use orderlink_plugin_api::ErrorKind;
use serde_json::json;

fn list_all(c: &dyn Connector, base: &ListRequest) -> (Vec<OrderState>, Option<u64>, usize) {
    let mut req = base.clone();
    let mut all = Vec::new();
    let mut total = None;
    let mut pages = 0;
    loop {
        let page = c.list(&req).expect("list");
        pages += 1;
        if pages == 1 {
            total = page.total;
        }
        all.extend(page.orders);
        match page.next_cursor {
            Some(next) => req.cursor = Some(next),
            None => return (all, total, pages),
        }
        assert!(pages < 100, "the listing does not end");
    }
}

#[test]
fn lists_every_order_since_a_moment_or_by_key_sorted_or_not() {
    for flags in [vec![], vec!["--ignore-sort"]] {
        let mut args = vec!["--orders", "250", "--seed", "4"];
        args.extend_from_slice(&flags);
        let sim = sim(&args);
        let c = connect(&sim, json!({}));
        let all_req = ListRequest {
            cursor: None,
            limit: 100,
            unfulfilled_only: false,
            created_since: None,
            keys: Vec::new(),
        };
        let (all, total, pages) = list_all(&c, &all_req);
        assert_eq!(all.len(), 250, "{flags:?}");
        assert_eq!(keys(&all).len(), 250, "{flags:?}: an order came twice");
        assert!(pages <= 8, "{flags:?}: {pages} pages");
        if flags.is_empty() {
            assert_eq!(total, Some(250));
        }
        // Created since a moment: exactly the orders added since.
        let since = chrono::Utc::now() - chrono::Duration::hours(30);
        let expected: BTreeSet<String> = all
            .iter()
            .filter(|o| o.created_at.is_some_and(|t| t >= since))
            .map(|o| o.key.clone())
            .collect();
        assert!(!expected.is_empty() && expected.len() < 250);
        let (recent, _, _) = list_all(
            &c,
            &ListRequest {
                created_since: Some(since),
                limit: 40,
                ..all_req.clone()
            },
        );
        assert_eq!(keys(&recent), expected, "{flags:?}");
        // By key: the ones that exist, in pages.
        let wanted: Vec<String> = ["3", "77", "9999", "250"].map(String::from).to_vec();
        let (by_key, _, pages) = list_all(
            &c,
            &ListRequest {
                keys: wanted,
                limit: 2,
                ..all_req.clone()
            },
        );
        assert_eq!(pages, 2);
        assert_eq!(
            keys(&by_key),
            ["3", "77", "250"].map(String::from).into_iter().collect()
        );
        // Fulfilment is the ERP's to know.
        let e = c
            .list(&ListRequest {
                unfulfilled_only: true,
                ..all_req.clone()
            })
            .expect_err("not knowable");
        assert_eq!(e.kind, ErrorKind::Permanent);
        assert!(e.message.contains("fulfilled"), "{e}");
    }
}

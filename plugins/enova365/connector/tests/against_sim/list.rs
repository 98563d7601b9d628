//! The listing of the orders in scope (ABI 1.2 `list`): unfulfilled ones, ones created since a
//! date, or given keys, paged by `ID`.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use orderlink_plugin_api::model::{ListPage, ListRequest};
use orderlink_plugin_api::sdk::Connector;
use serde_json::json;

use crate::support::{config, configs, connect, with, Sim};

fn all(c: &dyn Connector, mut request: ListRequest) -> (Vec<String>, usize) {
    let mut keys = Vec::new();
    let mut pages = 0;
    loop {
        let ListPage {
            orders,
            next_cursor,
            ..
        } = c.list(&request).unwrap_or_else(|e| panic!("list: {e}"));
        pages += 1;
        keys.extend(orders.into_iter().map(|o| o.key));
        match next_cursor {
            Some(cur) => request.cursor = Some(cur),
            None => return (keys, pages),
        }
    }
}

#[test]
fn the_listing_pages_the_orders_in_scope() {
    let sim = Sim::start(&[]);
    sim.seed(51, 120);
    sim.create(json!({"ObcyNumer": "OLD", "Data": "2020-01-01", "Stan": "Bufor"}));
    let unfulfilled: BTreeSet<String> = (1..=120)
        .map(|i| i.to_string())
        .filter(|k| sim.zo(k)["Zrealizowane"] == false)
        .chain(["OLD".to_owned()])
        .collect();
    assert!(unfulfilled.len() < 121, "the seed has fulfilled orders");
    for (transport, cfg) in configs(&sim) {
        let c = connect(&with(cfg, json!({"page_size": 50})));
        let (keys, pages) = all(
            &c,
            ListRequest {
                cursor: None,
                limit: 100,
                unfulfilled_only: true,
                created_since: None,
                keys: vec![],
            },
        );
        let got: BTreeSet<String> = keys.iter().cloned().collect();
        assert_eq!(got, unfulfilled, "{transport}");
        assert_eq!(keys.len(), got.len(), "{transport}: no order twice");
        assert_eq!(
            pages,
            unfulfilled.len().div_ceil(50),
            "{transport}: page_size a page"
        );

        let since = DateTime::parse_from_rfc3339("2021-01-01T00:00:00Z")
            .map(|t| t.with_timezone(&Utc))
            .ok();
        let (keys, _) = all(
            &c,
            ListRequest {
                cursor: None,
                limit: 500,
                unfulfilled_only: false,
                created_since: since,
                keys: vec![],
            },
        );
        assert_eq!(keys.len(), 120, "{transport}: OLD is older");
        let (keys, _) = all(
            &c,
            ListRequest {
                cursor: None,
                limit: 10,
                unfulfilled_only: false,
                created_since: None,
                keys: vec!["OLD".into(), "7".into(), "nope".into()],
            },
        );
        assert_eq!(keys, ["7", "OLD"], "{transport}");
    }
}

#[test]
fn the_listing_with_a_cecha_key_filters_keys_itself() {
    let sim = Sim::start(&[]);
    sim.create(json!({"ObcyNumer": "", "Cechy": {"Nr": "S-1"}}));
    sim.create(json!({"ObcyNumer": "", "Cechy": {"Nr": "S-2"}}));
    sim.create(json!({"ObcyNumer": "", "Cechy": {}}));
    let c = connect(&with(config(&sim), json!({"order_key": "cecha:Nr"})));
    let (keys, _) = all(
        &c,
        ListRequest {
            cursor: None,
            limit: 10,
            unfulfilled_only: false,
            created_since: None,
            keys: vec!["S-2".into()],
        },
    );
    assert_eq!(keys, ["S-2"]);
    let bad = c.list(&ListRequest {
        cursor: Some("x".into()),
        limit: 10,
        ..ListRequest::default()
    });
    assert!(bad.is_err());
}

//! The request bodies the connector sends (checked against the project's schema of them,
//! `plugins/idosell/schema/orders-api.schema.json`, by `tests/schema.rs`).

use serde_json::{json, Map, Value};

use crate::feed::{self, Stamp};

/// A sort of a search: `ordersBy` name and whether descending.
pub type Sort<'a> = (&'a str, bool);

/// One `POST orders/orders/search` body.
#[derive(Debug, Clone, Default)]
pub struct Search<'a> {
    /// `ordersDateType` and the range asked for (`ordersDateBegin`, `ordersDateEnd`).
    pub dates: Option<(&'a str, Option<Stamp>, Option<Stamp>)>,
    /// `ordersSerialNumberRange`.
    pub serials: Option<(u64, u64)>,
    /// `ordersSerialNumbers`.
    pub serial_numbers: Option<Vec<u64>>,
    /// `ordersBy` (one key).
    pub sort: Option<Sort<'a>>,
    /// `resultsLimit` (1 to 100).
    pub limit: u64,
}

impl Search<'_> {
    /// The body, `{"params": {...}}`, with `resultsPage` 0 (the feed never pages by number).
    pub fn body(&self) -> Value {
        let mut params = Map::new();
        let mut range = Map::new();
        if let Some((kind, begin, end)) = self.dates {
            let mut d = Map::new();
            d.insert("ordersDateType".into(), json!(kind));
            if let Some(b) = begin {
                d.insert("ordersDateBegin".into(), json!(feed::format(b)));
            }
            if let Some(e) = end {
                d.insert("ordersDateEnd".into(), json!(feed::format(e)));
            }
            range.insert("ordersDateRange".into(), Value::Object(d));
        }
        if let Some((lo, hi)) = self.serials {
            range.insert(
                "ordersSerialNumberRange".into(),
                json!({ "ordersSerialNumberBegin": lo.max(1), "ordersSerialNumberEnd": hi.max(1) }),
            );
        }
        if !range.is_empty() {
            params.insert("ordersRange".into(), Value::Object(range));
        }
        if let Some(numbers) = &self.serial_numbers {
            params.insert("ordersSerialNumbers".into(), json!(numbers));
        }
        if let Some((name, desc)) = self.sort {
            params.insert(
                "ordersBy".into(),
                json!([{ "elementName": name, "sortDirection": if desc { "DESC" } else { "ASC" } }]),
            );
        }
        params.insert("resultsPage".into(), json!(0));
        params.insert("resultsLimit".into(), json!(self.limit.clamp(1, 100)));
        json!({ "params": params })
    }
}

/// The `PUT orders/orders` body for these orders (each built by the connector).
pub fn put(orders: Vec<Value>) -> Value {
    json!({ "params": { "orders": orders } })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_search_names_only_what_is_set() {
        let body = Search {
            dates: Some(("modified", Some(0), None)),
            serials: Some((5, 9)),
            sort: Some(("sn", false)),
            limit: 500,
            ..Search::default()
        }
        .body();
        let p = &body["params"];
        assert_eq!(
            p["ordersRange"]["ordersDateRange"]["ordersDateBegin"],
            "1970-01-01 00:00:00"
        );
        assert!(p["ordersRange"]["ordersDateRange"]
            .get("ordersDateEnd")
            .is_none());
        assert_eq!(
            p["ordersRange"]["ordersSerialNumberRange"]["ordersSerialNumberEnd"],
            9
        );
        assert_eq!(p["ordersBy"][0]["sortDirection"], "ASC");
        assert_eq!(p["resultsLimit"], 100);
        let bare = Search {
            limit: 10,
            ..Search::default()
        }
        .body();
        assert!(bare["params"].get("ordersRange").is_none());
    }
}

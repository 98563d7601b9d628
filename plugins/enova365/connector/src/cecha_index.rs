//! With `order_key = "cecha:NAME"` the service cannot filter by key, so the connector keeps an
//! index key → (ZO id, change time, state): built by one listing of every ZO by `ID`, then kept
//! current by reading the change feed from the server time of the last scan minus the overlap.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use orderlink_plugin_api::model::OrderState;

use crate::config::OrderKey;
use crate::contract::Zo;
use crate::order_state::{order_state, parse_time};

/// One indexed document.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The ZO's row id.
    pub id: u64,
    /// Its state when last seen.
    pub state: OrderState,
}

/// The index of documents by cecha value.
#[derive(Debug)]
pub struct CechaIndex {
    key: OrderKey,
    /// Every change up to this server time has been seen (`None`: no full scan yet).
    scanned_to: Option<DateTime<Utc>>,
    by_key: HashMap<String, Entry>,
    /// Each seen document's key (if it has one) and change time.
    key_of_id: HashMap<u64, (Option<String>, Option<DateTime<Utc>>)>,
}

impl CechaIndex {
    /// An empty index for this key.
    pub fn new(key: OrderKey) -> Self {
        CechaIndex {
            key,
            scanned_to: None,
            by_key: HashMap::new(),
            key_of_id: HashMap::new(),
        }
    }

    /// The server time the next scan reads the feed from (`None`: a full listing is due).
    pub fn scanned_to(&self) -> Option<DateTime<Utc>> {
        self.scanned_to
    }

    /// Records that every change up to `at` has been seen.
    pub fn scanned(&mut self, at: DateTime<Utc>) {
        self.scanned_to = Some(self.scanned_to.map_or(at, |s| s.max(at)));
    }

    /// Takes in a document seen anywhere (a scan, the change feed); an older copy than the one
    /// indexed is ignored.
    pub fn observe(&mut self, zo: &Zo) {
        let changed = parse_time(&zo.zmieniono);
        if let Some((old_key, old_time)) = self.key_of_id.get(&zo.id).cloned() {
            if matches!((old_time, changed), (Some(old), Some(new)) if old > new) {
                return;
            }
            if let Some(old_key) = old_key {
                if self.by_key.get(&old_key).is_some_and(|e| e.id == zo.id) {
                    self.by_key.remove(&old_key);
                }
            }
        }
        let Some(state) = order_state(zo, &self.key) else {
            self.key_of_id.insert(zo.id, (None, changed));
            return;
        };
        self.key_of_id
            .insert(zo.id, (Some(state.key.clone()), changed));
        self.by_key
            .insert(state.key.clone(), Entry { id: zo.id, state });
    }

    /// The document indexed under a key.
    pub fn get(&self, key: &str) -> Option<&Entry> {
        self.by_key.get(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn zo(id: u64, second: u32, cecha: Option<&str>, status: &str) -> Zo {
        let cechy = match cecha {
            Some(c) => json!({ "NrSklepu": c }),
            None => json!({}),
        };
        serde_json::from_value(json!({
            "ID": id, "Potwierdzenie": status, "Cechy": cechy,
            "Zmieniono": format!("2026-11-30T10:00:{second:02}+01:00")
        }))
        .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn newer_copies_win_and_keys_follow_edits() {
        let mut ix = CechaIndex::new(OrderKey::Cecha("NrSklepu".into()));
        ix.observe(&zo(1, 5, Some("A-1"), "Niepotwierdzony"));
        ix.observe(&zo(2, 6, None, "Niepotwierdzony"));
        assert_eq!(ix.get("A-1").map(|e| e.id), Some(1));
        ix.observe(&zo(1, 9, Some("A-1"), "Potwierdzony"));
        ix.observe(&zo(1, 7, Some("A-1"), "Odrzucony"));
        assert_eq!(
            ix.get("A-1").map(|e| e.state.status.as_str()),
            Some("Potwierdzony")
        );
        // The cecha moves to another value: the old key is gone.
        ix.observe(&zo(1, 10, Some("A-2"), "Potwierdzony"));
        assert!(ix.get("A-1").is_none());
        assert_eq!(ix.get("A-2").map(|e| e.id), Some(1));
        // The cecha is removed: the document leaves the index.
        ix.observe(&zo(1, 11, None, "Potwierdzony"));
        assert!(ix.get("A-2").is_none());
        ix.observe(&zo(1, 10, Some("A-2"), "Potwierdzony"));
        assert!(ix.get("A-2").is_none());
        assert_eq!(ix.scanned_to(), None);
        let t = parse_time("2026-11-30T10:00:11+01:00").unwrap_or_default();
        ix.scanned(t);
        ix.scanned(t - chrono::Duration::seconds(9));
        assert_eq!(ix.scanned_to(), Some(t));
    }
}

//! With `order_key = "cecha:NAME"` the service cannot filter by key, so the connector keeps an
//! index key → (ZO id, stamp, state), built by scanning `PobierzZamowienia` by stamp and kept
//! current by scanning on from the highest stamp it has seen (only what changed since).

use std::collections::HashMap;

use orderlink_plugin_api::model::OrderState;

use crate::config::OrderKey;
use crate::contract::Zo;
use crate::order_state::order_state;

/// One indexed document.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The ZO's row id.
    pub id: u64,
    /// Its stamp when last seen.
    pub stamp: u64,
    /// Its state when last seen.
    pub state: OrderState,
}

/// The index of documents by cecha value.
#[derive(Debug)]
pub struct CechaIndex {
    key: OrderKey,
    /// Every document with a stamp up to this has been seen.
    scanned_to: u64,
    by_key: HashMap<String, Entry>,
    /// Each seen document's key (if it has one) and stamp.
    key_of_id: HashMap<u64, (Option<String>, u64)>,
}

impl CechaIndex {
    /// An empty index for this key.
    pub fn new(key: OrderKey) -> Self {
        CechaIndex {
            key,
            scanned_to: 0,
            by_key: HashMap::new(),
            key_of_id: HashMap::new(),
        }
    }

    /// The stamp to scan on from.
    pub fn scanned_to(&self) -> u64 {
        self.scanned_to
    }

    /// Records that every document up to `stamp` has been seen.
    pub fn scanned(&mut self, stamp: u64) {
        self.scanned_to = self.scanned_to.max(stamp);
    }

    /// Takes in a document seen anywhere (a scan, the change feed); an older copy than the one
    /// indexed is ignored.
    pub fn observe(&mut self, zo: &Zo) {
        if let Some((old_key, old_stamp)) = self.key_of_id.get(&zo.id).cloned() {
            if old_stamp >= zo.stamp {
                return;
            }
            if let Some(old_key) = old_key {
                if self.by_key.get(&old_key).is_some_and(|e| e.id == zo.id) {
                    self.by_key.remove(&old_key);
                }
            }
        }
        let Some(state) = order_state(zo, &self.key) else {
            self.key_of_id.insert(zo.id, (None, zo.stamp));
            return;
        };
        self.key_of_id
            .insert(zo.id, (Some(state.key.clone()), zo.stamp));
        self.by_key.insert(
            state.key.clone(),
            Entry {
                id: zo.id,
                stamp: zo.stamp,
                state,
            },
        );
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

    fn zo(id: u64, stamp: u64, cecha: Option<&str>, status: &str) -> Zo {
        let cechy = match cecha {
            Some(c) => json!({ "NrSklepu": c }),
            None => json!({}),
        };
        serde_json::from_value(json!({
            "ID": id, "Potwierdzenie": status, "Stamp": stamp, "Cechy": cechy
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
        assert_eq!(ix.get("A-1").map(|e| e.stamp), Some(9));
        // The cecha moves to another value: the old key is gone.
        ix.observe(&zo(1, 10, Some("A-2"), "Potwierdzony"));
        assert!(ix.get("A-1").is_none());
        assert_eq!(ix.get("A-2").map(|e| e.id), Some(1));
        // The cecha is removed: the document leaves the index.
        ix.observe(&zo(1, 11, None, "Potwierdzony"));
        assert!(ix.get("A-2").is_none());
        ix.observe(&zo(1, 10, Some("A-2"), "Potwierdzony"));
        assert!(ix.get("A-2").is_none());
        ix.scanned(11);
        ix.scanned(4);
        assert_eq!(ix.scanned_to(), 11);
    }
}

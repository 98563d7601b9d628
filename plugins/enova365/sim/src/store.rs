//! The simulated database: ZO documents indexed by id, by `Stamp` and by `ObcyNumer`, the global
//! row-version counter, and the actions an ERP user (or the service) performs on them.

use std::collections::{BTreeMap, HashMap};

use chrono::{NaiveDate, NaiveDateTime, Utc};
use chrono_tz::Europe::Warsaw;

use crate::model::{Potwierdzenie, SalesKind, Stan, Zo};

/// The server's local time (enova365 servers keep Polish time).
pub fn now_local() -> NaiveDateTime {
    Utc::now().with_timezone(&Warsaw).naive_local()
}

/// The server's local date.
pub fn today_local() -> NaiveDate {
    now_local().date()
}

/// Why an action on a document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActionError {
    /// No such document.
    #[error("{0}")]
    NotFound(String),
    /// The document's state does not allow it.
    #[error("{0}")]
    Refused(String),
}

/// A document to create.
#[derive(Debug, Clone)]
pub struct NewZo {
    /// The foreign number (empty: none). Non-empty numbers are unique.
    pub obcy_numer: String,
    /// Custom fields.
    pub cechy: BTreeMap<String, String>,
    /// The document date.
    pub data: NaiveDate,
    /// The state.
    pub stan: Stan,
    /// The confirmation.
    pub potwierdzenie: Potwierdzenie,
    /// The row guid (generated from the id when absent).
    pub guid: Option<String>,
    /// Sales documents already issued from it.
    pub sales: Vec<SalesKind>,
    /// When it was last written (now when absent).
    pub zmieniono: Option<NaiveDateTime>,
}

/// What `PobierzZamowienia` asks for.
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// Only documents with `Stamp` greater than this.
    pub after: u64,
    /// Only these foreign numbers.
    pub obcy: Option<Vec<String>>,
    /// Only documents dated on or after this day.
    pub created_from: Option<NaiveDate>,
    /// Only documents without a sales document.
    pub only_unfulfilled: bool,
    /// The most documents to return.
    pub limit: usize,
}

/// One page of documents, oldest change first.
#[derive(Debug)]
pub struct Page<'a> {
    /// The documents.
    pub docs: Vec<&'a Zo>,
    /// The highest `Stamp` returned (the query's `after` when none).
    pub max_stamp: u64,
    /// Whether more matching documents follow.
    pub more: bool,
}

/// The documents and their indexes.
#[derive(Debug, Default)]
pub struct Store {
    docs: BTreeMap<u64, Zo>,
    by_stamp: BTreeMap<u64, u64>,
    by_obcy: HashMap<String, u64>,
    last_stamp: u64,
    next_id: u64,
    next_numer: u64,
    next_invoice: u64,
    next_receipt: u64,
}

const FIRST_ID: u64 = 1001;

impl Store {
    /// An empty database.
    pub fn new() -> Self {
        Store {
            next_id: FIRST_ID,
            next_numer: 1,
            next_invoice: 1,
            next_receipt: 1,
            ..Store::default()
        }
    }

    /// Removes every document (the stamp counter keeps growing, like a real rowversion).
    pub fn clear(&mut self) {
        let last_stamp = self.last_stamp;
        *self = Store::new();
        self.last_stamp = last_stamp;
    }

    /// How many documents there are.
    pub fn len(&self) -> usize {
        self.docs.len()
    }

    /// Whether there are no documents.
    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }

    /// The highest stamp given out so far.
    pub fn last_stamp(&self) -> u64 {
        self.last_stamp
    }

    /// A document by id.
    pub fn get(&self, id: u64) -> Option<&Zo> {
        self.docs.get(&id)
    }

    /// The id of the document with this foreign number.
    pub fn id_by_obcy(&self, obcy: &str) -> Option<u64> {
        self.by_obcy.get(obcy).copied()
    }

    fn next_stamp(&mut self) -> u64 {
        self.last_stamp += 1;
        self.last_stamp
    }

    fn sales_number(&mut self, kind: SalesKind) -> String {
        let counter = match kind {
            SalesKind::Invoice => &mut self.next_invoice,
            SalesKind::Receipt => &mut self.next_receipt,
        };
        let n = *counter;
        *counter += 1;
        let year = chrono::Datelike::year(&today_local());
        format!("{}/{n:06}/{year}", kind.symbol())
    }

    /// Creates a document; a non-empty foreign number must be unique.
    pub fn insert(&mut self, new: NewZo) -> Result<&Zo, ActionError> {
        let obcy = new.obcy_numer.trim().to_owned();
        if !obcy.is_empty() && self.by_obcy.contains_key(&obcy) {
            return Err(ActionError::Refused(format!(
                "Numer obcy '{obcy}' jest już użyty w innym dokumencie ZO."
            )));
        }
        let id = self.next_id;
        self.next_id += 1;
        let numer = self.next_numer;
        self.next_numer += 1;
        let sales = new
            .sales
            .iter()
            .map(|k| self.sales_number(*k))
            .collect::<Vec<_>>();
        let stamp = self.next_stamp();
        let zo = Zo {
            id,
            guid: new
                .guid
                .unwrap_or_else(|| format!("00000000-0000-4000-8000-{id:012x}")),
            numer,
            data: new.data,
            stan: new.stan,
            potwierdzenie: new.potwierdzenie,
            obcy_numer: obcy.clone(),
            cechy: new.cechy,
            sales,
            stamp,
            zmieniono: new.zmieniono.unwrap_or_else(now_local),
        };
        if !obcy.is_empty() {
            self.by_obcy.insert(obcy, id);
        }
        self.by_stamp.insert(stamp, id);
        Ok(self.docs.entry(id).or_insert(zo))
    }

    /// Runs a write on a document: `change` returns whether it changed anything; a change gets a
    /// new stamp and modification time.
    fn write<T>(
        &mut self,
        id: u64,
        change: impl FnOnce(&mut Zo) -> Result<(bool, T), ActionError>,
    ) -> Result<T, ActionError> {
        let doc = self.docs.get_mut(&id).ok_or_else(|| {
            ActionError::NotFound(format!("Nie znaleziono dokumentu ZO o ID {id}."))
        })?;
        let (changed, out) = change(doc)?;
        if changed {
            self.last_stamp += 1;
            let stamp = self.last_stamp;
            let old = std::mem::replace(&mut doc.stamp, stamp);
            doc.zmieniono = now_local();
            self.by_stamp.remove(&old);
            self.by_stamp.insert(stamp, id);
        }
        Ok(out)
    }

    /// Sets `Potwierdzenie`: refused on a cancelled or locked document; the value it already has
    /// is no change (no new stamp). Returns whether it changed.
    pub fn set_potwierdzenie(
        &mut self,
        id: u64,
        value: Potwierdzenie,
    ) -> Result<bool, ActionError> {
        self.write(id, |doc| {
            if doc.potwierdzenie == value {
                return Ok((false, false));
            }
            match doc.stan {
                Stan::Anulowany => Err(ActionError::Refused(format!(
                    "Dokument {} jest anulowany: nie można zmienić potwierdzenia.",
                    doc.numer_pelny()
                ))),
                Stan::Zablokowany => Err(ActionError::Refused(format!(
                    "Dokument {} jest zablokowany: nie można zmienić potwierdzenia.",
                    doc.numer_pelny()
                ))),
                Stan::Bufor | Stan::Zatwierdzony => {
                    doc.potwierdzenie = value;
                    Ok((true, true))
                }
            }
        })
    }

    /// Approves a draft. Approving an approved document changes nothing.
    pub fn approve(&mut self, id: u64) -> Result<bool, ActionError> {
        self.write(id, |doc| match doc.stan {
            Stan::Bufor => {
                doc.stan = Stan::Zatwierdzony;
                Ok((true, true))
            }
            Stan::Zatwierdzony => Ok((false, false)),
            other => Err(ActionError::Refused(format!(
                "Dokument {} ma stan {}: nie można go zatwierdzić.",
                doc.numer_pelny(),
                other.name()
            ))),
        })
    }

    /// Issues an invoice or receipt from an approved document, which makes it fulfilled.
    /// Returns the sales document's number.
    pub fn issue_sales(&mut self, id: u64, kind: SalesKind) -> Result<String, ActionError> {
        let stan = self
            .get(id)
            .map(|d| (d.stan, d.numer_pelny()))
            .ok_or_else(|| {
                ActionError::NotFound(format!("Nie znaleziono dokumentu ZO o ID {id}."))
            })?;
        if stan.0 != Stan::Zatwierdzony {
            return Err(ActionError::Refused(format!(
                "Dokument {} ma stan {}: dokument sprzedaży można wystawić tylko z zatwierdzonego ZO.",
                stan.1,
                stan.0.name()
            )));
        }
        let number = self.sales_number(kind);
        self.write(id, |doc| {
            doc.sales.push(number.clone());
            Ok((true, number))
        })
    }

    /// Cancels a document without sales documents. Cancelling a cancelled one changes nothing.
    pub fn cancel(&mut self, id: u64) -> Result<bool, ActionError> {
        self.write(id, |doc| match doc.stan {
            Stan::Anulowany => Ok((false, false)),
            _ if doc.zrealizowane() => Err(ActionError::Refused(format!(
                "Dokument {} ma dokumenty sprzedaży: nie można go anulować.",
                doc.numer_pelny()
            ))),
            Stan::Zablokowany => Err(ActionError::Refused(format!(
                "Dokument {} jest zablokowany: nie można go anulować.",
                doc.numer_pelny()
            ))),
            Stan::Bufor | Stan::Zatwierdzony => {
                doc.stan = Stan::Anulowany;
                Ok((true, true))
            }
        })
    }

    /// Locks a draft or approved document (as the system does while it is processed).
    pub fn lock(&mut self, id: u64) -> Result<bool, ActionError> {
        self.write(id, |doc| match doc.stan {
            Stan::Zablokowany => Ok((false, false)),
            Stan::Anulowany => Err(ActionError::Refused(format!(
                "Dokument {} jest anulowany: nie można go zablokować.",
                doc.numer_pelny()
            ))),
            Stan::Bufor | Stan::Zatwierdzony => {
                doc.stan = Stan::Zablokowany;
                Ok((true, true))
            }
        })
    }

    /// Unlocks a locked document (it becomes approved).
    pub fn unlock(&mut self, id: u64) -> Result<bool, ActionError> {
        self.write(id, |doc| match doc.stan {
            Stan::Zablokowany => {
                doc.stan = Stan::Zatwierdzony;
                Ok((true, true))
            }
            _ => Ok((false, false)),
        })
    }

    /// Edits the foreign number, custom fields or date; every edit is a write (new stamp).
    pub fn edit(
        &mut self,
        id: u64,
        obcy_numer: Option<String>,
        cechy: Option<BTreeMap<String, String>>,
        data: Option<NaiveDate>,
    ) -> Result<(), ActionError> {
        let old_obcy = self.get(id).map(|d| d.obcy_numer.clone()).ok_or_else(|| {
            ActionError::NotFound(format!("Nie znaleziono dokumentu ZO o ID {id}."))
        })?;
        let new_obcy = obcy_numer.map(|o| o.trim().to_owned());
        if let Some(o) = &new_obcy {
            if !o.is_empty() && *o != old_obcy && self.by_obcy.contains_key(o) {
                return Err(ActionError::Refused(format!(
                    "Numer obcy '{o}' jest już użyty w innym dokumencie ZO."
                )));
            }
        }
        self.write(id, |doc| {
            if let Some(o) = &new_obcy {
                doc.obcy_numer = o.clone();
            }
            if let Some(c) = cechy {
                doc.cechy = c;
            }
            if let Some(d) = data {
                doc.data = d;
            }
            Ok((true, ()))
        })?;
        if let Some(o) = new_obcy {
            if o != old_obcy {
                self.by_obcy.remove(&old_obcy);
                if !o.is_empty() {
                    self.by_obcy.insert(o, id);
                }
            }
        }
        Ok(())
    }

    /// Documents changed after `query.after`, oldest change first (keyset paging by stamp).
    pub fn changed_since(&self, query: &Query) -> Page<'_> {
        let matches = |doc: &Zo| {
            !matches!(query.created_from, Some(from) if doc.data < from)
                && (!query.only_unfulfilled || !doc.zrealizowane())
        };
        let limit = query.limit.max(1);
        let mut docs: Vec<&Zo> = match &query.obcy {
            Some(keys) => {
                let mut found: Vec<&Zo> = keys
                    .iter()
                    .filter_map(|k| self.by_obcy.get(k.trim()))
                    .filter_map(|id| self.docs.get(id))
                    .filter(|d| d.stamp > query.after && matches(d))
                    .collect();
                found.sort_by_key(|d| d.stamp);
                found.dedup_by_key(|d| d.id);
                found.truncate(limit + 1);
                found
            }
            None => self
                .by_stamp
                .range(query.after.saturating_add(1)..)
                .filter_map(|(_, id)| self.docs.get(id))
                .filter(|d| matches(d))
                .take(limit + 1)
                .collect(),
        };
        let more = docs.len() > limit;
        docs.truncate(limit);
        let max_stamp = docs.last().map_or(query.after, |d| d.stamp);
        Page {
            docs,
            max_stamp,
            more,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(obcy: &str, stan: Stan) -> NewZo {
        NewZo {
            obcy_numer: obcy.into(),
            cechy: BTreeMap::new(),
            data: today_local(),
            stan,
            potwierdzenie: Potwierdzenie::Niepotwierdzony,
            guid: None,
            sales: vec![],
            zmieniono: None,
        }
    }

    fn id_of(store: &mut Store, obcy: &str, stan: Stan) -> u64 {
        match store.insert(new(obcy, stan)) {
            Ok(zo) => zo.id,
            Err(e) => panic!("insert {obcy}: {e}"),
        }
    }

    #[test]
    fn every_write_grows_the_stamp_and_a_no_op_does_not() {
        let mut s = Store::new();
        let id = id_of(&mut s, "1", Stan::Bufor);
        let before = s.get(id).map(|d| d.stamp);
        assert_eq!(
            s.set_potwierdzenie(id, Potwierdzenie::Potwierdzony),
            Ok(true)
        );
        let after = s.get(id).map(|d| d.stamp);
        assert!(after > before);
        assert_eq!(
            s.set_potwierdzenie(id, Potwierdzenie::Potwierdzony),
            Ok(false)
        );
        assert_eq!(s.get(id).map(|d| d.stamp), after);
        assert_eq!(s.approve(id), Ok(true));
        assert!(s.get(id).map(|d| d.stamp) > after);
        assert_eq!(s.last_stamp(), s.get(id).map_or(0, |d| d.stamp));
    }

    #[test]
    fn only_an_approved_document_gets_a_sales_document() {
        let mut s = Store::new();
        let id = id_of(&mut s, "1", Stan::Bufor);
        assert!(matches!(
            s.issue_sales(id, SalesKind::Invoice),
            Err(ActionError::Refused(_))
        ));
        assert_eq!(s.approve(id), Ok(true));
        let number = s.issue_sales(id, SalesKind::Receipt);
        assert!(matches!(&number, Ok(n) if n.starts_with("PAR/000001/")));
        assert!(s.get(id).is_some_and(|d| d.zrealizowane()));
        assert!(matches!(s.cancel(id), Err(ActionError::Refused(_))));
    }

    #[test]
    fn cancelled_and_locked_documents_refuse_a_new_confirmation() {
        let mut s = Store::new();
        let a = id_of(&mut s, "1", Stan::Anulowany);
        let b = id_of(&mut s, "2", Stan::Zatwierdzony);
        assert_eq!(s.lock(b), Ok(true));
        for id in [a, b] {
            assert!(matches!(
                s.set_potwierdzenie(id, Potwierdzenie::Odrzucony),
                Err(ActionError::Refused(_))
            ));
            // Setting the value it already has is no change, so it is not refused.
            assert_eq!(
                s.set_potwierdzenie(id, Potwierdzenie::Niepotwierdzony),
                Ok(false)
            );
        }
        assert_eq!(s.unlock(b), Ok(true));
        assert_eq!(s.set_potwierdzenie(b, Potwierdzenie::Odrzucony), Ok(true));
    }

    #[test]
    fn foreign_numbers_are_unique_and_follow_edits() {
        let mut s = Store::new();
        let id = id_of(&mut s, "7", Stan::Bufor);
        assert!(s.insert(new("7", Stan::Bufor)).is_err());
        assert!(s.insert(new("", Stan::Bufor)).is_ok());
        assert!(s.insert(new("", Stan::Bufor)).is_ok());
        assert_eq!(s.edit(id, Some("8".into()), None, None), Ok(()));
        assert_eq!(s.id_by_obcy("8"), Some(id));
        assert_eq!(s.id_by_obcy("7"), None);
        assert!(s.insert(new("7", Stan::Bufor)).is_ok());
    }

    #[test]
    fn keyset_paging_sees_a_document_changed_between_pages() {
        let mut s = Store::new();
        let ids: Vec<u64> = (1..=5)
            .map(|i| id_of(&mut s, &i.to_string(), Stan::Bufor))
            .collect();
        let q = |after| Query {
            after,
            limit: 2,
            ..Query::default()
        };
        let (first, cursor, more) = {
            let p = s.changed_since(&q(0));
            (
                p.docs.iter().map(|d| d.id).collect::<Vec<_>>(),
                p.max_stamp,
                p.more,
            )
        };
        assert_eq!(first, ids[..2].to_vec());
        assert!(more);
        // A document already read changes while paging: it comes again, at the end.
        assert_eq!(
            s.set_potwierdzenie(ids[0], Potwierdzenie::Potwierdzony),
            Ok(true)
        );
        let mut seen = Vec::new();
        let mut cursor = cursor;
        loop {
            let p = s.changed_since(&q(cursor));
            seen.extend(p.docs.iter().map(|d| d.id));
            cursor = p.max_stamp;
            if !p.more {
                break;
            }
        }
        assert_eq!(seen, vec![ids[2], ids[3], ids[4], ids[0]]);
        let empty = s.changed_since(&q(cursor));
        assert!(empty.docs.is_empty() && !empty.more);
        assert_eq!(empty.max_stamp, cursor);
    }

    #[test]
    fn filters_narrow_the_page() {
        let mut s = Store::new();
        for i in 1..=4 {
            id_of(&mut s, &i.to_string(), Stan::Zatwierdzony);
        }
        let done = s.id_by_obcy("2").unwrap_or_default();
        assert!(s.issue_sales(done, SalesKind::Invoice).is_ok());
        let p = s.changed_since(&Query {
            obcy: Some(vec!["2".into(), "3".into(), "99".into()]),
            only_unfulfilled: true,
            limit: 10,
            ..Query::default()
        });
        let got: Vec<&str> = p.docs.iter().map(|d| d.obcy_numer.as_str()).collect();
        assert_eq!(got, vec!["3"]);
        let p = s.changed_since(&Query {
            created_from: today_local().succ_opt(),
            limit: 10,
            ..Query::default()
        });
        assert!(p.docs.is_empty());
    }
}

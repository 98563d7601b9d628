//! The simulated database: ZO documents indexed by id, by (change time, id) and by `ObcyNumer`,
//! the server's clock (frozen on request), and the actions an ERP user (or the service) performs.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{NaiveDate, NaiveDateTime, Timelike, Utc};
use chrono_tz::Europe::Warsaw;

use crate::model::{Potwierdzenie, SalesKind, Stan, Zo};

/// The operator of changes made by ERP users (the control API).
pub const USER: &str = "Użytkownik";

/// The server's local time (enova365 servers keep Polish time).
pub fn now_local() -> NaiveDateTime {
    Utc::now().with_timezone(&Warsaw).naive_local()
}

/// The server's local date.
pub fn today_local() -> NaiveDate {
    now_local().date()
}

/// A time cut to whole seconds (the precision of `Zmieniono`).
pub fn to_second(t: NaiveDateTime) -> NaiveDateTime {
    t.with_nanosecond(0).unwrap_or(t)
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
#[derive(Debug, Clone, Default)]
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
    /// When it was last changed (the clock's now when absent).
    pub zmieniono: Option<NaiveDateTime>,
    /// Who changed it last (an ERP user when absent).
    pub operator: Option<String>,
}

/// What `PobierzZamowienia` asks for.
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// Change feed: documents after (this time, `po_id`) by (change time, id); `None`: a
    /// listing of documents with id greater than `po_id`.
    pub changed_from: Option<NaiveDateTime>,
    /// The keyset position's id.
    pub po_id: u64,
    /// Only these foreign numbers.
    pub obcy: Option<Vec<String>>,
    /// Only documents dated on or after this day.
    pub created_from: Option<NaiveDate>,
    /// Only documents without a sales document.
    pub only_unfulfilled: bool,
    /// Leave out documents whose last change was made by this operator.
    pub skip_operator: Option<String>,
    /// The most documents to return.
    pub limit: usize,
}

/// One page of documents.
#[derive(Debug)]
pub struct Page<'a> {
    /// The documents, in the query's order.
    pub docs: Vec<&'a Zo>,
    /// Whether more matching documents follow.
    pub more: bool,
}

/// The documents and their indexes.
#[derive(Debug, Default)]
pub struct Store {
    docs: BTreeMap<u64, Zo>,
    by_change: BTreeSet<(NaiveDateTime, u64)>,
    by_obcy: HashMap<String, u64>,
    frozen: Option<NaiveDateTime>,
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

    /// Removes every document (the clock stays as it is).
    pub fn clear(&mut self) {
        let frozen = self.frozen;
        *self = Store::new();
        self.frozen = frozen;
    }

    /// The server's time now (local, whole seconds): the frozen time if the clock is frozen.
    pub fn now(&self) -> NaiveDateTime {
        self.frozen.unwrap_or_else(|| to_second(now_local()))
    }

    /// Freezes the clock at a local time, or lets it run again (`None`).
    pub fn freeze(&mut self, at: Option<NaiveDateTime>) {
        self.frozen = at.map(to_second);
    }

    /// How many documents there are.
    pub fn len(&self) -> usize {
        self.docs.len()
    }

    /// Whether there are no documents.
    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }

    /// A document by id.
    pub fn get(&self, id: u64) -> Option<&Zo> {
        self.docs.get(&id)
    }

    /// The id of the document with this foreign number.
    pub fn id_by_obcy(&self, obcy: &str) -> Option<u64> {
        self.by_obcy.get(obcy).copied()
    }

    /// Puts exact documents in (ids, numbers and change times as given), for contract examples;
    /// later documents get ids after the highest.
    pub fn load(&mut self, docs: Vec<Zo>) -> Result<(), ActionError> {
        self.clear();
        for zo in docs {
            if self.docs.contains_key(&zo.id) {
                return Err(ActionError::Refused(format!("ID {} twice", zo.id)));
            }
            if !zo.obcy_numer.is_empty()
                && self.by_obcy.insert(zo.obcy_numer.clone(), zo.id).is_some()
            {
                return Err(ActionError::Refused(format!(
                    "ObcyNumer '{}' twice",
                    zo.obcy_numer
                )));
            }
            self.next_id = self.next_id.max(zo.id + 1);
            self.next_numer = self.next_numer.max(zo.numer + 1);
            self.by_change.insert((zo.zmieniono, zo.id));
            self.docs.insert(zo.id, zo);
        }
        Ok(())
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
            zmieniono: new.zmieniono.map_or_else(|| self.now(), to_second),
            operator: new.operator.unwrap_or_else(|| USER.to_owned()),
        };
        if !obcy.is_empty() {
            self.by_obcy.insert(obcy, id);
        }
        self.by_change.insert((zo.zmieniono, id));
        Ok(self.docs.entry(id).or_insert(zo))
    }

    /// Runs a write on a document: `change` returns whether it changed anything; a change gets
    /// the clock's time as its change time and `operator` as the last change's operator.
    fn write_as<T>(
        &mut self,
        id: u64,
        operator: &str,
        change: impl FnOnce(&mut Zo) -> Result<(bool, T), ActionError>,
    ) -> Result<T, ActionError> {
        let doc = self.docs.get_mut(&id).ok_or_else(|| {
            ActionError::NotFound(format!("Nie znaleziono dokumentu ZO o ID {id}."))
        })?;
        let (changed, out) = change(doc)?;
        if changed {
            let now = match self.frozen {
                Some(t) => t,
                None => to_second(now_local()),
            };
            let old = std::mem::replace(&mut doc.zmieniono, now);
            doc.operator = operator.to_owned();
            self.by_change.remove(&(old, id));
            self.by_change.insert((now, id));
        }
        Ok(out)
    }

    /// A write by an ERP user (the control API).
    fn write<T>(
        &mut self,
        id: u64,
        change: impl FnOnce(&mut Zo) -> Result<(bool, T), ActionError>,
    ) -> Result<T, ActionError> {
        self.write_as(id, USER, change)
    }

    /// Sets `Potwierdzenie` as `operator`: refused on a cancelled or locked document; the value it
    /// already has is no change (no new change time). Returns whether it changed.
    pub fn set_potwierdzenie(
        &mut self,
        id: u64,
        value: Potwierdzenie,
        operator: &str,
    ) -> Result<bool, ActionError> {
        self.write_as(id, operator, |doc| {
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

    /// Edits the foreign number, custom fields or date; every edit is a write.
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

    /// One page of `PobierzZamowienia`: the feed by (change time, id) after the position, or the
    /// listing by id, filtered.
    pub fn page(&self, query: &Query) -> Page<'_> {
        let matches = |doc: &Zo| {
            !matches!(query.created_from, Some(from) if doc.data < from)
                && (!query.only_unfulfilled || !doc.zrealizowane())
                && !matches!(&query.skip_operator, Some(op) if doc.operator.eq_ignore_ascii_case(op))
                && match query.changed_from {
                    Some(t) => (doc.zmieniono, doc.id) > (t, query.po_id),
                    None => doc.id > query.po_id,
                }
        };
        let limit = query.limit.max(1);
        let mut docs: Vec<&Zo> = match (&query.obcy, query.changed_from) {
            (Some(keys), _) => {
                let mut found: Vec<&Zo> = keys
                    .iter()
                    .filter_map(|k| self.by_obcy.get(k.trim()))
                    .filter_map(|id| self.docs.get(id))
                    .filter(|d| matches(d))
                    .collect();
                if query.changed_from.is_some() {
                    found.sort_by_key(|d| (d.zmieniono, d.id));
                } else {
                    found.sort_by_key(|d| d.id);
                }
                found.dedup_by_key(|d| d.id);
                found.truncate(limit + 1);
                found
            }
            (None, Some(t)) => self
                .by_change
                .range((t, query.po_id.saturating_add(1))..)
                .filter_map(|(_, id)| self.docs.get(id))
                .filter(|d| matches(d))
                .take(limit + 1)
                .collect(),
            (None, None) => self
                .docs
                .range(query.po_id.saturating_add(1)..)
                .map(|(_, d)| d)
                .filter(|d| matches(d))
                .take(limit + 1)
                .collect(),
        };
        let more = docs.len() > limit;
        docs.truncate(limit);
        Page { docs, more }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(obcy: &str, stan: Stan) -> NewZo {
        NewZo {
            obcy_numer: obcy.into(),
            data: today_local(),
            stan,
            ..NewZo::default()
        }
    }

    fn id_of(store: &mut Store, obcy: &str, stan: Stan) -> u64 {
        match store.insert(new(obcy, stan)) {
            Ok(zo) => zo.id,
            Err(e) => panic!("insert {obcy}: {e}"),
        }
    }

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S").unwrap_or_default()
    }

    #[test]
    fn a_write_takes_the_clock_and_the_operator_and_a_no_op_does_not() {
        let mut s = Store::new();
        s.freeze(Some(at("2026-11-30T10:00:00")));
        let id = id_of(&mut s, "1", Stan::Bufor);
        assert_eq!(s.get(id).map(|d| d.operator.as_str()), Some(USER));
        s.freeze(Some(at("2026-11-30T10:00:05")));
        assert_eq!(
            s.set_potwierdzenie(id, Potwierdzenie::Potwierdzony, "orderlink"),
            Ok(true)
        );
        let doc = s.get(id).cloned().unwrap_or_else(|| panic!("gone"));
        assert_eq!(
            (doc.zmieniono, doc.operator.as_str()),
            (at("2026-11-30T10:00:05"), "orderlink")
        );
        s.freeze(Some(at("2026-11-30T10:00:09")));
        assert_eq!(
            s.set_potwierdzenie(id, Potwierdzenie::Potwierdzony, "Jan"),
            Ok(false)
        );
        assert_eq!(s.get(id).map(|d| d.zmieniono), Some(doc.zmieniono));
        assert_eq!(s.approve(id), Ok(true));
        assert_eq!(s.get(id).map(|d| d.operator.as_str()), Some(USER));
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
                s.set_potwierdzenie(id, Potwierdzenie::Odrzucony, USER),
                Err(ActionError::Refused(_))
            ));
            assert_eq!(
                s.set_potwierdzenie(id, Potwierdzenie::Niepotwierdzony, USER),
                Ok(false)
            );
        }
        assert_eq!(s.unlock(b), Ok(true));
        assert_eq!(
            s.set_potwierdzenie(b, Potwierdzenie::Odrzucony, USER),
            Ok(true)
        );
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
    fn the_feed_pages_by_change_time_and_id_and_sees_a_change_made_while_paging() {
        let mut s = Store::new();
        s.freeze(Some(at("2026-11-30T10:00:00")));
        let ids: Vec<u64> = (1..=5)
            .map(|i| id_of(&mut s, &i.to_string(), Stan::Bufor))
            .collect();
        let q = |t: NaiveDateTime, po_id| Query {
            changed_from: Some(t),
            po_id,
            limit: 2,
            ..Query::default()
        };
        let start = at("2026-11-30T09:00:00");
        let (first, more) = {
            let p = s.page(&q(start, 0));
            (p.docs.iter().map(|d| d.id).collect::<Vec<_>>(), p.more)
        };
        assert_eq!(first, ids[..2].to_vec());
        assert!(more);
        // A document already read changes while paging: it comes again, at the end.
        s.freeze(Some(at("2026-11-30T10:00:01")));
        assert_eq!(
            s.set_potwierdzenie(ids[0], Potwierdzenie::Potwierdzony, USER),
            Ok(true)
        );
        let mut seen = Vec::new();
        let mut pos = (at("2026-11-30T10:00:00"), ids[1]);
        loop {
            let p = s.page(&q(pos.0, pos.1));
            seen.extend(p.docs.iter().map(|d| d.id));
            if let Some(last) = p.docs.last() {
                pos = (last.zmieniono, last.id);
            }
            if !p.more {
                break;
            }
        }
        assert_eq!(seen, vec![ids[2], ids[3], ids[4], ids[0]]);
        assert!(s.page(&q(pos.0, pos.1)).docs.is_empty());
    }

    #[test]
    fn filters_narrow_the_page() {
        let mut s = Store::new();
        for i in 1..=4 {
            id_of(&mut s, &i.to_string(), Stan::Zatwierdzony);
        }
        let done = s.id_by_obcy("2").unwrap_or_default();
        assert!(s.issue_sales(done, SalesKind::Invoice).is_ok());
        let p = s.page(&Query {
            obcy: Some(vec!["2".into(), "3".into(), "99".into()]),
            only_unfulfilled: true,
            limit: 10,
            ..Query::default()
        });
        let got: Vec<&str> = p.docs.iter().map(|d| d.obcy_numer.as_str()).collect();
        assert_eq!(got, vec!["3"]);
        let three = s.id_by_obcy("3").unwrap_or_default();
        assert_eq!(
            s.set_potwierdzenie(three, Potwierdzenie::Potwierdzony, "orderlink"),
            Ok(true)
        );
        let p = s.page(&Query {
            skip_operator: Some("OrderLink".into()),
            po_id: 1001,
            limit: 10,
            ..Query::default()
        });
        let got: Vec<&str> = p.docs.iter().map(|d| d.obcy_numer.as_str()).collect();
        assert_eq!(got, vec!["2", "4"]);
        let p = s.page(&Query {
            created_from: today_local().succ_opt(),
            limit: 10,
            ..Query::default()
        });
        assert!(p.docs.is_empty());
    }
}

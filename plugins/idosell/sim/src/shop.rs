//! The simulated shop: its orders (indexed by serial number, orderId, add date and change
//! date), its custom statuses, status changes under the panel's rules, and searching.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::clock::Stamp;
use crate::statuses::{self, BuiltIn, CustomStatus, Refusal};

/// The most orders one seed may create.
pub const MAX_SEED_ORDERS: u64 = 100_000;

/// Seeded orders were last changed at most this many seconds ago.
pub const SEED_EDITED_WITHIN: i64 = 20 * 3_600;

/// One entry of an order's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEvent {
    /// When it happened.
    pub date: Stamp,
    /// Who did it (a panel login, or `api` for API calls).
    pub user: String,
    /// What happened.
    pub details: String,
}

/// One order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    /// `orderSerialNumber`.
    pub serial: u64,
    /// `orderId`.
    pub id: String,
    /// The id of its status (built-in or custom).
    pub status_id: u32,
    /// `orderAddDate`.
    pub added: Stamp,
    /// `orderChangeDate`: moves on every edit.
    pub changed: Stamp,
    /// Whether sales documents were issued (then it cannot be canceled).
    pub documents_issued: bool,
    /// The order note (edits move the change date).
    pub note: String,
    /// E-mails sent to the customer about status changes.
    pub mails_sent: u32,
    /// Text messages sent to the customer about status changes.
    pub sms_sent: u32,
    /// Status changes and edits, oldest first.
    pub history: Vec<HistoryEvent>,
}

/// How a status change may notify the customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Notify {
    /// Send an e-mail.
    pub mail: bool,
    /// Send a text message.
    pub sms: bool,
}

/// Which dates a search filters on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateKind {
    /// `add`: when the order was placed.
    Added,
    /// `modified`: the last edit of any kind.
    Modified,
}

/// A date-range filter; both ends inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateFilter {
    /// The date compared.
    pub kind: DateKind,
    /// The earliest date, if bounded.
    pub begin: Option<Stamp>,
    /// The latest date, if bounded.
    pub end: Option<Stamp>,
}

/// What a search can sort by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    /// The serial number.
    Serial,
    /// The change date.
    Modified,
    /// The add date.
    Added,
    /// No field: a fixed order unrelated to any (a shop that honours no sort).
    Scrambled,
}

/// A search, already validated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    /// Built-in status codes (an order in a custom status matches its parent's code).
    pub statuses: Option<Vec<String>>,
    /// Status ids (built-in or custom).
    pub status_ids: Option<Vec<u32>>,
    /// Serial numbers.
    pub serials: Option<Vec<u64>>,
    /// Order ids.
    pub ids: Option<Vec<String>>,
    /// A date range.
    pub dates: Option<DateFilter>,
    /// A serial-number range, both ends inclusive.
    pub serial_range: (Option<u64>, Option<u64>),
    /// Sort keys, most significant first, `true` = descending; ties end by serial number.
    pub order_by: Vec<(SortKey, bool)>,
    /// The 0-based page.
    pub page: u64,
    /// Results per page (1 to 100).
    pub limit: u64,
}

/// One page of search results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// How many orders match in all.
    pub total: u64,
    /// The serial numbers on this page, in order.
    pub serials: Vec<u64>,
}

/// A new order to insert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrder {
    /// The serial number; the next free one if `None`.
    pub serial: Option<u64>,
    /// The order id; `{shop}-{serial}` if `None`.
    pub id: Option<String>,
    /// The status id.
    pub status_id: u32,
    /// The add date.
    pub added: Stamp,
    /// The change date (at least the add date).
    pub changed: Stamp,
    /// Whether sales documents were issued.
    pub documents_issued: bool,
}

/// The shop.
#[derive(Debug, Default)]
pub struct Shop {
    login: String,
    orders: BTreeMap<u64, Order>,
    by_changed: BTreeSet<(Stamp, u64)>,
    by_added: BTreeSet<(Stamp, u64)>,
    by_id: HashMap<String, u64>,
    custom: BTreeMap<u32, CustomStatus>,
    mails: u64,
    sms: u64,
}

impl Shop {
    /// An empty shop whose order ids start with `login`.
    pub fn new(login: impl Into<String>) -> Self {
        Shop {
            login: login.into(),
            ..Shop::default()
        }
    }

    /// The shop's login (the prefix of order ids).
    pub fn login(&self) -> &str {
        &self.login
    }

    /// How many orders there are.
    pub fn len(&self) -> usize {
        self.orders.len()
    }

    /// Whether there are no orders.
    pub fn is_empty(&self) -> bool {
        self.orders.is_empty()
    }

    /// An order by serial number.
    pub fn order(&self, serial: u64) -> Option<&Order> {
        self.orders.get(&serial)
    }

    /// The serial number of an order id.
    pub fn serial_of(&self, id: &str) -> Option<u64> {
        self.by_id.get(id).copied()
    }

    /// The custom statuses.
    pub fn custom_statuses(&self) -> impl Iterator<Item = &CustomStatus> {
        self.custom.values()
    }

    /// E-mails and text messages sent to customers so far.
    pub fn notifications(&self) -> (u64, u64) {
        (self.mails, self.sms)
    }

    /// Defines (or redefines) a custom status.
    pub fn define_status(&mut self, status: CustomStatus) -> Result<(), String> {
        if status.id <= statuses::MAX_BUILT_IN_ID {
            return Err(format!(
                "custom status ids must be above {} (the built-in ones)",
                statuses::MAX_BUILT_IN_ID
            ));
        }
        if statuses::by_id(status.parent_id).is_none() {
            return Err(format!(
                "parentId {} is not a built-in status id",
                status.parent_id
            ));
        }
        if status.panel_name.trim().is_empty() {
            return Err("panelName must not be empty".into());
        }
        self.custom.insert(status.id, status);
        Ok(())
    }

    /// The built-in status an id stands for (a custom status stands for its parent).
    pub fn built_in_of(&self, status_id: u32) -> Option<&'static BuiltIn> {
        statuses::by_id(status_id).or_else(|| {
            self.custom
                .get(&status_id)
                .and_then(|c| statuses::by_id(c.parent_id))
        })
    }

    /// The `orderStatus` code of a status id (a custom status reports its parent's code).
    pub fn code_of(&self, status_id: u32) -> &'static str {
        self.built_in_of(status_id).map_or("new", |b| b.code)
    }

    /// Whether a status id is known (built-in or custom).
    pub fn knows_status(&self, status_id: u32) -> bool {
        self.built_in_of(status_id).is_some()
    }

    /// Replaces all orders with `count` deterministic ones: serial numbers `1..=count`, ids
    /// `{shop}-{n}`, statuses spread over the open built-in statuses, added within the three days
    /// before `now` and last changed since, within the last 20 hours.
    pub fn seed(&mut self, seed: u64, count: u64, shop: &str, now: Stamp) {
        self.login = shop.to_owned();
        self.orders.clear();
        self.by_changed.clear();
        self.by_added.clear();
        self.by_id.clear();
        let mut rng = StdRng::seed_from_u64(seed);
        for serial in 1..=count.min(MAX_SEED_ORDERS) {
            let code = statuses::OPEN_STATUSES[rng.gen_range(0..statuses::OPEN_STATUSES.len())];
            let status_id = statuses::by_code(code).map_or(1, |s| s.id);
            let age = rng.gen_range(60..3 * 86_400);
            let added = now - age;
            // Last edited within the last 20 hours (so a feed looking back a day sees them all).
            let changed = now - rng.gen_range(0..=age.min(SEED_EDITED_WITHIN));
            let order = Order {
                serial,
                id: format!("{shop}-{serial}"),
                status_id,
                added,
                changed,
                documents_issued: false,
                note: String::new(),
                mails_sent: 0,
                sms_sent: 0,
                history: Vec::new(),
            };
            self.index(&order);
            self.orders.insert(serial, order);
        }
    }

    fn index(&mut self, order: &Order) {
        self.by_changed.insert((order.changed, order.serial));
        self.by_added.insert((order.added, order.serial));
        self.by_id.insert(order.id.clone(), order.serial);
    }

    /// Inserts one order.
    pub fn insert(&mut self, new: NewOrder) -> Result<u64, String> {
        let serial = new
            .serial
            .unwrap_or_else(|| self.orders.keys().next_back().map_or(1, |s| s + 1));
        if serial == 0 {
            return Err("orderSerialNumber must be at least 1".into());
        }
        if self.orders.contains_key(&serial) {
            return Err(format!("order {serial} already exists"));
        }
        let id = new.id.unwrap_or_else(|| format!("{}-{serial}", self.login));
        if self.by_id.contains_key(&id) {
            return Err(format!("orderId {id} already exists"));
        }
        if !self.knows_status(new.status_id) {
            return Err(format!("no status with id {}", new.status_id));
        }
        let order = Order {
            serial,
            id,
            status_id: new.status_id,
            added: new.added,
            changed: new.changed.max(new.added),
            documents_issued: new.documents_issued,
            note: String::new(),
            mails_sent: 0,
            sms_sent: 0,
            history: Vec::new(),
        };
        self.index(&order);
        self.orders.insert(serial, order);
        Ok(serial)
    }

    fn move_changed(&mut self, serial: u64, now: Stamp) {
        if let Some(order) = self.orders.get_mut(&serial) {
            self.by_changed.remove(&(order.changed, serial));
            order.changed = now;
            self.by_changed.insert((now, serial));
        }
    }

    /// Resolves a status given as an API code (`orderStatus`) for a PUT.
    pub fn resolve_code(&self, code: &str) -> Result<u32, Refusal> {
        match statuses::by_code(code) {
            Some(s) => Self::settable(s),
            None => Err(Refusal::new(5, format!("No such status: {code}"))),
        }
    }

    /// Resolves a status given as an id (`orderStatusId`) for a PUT.
    pub fn resolve_id(&self, id: u32) -> Result<u32, Refusal> {
        if let Some(s) = statuses::by_id(id) {
            return Self::settable(s);
        }
        if self.custom.contains_key(&id) {
            return Ok(id);
        }
        Err(Refusal::new(5, format!("No such status: {id}")))
    }

    fn settable(s: &BuiltIn) -> Result<u32, Refusal> {
        if s.code == "joined" {
            return Err(Refusal::new(
                6,
                "If you want to merge orders, use the tool provided by IdoSell Shop",
            ));
        }
        if !s.settable {
            return Err(Refusal::new(
                2,
                format!(
                    "Order status entered in call parameters is not handled by the gate: {}",
                    s.code
                ),
            ));
        }
        Ok(s.id)
    }

    /// Sets an order's status. Setting the status it already has changes nothing (`Ok(false)`).
    /// With `enforce`, the panel's rules apply.
    pub fn set_status(
        &mut self,
        serial: u64,
        status_id: u32,
        now: Stamp,
        user: &str,
        notify: Notify,
        enforce: bool,
    ) -> Result<bool, Refusal> {
        let (from, to) = {
            let order = self
                .orders
                .get(&serial)
                .ok_or_else(|| Refusal::new(1, format!("Order not found: {serial}")))?;
            if order.status_id == status_id {
                return Ok(false);
            }
            let from = self.code_of(order.status_id);
            let to = self.code_of(status_id);
            if enforce {
                statuses::check_transition(from, to, order.documents_issued)?;
            }
            (
                self.status_label(order.status_id),
                self.status_label(status_id),
            )
        };
        self.move_changed(serial, now);
        if let Some(order) = self.orders.get_mut(&serial) {
            order.status_id = status_id;
            order.history.push(HistoryEvent {
                date: now,
                user: user.to_owned(),
                details: format!("Order status changed from \"{from}\" to \"{to}\""),
            });
            if notify.mail {
                order.mails_sent += 1;
                self.mails += 1;
            }
            if notify.sms {
                order.sms_sent += 1;
                self.sms += 1;
            }
        }
        Ok(true)
    }

    fn status_label(&self, status_id: u32) -> String {
        match self.custom.get(&status_id) {
            Some(c) => c.panel_name.clone(),
            None => self.code_of(status_id).to_owned(),
        }
    }

    /// Edits an order's note (an edit that is not a status change): moves its change date.
    pub fn edit_note(&mut self, serial: u64, note: &str, now: Stamp, user: &str) -> bool {
        if !self.orders.contains_key(&serial) {
            return false;
        }
        self.move_changed(serial, now);
        if let Some(order) = self.orders.get_mut(&serial) {
            order.note = note.to_owned();
            order.history.push(HistoryEvent {
                date: now,
                user: user.to_owned(),
                details: "Order note changed".into(),
            });
        }
        true
    }

    fn matches(&self, o: &Order, q: &Query) -> bool {
        if let Some(codes) = &q.statuses {
            let code = self.code_of(o.status_id);
            if !codes.iter().any(|c| c == code) {
                return false;
            }
        }
        if let Some(ids) = &q.status_ids {
            if !ids.contains(&o.status_id) {
                return false;
            }
        }
        if let Some(serials) = &q.serials {
            if !serials.contains(&o.serial) {
                return false;
            }
        }
        if let Some(ids) = &q.ids {
            if !ids.contains(&o.id) {
                return false;
            }
        }
        if let Some(d) = &q.dates {
            let value = match d.kind {
                DateKind::Added => o.added,
                DateKind::Modified => o.changed,
            };
            if d.begin.is_some_and(|b| value < b) || d.end.is_some_and(|e| value > e) {
                return false;
            }
        }
        let (lo, hi) = q.serial_range;
        !(lo.is_some_and(|l| o.serial < l) || hi.is_some_and(|h| o.serial > h))
    }

    fn sort_value(o: &Order, key: SortKey) -> i128 {
        match key {
            SortKey::Serial => i128::from(o.serial),
            SortKey::Modified => i128::from(o.changed),
            SortKey::Added => i128::from(o.added),
            SortKey::Scrambled => {
                i128::from(o.serial.wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(17))
            }
        }
    }

    /// Runs a search; costs one pass over the orders the best index selects, and a sort only
    /// when the order asked for is not the index's own.
    pub fn search(&self, q: &Query) -> Page {
        // The full sort order: the keys asked for, then the serial number.
        let mut keys: Vec<(SortKey, bool)> = Vec::new();
        for &(k, desc) in &q.order_by {
            if keys.iter().all(|(existing, _)| *existing != k) {
                keys.push((k, desc));
            }
            if k == SortKey::Serial {
                break;
            }
        }
        if keys.iter().all(|(k, _)| *k != SortKey::Serial) {
            keys.push((SortKey::Serial, false));
        }

        let limit = q.limit.max(1) as usize;
        let skip = (q.page as usize).saturating_mul(limit);
        let mut out = Collector {
            skip,
            limit,
            total: 0,
            serials: Vec::with_capacity(limit),
        };

        let asc = |k: &[SortKey]| keys.iter().map(|(k, _)| *k).eq(k.iter().copied());
        let all_desc = keys.iter().all(|(_, d)| *d);
        let all_asc = keys.iter().all(|(_, d)| !*d);

        // Stream straight from an index whose order is the one asked for.
        let index = match q.dates {
            Some(DateFilter {
                kind: DateKind::Modified,
                begin,
                end,
            }) if q.serials.is_none() && q.ids.is_none() => {
                Some((&self.by_changed, SortKey::Modified, begin, end))
            }
            Some(DateFilter {
                kind: DateKind::Added,
                begin,
                end,
            }) if q.serials.is_none() && q.ids.is_none() => {
                Some((&self.by_added, SortKey::Added, begin, end))
            }
            _ => None,
        };
        if let Some((set, key, begin, end)) = index {
            let lo = (begin.unwrap_or(Stamp::MIN), 0u64);
            let hi = (end.unwrap_or(Stamp::MAX), u64::MAX);
            if lo > hi {
                return Page {
                    total: 0,
                    serials: Vec::new(),
                };
            }
            // Only the date (and serial-number range) filter: decide on the index entry alone.
            let index_only = q.statuses.is_none() && q.status_ids.is_none();
            let (s_lo, s_hi) = (
                q.serial_range.0.unwrap_or(0),
                q.serial_range.1.unwrap_or(u64::MAX),
            );
            if asc(&[key, SortKey::Serial]) && (all_asc || all_desc) {
                let range = set.range(lo..=hi);
                let iter: Box<dyn Iterator<Item = &(Stamp, u64)>> = if all_desc {
                    Box::new(range.rev())
                } else {
                    Box::new(range)
                };
                for (_, serial) in iter {
                    let hit = if index_only {
                        (s_lo..=s_hi).contains(serial)
                    } else {
                        self.orders.get(serial).is_some_and(|o| self.matches(o, q))
                    };
                    if hit {
                        out.push(*serial);
                    }
                }
                return out.finish();
            }
            // Another order: a wide date range is cheaper to scan in serial order than to sort.
            let cap = (self.orders.len() / 8).max(1_000);
            let narrow = set.range(lo..=hi).take(cap + 1).count() <= cap;
            if !narrow && asc(&[SortKey::Serial]) {
                let iter: Box<dyn Iterator<Item = &Order>> = if all_desc {
                    Box::new(self.orders.values().rev())
                } else {
                    Box::new(self.orders.values())
                };
                for o in iter {
                    if self.matches(o, q) {
                        out.push(o.serial);
                    }
                }
                return out.finish();
            }
            let mut found: Vec<&Order> = set
                .range(lo..=hi)
                .filter_map(|(_, s)| self.orders.get(s))
                .filter(|o| self.matches(o, q))
                .collect();
            return self.sorted_page(&mut found, &keys, skip, limit);
        }

        if let Some(serials) = &q.serials {
            let mut found: Vec<&Order> = serials
                .iter()
                .collect::<BTreeSet<_>>()
                .into_iter()
                .filter_map(|s| self.orders.get(s))
                .filter(|o| self.matches(o, q))
                .collect();
            return self.sorted_page(&mut found, &keys, skip, limit);
        }
        if let Some(ids) = &q.ids {
            let mut found: Vec<&Order> = ids
                .iter()
                .filter_map(|id| self.by_id.get(id))
                .collect::<BTreeSet<_>>()
                .into_iter()
                .filter_map(|s| self.orders.get(s))
                .filter(|o| self.matches(o, q))
                .collect();
            return self.sorted_page(&mut found, &keys, skip, limit);
        }

        let (lo, hi) = (
            q.serial_range.0.unwrap_or(0),
            q.serial_range.1.unwrap_or(u64::MAX),
        );
        if lo > hi {
            return Page {
                total: 0,
                serials: Vec::new(),
            };
        }
        let range = self.orders.range(lo..=hi);
        if asc(&[SortKey::Serial]) {
            let iter: Box<dyn Iterator<Item = (&u64, &Order)>> = if all_desc {
                Box::new(range.rev())
            } else {
                Box::new(range)
            };
            for (serial, o) in iter {
                if self.matches(o, q) {
                    out.push(*serial);
                }
            }
            return out.finish();
        }
        let mut found: Vec<&Order> = range
            .map(|(_, o)| o)
            .filter(|o| self.matches(o, q))
            .collect();
        self.sorted_page(&mut found, &keys, skip, limit)
    }

    fn sorted_page(
        &self,
        found: &mut [&Order],
        keys: &[(SortKey, bool)],
        skip: usize,
        limit: usize,
    ) -> Page {
        found.sort_by(|a, b| {
            for &(k, desc) in keys {
                let ord = Self::sort_value(a, k).cmp(&Self::sort_value(b, k));
                let ord = if desc { ord.reverse() } else { ord };
                if ord.is_ne() {
                    return ord;
                }
            }
            std::cmp::Ordering::Equal
        });
        Page {
            total: found.len() as u64,
            serials: found
                .iter()
                .skip(skip)
                .take(limit)
                .map(|o| o.serial)
                .collect(),
        }
    }
}

/// Counts matches and keeps the ones on the page asked for.
struct Collector {
    skip: usize,
    limit: usize,
    total: u64,
    serials: Vec<u64>,
}

impl Collector {
    fn push(&mut self, serial: u64) {
        if self.total as usize >= self.skip && self.serials.len() < self.limit {
            self.serials.push(serial);
        }
        self.total += 1;
    }

    fn finish(self) -> Page {
        Page {
            total: self.total,
            serials: self.serials,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Stamp = 1_800_000_000;
    const QUIET: Notify = Notify {
        mail: false,
        sms: false,
    };

    fn shop(n: u64) -> Shop {
        let mut s = Shop::new("shop1");
        s.seed(7, n, "shop1", NOW);
        s
    }

    fn query() -> Query {
        Query {
            limit: 100,
            ..Query::default()
        }
    }

    #[test]
    fn seeding_is_deterministic_and_open() {
        let (a, b) = (shop(500), shop(500));
        for serial in 1..=500 {
            let (x, y) = (
                a.order(serial).expect("seeded"),
                b.order(serial).expect("seeded"),
            );
            assert_eq!(x, y);
            assert_eq!(x.id, format!("shop1-{serial}"));
            assert!(statuses::OPEN_STATUSES.contains(&a.code_of(x.status_id)));
            assert!(x.added <= x.changed && x.changed <= NOW && x.added >= NOW - 3 * 86_400);
            assert!(x.changed >= NOW - SEED_EDITED_WITHIN);
        }
        let spread: BTreeSet<u32> = (1..=500)
            .filter_map(|s| a.order(s))
            .map(|o| o.status_id)
            .collect();
        assert_eq!(spread.len(), statuses::OPEN_STATUSES.len());
        let mut other = Shop::new("x");
        other.seed(8, 500, "shop1", NOW);
        assert_ne!(
            (1..=500)
                .map(|s| a.order(s).map(|o| o.status_id))
                .collect::<Vec<_>>(),
            (1..=500)
                .map(|s| other.order(s).map(|o| o.status_id))
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn modified_search_pages_in_change_order_and_counts_all() {
        let s = shop(1000);
        let mut q = query();
        q.dates = Some(DateFilter {
            kind: DateKind::Modified,
            begin: Some(NOW - 86_400),
            end: None,
        });
        q.order_by = vec![(SortKey::Modified, false), (SortKey::Serial, false)];
        let expected: Vec<u64> = {
            let mut v: Vec<&Order> = (1..=1000)
                .filter_map(|n| s.order(n))
                .filter(|o| o.changed >= NOW - 86_400)
                .collect();
            v.sort_by_key(|o| (o.changed, o.serial));
            v.iter().map(|o| o.serial).collect()
        };
        let mut got = Vec::new();
        for page in 0.. {
            q.page = page;
            let p = s.search(&q);
            assert_eq!(p.total, expected.len() as u64);
            if p.serials.is_empty() {
                break;
            }
            got.extend(p.serials);
        }
        assert_eq!(got, expected);
        // The same through the sorting path (ordered by serial number).
        q.order_by = vec![];
        q.page = 0;
        let p = s.search(&q);
        let mut by_serial = expected.clone();
        by_serial.sort();
        assert_eq!(p.serials, by_serial[..100.min(by_serial.len())].to_vec());
    }

    #[test]
    fn every_search_path_agrees_with_a_plain_filter_and_sort() {
        let mut s = shop(10_000);
        s.set_status(17, 4, NOW + 1, "op", QUIET, false)
            .expect("operator change");
        let begin = NOW - 2 * 86_400;
        let in_range = |o: &&Order| o.changed >= begin;
        for (order_by, statuses) in [
            (vec![(SortKey::Serial, true)], None),
            (vec![], Some(vec!["packed".to_owned()])),
            (vec![(SortKey::Modified, true)], None),
            (vec![(SortKey::Added, false)], None),
            (
                vec![(SortKey::Modified, false)],
                Some(vec!["packed".to_owned()]),
            ),
        ] {
            let mut q = query();
            q.page = 2;
            q.dates = Some(DateFilter {
                kind: DateKind::Modified,
                begin: Some(begin),
                end: None,
            });
            q.order_by = order_by.clone();
            q.statuses = statuses.clone();
            let mut expected: Vec<&Order> = (1..=10_000)
                .filter_map(|n| s.order(n))
                .filter(in_range)
                .filter(|o| {
                    statuses
                        .as_ref()
                        .is_none_or(|st| st.iter().any(|c| c == s.code_of(o.status_id)))
                })
                .collect();
            let mut keys = order_by.clone();
            keys.push((SortKey::Serial, false));
            expected.sort_by(|a, b| {
                keys.iter()
                    .map(|&(k, d)| {
                        let o = Shop::sort_value(a, k).cmp(&Shop::sort_value(b, k));
                        if d {
                            o.reverse()
                        } else {
                            o
                        }
                    })
                    .find(|o| o.is_ne())
                    .unwrap_or(std::cmp::Ordering::Equal)
            });
            let page = s.search(&q);
            assert_eq!(page.total, expected.len() as u64, "{order_by:?}");
            let want: Vec<u64> = expected
                .iter()
                .skip(200)
                .take(100)
                .map(|o| o.serial)
                .collect();
            assert_eq!(page.serials, want, "{order_by:?} {statuses:?}");
        }
    }

    #[test]
    fn filters_combine() {
        let mut s = shop(300);
        s.define_status(CustomStatus {
            id: 45,
            parent_id: 3,
            panel_name: "Packed by team B".into(),
        })
        .expect("valid status");
        s.set_status(10, 45, NOW + 5, "op", QUIET, true)
            .expect("allowed");
        let mut q = query();
        q.status_ids = Some(vec![45]);
        assert_eq!(s.search(&q).serials, vec![10]);
        q.status_ids = None;
        q.statuses = Some(vec!["on_order".into()]);
        assert!(s.search(&q).serials.contains(&10));
        q.statuses = None;
        q.dates = Some(DateFilter {
            kind: DateKind::Modified,
            begin: Some(NOW + 5),
            end: Some(NOW + 5),
        });
        assert_eq!(s.search(&q).serials, vec![10]);
        q.serial_range = (Some(11), None);
        assert_eq!(s.search(&q).total, 0);
        let mut q = query();
        q.serials = Some(vec![5, 3, 5, 9999]);
        assert_eq!(s.search(&q).serials, vec![3, 5]);
        q.serials = None;
        q.serial_range = (Some(20), Some(29));
        q.order_by = vec![(SortKey::Serial, true)];
        assert_eq!(s.search(&q).serials, (20..=29).rev().collect::<Vec<_>>());
    }

    #[test]
    fn status_changes_follow_the_panel_and_move_the_change_date() {
        let mut s = shop(5);
        let finished = s.resolve_code("finished").expect("settable");
        let on_order = s.resolve_code("on_order").expect("settable");
        assert_eq!(s.resolve_code("joined").map_err(|r| r.code), Err(6));
        assert_eq!(s.resolve_code("returned").map_err(|r| r.code), Err(2));
        assert_eq!(s.resolve_code("nope").map_err(|r| r.code), Err(5));
        assert_eq!(s.resolve_id(999).map_err(|r| r.code), Err(5));
        assert_eq!(
            s.set_status(1, finished, NOW + 1, "api", QUIET, true),
            Ok(true)
        );
        assert_eq!(s.order(1).map(|o| o.changed), Some(NOW + 1));
        assert_eq!(
            s.set_status(1, finished, NOW + 2, "api", QUIET, true),
            Ok(false)
        );
        assert_eq!(s.order(1).map(|o| o.changed), Some(NOW + 1));
        assert_eq!(
            s.set_status(1, on_order, NOW + 3, "api", QUIET, true)
                .map_err(|r| r.code),
            Err(2214)
        );
        assert_eq!(
            s.set_status(1, on_order, NOW + 3, "op", QUIET, false),
            Ok(true)
        );
        assert_eq!(s.order(1).map(|o| o.history.len()), Some(2));
        assert_eq!(
            s.set_status(99, on_order, NOW, "api", QUIET, true)
                .map_err(|r| r.code),
            Err(1)
        );
        assert!(s.edit_note(2, "gift wrap", NOW + 9, "op"));
        let mut q = query();
        q.dates = Some(DateFilter {
            kind: DateKind::Modified,
            begin: Some(NOW + 9),
            end: None,
        });
        assert_eq!(s.search(&q).serials, vec![2]);
    }
}

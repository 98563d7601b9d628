//! The change feed's cursor and the shop-time arithmetic behind it.
//!
//! IdoSell stamps `orderChangeDate` in shop-local time (Europe/Warsaw) to the second, and edits
//! keep landing while a client pages. The feed therefore walks the changes in
//! `(orderChangeDate, orderSerialNumber)` order with keyset paging, never by page numbers:
//!
//! - The cursor's position `(second, after_serial)` means: every change stamped before `second`
//!   was returned, and so were those stamped `second` with a serial number up to `after_serial`.
//! - The position only moves through *settled* seconds: a second is settled once the shop's
//!   clock (its `Date` header, minus the round trip) is [`SETTLE_SECS`] past it, so no new
//!   change can still be stamped with it. A change made during paging gets a newer stamp and is
//!   read later, so nothing is missed.
//! - A search asks for `modified` from the position on, sorted by change date then serial number
//!   (`ordersBy`), page 0; orders at or before the position are skipped and the last settled
//!   order returned becomes the position. The rest of a crowded second (half a page or more
//!   already returned) is read with a serial-number range instead, so a second with thousands
//!   of changes costs no more requests than it has pages.
//! - Changes newer than the settled seconds that come on the last page are returned at once
//!   (so a change shows on the next poll) and remembered in the cursor's *tail*: at most
//!   [`TAIL_CAP`] orders, each with the change date and a hash of the status returned. When such
//!   a change settles it is skipped if the order still has that date and status, so it is not
//!   returned twice; if the order changed again within the same second, it is returned again.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use orderlink_plugin_api::ConnectorError;

/// The shop's time zone.
pub const SHOP_TZ: Tz = chrono_tz::Europe::Warsaw;

/// IdoSell's date format.
pub const DATE_FORMAT: &str = "%Y-%m-%d %H:%M:%S";

/// How many seconds behind the shop's clock a second counts as settled.
pub const SETTLE_SECS: i64 = 2;

/// The most not-yet-settled changes a cursor remembers (more wait until they settle).
pub const TAIL_CAP: usize = 50;

/// A shop-local time to the second, as seconds of the naive local date-time (ordered the way
/// the shop's date strings are).
pub type Stamp = i64;

/// A 32-bit FNV-1a hash of a status string.
pub fn status_hash(status: &str) -> u32 {
    status.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// Where the change feed stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// Changes stamped before this second were all returned.
    pub second: Stamp,
    /// Changes stamped `second` with serial numbers up to this one were returned (0 = none).
    pub after_serial: u64,
    /// How many changes stamped `second` the last page held: a hint for choosing the next
    /// search (a crowded second is read on by serial-number range).
    pub in_second: u64,
    /// Changes returned before they settled: serial number → (change date, status hash).
    pub tail: BTreeMap<u64, (Stamp, u32)>,
}

impl Cursor {
    /// The start of a second.
    pub fn at(second: Stamp) -> Self {
        Cursor {
            second,
            after_serial: 0,
            in_second: 0,
            tail: BTreeMap::new(),
        }
    }

    /// The same tail, with the position moved to the start of a second.
    pub fn moved_to(&self, second: Stamp) -> Self {
        let mut next = Cursor::at(second);
        next.tail = self.tail.clone();
        next.prune();
        next
    }

    /// Whether this exact change (order, change date, status) was returned from the tail.
    pub fn told(&self, serial: u64, stamp: Stamp, status: &str) -> bool {
        self.tail.get(&serial) == Some(&(stamp, status_hash(status)))
    }

    /// Forgets tail entries the position has passed.
    pub fn prune(&mut self) {
        let position = (self.second, self.after_serial);
        self.tail
            .retain(|serial, (stamp, _)| (*stamp, *serial) > position);
    }

    /// The opaque string the host stores.
    pub fn encode(&self) -> String {
        let mut out = format!(
            "v1.{}.{}.{}",
            self.second, self.after_serial, self.in_second
        );
        for (i, (serial, (stamp, hash))) in self.tail.iter().enumerate() {
            out.push(if i == 0 { '.' } else { '_' });
            out.push_str(&format!("{serial}-{}-{hash:x}", stamp - self.second));
        }
        out
    }

    /// Reads a string made by [`Cursor::encode`].
    pub fn decode(text: &str) -> Result<Self, ConnectorError> {
        let bad =
            || ConnectorError::permanent(format!("not an IdoSell change-feed cursor: {text:?}"));
        let mut parts = text.split('.');
        if parts.next() != Some("v1") {
            return Err(bad());
        }
        let mut number = || {
            parts
                .next()
                .and_then(|s| s.parse::<i64>().ok())
                .ok_or_else(bad)
        };
        let second = number()?;
        let after_serial = u64::try_from(number()?).map_err(|_| bad())?;
        let in_second = u64::try_from(number()?).map_err(|_| bad())?;
        let mut cursor = Cursor {
            second,
            after_serial,
            in_second,
            tail: BTreeMap::new(),
        };
        if let Some(tail) = parts.next() {
            for entry in tail.split('_') {
                let mut fields = entry.split('-');
                let serial = fields.next().and_then(|s| s.parse::<u64>().ok());
                let offset = fields.next().and_then(|s| s.parse::<i64>().ok());
                let hash = fields.next().and_then(|s| u32::from_str_radix(s, 16).ok());
                match (serial, offset, hash, fields.next()) {
                    (Some(serial), Some(offset), Some(hash), None) if offset >= 0 => {
                        cursor.tail.insert(serial, (second + offset, hash));
                    }
                    _ => return Err(bad()),
                }
            }
        }
        if parts.next().is_some() || cursor.tail.len() > TAIL_CAP {
            return Err(bad());
        }
        Ok(cursor)
    }
}

/// A UTC instant as a shop-local stamp (sub-second part dropped).
pub fn local_stamp(t: DateTime<Utc>) -> Stamp {
    t.with_timezone(&SHOP_TZ)
        .naive_local()
        .and_utc()
        .timestamp()
}

/// The latest settled second when the shop's clock reads `shop_now`.
pub fn settled(shop_now: DateTime<Utc>) -> Stamp {
    local_stamp(shop_now) - SETTLE_SECS
}

/// A stamp as IdoSell writes dates.
pub fn format(stamp: Stamp) -> String {
    DateTime::from_timestamp(stamp, 0)
        .map(|t| t.naive_utc().format(DATE_FORMAT).to_string())
        .unwrap_or_default()
}

/// Reads an IdoSell date as a stamp.
pub fn parse(text: &str) -> Option<Stamp> {
    NaiveDateTime::parse_from_str(text.trim(), DATE_FORMAT)
        .ok()
        .map(|t| t.and_utc().timestamp())
}

/// An IdoSell date (shop-local) as UTC. In the autumn hour that repeats, the earlier reading is
/// taken; a time in the spring gap is read an hour later.
pub fn to_utc(text: &str) -> Option<DateTime<Utc>> {
    let naive = NaiveDateTime::parse_from_str(text.trim(), DATE_FORMAT).ok()?;
    SHOP_TZ
        .from_local_datetime(&naive)
        .earliest()
        .or_else(|| {
            SHOP_TZ
                .from_local_datetime(&(naive + chrono::Duration::hours(1)))
                .earliest()
        })
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let mut c = Cursor {
            second: 1_793_000_000,
            after_serial: 17,
            in_second: 3,
            tail: BTreeMap::new(),
        };
        assert_eq!(Cursor::decode(&c.encode()), Ok(c.clone()));
        assert!(c.encode().len() < 32);
        c.tail.insert(40, (1_793_000_003, status_hash("packed")));
        c.tail.insert(1_234_567, (1_793_000_004, status_hash("45")));
        let text = c.encode();
        assert_eq!(Cursor::decode(&text), Ok(c.clone()), "{text}");
        assert!(c.told(40, 1_793_000_003, "packed"));
        assert!(!c.told(40, 1_793_000_003, "ready"));
        assert!(!c.told(40, 1_793_000_004, "packed"));
        for bad in [
            "",
            "v2.1.2.0",
            "v1.x.2.0",
            "v1.1.2",
            "v1.1.2.3.4",
            "v1.1.2.3.4-x-1",
            "v1.1.2.3.4-1-1.5",
        ] {
            assert!(Cursor::decode(bad).is_err(), "{bad}");
        }
        // A full tail stays small.
        let mut full = Cursor::at(1_793_000_000);
        for n in 0..TAIL_CAP as u64 {
            full.tail.insert(9_000_000 + n, (1_793_000_003, u32::MAX));
        }
        assert!(full.encode().len() < 1_100, "{}", full.encode().len());
        // The position passing an entry forgets it.
        let mut moved = c.moved_to(1_793_000_004);
        assert_eq!(
            moved.tail.keys().copied().collect::<Vec<_>>(),
            vec![1_234_567]
        );
        moved.after_serial = 2_000_000;
        moved.prune();
        assert!(moved.tail.is_empty());
    }

    #[test]
    fn shop_dates_are_warsaw_local() {
        let summer = to_utc("2026-07-01 12:00:00").expect("valid");
        assert_eq!(summer.to_rfc3339(), "2026-07-01T10:00:00+00:00");
        let winter = to_utc("2026-01-15 12:00:00").expect("valid");
        assert_eq!(winter.to_rfc3339(), "2026-01-15T11:00:00+00:00");
        // 02:30 on the last Sunday of March does not exist in Warsaw.
        assert!(to_utc("2026-03-29 02:30:00").is_some());
        assert_eq!(to_utc("yesterday"), None);
        let t = Utc::now();
        let s = local_stamp(t);
        assert_eq!(parse(&format(s)), Some(s));
        assert_eq!(settled(t), s - SETTLE_SECS);
    }
}

//! The change feed's cursor and the shop-time arithmetic behind it.
//!
//! IdoSell stamps `orderChangeDate` in shop-local time (Europe/Warsaw) to the second, and edits
//! keep landing while a client pages. The feed therefore walks the changes in
//! `(orderChangeDate, orderSerialNumber)` order with keyset paging, never by page numbers:
//!
//! - The cursor `(second, after_serial)` means: every change stamped before `second` was
//!   returned, and so were those stamped `second` with a serial number up to `after_serial`.
//! - Only *settled* seconds are read: a second is settled once the shop's clock (from its
//!   `Date` header, minus the round trip) is [`SETTLE_SECS`] past it, so no new change can
//!   still be stamped with it. A change made during paging gets a newer stamp and is read later,
//!   so nothing is missed and nothing repeats unless the order changes again.
//! - A search asks for `modified` in `[second, settled]`, sorted by change date then serial
//!   number (`ordersBy`), page 0; the last order returned becomes the cursor. The rest of a
//!   second with more than one page of changes is read with a serial-number range.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use orderlink_plugin_api::ConnectorError;

/// The shop's time zone.
pub const SHOP_TZ: Tz = chrono_tz::Europe::Warsaw;

/// IdoSell's date format.
pub const DATE_FORMAT: &str = "%Y-%m-%d %H:%M:%S";

/// How many seconds behind the shop's clock a second counts as settled.
pub const SETTLE_SECS: i64 = 2;

/// A shop-local time to the second, as seconds of the naive local date-time (ordered the way
/// the shop's date strings are).
pub type Stamp = i64;

/// Where the change feed stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    /// Changes stamped before this second were all returned.
    pub second: Stamp,
    /// Changes stamped `second` with serial numbers up to this one were returned (0 = none).
    pub after_serial: u64,
}

impl Cursor {
    /// The start of a second.
    pub fn at(second: Stamp) -> Self {
        Cursor {
            second,
            after_serial: 0,
        }
    }

    /// The opaque string the host stores.
    pub fn encode(&self) -> String {
        format!("v1.{}.{}", self.second, self.after_serial)
    }

    /// Reads a string made by [`Cursor::encode`].
    pub fn decode(text: &str) -> Result<Self, ConnectorError> {
        let bad =
            || ConnectorError::permanent(format!("not an IdoSell change-feed cursor: {text:?}"));
        let mut parts = text.split('.');
        if parts.next() != Some("v1") {
            return Err(bad());
        }
        let second = parts.next().and_then(|s| s.parse().ok()).ok_or_else(bad)?;
        let after_serial = parts.next().and_then(|s| s.parse().ok()).ok_or_else(bad)?;
        if parts.next().is_some() {
            return Err(bad());
        }
        Ok(Cursor {
            second,
            after_serial,
        })
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
        let c = Cursor {
            second: 1_793_000_000,
            after_serial: 17,
        };
        assert_eq!(Cursor::decode(&c.encode()), Ok(c));
        assert!(c.encode().len() < 32);
        for bad in ["", "v2.1.2", "v1.x.2", "v1.1", "v1.1.2.3"] {
            assert!(Cursor::decode(bad).is_err(), "{bad}");
        }
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

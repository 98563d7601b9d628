//! The shop's clock: IdoSell stamps dates in the shop's local time (Europe/Warsaw) with
//! one-second resolution, as `YYYY-MM-DD HH:MM:SS`.

use chrono::{NaiveDateTime, Utc};
use chrono_tz::Tz;

/// The shop's time zone.
pub const SHOP_TZ: Tz = chrono_tz::Europe::Warsaw;

/// The wire format of IdoSell dates.
pub const DATE_FORMAT: &str = "%Y-%m-%d %H:%M:%S";

/// A shop-local time at one-second resolution, as seconds of the naive local date-time (so it
/// orders exactly as the shop's date strings do).
pub type Stamp = i64;

/// The shop's local time now, to the second.
pub fn now() -> Stamp {
    to_stamp(Utc::now().with_timezone(&SHOP_TZ).naive_local())
}

/// A naive local date-time as a stamp (sub-second part dropped).
pub fn to_stamp(t: NaiveDateTime) -> Stamp {
    t.and_utc().timestamp()
}

/// A stamp as the wire string.
pub fn format(stamp: Stamp) -> String {
    match chrono::DateTime::from_timestamp(stamp, 0) {
        Some(t) => t.naive_utc().format(DATE_FORMAT).to_string(),
        None => String::from("0000-00-00 00:00:00"),
    }
}

/// Parses a wire date (`YYYY-MM-DD HH:MM:SS`; a bare `YYYY-MM-DD` means its midnight).
pub fn parse(text: &str) -> Option<Stamp> {
    let text = text.trim();
    if let Ok(t) = NaiveDateTime::parse_from_str(text, DATE_FORMAT) {
        return Some(to_stamp(t));
    }
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(to_stamp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_dates_round_trip_and_order_like_strings() {
        let a = parse("2026-11-02 10:15:00").expect("valid date");
        let b = parse("2026-11-03 08:00:12").expect("valid date");
        assert!(a < b);
        assert_eq!(format(a), "2026-11-02 10:15:00");
        assert_eq!(parse("2026-11-02"), parse("2026-11-02 00:00:00"));
        assert_eq!(parse("02.11.2026"), None);
    }
}

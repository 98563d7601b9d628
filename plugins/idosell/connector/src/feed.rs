//! The change feed's cursor and the pure decisions behind it.
//!
//! IdoSell stamps `orderChangeDate` in shop-local time (Europe/Warsaw) to the second, edits keep
//! landing while a client pages, and a shop may or may not honour `ordersBy`. The feed therefore
//! never depends on a sort by change date:
//!
//! - It reads **closed windows** of change dates `[from, to]`, where `to` is a *settled* second
//!   (the shop's clock, from its `Date` header minus the round trip, is [`SETTLE_SECS`] past it)
//!   when the window opens. No change can still be stamped inside a settled window, so its set of
//!   orders can only shrink while the feed pages: an order edited meanwhile leaves it (its new
//!   date is later) and shows in a later window.
//! - Inside a window it walks **serial numbers** with a keyset (`ordersSerialNumberRange` from
//!   the next serial number not yet read, `lo`), so an order leaving the window shifts nothing
//!   out of view.
//! - With a sort the shop honours (by serial number, [`Strategy::Sorted`]) each search returns
//!   the next serial numbers in order: `ceil(N / limit)` searches for `N` changes. A shop that
//!   honours no sort gets [`Strategy::Narrowing`]: serial-number ranges small enough that every
//!   match fits in one answer (`resultsNumberAll` ≤ the limit), found from the answers' counts.
//! - Every answer is filtered by the dates the orders carry: only changes inside the window are
//!   handed over, so whether the shop's date-range ends are inclusive or not only changes what
//!   is asked for ([`DateBounds`]), never what is returned. Windows partition time and the keyset
//!   partitions a window, so a change is handed over once.
//! - Changes newer than the window are held back until their second settles; the page then says
//!   when to poll again (`poll_after_ms`).
//!
//! Cursor: `v2.<from>.<to or ->.<lo>.<span>`, a few dozen bytes.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use orderlink_plugin_api::ConnectorError;

/// The shop's time zone.
pub const SHOP_TZ: Tz = chrono_tz::Europe::Warsaw;

/// IdoSell's date format.
pub const DATE_FORMAT: &str = "%Y-%m-%d %H:%M:%S";

/// How many seconds behind the shop's clock a second counts as settled.
pub const SETTLE_SECS: i64 = 2;

/// The upper end of serial-number ranges.
pub const MAX_SERIAL: u64 = i32::MAX as u64;

/// A shop-local time to the second, as seconds of the naive local date-time (ordered the way
/// the shop's date strings are).
pub type Stamp = i64;

/// How the feed walks a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// The shop sorts by serial number under this `ordersBy` name: keyset pages.
    Sorted(&'static str),
    /// The shop honours no sort: serial-number ranges whose matches fit in one answer.
    Narrowing,
}

/// Whether the shop's `ordersDateBegin`/`ordersDateEnd` include the second they name (`None`:
/// not known, asked for one second wider and filtered).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DateBounds {
    /// `ordersDateBegin` is inclusive.
    pub begin_inclusive: Option<bool>,
    /// `ordersDateEnd` is inclusive.
    pub end_inclusive: Option<bool>,
}

impl DateBounds {
    /// The `(ordersDateBegin, ordersDateEnd)` to ask for so that every date in `[from, to]`
    /// matches (and at most one second more at each end, filtered out afterwards).
    pub fn request(self, from: Stamp, to: Stamp) -> (Stamp, Stamp) {
        let begin = if self.begin_inclusive == Some(true) {
            from
        } else {
            from - 1
        };
        let end = if self.end_inclusive == Some(true) {
            to
        } else {
            to + 1
        };
        (begin, end)
    }
}

/// Where the change feed stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    /// Every change stamped before this second was handed over.
    pub from: Stamp,
    /// The open window's last second (`None`: no window open; the next poll opens
    /// `[from, settled]`).
    pub to: Option<Stamp>,
    /// In the open window, every change of an order with a serial number below this was handed
    /// over.
    pub lo: u64,
    /// [`Strategy::Narrowing`]'s serial-number span for the next range (0: the rest).
    pub span: u64,
}

impl Cursor {
    /// No window open; changes from `from` on still to come.
    pub fn at(from: Stamp) -> Self {
        Cursor {
            from,
            to: None,
            lo: 1,
            span: 0,
        }
    }

    /// The opaque string the host stores.
    pub fn encode(&self) -> String {
        let to = self.to.map_or_else(|| "-".to_owned(), |t| t.to_string());
        format!("v2.{}.{to}.{}.{}", self.from, self.lo, self.span)
    }

    /// Reads a string made by [`Cursor::encode`] (or by the earlier `v1` feed, whose position
    /// becomes a window of its one second read on from the serial number after it).
    pub fn decode(text: &str) -> Result<Self, ConnectorError> {
        let bad =
            || ConnectorError::permanent(format!("not an IdoSell change-feed cursor: {text:?}"));
        let parts: Vec<&str> = text.split('.').collect();
        let int = |s: &str| s.parse::<i64>().map_err(|_| bad());
        let uint = |s: &str| s.parse::<u64>().map_err(|_| bad());
        match parts.as_slice() {
            ["v2", from, to, lo, span] => {
                let from = int(from)?;
                let to = match *to {
                    "-" => None,
                    t => Some(int(t)?),
                };
                let lo = uint(lo)?;
                if lo == 0 || to.is_some_and(|t| t < from) {
                    return Err(bad());
                }
                Ok(Cursor {
                    from,
                    to,
                    lo,
                    span: uint(span)?,
                })
            }
            ["v1", second, after, in_second, ..] if parts.len() <= 5 => {
                let (second, after) = (int(second)?, uint(after)?);
                uint(in_second)?;
                Ok(if after == 0 {
                    Cursor::at(second)
                } else {
                    Cursor {
                        from: second,
                        to: Some(second),
                        lo: after + 1,
                        span: 0,
                    }
                })
            }
            _ => Err(bad()),
        }
    }
}

/// What one answer of a window search holds, as the feed needs it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Answer {
    /// `(serial number, change date)` of each order, in the order the shop sent them.
    pub orders: Vec<(u64, Option<Stamp>)>,
    /// `resultsNumberAll`, when the shop said.
    pub total: Option<u64>,
}

impl Answer {
    /// Whether the answer holds every match of its search.
    pub fn complete(&self, limit: u64) -> bool {
        let n = self.orders.len() as u64;
        match self.total {
            Some(total) => total <= n,
            None => n < limit,
        }
    }

    /// Whether the serial numbers rise strictly, as a sort by serial number gives them.
    pub fn ascending(&self) -> bool {
        self.orders.windows(2).all(|w| w[0].0 < w[1].0)
    }
}

/// What a page of the walk hands over and where it goes next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// Indexes (into [`Answer::orders`]) of the changes to hand over.
    pub hand: Vec<usize>,
    /// The next cursor.
    pub next: Cursor,
    /// Whether the window is read to its end (the next poll opens a new one).
    pub closed: bool,
    /// The earliest change seen past the window (held back until it settles).
    pub held: Option<Stamp>,
}

/// The changes of an answer inside the window `[from, to]`, and the earliest one past it.
fn inside(answer: &Answer, from: Stamp, to: Stamp) -> (Vec<usize>, Option<Stamp>) {
    let mut hand = Vec::new();
    let mut held: Option<Stamp> = None;
    for (i, (_, date)) in answer.orders.iter().enumerate() {
        match date {
            Some(d) if *d > to => held = Some(held.map_or(*d, |h| h.min(*d))),
            Some(d) if *d >= from => hand.push(i),
            // Before the window (a widened begin) or undated: not this window's change.
            _ => {}
        }
    }
    (hand, held)
}

/// A sorted answer for `[lo, MAX_SERIAL]` in the window `[from, to]`: hand over its changes and
/// move the keyset past its last serial number, or close the window when it was the last page.
pub fn sorted_step(cur: &Cursor, to: Stamp, answer: &Answer, limit: u64) -> Step {
    let (hand, held) = inside(answer, cur.from, to);
    let last = answer.orders.iter().map(|(s, _)| *s).max();
    match last {
        Some(last) if !answer.complete(limit) => Step {
            hand,
            next: Cursor {
                to: Some(to),
                lo: last + 1,
                ..*cur
            },
            closed: false,
            held,
        },
        _ => Step {
            hand,
            next: Cursor {
                span: cur.span,
                ..Cursor::at(to + 1)
            },
            closed: true,
            held,
        },
    }
}

/// The serial-number range a narrowing search asks for: `[lo, lo + span - 1]`, or the rest.
pub fn narrowing_range(cur: &Cursor) -> (u64, u64) {
    if cur.span == 0 {
        (cur.lo, MAX_SERIAL)
    } else {
        (cur.lo, cur.lo.saturating_add(cur.span - 1).min(MAX_SERIAL))
    }
}

/// The share of the limit a narrowed range aims at (room for changes landing meanwhile).
const TARGET_SHARE: f64 = 0.8;

/// A narrowing answer for `range` in the window `[from, to]`: `Ok` with the step when it held
/// every match (hand them over, move past the range, adapt the span), or `Err` with the smaller
/// span to ask again with when there were more matches than fit.
pub fn narrowing_step(
    cur: &Cursor,
    to: Stamp,
    range: (u64, u64),
    answer: &Answer,
    limit: u64,
) -> Result<Step, u64> {
    let target = ((limit as f64) * TARGET_SHARE).max(1.0);
    let (lo, hi) = range;
    let width = hi - lo + 1;
    if !answer.complete(limit) {
        let total = answer.total.unwrap_or(limit * 2).max(1) as f64;
        let mut sample: Vec<u64> = answer
            .orders
            .iter()
            .map(|(s, _)| *s)
            .filter(|s| (lo..=hi).contains(s))
            .collect();
        sample.sort_unstable();
        // Proportional to the count, over the serial numbers seen to be in use...
        let used = sample.last().map_or(width, |top| (top - lo + 1).min(width));
        let proportional = ((used as f64) * target / total) as u64;
        // ...and by the sample: its k-th serial number, k the share of the limit it stands for.
        let k = ((target * sample.len() as f64 / total) as usize).clamp(1, sample.len().max(1));
        let by_sample = sample.get(k - 1).map_or(u64::MAX, |s| s - lo + 1);
        let span = proportional
            .min(by_sample)
            .clamp(1, width.saturating_sub(1).max(1));
        return Err(span);
    }
    let (hand, held) = inside(answer, cur.from, to);
    let found = answer.orders.len() as f64;
    if hi >= MAX_SERIAL {
        return Ok(Step {
            hand,
            next: Cursor {
                span: cur.span,
                ..Cursor::at(to + 1)
            },
            closed: true,
            held,
        });
    }
    let grown = if found < 1.0 {
        width.saturating_mul(8)
    } else {
        (((width as f64) * target / found) as u64).min(width.saturating_mul(8))
    };
    Ok(Step {
        hand,
        next: Cursor {
            from: cur.from,
            to: Some(to),
            lo: hi + 1,
            span: grown.max(1),
        },
        closed: false,
        held,
    })
}

/// Milliseconds from the shop's `now` until second `stamp` is settled (at least 50 ms).
pub fn until_settled(stamp: Stamp, shop_now: DateTime<Utc>) -> u64 {
    let local = shop_now.with_timezone(&SHOP_TZ).naive_local().and_utc();
    let settled_at = DateTime::from_timestamp(stamp + SETTLE_SECS, 0).unwrap_or(local);
    let ms = (settled_at - local).num_milliseconds() + 50;
    u64::try_from(ms).unwrap_or(0).max(50)
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

    const T: Stamp = 1_793_000_000;

    fn answer(orders: &[(u64, Stamp)], total: Option<u64>) -> Answer {
        Answer {
            orders: orders.iter().map(|&(s, d)| (s, Some(d))).collect(),
            total,
        }
    }

    #[test]
    fn cursors_round_trip_stay_small_and_reject_garbage() {
        for c in [
            Cursor::at(T),
            Cursor {
                from: T,
                to: Some(T + 86_400),
                lo: 1_234_567,
                span: 4_000,
            },
        ] {
            assert_eq!(Cursor::decode(&c.encode()), Ok(c));
            assert!(c.encode().len() < 48, "{}", c.encode());
        }
        // The earlier feed's position: its second, read on after the serial number.
        assert_eq!(
            Cursor::decode("v1.100.17.3.40-1-ab"),
            Ok(Cursor {
                from: 100,
                to: Some(100),
                lo: 18,
                span: 0
            })
        );
        assert_eq!(Cursor::decode("v1.100.0.0"), Ok(Cursor::at(100)));
        for bad in [
            "",
            "v3.1.2.3.4",
            "v2.x.-.1.0",
            "v2.5.4.1.0",
            "v2.5.-.0.0",
            "v2.5.-.1",
            "v2.5.-.1.0.9",
            "v1.1.2",
        ] {
            assert!(Cursor::decode(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn date_bounds_widen_what_is_not_known_inclusive() {
        let both = DateBounds {
            begin_inclusive: Some(true),
            end_inclusive: Some(true),
        };
        assert_eq!(both.request(10, 20), (10, 20));
        let exclusive_end = DateBounds {
            begin_inclusive: Some(true),
            end_inclusive: Some(false),
        };
        assert_eq!(exclusive_end.request(10, 20), (10, 21));
        assert_eq!(DateBounds::default().request(10, 20), (9, 21));
    }

    #[test]
    fn sorted_pages_move_the_keyset_and_close_the_window() {
        let cur = Cursor::at(T);
        let to = T + 100;
        // A full page of 3 out of 5: hand over what is inside, move past the last serial.
        let a = answer(&[(4, T + 5), (9, T + 200), (12, T - 1)], Some(5));
        let s = sorted_step(&cur, to, &a, 3);
        assert_eq!(
            s.hand,
            vec![0],
            "before and after the window are not handed"
        );
        assert_eq!(s.held, Some(T + 200));
        assert!(!s.closed);
        assert_eq!(
            s.next,
            Cursor {
                from: T,
                to: Some(to),
                lo: 13,
                span: 0
            }
        );
        // The last page closes the window; the next one starts after it.
        let a = answer(&[(20, T + 100), (30, T + 50)], Some(2));
        let s = sorted_step(&s.next, to, &a, 3);
        assert_eq!(s.hand, vec![0, 1]);
        assert!(s.closed);
        assert_eq!(s.next, Cursor::at(to + 1));
        // An empty window closes at once.
        let s = sorted_step(&cur, to, &Answer::default(), 3);
        assert!(s.closed && s.hand.is_empty() && s.held.is_none());
        // Without a count, a short page is the last.
        let a = answer(&[(1, T)], None);
        assert!(sorted_step(&cur, to, &a, 3).closed);
        assert!(!sorted_step(&cur, to, &answer(&[(1, T), (2, T), (3, T)], None), 3).closed);
    }

    #[test]
    fn narrowing_shrinks_until_every_match_fits_then_grows() {
        let cur = Cursor::at(T);
        let to = T + 100;
        // The rest of the serial numbers hold 1,000 matches: ask again for a smaller range.
        let sample: Vec<(u64, Stamp)> = (0..100).map(|i| (1 + i * 97 % 10_000, T)).collect();
        let a = answer(&sample, Some(1_000));
        let range = narrowing_range(&cur);
        assert_eq!(range, (1, MAX_SERIAL));
        let span = narrowing_step(&cur, to, range, &a, 100).expect_err("too many");
        assert!((1..=1_000).contains(&span), "{span}");
        // A range whose matches fit: hand them over and move past it, growing the span.
        let narrowed = Cursor { span: 400, ..cur };
        let range = narrowing_range(&narrowed);
        assert_eq!(range, (1, 400));
        let a = answer(&[(7, T + 1), (300, T + 150)], Some(2));
        let s = narrowing_step(&narrowed, to, range, &a, 100).expect("fits");
        assert_eq!(s.hand, vec![0]);
        assert_eq!(s.held, Some(T + 150));
        assert!(!s.closed);
        assert_eq!((s.next.lo, s.next.to), (401, Some(to)));
        assert_eq!(s.next.span, 3_200, "at most eight times wider");
        // The last range closes the window.
        let last = Cursor {
            lo: 401,
            span: 0,
            to: Some(to),
            ..cur
        };
        let s = narrowing_step(&last, to, narrowing_range(&last), &Answer::default(), 100)
            .expect("fits");
        assert!(s.closed);
        assert_eq!(s.next.from, to + 1);
        // A range of two serial numbers always narrows to one.
        let two = answer(&[(5, T)], Some(2));
        assert_eq!(
            narrowing_step(&cur, to, (5, 6), &two, 1).expect_err("one fits"),
            1
        );
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
        let wait = until_settled(s, t);
        assert!((1_050..=3_050).contains(&wait), "{wait}");
        assert_eq!(until_settled(s - 10, t), 50);
    }
}

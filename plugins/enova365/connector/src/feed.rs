//! The change feed's cursor and its rules, apart from any I/O: where the next page starts, which
//! documents of a page are new to the host, and how far the feed has settled.
//!
//! The service pages by (`Zmieniono`, `ID`). While a run of pages says "more", the next page
//! starts strictly after the last document returned, so a change made while paging (a later
//! `Zmieniono`) shows on a later page. Once caught up, the feed re-reads from the *settled* mark:
//! the server's time minus the overlap, before which every transaction has committed. Documents
//! re-read in the overlap are told apart by (`ID`, `Zmieniono`) pairs kept in the cursor, so the
//! host never gets the same change twice; a fingerprint of what the host sees (key, status,
//! fulfilment) goes with each pair, so a second change within the same second as one already
//! returned still comes. At most [`MAX_RECENT`] entries are kept: past that the oldest go and the
//! settled mark moves up to them (the periodic listing sweep covers the rest).

use chrono::{DateTime, Duration, TimeZone, Utc};
use chrono_tz::Europe::Warsaw;

/// The most (`ID`, `Zmieniono`) pairs a cursor keeps.
pub const MAX_RECENT: usize = 256;

const PREFIX: &str = "z1";

/// Where the feed is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeedCursor {
    /// Every change at or before this (Unix seconds) has been returned; `None`: nothing yet.
    settled: Option<i64>,
    /// The last document returned while paging: (Unix seconds, id).
    position: Option<(i64, u64)>,
    /// The last page said more follow.
    paging: bool,
    /// Documents returned after the settled mark: (id, Unix seconds, fingerprint).
    recent: Vec<(u64, i64, u32)>,
}

/// Where the next page starts: `ZmienioneOd` (inclusive) and `PoID`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Start {
    /// The time, as the service reads it (Warsaw offset).
    pub from: String,
    /// The id after which documents at exactly `from` count.
    pub po_id: u64,
}

fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(secs, 0).single().unwrap_or_default()
}

/// A time as ISO 8601 with the Warsaw offset (what the server writes).
pub fn format_time(secs: i64) -> String {
    at(secs)
        .with_timezone(&Warsaw)
        .format("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

/// The feed's start when nothing has been read: every document changed since 2000.
const BEGINNING: i64 = 946_684_800;

impl FeedCursor {
    /// Reads a cursor; `None`, an empty one or a cursor of the older stamp-based feed start from
    /// the beginning. Anything else is `Err` with what is wrong.
    pub fn parse(raw: Option<&str>) -> Result<Self, String> {
        let raw = raw.map(str::trim).unwrap_or("");
        if raw.is_empty() || raw.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(FeedCursor::default());
        }
        let parts: Vec<&str> = raw.split(';').collect();
        let [prefix, settled, position, paging, recent] = parts[..] else {
            return Err(format!("cursor {raw:?} is not an enova365 feed cursor"));
        };
        if prefix != PREFIX {
            return Err(format!("cursor {raw:?} is not an enova365 feed cursor"));
        }
        let bad = || format!("cursor {raw:?} is damaged");
        let settled = match settled {
            "-" => None,
            s => Some(s.parse::<i64>().map_err(|_| bad())?),
        };
        let position = match position {
            "-" => None,
            p => {
                let (t, id) = p.split_once(',').ok_or_else(bad)?;
                Some((
                    t.parse::<i64>().map_err(|_| bad())?,
                    id.parse::<u64>().map_err(|_| bad())?,
                ))
            }
        };
        let paging = match paging {
            "1" => true,
            "0" => false,
            _ => return Err(bad()),
        };
        let mut list = Vec::new();
        if !recent.is_empty() {
            for entry in recent.split(',') {
                let mut parts = entry.split(':');
                let (Some(id), Some(t), Some(f), None) =
                    (parts.next(), parts.next(), parts.next(), parts.next())
                else {
                    return Err(bad());
                };
                list.push((
                    id.parse::<u64>().map_err(|_| bad())?,
                    t.parse::<i64>().map_err(|_| bad())?,
                    u32::from_str_radix(f, 16).map_err(|_| bad())?,
                ));
            }
        }
        Ok(FeedCursor {
            settled,
            position,
            paging,
            recent: list,
        })
    }

    /// The cursor as text: `z1;SETTLED;TIME,ID;PAGING;ID:TIME:FP,...` (times in Unix seconds,
    /// fingerprints in hex).
    pub fn render(&self) -> String {
        let settled = self.settled.map_or("-".to_owned(), |s| s.to_string());
        let position = self
            .position
            .map_or("-".to_owned(), |(t, id)| format!("{t},{id}"));
        let recent: Vec<String> = self
            .recent
            .iter()
            .map(|(id, t, f)| format!("{id}:{t}:{f:x}"))
            .collect();
        format!(
            "{PREFIX};{settled};{position};{};{}",
            u8::from(self.paging),
            recent.join(",")
        )
    }

    /// Where the next page starts: after the last document while paging, else just after the
    /// settled mark (re-reading the overlap).
    pub fn start(&self) -> Start {
        match (self.paging, self.position) {
            (true, Some((t, id))) => Start {
                from: format_time(t),
                po_id: id,
            },
            _ => Start {
                from: format_time(self.settled.map_or(BEGINNING, |s| s + 1)),
                po_id: 0,
            },
        }
    }

    /// Takes in a page (documents as (id, change time, fingerprint) in page order); answers, per
    /// document, whether it is new to the host. Once the feed has caught up (`more` false), the settled mark
    /// moves to the server's time minus `overlap` (or, without a server time, to the newest
    /// change seen minus `overlap`).
    pub fn absorb(
        &mut self,
        docs: &[(u64, DateTime<Utc>, u32)],
        more: bool,
        server_now: Option<DateTime<Utc>>,
        overlap: Duration,
    ) -> Vec<bool> {
        let mut fresh = Vec::with_capacity(docs.len());
        for &(id, t, fp) in docs {
            let secs = t.timestamp();
            let seen = self.recent.contains(&(id, secs, fp));
            fresh.push(!seen);
            if !seen {
                self.recent.retain(|(i, _, _)| *i != id);
                self.recent.push((id, secs, fp));
            }
        }
        if let Some(&(id, t, _)) = docs.last() {
            self.position = Some((t.timestamp(), id));
        }
        self.paging = more && !docs.is_empty();
        if !self.paging {
            let newest = self.recent.iter().map(|(_, t, _)| *t).max();
            let mark = match (server_now, newest) {
                (Some(now), _) => Some((now - overlap).timestamp()),
                (None, Some(t)) => Some(t - overlap.num_seconds()),
                (None, None) => None,
            };
            if let Some(mark) = mark {
                self.settled = Some(self.settled.map_or(mark, |s| s.max(mark)));
            }
        }
        if let Some(s) = self.settled {
            self.recent.retain(|(_, t, _)| *t > s);
        }
        if self.recent.len() > MAX_RECENT {
            self.recent.sort_by_key(|(id, t, _)| (*t, *id));
            let cut = self.recent.len() - MAX_RECENT;
            let dropped_to = self.recent[cut - 1].1;
            self.recent.drain(..cut);
            self.settled = Some(self.settled.map_or(dropped_to, |s| s.max(dropped_to)));
            self.recent.retain(|(_, t, _)| *t > dropped_to);
        }
        fresh
    }

    /// A fingerprint of what the host sees of a document.
    pub fn fingerprint(parts: &[&str]) -> u32 {
        // FNV-1a: stable across builds and platforms (the cursor is stored).
        let mut h: u32 = 0x811c_9dc5;
        for p in parts {
            for b in p.bytes().chain([0xff]) {
                h ^= u32::from(b);
                h = h.wrapping_mul(0x0100_0193);
            }
        }
        h
    }

    /// Whether the last page said more follow.
    pub fn paging(&self) -> bool {
        self.paging
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }

    const OVERLAP: i64 = 5;

    /// A tiny server: documents (id, change time); pages by (time, id) from a start.
    fn page(
        docs: &[(u64, &str)],
        start: &Start,
        limit: usize,
    ) -> (Vec<(u64, DateTime<Utc>, u32)>, bool) {
        let from = t(&start.from);
        let mut all: Vec<(DateTime<Utc>, u64)> = docs
            .iter()
            .map(|(id, s)| (t(s), *id))
            .filter(|(tt, id)| (*tt, *id) > (from, start.po_id) && *tt >= from)
            .collect();
        all.sort();
        let more = all.len() > limit;
        all.truncate(limit);
        (all.into_iter().map(|(tt, id)| (id, tt, 0)).collect(), more)
    }

    fn poll(c: &mut FeedCursor, docs: &[(u64, &str)], now: &str, limit: usize) -> Vec<u64> {
        let mut out = Vec::new();
        loop {
            let (p, more) = page(docs, &c.start(), limit);
            let fresh = c.absorb(&p, more, Some(t(now)), Duration::seconds(OVERLAP));
            out.extend(
                p.iter()
                    .zip(fresh)
                    .filter(|(_, f)| *f)
                    .map(|((id, _, _), _)| *id),
            );
            let back = FeedCursor::parse(Some(&c.render()));
            assert_eq!(back.as_ref(), Ok(&*c), "round trip");
            if !c.paging() {
                return out;
            }
        }
    }

    #[test]
    fn a_cursor_round_trips_and_bad_ones_are_refused() {
        let c = FeedCursor {
            settled: Some(100),
            position: Some((120, 7)),
            paging: true,
            recent: vec![(7, 120, 0xab), (9, 101, 0)],
        };
        assert_eq!(c.render(), "z1;100;120,7;1;7:120:ab,9:101:0");
        assert_eq!(FeedCursor::parse(Some(&c.render())), Ok(c));
        assert_eq!(FeedCursor::parse(None), Ok(FeedCursor::default()));
        assert_eq!(FeedCursor::parse(Some("12345")), Ok(FeedCursor::default()));
        for bad in [
            "z2;-;-;0;",
            "z1;x;-;0;",
            "z1;-;5;0;",
            "z1;-;-;2;",
            "z1;-;-;0;7",
            "z1;-;-;0;7:1",
            "z1;-;-;0;7:1:zz",
            "abc",
        ] {
            assert!(FeedCursor::parse(Some(bad)).is_err(), "{bad}");
        }
        assert_eq!(
            FeedCursor::default().start().from,
            "2000-01-01T01:00:00+01:00"
        );
    }

    #[test]
    fn an_idle_feed_returns_nothing_twice() {
        let docs = [(1, "2026-11-30T09:00:00Z"), (2, "2026-11-30T09:59:58Z")];
        let mut c = FeedCursor::default();
        assert_eq!(poll(&mut c, &docs, "2026-11-30T10:00:00Z", 100), [1, 2]);
        // Document 2 is inside the overlap: re-read, not returned again.
        assert_eq!(
            poll(&mut c, &docs, "2026-11-30T10:00:01Z", 100),
            Vec::<u64>::new()
        );
        assert_eq!(
            poll(&mut c, &docs, "2026-11-30T10:01:00Z", 100),
            Vec::<u64>::new()
        );
        assert!(c.recent.is_empty(), "{c:?}");
    }

    #[test]
    fn a_late_commit_inside_the_overlap_is_caught() {
        let mut docs = vec![(1, "2026-11-30T09:59:57Z"), (3, "2026-11-30T09:59:59Z")];
        let mut c = FeedCursor::default();
        assert_eq!(poll(&mut c, &docs, "2026-11-30T10:00:00Z", 100), [1, 3]);
        // A transaction stamped 09:59:58 commits after the read.
        docs.push((2, "2026-11-30T09:59:58Z"));
        assert_eq!(poll(&mut c, &docs, "2026-11-30T10:00:02Z", 100), [2]);
        // Document 1 changes again: a new change, returned again.
        docs[0] = (1, "2026-11-30T10:00:03Z");
        assert_eq!(poll(&mut c, &docs, "2026-11-30T10:00:04Z", 100), [1]);
    }

    #[test]
    fn a_change_made_while_paging_comes_on_a_later_page_once() {
        let mut docs: Vec<(u64, String)> = (1..=6)
            .map(|i| (i, format!("2026-11-30T09:00:0{i}Z")))
            .collect();
        fn view(d: &[(u64, String)]) -> Vec<(u64, &str)> {
            d.iter().map(|(i, s)| (*i, s.as_str())).collect()
        }
        let mut c = FeedCursor::default();
        let now = "2026-11-30T10:00:00Z";
        let (p, more) = page(&view(&docs), &c.start(), 2);
        let fresh = c.absorb(&p, more, Some(t(now)), Duration::seconds(OVERLAP));
        assert_eq!((p.len(), fresh, more), (2, vec![true, true], true));
        // Document 1 (already returned) changes while the feed pages.
        docs[0].1 = "2026-11-30T09:59:59Z".into();
        let rest = poll(&mut c, &view(&docs), now, 2);
        assert_eq!(rest, [3, 4, 5, 6, 1]);
        assert_eq!(
            poll(&mut c, &view(&docs), "2026-11-30T10:00:01Z", 2),
            Vec::<u64>::new()
        );
    }

    #[test]
    fn a_second_change_in_the_same_second_comes_when_what_the_host_sees_differs() {
        let mut c = FeedCursor::default();
        let at = t("2026-11-30T09:59:59Z");
        let now = Some(t("2026-11-30T10:00:00Z"));
        let a = FeedCursor::fingerprint(&["17", "Potwierdzony", "false"]);
        let b = FeedCursor::fingerprint(&["17", "Zaakceptowany", "false"]);
        assert_ne!(a, b);
        let overlap = Duration::seconds(OVERLAP);
        assert_eq!(c.absorb(&[(1, at, a)], false, now, overlap), [true]);
        assert_eq!(c.absorb(&[(1, at, a)], false, now, overlap), [false]);
        assert_eq!(c.absorb(&[(1, at, b)], false, now, overlap), [true]);
        assert_eq!(c.absorb(&[(1, at, b)], false, now, overlap), [false]);
    }

    #[test]
    fn the_cursor_stays_small_in_a_burst() {
        let stamps: Vec<(u64, String)> = (1..=2000)
            .map(|i| (i, "2026-11-30T09:59:59Z".to_owned()))
            .collect();
        let docs: Vec<(u64, &str)> = stamps.iter().map(|(i, s)| (*i, s.as_str())).collect();
        let mut c = FeedCursor::default();
        let got = poll(&mut c, &docs, "2026-11-30T10:00:00Z", 500);
        assert_eq!(got.len(), 2000);
        assert!(c.recent.len() <= MAX_RECENT, "{}", c.recent.len());
        assert!(c.render().len() < 6000, "{}", c.render().len());
        // Nothing comes twice afterwards.
        assert!(poll(&mut c, &docs, "2026-11-30T10:00:01Z", 500).is_empty());
    }
}

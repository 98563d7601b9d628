//! Progress of a long pull (the first sync of a large shop): an INFO line at least every
//! [`EVERY`] with the orders read, of how many when the source says (a listing's
//! `ListPage::total`), the rate and the estimated time left. A pull that ends within [`EVERY`]
//! logs nothing. A pull cut by a cycle's page budget says so, and its progress is kept by the
//! link's plan, so the next cycle (which starts at once) goes on counting from there.

use std::time::{Duration, Instant};

use crate::domain::Side;

/// How often a long pull reports.
pub const EVERY: Duration = Duration::from_secs(5);

/// What is being read: a change feed, or a listing of every order in scope (a sweep).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pull {
    /// The change feed (`changes`).
    Feed,
    /// The listing of every order in scope (`list`).
    Listing,
}

impl Pull {
    fn as_str(self) -> &'static str {
        match self {
            Pull::Feed => "feed",
            Pull::Listing => "listing",
        }
    }
}

/// The progress of one feed's or listing's pull, possibly over several cycles.
#[derive(Debug, Clone)]
pub struct Progress {
    link: String,
    side: Side,
    pull: Pull,
    started: Instant,
    last_report: Instant,
    read: u64,
    total: Option<u64>,
    reported: bool,
}

/// What a progress line says, computed without a clock (unit-tested).
#[derive(Debug, Clone, PartialEq)]
pub struct Figures {
    /// Orders read so far.
    pub read: u64,
    /// Orders in all, when known.
    pub total: Option<u64>,
    /// Orders read per second.
    pub rate: f64,
    /// Time left at this rate, when the total is known.
    pub eta: Option<Duration>,
}

/// The figures after reading `read` orders (of `total`, when known) in `elapsed`.
pub fn figures(read: u64, total: Option<u64>, elapsed: Duration) -> Figures {
    let secs = elapsed.as_secs_f64();
    let rate = if secs > 0.0 { read as f64 / secs } else { 0.0 };
    let eta = total.and_then(|t| {
        let left = t.saturating_sub(read) as f64;
        (rate > 0.0).then(|| Duration::from_secs_f64(left / rate))
    });
    Figures {
        read,
        total,
        rate,
        eta,
    }
}

/// A progress line: `20000 of 100000 orders read from the ERP listing (20 %), 2000/s, about 40s
/// left`.
pub fn line(side: Side, pull: Pull, f: &Figures) -> String {
    let of = f.total.map(|t| format!(" of {t}")).unwrap_or_default();
    let share = match f.total {
        Some(t) if t > 0 => format!(" ({} %)", f.read.min(t) * 100 / t),
        _ => String::new(),
    };
    let eta = f
        .eta
        .map(|d| format!(", about {} left", humanize(d)))
        .unwrap_or_default();
    format!(
        "{}{of} orders read from the {} {}{share}, {:.0}/s{eta}",
        f.read,
        side.as_str(),
        pull.as_str(),
        f.rate
    )
}

/// The line that ends a pull: cut by the page budget (`more`), or caught up after progress
/// lines were logged; `None` when there is nothing to say (a short pull).
pub fn end_line(
    side: Side,
    pull: Pull,
    read: u64,
    elapsed: Duration,
    more: bool,
    reported: bool,
) -> Option<String> {
    if more {
        Some(format!(
            "page budget of this cycle used after {read} orders from the {} {}; more remain, the next cycle continues at once",
            side.as_str(),
            pull.as_str()
        ))
    } else if reported {
        Some(format!(
            "caught up: {read} orders read from the {} {} in {}",
            side.as_str(),
            pull.as_str(),
            humanize(elapsed)
        ))
    } else {
        None
    }
}

impl Progress {
    /// Starts timing a pull of `link`'s feed or listing from `side`.
    pub fn new(link: &str, side: Side, pull: Pull) -> Self {
        Self::starting_at(link, side, pull, Instant::now())
    }

    /// Starts timing at `now`.
    pub fn starting_at(link: &str, side: Side, pull: Pull, now: Instant) -> Self {
        Progress {
            link: link.to_owned(),
            side,
            pull,
            started: now,
            last_report: now,
            read: 0,
            total: None,
            reported: false,
        }
    }

    /// The side read.
    pub fn side(&self) -> Side {
        self.side
    }

    /// What is read.
    pub fn pull(&self) -> Pull {
        self.pull
    }

    /// Counts a page of `n` orders at `now`; `total` is the source's count of all orders, when
    /// it gives one. Returns the progress line due when [`EVERY`] passed since the last one.
    pub fn page_at(&mut self, n: usize, total: Option<u64>, now: Instant) -> Option<String> {
        self.read += n as u64;
        if total.is_some() {
            self.total = total;
        }
        if now.saturating_duration_since(self.last_report) < EVERY {
            return None;
        }
        self.last_report = now;
        self.reported = true;
        let f = figures(
            self.read,
            self.total,
            now.saturating_duration_since(self.started),
        );
        Some(line(self.side, self.pull, &f))
    }

    /// Counts a page of `n` orders (see [`Progress::page_at`]) and logs the line when due.
    pub fn page(&mut self, n: usize, total: Option<u64>) {
        if let Some(text) = self.page_at(n, total, Instant::now()) {
            tracing::info!(
                link = %self.link,
                side = self.side.as_str(),
                read = self.read,
                total = self.total,
                "syncing: {text}"
            );
        }
    }

    /// The pull was cut short because the host is stopping: says so when progress lines were
    /// logged (a long pull), with what happens to the rest (`then`).
    pub fn stopped(&self, then: &str) {
        if self.reported {
            tracing::info!(
                link = %self.link,
                side = self.side.as_str(),
                read = self.read,
                "stopping after {} orders read from the {} {}; {then}",
                self.read,
                self.side.as_str(),
                self.pull.as_str()
            );
        }
    }

    /// Ends the pull for this cycle. `more` says the cycle's page budget ran out while the
    /// source had more: the next cycle continues at once (and the caller keeps this progress
    /// for it). Logs the end when progress lines were logged, or when more is left.
    pub fn finish(&self, more: bool) {
        let text = end_line(
            self.side,
            self.pull,
            self.read,
            self.started.elapsed(),
            more,
            self.reported,
        );
        if let Some(text) = text {
            tracing::info!(link = %self.link, side = self.side.as_str(), read = self.read, "{text}");
        }
    }
}

/// A duration as people read it: `45s`, `3m 20s`, `1h 5m`.
pub fn humanize(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m {}s", s / 60, s % 60),
        _ => format!("{}h {}m", s / 3600, (s % 3600) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_and_time_left() {
        let f = figures(20_000, Some(100_000), Duration::from_secs(10));
        assert_eq!(f.rate, 2000.0);
        assert_eq!(f.eta, Some(Duration::from_secs(40)));
        let unknown = figures(500, None, Duration::from_secs(5));
        assert_eq!(unknown.eta, None);
        assert_eq!(figures(0, Some(10), Duration::ZERO).eta, None);
        // More read than announced: nothing left, not a negative time.
        assert_eq!(
            figures(12, Some(10), Duration::from_secs(1)).eta,
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn durations_read_like_people_write_them() {
        assert_eq!(humanize(Duration::from_secs(45)), "45s");
        assert_eq!(humanize(Duration::from_secs(200)), "3m 20s");
        assert_eq!(humanize(Duration::from_secs(3900)), "1h 5m");
    }

    #[test]
    fn a_line_says_how_many_of_how_many_how_fast_and_how_long_still() {
        let f = figures(20_000, Some(100_000), Duration::from_secs(10));
        assert_eq!(
            line(Side::Erp, Pull::Listing, &f),
            "20000 of 100000 orders read from the erp listing (20 %), 2000/s, about 40s left"
        );
        let f = figures(3_000, None, Duration::from_secs(6));
        assert_eq!(
            line(Side::Shop, Pull::Feed, &f),
            "3000 orders read from the shop feed, 500/s"
        );
    }

    #[test]
    fn a_long_pull_reports_every_few_seconds_and_across_cycles() {
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        let mut p = Progress::starting_at("l1", Side::Erp, Pull::Listing, t0);
        // Pages within the first seconds: nothing to say yet.
        assert_eq!(p.page_at(100, Some(60_000), at(1)), None);
        assert_eq!(p.page_at(100, Some(60_000), at(4)), None);
        let first = p
            .page_at(9_800, Some(60_000), at(5))
            .expect("a line after 5 s");
        assert!(first.starts_with("10000 of 60000 orders"), "{first}");
        assert!(first.contains("2000/s, about 25s left"), "{first}");
        assert_eq!(p.page_at(100, None, at(7)), None);
        // The cycle's budget ran out: it says so, and the kept progress goes on counting.
        let cut = end_line(
            p.side(),
            p.pull(),
            10_100,
            Duration::from_secs(7),
            true,
            true,
        )
        .expect("a line when the budget ran out");
        assert!(
            cut.contains("more remain, the next cycle continues at once"),
            "{cut}"
        );
        let next = p.page_at(19_900, None, at(15)).expect("a line after 10 s");
        assert!(next.starts_with("30000 of 60000 orders"), "{next}");
        assert!(next.contains("about 15s left"), "{next}");
    }

    #[test]
    fn a_short_pull_ends_silently_a_long_one_says_it_caught_up() {
        assert_eq!(
            end_line(
                Side::Shop,
                Pull::Feed,
                50,
                Duration::from_secs(1),
                false,
                false
            ),
            None
        );
        let done = end_line(
            Side::Shop,
            Pull::Feed,
            60_000,
            Duration::from_secs(200),
            false,
            true,
        )
        .expect("caught up");
        assert_eq!(
            done,
            "caught up: 60000 orders read from the shop feed in 3m 20s"
        );
    }
}

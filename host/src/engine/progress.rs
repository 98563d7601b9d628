//! Progress of a long pull (the first sync of a large shop): an INFO line at least every
//! [`EVERY`] with the orders read, of how many when the feed says, the rate and the estimated
//! time left. A pull that ends within [`EVERY`] logs nothing.

use std::time::{Duration, Instant};

use crate::config::Side;

/// How often a long pull reports.
pub const EVERY: Duration = Duration::from_secs(5);

/// The progress of one feed's pull within a cycle.
#[derive(Debug)]
pub struct Progress {
    link: String,
    side: Side,
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

impl Progress {
    /// Starts timing a pull of `link`'s feed from `side`.
    pub fn new(link: &str, side: Side) -> Self {
        let now = Instant::now();
        Progress {
            link: link.to_owned(),
            side,
            started: now,
            last_report: now,
            read: 0,
            total: None,
            reported: false,
        }
    }

    /// Counts a page of `n` orders; `total` is the feed's count of all orders, when it gives one.
    /// Logs a progress line when [`EVERY`] passed since the last one.
    pub fn page(&mut self, n: usize, total: Option<u64>) {
        self.read += n as u64;
        if total.is_some() {
            self.total = total;
        }
        if self.last_report.elapsed() >= EVERY {
            self.last_report = Instant::now();
            self.reported = true;
            let f = figures(self.read, self.total, self.started.elapsed());
            let of = f.total.map(|t| format!(" of {t}")).unwrap_or_default();
            let eta = f
                .eta
                .map(|d| format!(", about {} left", humanize(d)))
                .unwrap_or_default();
            tracing::info!(
                link = %self.link,
                side = self.side.as_str(),
                read = f.read,
                rate = f.rate.round(),
                "syncing: {}{of} orders read from the {}, {:.0}/s{eta}",
                f.read,
                self.side.as_str(),
                f.rate
            );
        }
    }

    /// Ends the pull. `more` says the cycle's page budget ran out while the feed had more: the
    /// next cycle continues at once. Logs the end when progress lines were logged, or when more
    /// is left.
    pub fn finish(&self, more: bool) {
        let f = figures(self.read, self.total, self.started.elapsed());
        if more {
            tracing::info!(
                link = %self.link,
                side = self.side.as_str(),
                read = f.read,
                "page budget of this cycle used after {} orders from the {}; more remain, the next cycle continues at once",
                f.read,
                self.side.as_str()
            );
        } else if self.reported {
            tracing::info!(
                link = %self.link,
                side = self.side.as_str(),
                read = f.read,
                "caught up: {} orders read from the {} in {}",
                f.read,
                self.side.as_str(),
                humanize(self.started.elapsed())
            );
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
}

//! When a link cycles next: the pure decision behind adaptive polling.
//!
//! - a cycle whose page budget ran out while a feed had more: at once;
//! - a feed that held changes back (`poll_after_ms`): as soon as they settle (never later than
//!   the interval);
//! - a cycle that failed: the interval (the failing side rests inside the cycle, per-side
//!   backoff in `engine/health.rs`, so the other side keeps its pace);
//! - a cycle that moved something: the configured interval;
//! - an idle cycle: the interval growing by half per idle cycle, up to the link's ceiling, with
//!   jitter; the first change brings it back to the interval.

use std::time::Duration;

use super::super::backoff::{failure_delay, idle_delay};
use super::super::cycle::CycleReport;

/// The shortest wait before polling a feed that held changes back.
pub const MIN_SETTLE_WAIT: Duration = Duration::from_millis(10);

/// What the scheduler needs to know of a finished cycle.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Finished {
    /// The cycle ended with an error.
    pub failed: bool,
    /// It read, wrote, retried or dead-lettered something.
    pub changed: bool,
    /// Its page budget ran out while a feed had more.
    pub more: bool,
    /// A feed held changes back that settle this soon.
    pub poll_after: Option<Duration>,
}

impl Finished {
    /// The summary of a cycle's report.
    pub fn of(report: &CycleReport) -> Self {
        Finished {
            failed: report.error.is_some(),
            changed: report.pulled > 0
                || !report.applied.is_empty()
                || report.retried > 0
                || report.dead > 0,
            more: report.more,
            poll_after: report.poll_after,
        }
    }
}

/// The tick a wait of `wait` is rounded up to: 250 ms for waits of 2.5 s or more, 50 ms for
/// waits of 500 ms or more, none below. Links whose next cycles fall on the same tick are woken
/// together: one timer wake-up of the host for many links instead of one each, at the cost of
/// starting a cycle at most a tick later (a tenth of its wait at most).
pub fn tick_of(wait: Duration) -> Option<Duration> {
    if wait >= Duration::from_millis(2_500) {
        Some(Duration::from_millis(250))
    } else if wait >= Duration::from_millis(500) {
        Some(Duration::from_millis(50))
    } else {
        None
    }
}

/// When a cycle whose wait is `wait` should start, `now` being that long after a fixed
/// process-wide epoch: `now + wait` rounded up to its tick ([`tick_of`]), as time since the
/// epoch.
pub fn on_tick(now: Duration, wait: Duration) -> Duration {
    let at = now.saturating_add(wait);
    match tick_of(wait) {
        Some(tick) => {
            let tick_ns = tick.as_nanos();
            let ns = at.as_nanos().div_ceil(tick_ns) * tick_ns;
            u64::try_from(ns).map_or(at, Duration::from_nanos)
        }
        None => at,
    }
}

/// A link's polling pace: how many cycles in a row were idle or failed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pace {
    /// Idle cycles in a row.
    pub idle_streak: u32,
    /// Failed setups or crashes in a row (a cycle that ran resets it).
    pub failures: u32,
}

impl Pace {
    /// Records a finished cycle and returns how long to wait before the next one.
    pub fn after_cycle(&mut self, c: Finished, interval: Duration, ceiling: Duration) -> Duration {
        self.failures = 0;
        if c.failed {
            self.idle_streak = 0;
            return interval;
        }
        if c.more {
            self.idle_streak = 0;
            return Duration::ZERO;
        }
        if let Some(settle) = c.poll_after {
            self.idle_streak = 0;
            return settle.clamp(MIN_SETTLE_WAIT, interval.max(MIN_SETTLE_WAIT));
        }
        if c.changed {
            self.idle_streak = 0;
            return interval;
        }
        self.idle_streak = self.idle_streak.saturating_add(1);
        idle_delay(self.idle_streak, interval, ceiling)
    }

    /// Records a failed setup (or a crash) and returns how long to wait before trying again.
    pub fn after_failure(&mut self, interval: Duration) -> Duration {
        self.idle_streak = 0;
        self.failures = self.failures.saturating_add(1);
        failure_delay(self.failures, interval)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const I: Duration = Duration::from_secs(5);
    const C: Duration = Duration::from_secs(30);

    fn idle() -> Finished {
        Finished::default()
    }

    #[test]
    fn an_idle_feed_backs_off_and_a_change_brings_it_back() {
        let mut p = Pace::default();
        let waits: Vec<Duration> = (0..12).map(|_| p.after_cycle(idle(), I, C)).collect();
        assert!(waits[0] <= Duration::from_millis(5500));
        assert!(waits[11] >= Duration::from_secs(27) && waits[11] <= C);
        assert!(waits.iter().all(|w| *w >= I && *w <= C));
        let changed = Finished {
            changed: true,
            ..idle()
        };
        assert_eq!(p.after_cycle(changed, I, C), I);
        assert_eq!(p.idle_streak, 0);
        assert!(p.after_cycle(idle(), I, C) <= Duration::from_millis(5500));
    }

    #[test]
    fn a_full_page_budget_continues_at_once() {
        let mut p = Pace {
            idle_streak: 7,
            failures: 0,
        };
        let more = Finished {
            changed: true,
            more: true,
            ..idle()
        };
        assert_eq!(p.after_cycle(more, I, C), Duration::ZERO);
        assert_eq!(p.idle_streak, 0);
    }

    #[test]
    fn held_back_changes_are_polled_when_they_settle() {
        let mut p = Pace::default();
        let held = |ms| Finished {
            poll_after: Some(Duration::from_millis(ms)),
            ..idle()
        };
        assert_eq!(p.after_cycle(held(300), I, C), Duration::from_millis(300));
        assert_eq!(p.after_cycle(held(0), I, C), MIN_SETTLE_WAIT);
        // Never later than the interval.
        assert_eq!(p.after_cycle(held(60_000), I, C), I);
    }

    #[test]
    fn a_failed_cycle_keeps_the_interval_and_a_failed_setup_backs_off() {
        let mut p = Pace::default();
        let failed = Finished {
            failed: true,
            ..idle()
        };
        for _ in 0..12 {
            // The failing side rests inside the cycle; the link keeps its pace.
            assert_eq!(p.after_cycle(failed, I, C), I);
        }
        assert_eq!(p.failures, 0);
        let ok = Finished {
            changed: true,
            ..idle()
        };
        assert_eq!(p.after_cycle(ok, I, C), I);
        assert_eq!(p.failures, 0);
        let mut last = Duration::ZERO;
        for _ in 0..12 {
            last = p.after_failure(I);
            assert!(last >= I);
        }
        assert!(last >= Duration::from_secs(200), "{last:?}");
        assert_eq!(p.failures, 12);
    }

    #[test]
    fn long_waits_end_on_shared_ticks_short_ones_exactly() {
        let ms = Duration::from_millis;
        // Two links whose 5 s waits end 30 ms apart start on the same tick.
        assert_eq!(on_tick(ms(10_010), I), ms(15_250));
        assert_eq!(on_tick(ms(10_040), I), ms(15_250));
        assert_eq!(on_tick(ms(10_000), I), ms(15_000));
        // Never earlier than asked, and at most a tick (a tenth of the wait) later.
        for start in (0..3_000).step_by(7) {
            for wait in [ms(100), ms(600), ms(1_000), I, C] {
                let at = on_tick(ms(start), wait);
                assert!(at >= ms(start) + wait);
                assert!(at - (ms(start) + wait) <= wait / 10, "{start} {wait:?}");
            }
        }
        // Held-back changes (a settle wait) are polled exactly when they settle.
        assert_eq!(on_tick(ms(1_234), ms(300)), ms(1_534));
    }

    #[test]
    fn a_report_says_what_the_scheduler_needs() {
        let mut r = CycleReport::default();
        assert_eq!(Finished::of(&r), idle());
        r.pulled = 3;
        r.more = true;
        r.poll_after = Some(Duration::from_millis(5));
        let f = Finished::of(&r);
        assert!(f.changed && f.more && !f.failed);
        r.error = Some("down".into());
        assert!(Finished::of(&r).failed);
    }
}

//! How long to wait before trying again: a write that failed, a link whose cycles or setup keep
//! failing, and a feed that stays idle. The exponential schedules come from `backon`.

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};

/// Attempts after which a write that keeps failing transiently becomes a dead letter.
pub const MAX_ATTEMPTS: u32 = 30;

/// The longest wait between two attempts.
pub const MAX_DELAY: Duration = Duration::from_secs(300);

/// The `attempts`-th delay (0 = the first retry) of an exponential schedule from `min`,
/// multiplied by `factor` each time, capped at `max`; no jitter.
fn nth_delay(attempts: u32, min: Duration, factor: f32, max: Duration) -> Duration {
    ExponentialBuilder::new()
        .with_min_delay(min)
        .with_factor(factor)
        .with_max_delay(max.max(min))
        .without_max_times()
        .build()
        // Every schedule here reaches its cap well before 64 steps.
        .nth(attempts.min(64) as usize)
        .unwrap_or(max)
}

/// Spreads `d` by ±`spread` (0.2 = ±20 %) so that many waiters do not wake together.
fn jittered(d: Duration, spread: f64) -> Duration {
    d.mul_f64(1.0 - spread + 2.0 * spread * rand::random::<f64>())
}

/// Exponential backoff from 1 s, doubling, capped at 5 min, with ±20 % jitter; never shorter
/// than what the remote system asked for (`Retry-After`).
pub fn delay(attempts: u32, retry_after: Option<Duration>) -> Duration {
    let d = jittered(
        nth_delay(attempts, Duration::from_secs(1), 2.0, MAX_DELAY),
        0.2,
    );
    match retry_after {
        Some(ra) => d.max(ra),
        None => d,
    }
}

/// How long a link waits after `failures` failed cycles or setups in a row (at least 1): its
/// poll interval, or the retry backoff when that is longer.
pub fn failure_delay(failures: u32, interval: Duration) -> Duration {
    interval.max(delay(failures.saturating_sub(1), None))
}

/// How long a feed that found nothing new `idle_streak` cycles in a row (at least 1) waits
/// before the next poll: its interval growing by half each idle cycle up to `ceiling`, spread by
/// ±10 % but never outside `[interval, ceiling]`.
pub fn idle_delay(idle_streak: u32, interval: Duration, ceiling: Duration) -> Duration {
    if ceiling <= interval {
        return interval;
    }
    let d = nth_delay(idle_streak.saturating_sub(1), interval, 1.5, ceiling);
    jittered(d, 0.1).clamp(interval, ceiling)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_then_caps_and_honours_retry_after() {
        assert!(delay(0, None) <= Duration::from_millis(1200));
        assert!(delay(0, None) >= Duration::from_millis(800));
        assert!(delay(3, None) >= Duration::from_millis(6400));
        assert!(delay(20, None) <= Duration::from_secs(360));
        assert!(delay(u32::MAX, None) <= Duration::from_secs(360));
        assert!(delay(0, Some(Duration::from_secs(42))) >= Duration::from_secs(42));
    }

    #[test]
    fn a_failing_link_waits_at_least_its_interval_and_backs_off() {
        let i = Duration::from_secs(5);
        assert!(failure_delay(1, i) >= i);
        assert!(failure_delay(5, i) >= Duration::from_secs(12));
        assert!(failure_delay(100, i) <= Duration::from_secs(360));
        assert!(failure_delay(0, Duration::from_secs(600)) == Duration::from_secs(600));
    }

    #[test]
    fn an_idle_feed_backs_off_to_its_ceiling_and_no_further() {
        let (i, c) = (Duration::from_secs(5), Duration::from_secs(30));
        let first = idle_delay(1, i, c);
        assert!(
            first >= i && first <= Duration::from_millis(5500),
            "{first:?}"
        );
        let third = idle_delay(3, i, c);
        assert!(third >= Duration::from_millis(10_125), "{third:?}");
        for streak in [10, 100, u32::MAX] {
            let d = idle_delay(streak, i, c);
            assert!(d >= Duration::from_secs(27) && d <= c, "{d:?}");
        }
        // No ceiling above the interval: no backoff.
        assert_eq!(idle_delay(50, i, i), i);
        assert_eq!(idle_delay(50, i, Duration::from_secs(1)), i);
    }
}

//! How long to wait before retrying a write.

use std::time::Duration;

/// Attempts after which a write that keeps failing transiently becomes a dead letter.
pub const MAX_ATTEMPTS: u32 = 30;

/// Exponential backoff from 1 s, doubling, capped at 5 min, with ±20 % jitter; never shorter
/// than what the remote system asked for (`Retry-After`).
pub fn delay(attempts: u32, retry_after: Option<Duration>) -> Duration {
    let base = Duration::from_secs(1).saturating_mul(1u32 << attempts.min(9));
    let capped = base.min(Duration::from_secs(300));
    let jitter = 0.8 + 0.4 * rand::random::<f64>();
    let with_jitter = capped.mul_f64(jitter);
    match retry_after {
        Some(ra) => with_jitter.max(ra),
        None => with_jitter,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_then_caps_and_honours_retry_after() {
        assert!(delay(0, None) <= Duration::from_millis(1200));
        assert!(delay(3, None) >= Duration::from_millis(6400));
        assert!(delay(20, None) <= Duration::from_secs(360));
        assert!(delay(0, Some(Duration::from_secs(42))) >= Duration::from_secs(42));
    }
}

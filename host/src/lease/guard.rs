//! When a host may still act on a lease it holds: the rule behind the check before each batch
//! of remote writes.
//!
//! A host renews its leases every third of the lease period, and counts each lease's end on its
//! own monotonic clock from the moment it sent the renewal (never later than the database's
//! end). A batch of writes to a shop or ERP starts only while at least the margin is left, so a
//! batch that takes less than the margin ends before any other host can take the link.

use std::time::{Duration, Instant};

/// How often a host coordinates its leases: a third of the lease period.
pub fn renew_every(lease: Duration) -> Duration {
    lease / 3
}

/// How much of a lease must be left to start a batch of remote writes: a third of the period
/// (a renewal is due by then, so a healthy host never hits it).
pub fn write_margin(lease: Duration) -> Duration {
    lease / 3
}

/// Whether a lease ending at `deadline` still has more than `margin` left at `now`.
pub fn holds_with_margin(deadline: Instant, now: Instant, margin: Duration) -> bool {
    now.checked_add(margin).is_some_and(|t| deadline > t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_starts_only_with_the_margin_left() {
        let now = Instant::now();
        let lease = Duration::from_secs(30);
        let margin = write_margin(lease);
        assert_eq!(margin, Duration::from_secs(10));
        // Just renewed: 30 s left.
        assert!(holds_with_margin(now + lease, now, margin));
        // 10 s or less left: no batch starts.
        assert!(!holds_with_margin(now + margin, now, margin));
        assert!(!holds_with_margin(
            now + Duration::from_secs(3),
            now,
            margin
        ));
        // Expired.
        assert!(!holds_with_margin(
            now,
            now + Duration::from_secs(1),
            Duration::ZERO
        ));
    }

    #[test]
    fn a_healthy_host_renews_before_the_margin() {
        let lease = Duration::from_secs(30);
        // Renewed at every tick, a lease never has less than lease - renew_every left at a tick,
        // which is more than the margin.
        assert!(lease - renew_every(lease) > write_margin(lease));
    }
}

//! The health of each side of a link: a side whose calls fail is left alone for a while
//! (backoff per side), while the other side keeps being read and written.

use std::time::{Duration, Instant};

use super::backoff::delay;
use crate::domain::Side;

/// How one side of a link is doing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SideHealth {
    /// Failed cycles in a row.
    pub failures: u32,
    /// Not to be called before this moment.
    pub retry_at: Option<Instant>,
    /// The last failure.
    pub last_error: Option<String>,
}

/// Both sides of a link.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkHealth {
    shop: SideHealth,
    erp: SideHealth,
}

impl LinkHealth {
    /// One side's health.
    pub fn side(&self, side: Side) -> &SideHealth {
        match side {
            Side::Shop => &self.shop,
            Side::Erp => &self.erp,
        }
    }

    fn side_mut(&mut self, side: Side) -> &mut SideHealth {
        match side {
            Side::Shop => &mut self.shop,
            Side::Erp => &mut self.erp,
        }
    }

    /// Whether a side may be called at `now`.
    pub fn due(&self, side: Side, now: Instant) -> bool {
        self.side(side).retry_at.is_none_or(|at| at <= now)
    }

    /// A call to a side failed at `now`: it rests for a backoff that grows with each failure in
    /// a row (1 s doubling up to 5 min), and never less than the system asked (`Retry-After`).
    pub fn failed(
        &mut self,
        side: Side,
        now: Instant,
        retry_after: Option<Duration>,
        error: String,
    ) {
        let h = self.side_mut(side);
        h.retry_at = Some(now + delay(h.failures, retry_after));
        h.failures += 1;
        h.last_error = Some(error);
    }

    /// A call to a side succeeded: it is healthy again.
    pub fn succeeded(&mut self, side: Side) {
        *self.side_mut(side) = SideHealth::default();
    }

    /// The earliest moment a resting side may be called again, if one rests.
    pub fn next_retry(&self) -> Option<Instant> {
        [self.shop.retry_at, self.erp.retry_at]
            .into_iter()
            .flatten()
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failing_side_rests_longer_each_time_and_the_other_stays_due() {
        let now = Instant::now();
        let mut h = LinkHealth::default();
        assert!(h.due(Side::Shop, now) && h.due(Side::Erp, now));
        h.failed(Side::Shop, now, None, "boom".into());
        assert!(!h.due(Side::Shop, now));
        assert!(h.due(Side::Erp, now), "the ERP does not rest for the shop");
        let first = h.side(Side::Shop).retry_at.map(|t| t - now);
        h.failed(Side::Shop, now, None, "boom".into());
        h.failed(Side::Shop, now, None, "boom".into());
        let third = h.side(Side::Shop).retry_at.map(|t| t - now);
        assert!(third > first, "{first:?} {third:?}");
        assert!(h.due(Side::Shop, now + Duration::from_secs(301)));
        assert_eq!(h.side(Side::Shop).failures, 3);
        h.succeeded(Side::Shop);
        assert!(h.due(Side::Shop, now));
        assert_eq!(h.next_retry(), None);
    }

    #[test]
    fn retry_after_is_honoured() {
        let now = Instant::now();
        let mut h = LinkHealth::default();
        h.failed(Side::Erp, now, Some(Duration::from_secs(40)), "429".into());
        assert!(!h.due(Side::Erp, now + Duration::from_secs(39)));
        assert!(h.next_retry() >= Some(now + Duration::from_secs(40)));
    }
}

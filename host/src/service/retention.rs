//! Pruning the audit trail to `[store] audit_retention`: cheaply at the start of `sync --once`,
//! and hourly in the background of `run` (`engine::supervisor::prune_audit`).

use std::time::Duration;

use crate::store::{StateStore, StoreError};

/// How often `run` prunes.
pub const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// The moment before which audit records go (RFC 3339), for a retention.
pub fn horizon(retention: Duration) -> String {
    let keep = chrono::Duration::from_std(retention).unwrap_or(chrono::Duration::MAX);
    let at = chrono::Utc::now()
        .checked_sub_signed(keep)
        .unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC);
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Deletes audit records (and cursor checkpoints) older than the retention; returns how many
/// audit records went.
pub fn prune(store: &dyn StateStore, retention: Duration) -> Result<usize, StoreError> {
    store.prune_audit(&horizon(retention))
}

/// A retention in words, e.g. `90d`, `36h`.
pub fn describe(retention: Duration) -> String {
    let s = retention.as_secs();
    if s.is_multiple_of(86400) {
        format!("{}d", s / 86400)
    } else if s.is_multiple_of(3600) {
        format!("{}h", s / 3600)
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_in_words() {
        assert_eq!(describe(Duration::from_secs(90 * 86400)), "90d");
        assert_eq!(describe(Duration::from_secs(36 * 3600)), "36h");
    }

    #[test]
    fn the_horizon_lies_the_retention_back() {
        let h = horizon(Duration::from_secs(86400));
        let at = chrono::DateTime::parse_from_rfc3339(&h).unwrap();
        let back = chrono::Utc::now().signed_duration_since(at);
        assert!((back.num_seconds() - 86400).abs() < 5, "{h}");
    }
}

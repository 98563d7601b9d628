//! Pruning the audit trail to `[store] audit_retention`: cheaply at the start of `sync --once`,
//! and hourly in the background of `run`.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::store::{Store, StoreError};

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
pub fn prune(store: &Store, retention: Duration) -> Result<usize, StoreError> {
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

/// Starts the background pruner of `run`: prunes at once, then every [`PRUNE_EVERY`], until
/// `stop` is set.
pub fn spawn_pruner(
    store_path: PathBuf,
    retention: Duration,
    stop: Arc<AtomicBool>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("audit-pruner".into())
        .spawn(move || {
            let store = match Store::open(&store_path) {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!("audit pruning off: {e}");
                    return;
                }
            };
            let mut next = Instant::now();
            while !stop.load(Ordering::SeqCst) {
                if Instant::now() >= next {
                    match prune(&store, retention) {
                        Ok(0) => {}
                        Ok(n) => tracing::info!(
                            records = n,
                            "audit trail pruned to {}",
                            describe(retention)
                        ),
                        Err(e) => tracing::warn!("audit pruning failed: {e}"),
                    }
                    next = Instant::now() + PRUNE_EVERY;
                }
                std::thread::sleep(Duration::from_millis(200));
            }
        })
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

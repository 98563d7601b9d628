//! Cursor checkpoints: the feed cursors a link saved, with when they were saved, so a resync can
//! move a cursor back to a moment without understanding it (connector cursors are opaque).
//!
//! A checkpoint `(cursor, at)` means: when the cursor was saved at `at`, every change made after
//! `at` was still ahead of it. So to re-read every change since a moment, take the newest
//! checkpoint at or before that moment. One checkpoint per link and side is kept per
//! [`CHECKPOINT_EVERY_MS`] (recorded by [`super::StateStore::commit_page`]); they are pruned
//! with the audit trail.

use serde::Serialize;

/// The least time between two checkpoints of one link's feed from one side.
pub const CHECKPOINT_EVERY_MS: i64 = 60_000;

/// A saved cursor and when it was saved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Checkpoint {
    /// The cursor, as the connector gave it.
    pub cursor: String,
    /// When it was saved (RFC 3339, UTC).
    pub at: String,
    /// The same moment in ms since the epoch.
    pub at_ms: i64,
}

/// Whether a cursor saved at `now_ms` gets a checkpoint, given the last one's time.
pub fn checkpoint_due(last_ms: Option<i64>, now_ms: i64) -> bool {
    last_ms.is_none_or(|t| now_ms - t >= CHECKPOINT_EVERY_MS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_checkpoint_per_interval() {
        assert!(checkpoint_due(None, 5));
        assert!(!checkpoint_due(
            Some(1_000),
            1_000 + CHECKPOINT_EVERY_MS - 1
        ));
        assert!(checkpoint_due(Some(1_000), 1_000 + CHECKPOINT_EVERY_MS));
    }
}

//! Cursor checkpoints: the feed cursors a link saved, with when they were saved, so a resync can
//! move a cursor back to a moment without understanding it (connector cursors are opaque).
//!
//! A checkpoint `(cursor, at)` means: when the cursor was saved at `at`, every change made after
//! `at` was still ahead of it. So to re-read every change since a moment, take the newest
//! checkpoint at or before that moment. One checkpoint per link and side is kept per
//! [`CHECKPOINT_EVERY_MS`]; they are pruned with the audit trail.

use rusqlite::{params, OptionalExtension};
use serde::Serialize;

use super::{now_ms, now_text, Store, StoreError};
use crate::config::Side;

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

/// Records a checkpoint for a cursor just saved, unless a recent one exists (inside the page's
/// transaction).
pub(super) fn record(
    tx: &rusqlite::Transaction<'_>,
    link: &str,
    side: Side,
    cursor: &str,
) -> Result<(), StoreError> {
    let now = now_ms();
    let last: Option<i64> = tx
        .query_row(
            "SELECT MAX(at_ms) FROM cursor_checkpoints WHERE link = ?1 AND side = ?2",
            params![link, side.as_str()],
            |r| r.get(0),
        )
        .optional()?
        .flatten();
    if last.is_none_or(|t| now - t >= CHECKPOINT_EVERY_MS) {
        tx.execute(
            "INSERT INTO cursor_checkpoints (link, side, cursor, at, at_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![link, side.as_str(), cursor, now_text(), now],
        )?;
    }
    Ok(())
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Checkpoint> {
    Ok(Checkpoint {
        cursor: r.get(0)?,
        at: r.get(1)?,
        at_ms: r.get(2)?,
    })
}

impl Store {
    /// The newest checkpoint of a link's feed from one side saved at or before `at_ms`.
    pub fn checkpoint_at_or_before(
        &self,
        link: &str,
        side: Side,
        at_ms: i64,
    ) -> Result<Option<Checkpoint>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT cursor, at, at_ms FROM cursor_checkpoints WHERE link = ?1 AND side = ?2 AND at_ms <= ?3
                 ORDER BY at_ms DESC, id DESC LIMIT 1",
                params![link, side.as_str(), at_ms],
                row,
            )
            .optional()?)
    }

    /// The oldest checkpoint kept of a link's feed from one side: since when the feed is known
    /// to have been followed.
    pub fn first_checkpoint(
        &self,
        link: &str,
        side: Side,
    ) -> Result<Option<Checkpoint>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT cursor, at, at_ms FROM cursor_checkpoints WHERE link = ?1 AND side = ?2
                 ORDER BY at_ms, id LIMIT 1",
                params![link, side.as_str()],
                row,
            )
            .optional()?)
    }

    /// When a link's cursor from one side was last saved (the feed last read), if ever.
    pub fn cursor_saved_at(&self, link: &str, side: Side) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT updated_at FROM cursors WHERE link = ?1 AND side = ?2",
                params![link, side.as_str()],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Sets a link's cursor from one side (`None`: the connector's start point). Used to move
    /// it back for a resync; a cycle running at the same moment may move it on again.
    pub fn set_cursor(
        &self,
        link: &str,
        side: Side,
        cursor: Option<&str>,
    ) -> Result<(), StoreError> {
        match cursor {
            Some(c) => self.conn.execute(
                "INSERT INTO cursors (link, side, cursor, updated_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (link, side) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at",
                params![link, side.as_str(), c, now_text()],
            )?,
            None => self.conn.execute(
                "DELETE FROM cursors WHERE link = ?1 AND side = ?2",
                params![link, side.as_str()],
            )?,
        };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> Store {
        Store::open(std::path::Path::new(":memory:")).unwrap()
    }

    fn commit(s: &mut Store, cursor: &str) {
        s.commit_page("l", Side::Erp, cursor, &[], &[], &[], &[])
            .unwrap();
    }

    #[test]
    fn a_checkpoint_per_interval_and_the_newest_before_a_moment_wins() {
        let mut s = store();
        commit(&mut s, "10");
        commit(&mut s, "11");
        let first = s.first_checkpoint("l", Side::Erp).unwrap().unwrap();
        assert_eq!(first.cursor, "10", "the second save is inside the interval");
        // An older checkpoint, as if saved two minutes ago.
        s.conn
            .execute(
                "UPDATE cursor_checkpoints SET at_ms = at_ms - 120000 WHERE cursor = '10'",
                [],
            )
            .unwrap();
        commit(&mut s, "12");
        let now = now_ms();
        assert_eq!(
            s.checkpoint_at_or_before("l", Side::Erp, now - 60_000)
                .unwrap()
                .map(|c| c.cursor),
            Some("10".to_owned())
        );
        assert_eq!(
            s.checkpoint_at_or_before("l", Side::Erp, now + 1)
                .unwrap()
                .map(|c| c.cursor),
            Some("12".to_owned())
        );
        assert_eq!(
            s.checkpoint_at_or_before("l", Side::Erp, now - 3_600_000)
                .unwrap(),
            None
        );
        assert_eq!(
            s.checkpoint_at_or_before("l", Side::Shop, now + 1).unwrap(),
            None
        );
    }

    #[test]
    fn set_cursor_moves_it_and_none_starts_over() {
        let mut s = store();
        commit(&mut s, "12");
        s.set_cursor("l", Side::Erp, Some("5")).unwrap();
        assert_eq!(s.cursor("l", Side::Erp).unwrap().as_deref(), Some("5"));
        s.set_cursor("l", Side::Erp, None).unwrap();
        assert_eq!(s.cursor("l", Side::Erp).unwrap(), None);
    }
}

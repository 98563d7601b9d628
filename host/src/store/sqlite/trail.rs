//! The SQLite queries behind the order trail (known orders, pending writes, queued writes),
//! cursor checkpoints and audit pruning.

use rusqlite::{params, Connection, OptionalExtension, Transaction};

use super::side;
use crate::domain::Side;
use crate::store::checkpoints::checkpoint_due;
use crate::store::{now_ms, now_text, Checkpoint, KnownOrder, OutboxEntry, PendingWrite};

/// Queues writes in the outbox, replacing an older pending write for the same order and target.
pub fn upsert_outbox(
    tx: &Transaction<'_>,
    link: &str,
    outbox: &[OutboxEntry],
    now: &str,
) -> rusqlite::Result<()> {
    let mut ins = tx.prepare_cached(
        "INSERT INTO outbox (link, target, key, status, from_status, source_status, expected_version, reason, attempts, next_attempt_ms, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0, 0, ?9)
         ON CONFLICT (link, target, key) DO UPDATE SET status = excluded.status,
           from_status = excluded.from_status, source_status = excluded.source_status,
           expected_version = excluded.expected_version, reason = excluded.reason,
           attempts = 0, next_attempt_ms = 0, last_error = NULL",
    )?;
    for e in outbox {
        ins.execute(params![
            link,
            e.target.as_str(),
            e.key,
            e.status,
            e.from_status,
            e.source_status,
            e.expected_version,
            e.reason,
            now
        ])?;
    }
    Ok(())
}

/// Records a checkpoint for a cursor just saved, unless a recent one exists (inside the page's
/// transaction).
pub fn record_checkpoint(
    tx: &Transaction<'_>,
    link: &str,
    side: Side,
    cursor: &str,
) -> rusqlite::Result<()> {
    let now = now_ms();
    let last: Option<i64> = tx
        .prepare_cached("SELECT MAX(at_ms) FROM cursor_checkpoints WHERE link = ?1 AND side = ?2")?
        .query_row(params![link, side.as_str()], |r| r.get(0))?;
    if checkpoint_due(last, now) {
        tx.prepare_cached(
            "INSERT INTO cursor_checkpoints (link, side, cursor, at, at_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![link, side.as_str(), cursor, now_text(), now])?;
    }
    Ok(())
}

fn checkpoint_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Checkpoint> {
    Ok(Checkpoint {
        cursor: r.get(0)?,
        at: r.get(1)?,
        at_ms: r.get(2)?,
    })
}

/// The newest checkpoint at or before `at_ms`.
pub fn checkpoint_at_or_before(
    conn: &Connection,
    link: &str,
    side: Side,
    at_ms: i64,
) -> rusqlite::Result<Option<Checkpoint>> {
    conn.prepare_cached(
        "SELECT cursor, at, at_ms FROM cursor_checkpoints WHERE link = ?1 AND side = ?2 AND at_ms <= ?3
         ORDER BY at_ms DESC, id DESC LIMIT 1",
    )?
    .query_row(params![link, side.as_str(), at_ms], checkpoint_row)
    .optional()
}

/// The oldest checkpoint kept.
pub fn first_checkpoint(
    conn: &Connection,
    link: &str,
    side: Side,
) -> rusqlite::Result<Option<Checkpoint>> {
    conn.prepare_cached(
        "SELECT cursor, at, at_ms FROM cursor_checkpoints WHERE link = ?1 AND side = ?2
         ORDER BY at_ms, id LIMIT 1",
    )?
    .query_row(params![link, side.as_str()], checkpoint_row)
    .optional()
}

/// When a cursor was last saved.
pub fn cursor_saved_at(
    conn: &Connection,
    link: &str,
    side: Side,
) -> rusqlite::Result<Option<String>> {
    conn.prepare_cached("SELECT updated_at FROM cursors WHERE link = ?1 AND side = ?2")?
        .query_row(params![link, side.as_str()], |r| r.get(0))
        .optional()
}

/// What each link (or one) last saw of an order.
pub fn known_order(
    conn: &Connection,
    key: &str,
    link: Option<&str>,
) -> rusqlite::Result<Vec<KnownOrder>> {
    let mut stmt = conn.prepare_cached(
        "SELECT link, key, shop_status, erp_status, shop_written, erp_written, created_at, fulfilled, updated_at
         FROM orders WHERE key = ?1 AND (?2 IS NULL OR link = ?2) ORDER BY link",
    )?;
    let rows = stmt.query_map(params![key, link], |r| {
        Ok(KnownOrder {
            link: r.get(0)?,
            key: r.get(1)?,
            shop_status: r.get(2)?,
            erp_status: r.get(3)?,
            shop_written: r.get(4)?,
            erp_written: r.get(5)?,
            created_at: r.get(6)?,
            fulfilled: r.get(7)?,
            updated_at: r.get(8)?,
        })
    })?;
    rows.collect()
}

/// Every order key a link has seen.
pub fn known_keys(conn: &Connection, link: &str) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare_cached("SELECT key FROM orders WHERE link = ?1 ORDER BY key")?;
    let rows = stmt.query_map(params![link], |r| r.get(0))?;
    rows.collect()
}

/// Pending writes of a link or an order, oldest first.
pub fn pending_writes(
    conn: &Connection,
    link: Option<&str>,
    key: Option<&str>,
) -> rusqlite::Result<Vec<PendingWrite>> {
    let mut stmt = conn.prepare_cached(
        "SELECT link, target, key, status, from_status, reason, attempts, last_error, created_at FROM outbox
         WHERE (?1 IS NULL OR link = ?1) AND (?2 IS NULL OR key = ?2) ORDER BY id",
    )?;
    let rows = stmt.query_map(params![link, key], |r| {
        Ok(PendingWrite {
            link: r.get(0)?,
            target: side(&r.get::<_, String>(1)?),
            key: r.get(2)?,
            status: r.get(3)?,
            from_status: r.get(4)?,
            reason: r.get(5)?,
            attempts: r.get(6)?,
            last_error: r.get(7)?,
            created_at: r.get(8)?,
        })
    })?;
    rows.collect()
}

/// Deletes audit records and checkpoints older than `before`, keeping the newest checkpoint of
/// each link and side.
pub fn prune_audit(tx: &Transaction<'_>, before: &str) -> rusqlite::Result<usize> {
    let n = tx.execute("DELETE FROM audit WHERE at < ?1", params![before])?;
    tx.execute(
        "DELETE FROM cursor_checkpoints WHERE at < ?1 AND id NOT IN
           (SELECT MAX(id) FROM cursor_checkpoints GROUP BY link, side)",
        params![before],
    )?;
    Ok(n)
}

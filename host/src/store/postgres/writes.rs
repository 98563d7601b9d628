//! The PostgreSQL statements that change a link's state, each a batch (`unnest` of arrays) run
//! inside the fenced transaction of [`super::PostgresStore`].

use postgres::Transaction;

use crate::domain::Side;
use crate::store::checkpoints::checkpoint_due;
use crate::store::{
    applied_audit, dead_letter_audit, now_ms, now_text, AuditEntry, OutboxEntry, OutboxUpdate,
    PageCommit,
};

/// Saves a link's cursor from one side.
pub const UPSERT_CURSOR: &str = "INSERT INTO cursors (link, side, cursor, updated_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (link, side) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at";

/// Appends audit records.
pub fn insert_audit(tx: &mut Transaction<'_>, audit: &[AuditEntry]) -> Result<(), postgres::Error> {
    if audit.is_empty() {
        return Ok(());
    }
    let col = |f: fn(&AuditEntry) -> &str| audit.iter().map(f).collect::<Vec<&str>>();
    let from: Vec<Option<&str>> = audit.iter().map(|a| a.from_status.as_deref()).collect();
    tx.execute(
        "INSERT INTO audit (at, link, key, target, from_status, to_status, action, why)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
                              $6::text[], $7::text[], $8::text[])",
        &[
            &col(|a| &a.at),
            &col(|a| &a.link),
            &col(|a| &a.key),
            &col(|a| &a.target),
            &from,
            &col(|a| &a.to_status),
            &col(|a| &a.action),
            &col(|a| &a.why),
        ],
    )?;
    Ok(())
}

/// Queues writes, replacing an older pending write for the same order and target (of two for
/// one order and target in the batch, the later wins, as row by row).
pub fn upsert_outbox(
    tx: &mut Transaction<'_>,
    link: &str,
    outbox: &[OutboxEntry],
    now: &str,
) -> Result<(), postgres::Error> {
    if outbox.is_empty() {
        return Ok(());
    }
    let o = outbox;
    let targets: Vec<&str> = o.iter().map(|e| e.target.as_str()).collect();
    let keys: Vec<&str> = o.iter().map(|e| e.key.as_str()).collect();
    let statuses: Vec<&str> = o.iter().map(|e| e.status.as_str()).collect();
    let from: Vec<Option<&str>> = o.iter().map(|e| e.from_status.as_deref()).collect();
    let source: Vec<&str> = o.iter().map(|e| e.source_status.as_str()).collect();
    let version: Vec<Option<&str>> = o.iter().map(|e| e.expected_version.as_deref()).collect();
    let reason: Vec<&str> = o.iter().map(|e| e.reason.as_str()).collect();
    tx.execute(
        "INSERT INTO outbox (link, target, key, status, from_status, source_status, expected_version, reason, attempts, next_attempt_ms, created_at)
         SELECT DISTINCT ON (u.target, u.key)
           $1, u.target, u.key, u.status, u.from_status, u.source_status, u.version, u.reason, 0, 0, $9
         FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
           WITH ORDINALITY AS u(target, key, status, from_status, source_status, version, reason, n)
         ORDER BY u.target, u.key, u.n DESC
         ON CONFLICT (link, target, key) DO UPDATE SET status = excluded.status,
           from_status = excluded.from_status, source_status = excluded.source_status,
           expected_version = excluded.expected_version, reason = excluded.reason,
           attempts = 0, next_attempt_ms = 0, last_error = NULL",
        &[&link, &targets, &keys, &statuses, &from, &source, &version, &reason, &now],
    )?;
    Ok(())
}

/// Deletes pending writes `(target, key)` of a link.
pub fn drop_outbox(
    tx: &mut Transaction<'_>,
    link: &str,
    drop: &[(Side, String)],
) -> Result<(), postgres::Error> {
    if drop.is_empty() {
        return Ok(());
    }
    let targets: Vec<&str> = drop.iter().map(|(t, _)| t.as_str()).collect();
    let keys: Vec<&str> = drop.iter().map(|(_, k)| k.as_str()).collect();
    tx.execute(
        "DELETE FROM outbox USING unnest($2::text[], $3::text[]) AS u(target, key)
         WHERE outbox.link = $1 AND outbox.target = u.target AND outbox.key = u.key",
        &[&link, &targets, &keys],
    )?;
    Ok(())
}

/// The order columns a side's feed or writes touch: (id, status, written).
fn columns(side: Side) -> (&'static str, &'static str, &'static str) {
    match side {
        Side::Shop => ("shop_id", "shop_status", "shop_written"),
        Side::Erp => ("erp_id", "erp_status", "erp_written"),
    }
}

/// Records a page's orders, queued and dropped writes and audit; with `cursor`, moves the
/// cursor (and maybe checkpoints it) in the same transaction.
pub fn record_page(
    tx: &mut Transaction<'_>,
    link: &str,
    page: &PageCommit<'_>,
    cursor: Option<&str>,
) -> Result<(), postgres::Error> {
    let now = now_text();
    if !page.seen.is_empty() {
        let (id_col, status_col, written_col) = columns(page.source);
        let s = page.seen;
        let keys: Vec<&str> = s.iter().map(|o| o.key.as_str()).collect();
        let ids: Vec<Option<&str>> = s.iter().map(|o| o.id.as_deref()).collect();
        let statuses: Vec<&str> = s.iter().map(|o| o.status.as_str()).collect();
        let created: Vec<Option<&str>> = s.iter().map(|o| o.created_at.as_deref()).collect();
        let fulfilled: Vec<Option<bool>> = s.iter().map(|o| o.fulfilled).collect();
        // A page may name an order twice; the last sighting wins, as it does row by row.
        tx.execute(
            &format!(
                "INSERT INTO orders AS o (link, key, {id_col}, {status_col}, created_at, fulfilled, updated_at)
                 SELECT DISTINCT ON (u.key) $1, u.key, u.id, u.status, u.created, u.fulfilled, $7
                 FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::bool[])
                   WITH ORDINALITY AS u(key, id, status, created, fulfilled, n)
                 ORDER BY u.key, u.n DESC
                 ON CONFLICT (link, key) DO UPDATE SET {id_col} = COALESCE(excluded.{id_col}, o.{id_col}),
                   {status_col} = excluded.{status_col},
                   created_at = COALESCE(excluded.created_at, o.created_at),
                   fulfilled = COALESCE(excluded.fulfilled, o.fulfilled),
                   {written_col} = NULL, updated_at = excluded.updated_at"
            ),
            &[&link, &keys, &ids, &statuses, &created, &fulfilled, &now],
        )?;
    }
    upsert_outbox(tx, link, page.outbox, &now)?;
    drop_outbox(tx, link, page.drop_pending)?;
    insert_audit(tx, page.audit)?;
    if let Some(cursor) = cursor {
        tx.execute(
            UPSERT_CURSOR,
            &[&link, &page.source.as_str(), &cursor, &now],
        )?;
        record_checkpoint(tx, link, page.source, cursor)?;
    }
    Ok(())
}

/// Records a checkpoint for a cursor just saved, unless a recent one exists.
pub fn record_checkpoint(
    tx: &mut Transaction<'_>,
    link: &str,
    side: Side,
    cursor: &str,
) -> Result<(), postgres::Error> {
    let now = now_ms();
    let last: Option<i64> = tx
        .query_one(
            "SELECT MAX(at_ms) FROM cursor_checkpoints WHERE link = $1 AND side = $2",
            &[&link, &side.as_str()],
        )?
        .get(0);
    if checkpoint_due(last, now) {
        tx.execute(
            "INSERT INTO cursor_checkpoints (link, side, cursor, at, at_ms) VALUES ($1, $2, $3, $4, $5)",
            &[&link, &side.as_str(), &cursor, &now_text(), &now],
        )?;
    }
    Ok(())
}

/// Sets or clears a link's cursor from one side.
pub fn set_cursor(
    tx: &mut Transaction<'_>,
    link: &str,
    side: Side,
    cursor: Option<&str>,
) -> Result<(), postgres::Error> {
    match cursor {
        Some(c) => tx.execute(UPSERT_CURSOR, &[&link, &side.as_str(), &c, &now_text()])?,
        None => tx.execute(
            "DELETE FROM cursors WHERE link = $1 AND side = $2",
            &[&link, &side.as_str()],
        )?,
    };
    Ok(())
}

fn attempts_after(e: &OutboxEntry) -> i32 {
    i32::try_from(e.attempts.saturating_add(1)).unwrap_or(i32::MAX)
}

/// Records what became of a batch of outbox entries.
pub fn record_outcomes(
    tx: &mut Transaction<'_>,
    link: &str,
    outcomes: &[OutboxUpdate],
) -> Result<(), postgres::Error> {
    let now = now_text();
    let mut delete: Vec<i64> = Vec::new();
    let mut audit = Vec::new();
    let mut applied = 0i64;
    for outcome in outcomes {
        match outcome {
            OutboxUpdate::Done { entry: e, changed } => {
                delete.push(e.id);
                let (_, status_col, written_col) = columns(e.target);
                tx.execute(
                    &format!(
                        "INSERT INTO orders (link, key, {status_col}, {written_col}, updated_at)
                         VALUES ($1, $2, $3, CASE WHEN $5 THEN $3 END, $4)
                         ON CONFLICT (link, key) DO UPDATE SET {status_col} = excluded.{status_col},
                           {written_col} = excluded.{written_col}, updated_at = excluded.updated_at"
                    ),
                    &[&link, &e.key, &e.status, &now, changed],
                )?;
                audit.push(applied_audit(link, e, *changed));
                applied += 1;
            }
            OutboxUpdate::Retry {
                entry: e,
                delay_ms,
                error,
                clear_version,
            } => {
                tx.execute(
                    "UPDATE outbox SET attempts = attempts + 1, next_attempt_ms = $2, last_error = $3,
                       expected_version = CASE WHEN $4 THEN NULL ELSE expected_version END WHERE id = $1",
                    &[&e.id, &now_ms().saturating_add(*delay_ms), error, clear_version],
                )?;
            }
            OutboxUpdate::Dead {
                entry: e,
                code,
                reason,
            } => {
                delete.push(e.id);
                tx.execute(
                    "INSERT INTO dead_letters (link, target, key, status, source_status, code, reason, attempts, at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                    &[
                        &link,
                        &e.target.as_str(),
                        &e.key,
                        &e.status,
                        &e.source_status,
                        code,
                        reason,
                        &attempts_after(e),
                        &now,
                    ],
                )?;
                audit.push(dead_letter_audit(link, e, code, reason));
            }
            OutboxUpdate::Reread {
                entry: e,
                from_status,
                expected_version,
            } => {
                tx.execute(
                    "UPDATE outbox SET attempts = attempts + 1, next_attempt_ms = 0,
                       last_error = 'conflict: read again', from_status = $2, expected_version = $3
                     WHERE id = $1",
                    &[&e.id, from_status, expected_version],
                )?;
            }
            OutboxUpdate::Dropped { entry: e, audit: a } => {
                delete.push(e.id);
                audit.push(a.clone());
            }
        }
    }
    if !delete.is_empty() {
        tx.execute("DELETE FROM outbox WHERE id = ANY($1)", &[&delete])?;
    }
    insert_audit(tx, &audit)?;
    if applied > 0 {
        tx.execute(
            "INSERT INTO link_stats (link, applied_total) VALUES ($1, $2)
             ON CONFLICT (link) DO UPDATE SET applied_total = link_stats.applied_total + excluded.applied_total",
            &[&link, &applied],
        )?;
    }
    Ok(())
}

/// Deletes audit records and checkpoints older than `before`, keeping the newest checkpoint of
/// each link and side. Returns the audit records deleted.
pub fn prune_audit(tx: &mut Transaction<'_>, before: &str) -> Result<usize, postgres::Error> {
    let n = tx.execute("DELETE FROM audit WHERE at < $1", &[&before])?;
    tx.execute(
        "DELETE FROM cursor_checkpoints WHERE at < $1 AND id NOT IN
           (SELECT MAX(id) FROM cursor_checkpoints GROUP BY link, side)",
        &[&before],
    )?;
    Ok(usize::try_from(n).unwrap_or(usize::MAX))
}

/// Of `ids`, those not in the dead letters.
pub fn missing_dead_letters(
    tx: &mut Transaction<'_>,
    ids: &[i64],
) -> Result<Vec<i64>, postgres::Error> {
    let found: std::collections::HashSet<i64> = tx
        .query("SELECT id FROM dead_letters WHERE id = ANY($1)", &[&ids])?
        .iter()
        .map(|r| r.get(0))
        .collect();
    Ok(ids.iter().copied().filter(|i| !found.contains(i)).collect())
}

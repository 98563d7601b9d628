//! The PostgreSQL queries that read state (no lease needed): batched by `= ANY($n)`.

use std::collections::HashMap;

use postgres::{Client, Row};

use crate::domain::Side;
use crate::store::{
    now_ms, AuditEntry, Checkpoint, DeadLetter, KnownOrder, LinkStats, OrderRow, OutboxEntry,
    PendingWrite,
};

fn side(text: &str) -> Side {
    Side::parse(text).unwrap_or(Side::Shop)
}

fn count_u32(n: i32) -> u32 {
    u32::try_from(n).unwrap_or(0)
}

const OUTBOX_COLUMNS: &str =
    "id, target, key, status, from_status, source_status, expected_version, reason, attempts";

fn outbox_entry(r: &Row) -> OutboxEntry {
    OutboxEntry {
        id: r.get(0),
        target: side(r.get::<_, &str>(1)),
        key: r.get(2),
        status: r.get(3),
        from_status: r.get(4),
        source_status: r.get(5),
        expected_version: r.get(6),
        reason: r.get(7),
        attempts: count_u32(r.get(8)),
    }
}

const AUDIT_COLUMNS: &str = "at, link, key, target, from_status, to_status, action, why";

fn audit_row(r: &Row) -> AuditEntry {
    AuditEntry {
        at: r.get(0),
        link: r.get(1),
        key: r.get(2),
        target: r.get(3),
        from_status: r.get(4),
        to_status: r.get(5),
        action: r.get(6),
        why: r.get(7),
    }
}

fn checkpoint_row(r: &Row) -> Checkpoint {
    Checkpoint {
        cursor: r.get(0),
        at: r.get(1),
        at_ms: r.get(2),
    }
}

/// A link's saved cursor from one side.
pub fn cursor(c: &mut Client, link: &str, side: Side) -> Result<Option<String>, postgres::Error> {
    Ok(c.query_opt(
        "SELECT cursor FROM cursors WHERE link = $1 AND side = $2",
        &[&link, &side.as_str()],
    )?
    .map(|r| r.get(0)))
}

/// What the store knows of some orders of a link.
pub fn orders(
    c: &mut Client,
    link: &str,
    keys: &[String],
) -> Result<HashMap<String, OrderRow>, postgres::Error> {
    let rows = c.query(
        "SELECT key, shop_status, erp_status, shop_written, erp_written FROM orders
         WHERE link = $1 AND key = ANY($2)",
        &[&link, &keys],
    )?;
    Ok(rows
        .iter()
        .map(|r| {
            (
                r.get(0),
                OrderRow {
                    shop_status: r.get(1),
                    erp_status: r.get(2),
                    shop_written: r.get(3),
                    erp_written: r.get(4),
                },
            )
        })
        .collect())
}

/// Pending outbox entries of a link into one side, by key.
pub fn pending_into(
    c: &mut Client,
    link: &str,
    target: Side,
    keys: &[String],
) -> Result<HashMap<String, OutboxEntry>, postgres::Error> {
    let rows = c.query(
        &format!(
            "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE link = $1 AND target = $2 AND key = ANY($3)"
        ),
        &[&link, &target.as_str(), &keys],
    )?;
    Ok(rows
        .iter()
        .map(outbox_entry)
        .map(|e| (e.key.clone(), e))
        .collect())
}

/// The latest audit record of each of some orders on one side of a link.
pub fn last_decisions(
    c: &mut Client,
    link: &str,
    target: Side,
    keys: &[String],
) -> Result<HashMap<String, AuditEntry>, postgres::Error> {
    let rows = c.query(
        &format!(
            "SELECT DISTINCT ON (key) {AUDIT_COLUMNS} FROM audit
             WHERE link = $1 AND target = $2 AND key = ANY($3) ORDER BY key, id DESC"
        ),
        &[&link, &target.as_str(), &keys],
    )?;
    Ok(rows
        .iter()
        .map(audit_row)
        .map(|a| (a.key.clone(), a))
        .collect())
}

/// Outbox entries due now for a link's target side, oldest first.
pub fn due_outbox(
    c: &mut Client,
    link: &str,
    target: Side,
    limit: u32,
) -> Result<Vec<OutboxEntry>, postgres::Error> {
    let rows = c.query(
        &format!(
            "SELECT {OUTBOX_COLUMNS} FROM outbox
             WHERE link = $1 AND target = $2 AND next_attempt_ms <= $3 ORDER BY id LIMIT $4"
        ),
        &[&link, &target.as_str(), &now_ms(), &i64::from(limit)],
    )?;
    Ok(rows.iter().map(outbox_entry).collect())
}

/// A link's pending writes: how many, and the oldest's time.
pub fn pending_summary(
    c: &mut Client,
    link: &str,
) -> Result<(u64, Option<String>), postgres::Error> {
    let r = c.query_one(
        "SELECT COUNT(*), MIN(created_at) FROM outbox WHERE link = $1",
        &[&link],
    )?;
    Ok((u64::try_from(r.get::<_, i64>(0)).unwrap_or(0), r.get(1)))
}

/// Statistics of some links, in three queries.
pub fn stats(
    c: &mut Client,
    links: &[String],
) -> Result<HashMap<String, LinkStats>, postgres::Error> {
    let mut out: HashMap<String, LinkStats> = links
        .iter()
        .map(|l| (l.clone(), LinkStats::default()))
        .collect();
    for r in c.query(
        "SELECT link, last_cycle_at, last_cycle_ms, applied_total, last_error FROM link_stats
         WHERE link = ANY($1)",
        &[&links],
    )? {
        if let Some(s) = out.get_mut(r.get::<_, &str>(0)) {
            s.last_cycle_at = r.get(1);
            s.last_cycle_ms = r.get(2);
            s.applied_total = r.get(3);
            s.last_error = r.get(4);
        }
    }
    for (table, pending) in [("outbox", true), ("dead_letters", false)] {
        for r in c.query(
            &format!("SELECT link, COUNT(*) FROM {table} WHERE link = ANY($1) GROUP BY link"),
            &[&links],
        )? {
            if let Some(s) = out.get_mut(r.get::<_, &str>(0)) {
                let n: i64 = r.get(1);
                if pending {
                    s.pending = n;
                } else {
                    s.dead_letters = n;
                }
            }
        }
    }
    Ok(out)
}

/// Dead letters, optionally of one link, oldest first.
pub fn dead_letters(
    c: &mut Client,
    link: Option<&str>,
) -> Result<Vec<DeadLetter>, postgres::Error> {
    let rows = c.query(
        "SELECT id, link, target, key, status, source_status, code, reason, attempts, at
         FROM dead_letters WHERE $1::text IS NULL OR link = $1 ORDER BY id",
        &[&link],
    )?;
    Ok(rows
        .iter()
        .map(|r| DeadLetter {
            id: r.get(0),
            link: r.get(1),
            target: r.get(2),
            key: r.get(3),
            status: r.get(4),
            source_status: r.get(5),
            code: r.get(6),
            reason: r.get(7),
            attempts: count_u32(r.get(8)),
            at: r.get(9),
        })
        .collect())
}

/// The audit trail of one order, oldest first.
pub fn history(
    c: &mut Client,
    key: &str,
    link: Option<&str>,
) -> Result<Vec<AuditEntry>, postgres::Error> {
    let rows = c.query(
        &format!(
            "SELECT {AUDIT_COLUMNS} FROM audit
             WHERE key = $1 AND ($2::text IS NULL OR link = $2) ORDER BY id"
        ),
        &[&key, &link],
    )?;
    Ok(rows.iter().map(audit_row).collect())
}

/// What each link (or one) last saw of an order.
pub fn known_order(
    c: &mut Client,
    key: &str,
    link: Option<&str>,
) -> Result<Vec<KnownOrder>, postgres::Error> {
    let rows = c.query(
        "SELECT link, key, shop_status, erp_status, shop_written, erp_written, created_at, fulfilled, updated_at
         FROM orders WHERE key = $1 AND ($2::text IS NULL OR link = $2) ORDER BY link",
        &[&key, &link],
    )?;
    Ok(rows
        .iter()
        .map(|r| KnownOrder {
            link: r.get(0),
            key: r.get(1),
            shop_status: r.get(2),
            erp_status: r.get(3),
            shop_written: r.get(4),
            erp_written: r.get(5),
            created_at: r.get(6),
            fulfilled: r.get(7),
            updated_at: r.get(8),
        })
        .collect())
}

/// Every order key a link has seen.
pub fn known_keys(c: &mut Client, link: &str) -> Result<Vec<String>, postgres::Error> {
    Ok(c.query(
        "SELECT key FROM orders WHERE link = $1 ORDER BY key COLLATE \"C\"",
        &[&link],
    )?
    .iter()
    .map(|r| r.get(0))
    .collect())
}

/// Pending writes of a link or an order, oldest first.
pub fn pending_writes(
    c: &mut Client,
    link: Option<&str>,
    key: Option<&str>,
) -> Result<Vec<PendingWrite>, postgres::Error> {
    let rows = c.query(
        "SELECT link, target, key, status, from_status, reason, attempts, last_error, created_at FROM outbox
         WHERE ($1::text IS NULL OR link = $1) AND ($2::text IS NULL OR key = $2) ORDER BY id",
        &[&link, &key],
    )?;
    Ok(rows
        .iter()
        .map(|r| PendingWrite {
            link: r.get(0),
            target: side(r.get::<_, &str>(1)),
            key: r.get(2),
            status: r.get(3),
            from_status: r.get(4),
            reason: r.get(5),
            attempts: count_u32(r.get(6)),
            last_error: r.get(7),
            created_at: r.get(8),
        })
        .collect())
}

/// The oldest audit record kept.
pub fn oldest_audit(c: &mut Client) -> Result<Option<String>, postgres::Error> {
    Ok(c.query_one("SELECT MIN(at) FROM audit", &[])?.get(0))
}

/// The newest checkpoint at or before `at_ms`.
pub fn checkpoint_at_or_before(
    c: &mut Client,
    link: &str,
    side: Side,
    at_ms: i64,
) -> Result<Option<Checkpoint>, postgres::Error> {
    Ok(c.query_opt(
        "SELECT cursor, at, at_ms FROM cursor_checkpoints WHERE link = $1 AND side = $2 AND at_ms <= $3
         ORDER BY at_ms DESC, id DESC LIMIT 1",
        &[&link, &side.as_str(), &at_ms],
    )?
    .as_ref()
    .map(checkpoint_row))
}

/// The oldest checkpoint kept.
pub fn first_checkpoint(
    c: &mut Client,
    link: &str,
    side: Side,
) -> Result<Option<Checkpoint>, postgres::Error> {
    Ok(c.query_opt(
        "SELECT cursor, at, at_ms FROM cursor_checkpoints WHERE link = $1 AND side = $2
         ORDER BY at_ms, id LIMIT 1",
        &[&link, &side.as_str()],
    )?
    .as_ref()
    .map(checkpoint_row))
}

/// When a cursor was last saved.
pub fn cursor_saved_at(
    c: &mut Client,
    link: &str,
    side: Side,
) -> Result<Option<String>, postgres::Error> {
    Ok(c.query_opt(
        "SELECT updated_at FROM cursors WHERE link = $1 AND side = $2",
        &[&link, &side.as_str()],
    )?
    .map(|r| r.get(0)))
}

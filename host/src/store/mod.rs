//! The durable state of the host, in one SQLite file: cursors, the order table, the outbox,
//! dead letters, the audit trail and per-link statistics.
//!
//! Invariant: a page of changes is committed in one transaction that records its outbox
//! entries, its order snapshots and the advanced cursor together, so the cursor never passes a
//! change that is neither applied, pending, nor dead-lettered.

pub mod checkpoints;
pub mod order_trail;

use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension};

use crate::domain::Side;

/// A store failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite said no.
    #[error("state store: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The store file does not exist (commands that only read it).
    #[error(
        "state store {0} does not exist yet (run `orderlink sync --once` or `orderlink run` first)"
    )]
    Missing(String),
}

/// What the store knows of one order on one link.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderRow {
    /// Last status seen in the shop.
    pub shop_status: Option<String>,
    /// Last status seen in the ERP.
    pub erp_status: Option<String>,
    /// The status the host last wrote to the shop and has not yet seen come back.
    pub shop_written: Option<String>,
    /// The status the host last wrote to the ERP and has not yet seen come back.
    pub erp_written: Option<String>,
}

/// One pending status write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    /// Row id (0 before insert).
    pub id: i64,
    /// The side to write to.
    pub target: Side,
    /// Order key.
    pub key: String,
    /// The status to set.
    pub status: String,
    /// The target's status when decided.
    pub from_status: Option<String>,
    /// The source status that caused it.
    pub source_status: String,
    /// Precondition version token.
    pub expected_version: Option<String>,
    /// Why.
    pub reason: String,
    /// Attempts so far.
    pub attempts: u32,
}

/// An audit record.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditEntry {
    /// When (RFC 3339).
    pub at: String,
    /// The link.
    pub link: String,
    /// Order key.
    pub key: String,
    /// The side written (or that would have been).
    pub target: String,
    /// Its status before.
    pub from_status: Option<String>,
    /// The status set (or asked for).
    pub to_status: String,
    /// `applied`, `skipped: protected`, `dead letter`, ...
    pub action: String,
    /// Why.
    pub why: String,
}

/// A dead letter: a write that will not succeed as asked.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DeadLetter {
    /// Id for retry/discard.
    pub id: i64,
    /// The link.
    pub link: String,
    /// The side it was for.
    pub target: String,
    /// Order key.
    pub key: String,
    /// The status it tried to set.
    pub status: String,
    /// The source status that caused it.
    pub source_status: String,
    /// The failure code.
    pub code: String,
    /// The failure message.
    pub reason: String,
    /// Attempts made.
    pub attempts: u32,
    /// When it was dead-lettered.
    pub at: String,
}

/// Per-link statistics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkStats {
    /// Last finished cycle (RFC 3339).
    pub last_cycle_at: Option<String>,
    /// Its duration in ms.
    pub last_cycle_ms: Option<i64>,
    /// Status writes applied so far.
    pub applied_total: i64,
    /// The last error, if the last cycle had one.
    pub last_error: Option<String>,
    /// Pending outbox entries.
    pub pending: i64,
    /// Dead letters.
    pub dead_letters: i64,
}

/// The state store.
pub struct Store {
    conn: Connection,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS cursors (
    link TEXT NOT NULL, side TEXT NOT NULL, cursor TEXT NOT NULL, updated_at TEXT NOT NULL,
    PRIMARY KEY (link, side));
CREATE TABLE IF NOT EXISTS orders (
    link TEXT NOT NULL, key TEXT NOT NULL,
    shop_id TEXT, shop_status TEXT, erp_id TEXT, erp_status TEXT,
    created_at TEXT, fulfilled INTEGER, shop_written TEXT, erp_written TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (link, key));
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT, link TEXT NOT NULL, target TEXT NOT NULL, key TEXT NOT NULL,
    status TEXT NOT NULL, from_status TEXT, source_status TEXT NOT NULL, expected_version TEXT,
    reason TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_attempt_ms INTEGER NOT NULL DEFAULT 0,
    last_error TEXT, created_at TEXT NOT NULL,
    UNIQUE (link, target, key));
CREATE TABLE IF NOT EXISTS dead_letters (
    id INTEGER PRIMARY KEY AUTOINCREMENT, link TEXT NOT NULL, target TEXT NOT NULL, key TEXT NOT NULL,
    status TEXT NOT NULL, source_status TEXT NOT NULL, code TEXT NOT NULL, reason TEXT NOT NULL,
    attempts INTEGER NOT NULL, at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, link TEXT NOT NULL, key TEXT NOT NULL,
    target TEXT NOT NULL, from_status TEXT, to_status TEXT NOT NULL, action TEXT NOT NULL, why TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS audit_by_key ON audit (key, id);
CREATE INDEX IF NOT EXISTS audit_by_time ON audit (at);
CREATE TABLE IF NOT EXISTS cursor_checkpoints (
    id INTEGER PRIMARY KEY AUTOINCREMENT, link TEXT NOT NULL, side TEXT NOT NULL, cursor TEXT NOT NULL,
    at TEXT NOT NULL, at_ms INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS cursor_checkpoints_by_time ON cursor_checkpoints (link, side, at_ms);
CREATE TABLE IF NOT EXISTS link_stats (
    link TEXT PRIMARY KEY, last_cycle_at TEXT, last_cycle_ms INTEGER, applied_total INTEGER NOT NULL DEFAULT 0,
    last_error TEXT);
";

/// Now, as RFC 3339 (UTC).
pub fn now_text() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Now, in ms since the epoch.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

pub(crate) fn side(text: &str) -> Side {
    Side::parse(text).unwrap_or(Side::Shop)
}

impl Store {
    /// Opens (creating if needed) the store.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        if let Some(dir) = path.parent() {
            if !dir.as_os_str().is_empty() {
                let _ = std::fs::create_dir_all(dir);
            }
        }
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.execute_batch(SCHEMA)?;
        Ok(Store { conn })
    }

    /// Opens an existing store; an error if there is none yet.
    pub fn open_existing(path: &Path) -> Result<Store, StoreError> {
        if !path.exists() {
            return Err(StoreError::Missing(path.display().to_string()));
        }
        Store::open(path)
    }

    /// The saved cursor of a link's feed from one side.
    pub fn cursor(&self, link: &str, side: Side) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT cursor FROM cursors WHERE link = ?1 AND side = ?2",
                params![link, side.as_str()],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// What the store knows of some orders.
    pub fn orders(
        &self,
        link: &str,
        keys: &[String],
    ) -> Result<std::collections::HashMap<String, OrderRow>, StoreError> {
        let mut out = std::collections::HashMap::new();
        let mut stmt = self.conn.prepare_cached(
            "SELECT shop_status, erp_status, shop_written, erp_written FROM orders WHERE link = ?1 AND key = ?2",
        )?;
        for key in keys {
            if let Some(row) = stmt
                .query_row(params![link, key], |r| {
                    Ok(OrderRow {
                        shop_status: r.get(0)?,
                        erp_status: r.get(1)?,
                        shop_written: r.get(2)?,
                        erp_written: r.get(3)?,
                    })
                })
                .optional()?
            {
                out.insert(key.clone(), row);
            }
        }
        Ok(out)
    }

    /// Pending outbox entries for a link aimed at one side, by key.
    pub fn pending_for(
        &self,
        link: &str,
        target: Side,
        keys: &[String],
    ) -> Result<std::collections::HashMap<String, String>, StoreError> {
        let mut out = std::collections::HashMap::new();
        let mut stmt = self.conn.prepare_cached(
            "SELECT status FROM outbox WHERE link = ?1 AND target = ?2 AND key = ?3",
        )?;
        for key in keys {
            if let Some(status) = stmt
                .query_row(params![link, target.as_str(), key], |r| {
                    r.get::<_, String>(0)
                })
                .optional()?
            {
                out.insert(key.clone(), status);
            }
        }
        Ok(out)
    }

    /// Pending outbox entries of a link aimed at one side, by key.
    pub fn pending_into(
        &self,
        link: &str,
        target: Side,
        keys: &[String],
    ) -> Result<std::collections::HashMap<String, OutboxEntry>, StoreError> {
        let mut out = std::collections::HashMap::new();
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, target, key, status, from_status, source_status, expected_version, reason, attempts
             FROM outbox WHERE link = ?1 AND target = ?2 AND key = ?3",
        )?;
        for key in keys {
            if let Some(e) = stmt
                .query_row(params![link, target.as_str(), key], outbox_entry)
                .optional()?
            {
                out.insert(key.clone(), e);
            }
        }
        Ok(out)
    }

    /// The latest audit record of each of some orders on one side of a link: the decision
    /// a new one is compared with (a decision is recorded only when it differs).
    pub fn last_decisions(
        &self,
        link: &str,
        target: Side,
        keys: &[String],
    ) -> Result<std::collections::HashMap<String, AuditEntry>, StoreError> {
        let mut out = std::collections::HashMap::new();
        let mut stmt = self.conn.prepare_cached(
            "SELECT at, link, key, target, from_status, to_status, action, why FROM audit
             WHERE key = ?1 AND link = ?2 AND target = ?3 ORDER BY id DESC LIMIT 1",
        )?;
        for key in keys {
            if let Some(a) = stmt
                .query_row(params![key, link, target.as_str()], |r| {
                    Ok(AuditEntry {
                        at: r.get(0)?,
                        link: r.get(1)?,
                        key: r.get(2)?,
                        target: r.get(3)?,
                        from_status: r.get(4)?,
                        to_status: r.get(5)?,
                        action: r.get(6)?,
                        why: r.get(7)?,
                    })
                })
                .optional()?
            {
                out.insert(key.clone(), a);
            }
        }
        Ok(out)
    }

    /// Commits one page of a feed in one transaction: order snapshots, echo markers consumed,
    /// outbox entries (replacing older pending ones for the same order and target), entries
    /// dropped by the conflict rule, audit records, and the advanced cursor.
    #[allow(clippy::too_many_arguments)]
    pub fn commit_page(
        &mut self,
        link: &str,
        source: Side,
        next_cursor: &str,
        seen: &[SeenOrder],
        outbox: &[OutboxEntry],
        drop_pending: &[(Side, String)],
        audit: &[AuditEntry],
    ) -> Result<(), StoreError> {
        self.commit_decided(
            link,
            source,
            Some(next_cursor),
            seen,
            outbox,
            drop_pending,
            audit,
        )
    }

    /// Commits decisions about orders read outside the feed (resync of given orders) like a
    /// page, in one transaction, without moving the cursor.
    pub fn commit_orders(
        &mut self,
        link: &str,
        source: Side,
        seen: &[SeenOrder],
        outbox: &[OutboxEntry],
        drop_pending: &[(Side, String)],
        audit: &[AuditEntry],
    ) -> Result<(), StoreError> {
        self.commit_decided(link, source, None, seen, outbox, drop_pending, audit)
    }

    #[allow(clippy::too_many_arguments)]
    fn commit_decided(
        &mut self,
        link: &str,
        source: Side,
        next_cursor: Option<&str>,
        seen: &[SeenOrder],
        outbox: &[OutboxEntry],
        drop_pending: &[(Side, String)],
        audit: &[AuditEntry],
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        let now = now_text();
        {
            let status_col = match source {
                Side::Shop => "shop_status",
                Side::Erp => "erp_status",
            };
            let written_col = match source {
                Side::Shop => "shop_written",
                Side::Erp => "erp_written",
            };
            let id_col = match source {
                Side::Shop => "shop_id",
                Side::Erp => "erp_id",
            };
            let sql = format!(
                "INSERT INTO orders (link, key, {id_col}, {status_col}, created_at, fulfilled, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (link, key) DO UPDATE SET {id_col} = COALESCE(excluded.{id_col}, {id_col}),
                   {status_col} = excluded.{status_col},
                   created_at = COALESCE(excluded.created_at, created_at),
                   fulfilled = COALESCE(excluded.fulfilled, fulfilled),
                   {written_col} = NULL, updated_at = excluded.updated_at"
            );
            let mut up = tx.prepare_cached(&sql)?;
            for o in seen {
                up.execute(params![
                    link,
                    o.key,
                    o.id,
                    o.status,
                    o.created_at,
                    o.fulfilled,
                    now
                ])?;
            }
            upsert_outbox(&tx, link, outbox, &now)?;
            let mut del = tx.prepare_cached(
                "DELETE FROM outbox WHERE link = ?1 AND target = ?2 AND key = ?3",
            )?;
            for (target, key) in drop_pending {
                del.execute(params![link, target.as_str(), key])?;
            }
            insert_audit(&tx, audit)?;
            if let Some(next_cursor) = next_cursor {
                tx.execute(
                    "INSERT INTO cursors (link, side, cursor, updated_at) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (link, side) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at",
                    params![link, source.as_str(), next_cursor, now],
                )?;
                checkpoints::record(&tx, link, source, next_cursor)?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Outbox entries due now for a link's target side, oldest first.
    pub fn due_outbox(
        &self,
        link: &str,
        target: Side,
        limit: u32,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, target, key, status, from_status, source_status, expected_version, reason, attempts
             FROM outbox WHERE link = ?1 AND target = ?2 AND next_attempt_ms <= ?3 ORDER BY id LIMIT ?4",
        )?;
        let rows = stmt.query_map(
            params![link, target.as_str(), now_ms(), limit],
            outbox_entry,
        )?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// Records a write that landed: drops the entry, remembers the echo to expect (only if the
    /// status really changed: an unchanged order reports no change), audits it.
    pub fn record_done(
        &mut self,
        link: &str,
        e: &OutboxEntry,
        changed: bool,
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        let (status_col, written_col) = match e.target {
            Side::Shop => ("shop_status", "shop_written"),
            Side::Erp => ("erp_status", "erp_written"),
        };
        tx.execute("DELETE FROM outbox WHERE id = ?1", params![e.id])?;
        tx.execute(
            &format!(
                "INSERT INTO orders (link, key, {status_col}, {written_col}, updated_at)
                 VALUES (?1, ?2, ?3, CASE WHEN ?5 THEN ?3 END, ?4)
                 ON CONFLICT (link, key) DO UPDATE SET {status_col} = excluded.{status_col},
                   {written_col} = excluded.{written_col}, updated_at = excluded.updated_at"
            ),
            params![link, e.key, e.status, now_text(), changed],
        )?;
        insert_audit(
            &tx,
            &[AuditEntry {
                at: now_text(),
                link: link.to_owned(),
                key: e.key.clone(),
                target: e.target.as_str().to_owned(),
                from_status: e.from_status.clone(),
                to_status: e.status.clone(),
                action: if changed {
                    "applied"
                } else {
                    "applied (already set)"
                }
                .to_owned(),
                why: e.reason.clone(),
            }],
        )?;
        tx.execute(
            "INSERT INTO link_stats (link, applied_total) VALUES (?1, 1)
             ON CONFLICT (link) DO UPDATE SET applied_total = applied_total + 1",
            params![link],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Schedules an entry for another attempt.
    pub fn record_retry(
        &self,
        e: &OutboxEntry,
        delay_ms: i64,
        error: &str,
        clear_version: bool,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE outbox SET attempts = attempts + 1, next_attempt_ms = ?2, last_error = ?3,
               expected_version = CASE WHEN ?4 THEN NULL ELSE expected_version END WHERE id = ?1",
            params![e.id, now_ms() + delay_ms, error, clear_version],
        )?;
        Ok(())
    }

    /// A write refused as stale, decided again after a re-read: due now, with the target
    /// status (and version) just read as its precondition; the refusal counts as an attempt.
    pub fn record_reread(
        &self,
        e: &OutboxEntry,
        from_status: &str,
        expected_version: Option<&str>,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE outbox SET attempts = attempts + 1, next_attempt_ms = 0,
               last_error = 'conflict: read again', from_status = ?2, expected_version = ?3
             WHERE id = ?1",
            params![e.id, from_status, expected_version],
        )?;
        Ok(())
    }

    /// Moves an entry to the dead letters, with the reason.
    pub fn record_dead(
        &mut self,
        link: &str,
        e: &OutboxEntry,
        code: &str,
        reason: &str,
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM outbox WHERE id = ?1", params![e.id])?;
        tx.execute(
            "INSERT INTO dead_letters (link, target, key, status, source_status, code, reason, attempts, at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![link, e.target.as_str(), e.key, e.status, e.source_status, code, reason, e.attempts + 1, now_text()],
        )?;
        insert_audit(
            &tx,
            &[AuditEntry {
                at: now_text(),
                link: link.to_owned(),
                key: e.key.clone(),
                target: e.target.as_str().to_owned(),
                from_status: e.from_status.clone(),
                to_status: e.status.clone(),
                action: "dead letter".to_owned(),
                why: format!("{code}: {reason}"),
            }],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Drops an outbox entry that no longer needs writing, with an audit record.
    pub fn record_dropped(
        &mut self,
        e: &OutboxEntry,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM outbox WHERE id = ?1", params![e.id])?;
        insert_audit(&tx, std::slice::from_ref(audit))?;
        tx.commit()?;
        Ok(())
    }

    /// Records the end of a cycle.
    pub fn record_cycle(&self, link: &str, ms: i64, error: Option<&str>) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO link_stats (link, last_cycle_at, last_cycle_ms, last_error) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (link) DO UPDATE SET last_cycle_at = excluded.last_cycle_at,
               last_cycle_ms = excluded.last_cycle_ms, last_error = excluded.last_error",
            params![link, now_text(), ms, error],
        )?;
        Ok(())
    }

    /// A link's pending writes: how many, and when the oldest was queued (RFC 3339).
    pub fn pending_summary(&self, link: &str) -> Result<(u64, Option<String>), StoreError> {
        Ok(self.conn.query_row(
            "SELECT COUNT(*), MIN(created_at) FROM outbox WHERE link = ?1",
            params![link],
            |r| Ok((r.get::<_, i64>(0)?.max(0) as u64, r.get(1)?)),
        )?)
    }

    /// Statistics of a link.
    pub fn stats(&self, link: &str) -> Result<LinkStats, StoreError> {
        let mut s = self
            .conn
            .query_row(
                "SELECT last_cycle_at, last_cycle_ms, applied_total, last_error FROM link_stats WHERE link = ?1",
                params![link],
                |r| {
                    Ok(LinkStats {
                        last_cycle_at: r.get(0)?,
                        last_cycle_ms: r.get(1)?,
                        applied_total: r.get(2)?,
                        last_error: r.get(3)?,
                        pending: 0,
                        dead_letters: 0,
                    })
                },
            )
            .optional()?
            .unwrap_or_default();
        s.pending = self.conn.query_row(
            "SELECT COUNT(*) FROM outbox WHERE link = ?1",
            params![link],
            |r| r.get(0),
        )?;
        s.dead_letters = self.conn.query_row(
            "SELECT COUNT(*) FROM dead_letters WHERE link = ?1",
            params![link],
            |r| r.get(0),
        )?;
        Ok(s)
    }

    /// Dead letters, optionally of one link.
    pub fn dead_letters(&self, link: Option<&str>) -> Result<Vec<DeadLetter>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT id, link, target, key, status, source_status, code, reason, attempts, at FROM dead_letters
             WHERE ?1 IS NULL OR link = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map(params![link], |r| {
            Ok(DeadLetter {
                id: r.get(0)?,
                link: r.get(1)?,
                target: r.get(2)?,
                key: r.get(3)?,
                status: r.get(4)?,
                source_status: r.get(5)?,
                code: r.get(6)?,
                reason: r.get(7)?,
                attempts: r.get(8)?,
                at: r.get(9)?,
            })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// Puts a dead letter back into the outbox (due now). Returns false if there is no such id.
    pub fn retry_dead_letter(&mut self, id: i64) -> Result<bool, StoreError> {
        let tx = self.conn.transaction()?;
        let n = tx.execute(
            "INSERT INTO outbox (link, target, key, status, source_status, reason, attempts, next_attempt_ms, created_at)
             SELECT link, target, key, status, source_status, 'retried from dead letters: ' || reason, 0, 0, ?2
             FROM dead_letters WHERE id = ?1
             ON CONFLICT (link, target, key) DO UPDATE SET status = excluded.status, attempts = 0, next_attempt_ms = 0",
            params![id, now_text()],
        )?;
        tx.execute("DELETE FROM dead_letters WHERE id = ?1", params![id])?;
        tx.commit()?;
        Ok(n > 0)
    }

    /// Deletes a dead letter. Returns false if there is no such id.
    pub fn discard_dead_letter(&self, id: i64) -> Result<bool, StoreError> {
        Ok(self
            .conn
            .execute("DELETE FROM dead_letters WHERE id = ?1", params![id])?
            > 0)
    }

    /// The audit trail of one order, oldest first.
    pub fn history(&self, key: &str, link: Option<&str>) -> Result<Vec<AuditEntry>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT at, link, key, target, from_status, to_status, action, why FROM audit
             WHERE key = ?1 AND (?2 IS NULL OR link = ?2) ORDER BY id",
        )?;
        let rows = stmt.query_map(params![key, link], |r| {
            Ok(AuditEntry {
                at: r.get(0)?,
                link: r.get(1)?,
                key: r.get(2)?,
                target: r.get(3)?,
                from_status: r.get(4)?,
                to_status: r.get(5)?,
                action: r.get(6)?,
                why: r.get(7)?,
            })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }
}

fn outbox_entry(r: &rusqlite::Row<'_>) -> rusqlite::Result<OutboxEntry> {
    Ok(OutboxEntry {
        id: r.get(0)?,
        target: side(&r.get::<_, String>(1)?),
        key: r.get(2)?,
        status: r.get(3)?,
        from_status: r.get(4)?,
        source_status: r.get(5)?,
        expected_version: r.get(6)?,
        reason: r.get(7)?,
        attempts: r.get(8)?,
    })
}

/// An order as seen in a feed, to remember in the order table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenOrder {
    /// Order key.
    pub key: String,
    /// The system's id.
    pub id: Option<String>,
    /// Its status there.
    pub status: String,
    /// Creation time (shop side).
    pub created_at: Option<String>,
    /// Fulfilment (ERP side).
    pub fulfilled: Option<bool>,
}

/// Queues writes in the outbox, replacing an older pending write for the same order and target.
fn upsert_outbox(
    tx: &rusqlite::Transaction<'_>,
    link: &str,
    outbox: &[OutboxEntry],
    now: &str,
) -> Result<(), StoreError> {
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

fn insert_audit(tx: &rusqlite::Transaction<'_>, audit: &[AuditEntry]) -> Result<(), StoreError> {
    let mut stmt = tx.prepare_cached(
        "INSERT INTO audit (at, link, key, target, from_status, to_status, action, why) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    for a in audit {
        stmt.execute(params![
            a.at,
            a.link,
            a.key,
            a.target,
            a.from_status,
            a.to_status,
            a.action,
            a.why
        ])?;
    }
    Ok(())
}

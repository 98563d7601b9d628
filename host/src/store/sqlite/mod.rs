//! The single-host state store: one SQLite file in WAL mode, one connection (one writer) per
//! process shared by every link, prepared statements, one transaction per page or batch.
//!
//! Durability: `journal_mode = WAL`, `synchronous = NORMAL`. A commit is in the write-ahead log
//! before `commit` returns, so it survives the process being killed (`kill -9`) at any moment;
//! the log is synced to disk at each checkpoint, so a power loss or OS crash may lose the last
//! commits since then, never the file's consistency. Losing them is safe: the cursor never
//! passes what is not recorded with it, so the lost window is read again.

pub mod lock;
pub mod schema;
mod trail;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use rusqlite::{params, Connection, ErrorCode, OpenFlags, OptionalExtension, TransactionBehavior};

use self::lock::StoreLock;
use self::schema::{Verdict, LATEST_VERSION, MIN_READABLE_VERSION};
use super::{
    applied_audit, cycle_worth_recording, dead_letter_audit, now_ms, now_text, AuditEntry,
    Checkpoint, CycleRecord, DeadLetter, KnownOrder, Lease, LinkStats, OrderRow, OutboxEntry,
    OutboxUpdate, PageCommit, PendingWrite, StateStore, StoreError,
};
use crate::domain::Side;

/// How a command uses the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// `run`, `sync`: the only writer of the links' state. Takes the file lock, creates the
    /// file if needed, brings its schema up to date.
    Own,
    /// Operator edits (`dead-letters retry|discard`): the file must exist; no lock (they touch
    /// only dead letters and queue writes the owner picks up).
    Edit,
    /// `status`, `history`, `dead-letters list`, dry runs: the file must exist; opened
    /// read-only, never changed, readable while `run` holds it.
    Read,
}

struct Inner {
    conn: Connection,
    /// Cursors of empty pages, not yet written: (link, side) -> cursor.
    held_cursors: HashMap<(String, Side), String>,
    /// Cursors as saved in the file, once read or written (only by the owner, [`OpenMode::Own`]:
    /// nobody else writes cursors while it holds the lock), so an idle cycle reads none.
    saved_cursors: HashMap<(String, Side), Option<String>>,
    /// Outboxes known to hold nothing due before a time (ms since the epoch; `i64::MAX`:
    /// empty), so an idle cycle's flush reads nothing (the owner only). Forgotten at every
    /// write through this handle, and when another connection committed (`PRAGMA
    /// data_version`, looked at no more than every [`OTHER_WRITERS_EVERY`]): an operator's
    /// `dead-letters retry` from another process is seen within that.
    idle_outboxes: HashMap<(String, Side), i64>,
    /// When `PRAGMA data_version` was last looked at, and what it said.
    version_seen: Option<(std::time::Instant, i64)>,
    /// The error of each link's last recorded cycle.
    last_errors: HashMap<String, Option<String>>,
}

/// How often the owner looks for commits of other connections (operator edits) before it
/// trusts what it knows of idle outboxes.
const OTHER_WRITERS_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

impl Inner {
    /// Forgets what is known of idle outboxes when another connection committed since the last
    /// look (at most every [`OTHER_WRITERS_EVERY`]).
    fn notice_other_writers(&mut self) -> rusqlite::Result<()> {
        let now = std::time::Instant::now();
        if let Some((at, _)) = self.version_seen {
            if now.duration_since(at) < OTHER_WRITERS_EVERY {
                return Ok(());
            }
        }
        let version: i64 = self
            .conn
            .query_row("PRAGMA data_version", [], |r| r.get(0))?;
        if self.version_seen.map(|(_, v)| v) != Some(version) {
            self.idle_outboxes.clear();
        }
        self.version_seen = Some((now, version));
        Ok(())
    }
}

/// The SQLite state store.
pub struct SqliteStore {
    inner: Mutex<Inner>,
    path: String,
    mode: OpenMode,
    commits: AtomicU64,
    _lock: Option<StoreLock>,
}

fn side(text: &str) -> Side {
    Side::parse(text).unwrap_or(Side::Shop)
}

fn json_list<T: serde::Serialize>(items: &[T]) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".to_owned())
}

/// A SQLite error, with the file named and damage told apart.
fn classify(path: &str, e: rusqlite::Error) -> StoreError {
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => StoreError::Corrupt {
            path: path.to_owned(),
            detail: e.to_string(),
        },
        _ => StoreError::Sqlite {
            path: path.to_owned(),
            source: e,
        },
    }
}

impl SqliteStore {
    /// Opens the store file at `path` for `mode`. Before anything else the file is judged (an
    /// SQLite file, whole, orderlink's, not newer than this build); a file that fails is left
    /// untouched.
    pub fn open(path: &Path, mode: OpenMode) -> Result<SqliteStore, StoreError> {
        let name = path.display().to_string();
        let exists = path.exists();
        if !exists && mode != OpenMode::Own {
            return Err(StoreError::Missing(name));
        }
        if exists {
            judge_file(path, &name, mode)?;
        }
        let lock = if mode == OpenMode::Own {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|source| StoreError::Io {
                    path: dir.display().to_string(),
                    source,
                })?;
            }
            Some(StoreLock::acquire(path)?)
        } else {
            None
        };
        let flags = if mode == OpenMode::Read {
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
        } else {
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX
        };
        let mut conn = Connection::open_with_flags(path, flags).map_err(|e| classify(&name, e))?;
        Self::prepare(&mut conn, &name, mode)?;
        Ok(SqliteStore {
            inner: Mutex::new(Inner {
                conn,
                held_cursors: HashMap::new(),
                saved_cursors: HashMap::new(),
                idle_outboxes: HashMap::new(),
                version_seen: None,
                last_errors: HashMap::new(),
            }),
            path: name,
            mode,
            commits: AtomicU64::new(0),
            _lock: lock,
        })
    }

    /// A store in memory (a dry run without a store file): empty, gone when dropped.
    pub fn in_memory() -> Result<SqliteStore, StoreError> {
        let name = ":memory:".to_owned();
        let mut conn = Connection::open_in_memory().map_err(|e| classify(&name, e))?;
        Self::prepare(&mut conn, &name, OpenMode::Edit)?;
        Ok(SqliteStore {
            inner: Mutex::new(Inner {
                conn,
                held_cursors: HashMap::new(),
                saved_cursors: HashMap::new(),
                idle_outboxes: HashMap::new(),
                version_seen: None,
                last_errors: HashMap::new(),
            }),
            path: name,
            mode: OpenMode::Edit,
            commits: AtomicU64::new(0),
            _lock: None,
        })
    }

    /// Settings, a second look at the file's identity (now under the lock), the migrations.
    fn prepare(conn: &mut Connection, name: &str, mode: OpenMode) -> Result<(), StoreError> {
        let sql = |e| classify(name, e);
        conn.busy_timeout(std::time::Duration::from_secs(30))
            .map_err(sql)?;
        let verdict = schema::judge(&schema::identity(conn).map_err(sql)?);
        refuse(name, &verdict, mode)?;
        if mode == OpenMode::Read {
            return Ok(());
        }
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(sql)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(sql)?;
        schema::migrations()
            .to_latest(conn)
            .map_err(|e| StoreError::Migration {
                path: name.to_owned(),
                detail: e.to_string(),
            })
    }

    /// Transactions committed through this handle so far (pages, batches, cycle records).
    pub fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    /// Runs `f` on the connection (a read of whole tables, for `store migrate`); held cursors
    /// are written first.
    pub(crate) fn read_tables<T>(
        &self,
        f: impl FnOnce(&Connection, &str) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.persist_held()?;
        let inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        f(&inner.conn, &self.path)
    }

    /// The store file.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Runs `f` on the connection; SQLite errors name the file.
    fn with<T>(&self, f: impl FnOnce(&mut Inner) -> rusqlite::Result<T>) -> Result<T, StoreError> {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut inner).map_err(|e| classify(&self.path, e))
    }

    /// Runs `f` in one write transaction and commits it.
    fn write<T>(
        &self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        let out = self.with(|inner| {
            let tx = inner
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            let out = f(&tx)?;
            tx.commit()?;
            inner.idle_outboxes.clear();
            Ok(out)
        })?;
        self.commits.fetch_add(1, Ordering::Relaxed);
        Ok(out)
    }

    fn check_lease(&self, lease: &Lease) -> Result<(), StoreError> {
        if lease.epoch == 0 {
            Ok(())
        } else {
            Err(StoreError::Fenced {
                link: lease.link.clone(),
                epoch: lease.epoch,
            })
        }
    }

    /// Remembers cursors just saved in the file (the owner only).
    fn remember_cursors(&self, saved: impl IntoIterator<Item = ((String, Side), Option<String>)>) {
        if self.mode != OpenMode::Own {
            return;
        }
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        inner.saved_cursors.extend(saved);
    }

    fn persist_held(&self) -> Result<(), StoreError> {
        let held: Vec<((String, Side), String)> = {
            let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
            inner.held_cursors.drain().collect()
        };
        if held.is_empty() || self.mode == OpenMode::Read {
            return Ok(());
        }
        let now = now_text();
        self.write(|tx| {
            let mut up = tx.prepare_cached(UPSERT_CURSOR)?;
            for ((link, side), cursor) in &held {
                up.execute(params![link, side.as_str(), cursor, now])?;
            }
            Ok(())
        })?;
        self.remember_cursors(held.into_iter().map(|(slot, c)| (slot, Some(c))));
        Ok(())
    }
}

/// Judges an existing file before SQLite opens it for writing: its header, then its identity
/// through a read-only connection.
fn judge_file(path: &Path, name: &str, mode: OpenMode) -> Result<(), StoreError> {
    schema::check_header(path).map_err(|detail| StoreError::Corrupt {
        path: name.to_owned(),
        detail,
    })?;
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| classify(name, e))?;
    let verdict = schema::judge(&schema::identity(&conn).map_err(|e| classify(name, e))?);
    refuse(name, &verdict, mode)
}

fn refuse(name: &str, verdict: &Verdict, mode: OpenMode) -> Result<(), StoreError> {
    match verdict {
        Verdict::Foreign(detail) => Err(StoreError::Foreign {
            path: name.to_owned(),
            detail: detail.clone(),
        }),
        Verdict::Newer(found) => Err(StoreError::Newer {
            path: name.to_owned(),
            found: *found,
            supported: LATEST_VERSION,
        }),
        Verdict::Ours(v) if mode == OpenMode::Read && *v < MIN_READABLE_VERSION => {
            Err(StoreError::Migration {
                path: name.to_owned(),
                detail: format!("schema version {v} is too old to read; run `orderlink sync --once` to upgrade it"),
            })
        }
        Verdict::Fresh if mode == OpenMode::Read => Err(StoreError::Missing(name.to_owned())),
        _ => Ok(()),
    }
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        if let Err(e) = self.persist_held() {
            tracing::warn!("cannot save the last cursors: {e}");
        }
    }
}

const UPSERT_CURSOR: &str = "INSERT INTO cursors (link, side, cursor, updated_at) VALUES (?1, ?2, ?3, ?4)
     ON CONFLICT (link, side) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at";

const INSERT_AUDIT: &str = "INSERT INTO audit (at, link, key, target, from_status, to_status, action, why) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";

fn insert_audit(tx: &rusqlite::Transaction<'_>, audit: &[AuditEntry]) -> rusqlite::Result<()> {
    let mut stmt = tx.prepare_cached(INSERT_AUDIT)?;
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

/// Records a page's orders, queued and dropped writes and audit; with `cursor`, moves the
/// cursor (and maybe checkpoints it) in the same transaction.
fn record_page(
    tx: &rusqlite::Transaction<'_>,
    link: &str,
    page: &PageCommit<'_>,
    cursor: Option<&str>,
) -> rusqlite::Result<()> {
    let now = now_text();
    let mut up = tx.prepare_cached(seen_upsert(page.source))?;
    for o in page.seen {
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
    trail::upsert_outbox(tx, link, page.outbox, &now)?;
    drop_outbox(tx, link, page.drop_pending)?;
    insert_audit(tx, page.audit)?;
    if let Some(cursor) = cursor {
        tx.prepare_cached(UPSERT_CURSOR)?.execute(params![
            link,
            page.source.as_str(),
            cursor,
            now
        ])?;
        trail::record_checkpoint(tx, link, page.source, cursor)?;
    }
    Ok(())
}

/// Deletes pending writes `(target, key)` of a link.
fn drop_outbox(
    tx: &rusqlite::Transaction<'_>,
    link: &str,
    drop: &[(Side, String)],
) -> rusqlite::Result<()> {
    let mut del =
        tx.prepare_cached("DELETE FROM outbox WHERE link = ?1 AND target = ?2 AND key = ?3")?;
    for (target, key) in drop {
        del.execute(params![link, target.as_str(), key])?;
    }
    Ok(())
}

fn seen_upsert(source: Side) -> &'static str {
    match source {
        Side::Shop => {
            "INSERT INTO orders (link, key, shop_id, shop_status, created_at, fulfilled, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (link, key) DO UPDATE SET shop_id = COALESCE(excluded.shop_id, shop_id),
               shop_status = excluded.shop_status,
               created_at = COALESCE(excluded.created_at, created_at),
               fulfilled = COALESCE(excluded.fulfilled, fulfilled),
               shop_written = NULL, updated_at = excluded.updated_at"
        }
        Side::Erp => {
            "INSERT INTO orders (link, key, erp_id, erp_status, created_at, fulfilled, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (link, key) DO UPDATE SET erp_id = COALESCE(excluded.erp_id, erp_id),
               erp_status = excluded.erp_status,
               created_at = COALESCE(excluded.created_at, created_at),
               fulfilled = COALESCE(excluded.fulfilled, fulfilled),
               erp_written = NULL, updated_at = excluded.updated_at"
        }
    }
}

fn done_upsert(target: Side) -> &'static str {
    match target {
        Side::Shop => {
            "INSERT INTO orders (link, key, shop_status, shop_written, updated_at)
             VALUES (?1, ?2, ?3, CASE WHEN ?5 THEN ?3 END, ?4)
             ON CONFLICT (link, key) DO UPDATE SET shop_status = excluded.shop_status,
               shop_written = excluded.shop_written, updated_at = excluded.updated_at"
        }
        Side::Erp => {
            "INSERT INTO orders (link, key, erp_status, erp_written, updated_at)
             VALUES (?1, ?2, ?3, CASE WHEN ?5 THEN ?3 END, ?4)
             ON CONFLICT (link, key) DO UPDATE SET erp_status = excluded.erp_status,
               erp_written = excluded.erp_written, updated_at = excluded.updated_at"
        }
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

fn audit_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AuditEntry> {
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
}

fn dead_letter_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<DeadLetter> {
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
}

/// Of `ids`, those not in the dead letters.
fn missing_dead_letters(tx: &rusqlite::Transaction<'_>, ids: &[i64]) -> rusqlite::Result<Vec<i64>> {
    let mut stmt = tx.prepare_cached(
        "SELECT id FROM dead_letters WHERE id IN (SELECT value FROM json_each(?1))",
    )?;
    let found = stmt
        .query_map([json_list(ids)], |r| r.get::<_, i64>(0))?
        .collect::<rusqlite::Result<std::collections::HashSet<i64>>>()?;
    Ok(ids.iter().copied().filter(|i| !found.contains(i)).collect())
}

impl StateStore for SqliteStore {
    fn lease(&self, link: &str) -> Result<Lease, StoreError> {
        Ok(Lease {
            link: link.to_owned(),
            epoch: 0,
        })
    }

    fn cursor(&self, link: &str, side: Side) -> Result<Option<String>, StoreError> {
        let own = self.mode == OpenMode::Own;
        self.with(|inner| {
            let slot = (link.to_owned(), side);
            if let Some(c) = inner.held_cursors.get(&slot) {
                return Ok(Some(c.clone()));
            }
            if let Some(c) = inner.saved_cursors.get(&slot) {
                return Ok(c.clone());
            }
            let saved: Option<String> = inner
                .conn
                .prepare_cached("SELECT cursor FROM cursors WHERE link = ?1 AND side = ?2")?
                .query_row(params![link, side.as_str()], |r| r.get(0))
                .optional()?;
            if own {
                inner.saved_cursors.insert(slot, saved.clone());
            }
            Ok(saved)
        })
    }

    fn orders(&self, link: &str, keys: &[String]) -> Result<HashMap<String, OrderRow>, StoreError> {
        if keys.is_empty() {
            return Ok(HashMap::new());
        }
        self.with(|inner| {
            let mut stmt = inner.conn.prepare_cached(
                "SELECT key, shop_status, erp_status, shop_written, erp_written FROM orders
                 WHERE link = ?1 AND key IN (SELECT value FROM json_each(?2))",
            )?;
            let rows = stmt.query_map(params![link, json_list(keys)], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    OrderRow {
                        shop_status: r.get(1)?,
                        erp_status: r.get(2)?,
                        shop_written: r.get(3)?,
                        erp_written: r.get(4)?,
                    },
                ))
            })?;
            rows.collect()
        })
    }

    fn pending_into(
        &self,
        link: &str,
        target: Side,
        keys: &[String],
    ) -> Result<HashMap<String, OutboxEntry>, StoreError> {
        if keys.is_empty() {
            return Ok(HashMap::new());
        }
        self.with(|inner| {
            let mut stmt = inner.conn.prepare_cached(
                "SELECT id, target, key, status, from_status, source_status, expected_version, reason, attempts
                 FROM outbox WHERE link = ?1 AND target = ?2 AND key IN (SELECT value FROM json_each(?3))",
            )?;
            let rows = stmt.query_map(params![link, target.as_str(), json_list(keys)], outbox_entry)?;
            rows.map(|r| r.map(|e| (e.key.clone(), e))).collect()
        })
    }

    fn last_decisions(
        &self,
        link: &str,
        target: Side,
        keys: &[String],
    ) -> Result<HashMap<String, AuditEntry>, StoreError> {
        if keys.is_empty() {
            return Ok(HashMap::new());
        }
        self.with(|inner| {
            let mut stmt = inner.conn.prepare_cached(
                "SELECT at, link, key, target, from_status, to_status, action, why FROM audit
                 WHERE id IN (SELECT MAX(id) FROM audit WHERE link = ?1 AND target = ?2
                              AND key IN (SELECT value FROM json_each(?3)) GROUP BY key)",
            )?;
            let rows =
                stmt.query_map(params![link, target.as_str(), json_list(keys)], audit_row)?;
            rows.map(|r| r.map(|a| (a.key.clone(), a))).collect()
        })
    }

    fn commit_page(&self, lease: &Lease, page: &PageCommit<'_>) -> Result<(), StoreError> {
        self.check_lease(lease)?;
        let link = lease.link.as_str();
        let slot = (link.to_owned(), page.source);
        if page.is_empty() {
            // Nothing to record but the cursor: hold it in memory (an idle cycle writes nothing).
            if self.cursor(link, page.source)?.as_deref() != Some(page.next_cursor) {
                let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
                inner.held_cursors.insert(slot, page.next_cursor.to_owned());
            }
            return Ok(());
        }
        self.write(|tx| record_page(tx, link, page, Some(page.next_cursor)))?;
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .held_cursors
            .remove(&slot);
        self.remember_cursors([(slot, Some(page.next_cursor.to_owned()))]);
        Ok(())
    }

    fn due_outbox(
        &self,
        link: &str,
        target: Side,
        limit: u32,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        let own = self.mode == OpenMode::Own;
        self.with(|inner| {
            let now = now_ms();
            let slot = (link.to_owned(), target);
            if own {
                inner.notice_other_writers()?;
                if inner.idle_outboxes.get(&slot).is_some_and(|until| now < *until) {
                    return Ok(Vec::new());
                }
            }
            // Walked in id order (`outbox_in_order`; the `+` keeps SQLite from sorting every due
            // write by `outbox_due` instead): it stops after the batch.
            let due: Vec<OutboxEntry> = inner
                .conn
                .prepare_cached(
                    "SELECT id, target, key, status, from_status, source_status, expected_version, reason, attempts
                     FROM outbox WHERE link = ?1 AND target = ?2 AND +next_attempt_ms <= ?3 ORDER BY id LIMIT ?4",
                )?
                .query_map(params![link, target.as_str(), now, limit], outbox_entry)?
                .collect::<rusqlite::Result<_>>()?;
            if own && due.is_empty() {
                let next: Option<i64> = inner
                    .conn
                    .prepare_cached(
                        "SELECT MIN(next_attempt_ms) FROM outbox WHERE link = ?1 AND target = ?2",
                    )?
                    .query_row(params![link, target.as_str()], |r| r.get(0))?;
                inner.idle_outboxes.insert(slot, next.unwrap_or(i64::MAX));
            }
            Ok(due)
        })
    }

    fn record_outcomes(&self, lease: &Lease, outcomes: &[OutboxUpdate]) -> Result<(), StoreError> {
        self.check_lease(lease)?;
        if outcomes.is_empty() {
            return Ok(());
        }
        let link = lease.link.as_str();
        let now = now_text();
        self.write(|tx| {
            let mut delete = tx.prepare_cached("DELETE FROM outbox WHERE id = ?1")?;
            let mut applied = 0i64;
            let mut audit = Vec::new();
            for outcome in outcomes {
                match outcome {
                    OutboxUpdate::Done { entry: e, changed } => {
                        delete.execute(params![e.id])?;
                        tx.prepare_cached(done_upsert(e.target))?
                            .execute(params![link, e.key, e.status, now, changed])?;
                        audit.push(applied_audit(link, e, *changed));
                        applied += 1;
                    }
                    OutboxUpdate::Retry {
                        entry: e,
                        delay_ms,
                        error,
                        clear_version,
                    } => {
                        tx.prepare_cached(
                            "UPDATE outbox SET attempts = attempts + 1, next_attempt_ms = ?2, last_error = ?3,
                               expected_version = CASE WHEN ?4 THEN NULL ELSE expected_version END WHERE id = ?1",
                        )?
                        .execute(params![e.id, now_ms().saturating_add(*delay_ms), error, clear_version])?;
                    }
                    OutboxUpdate::Dead {
                        entry: e,
                        code,
                        reason,
                    } => {
                        delete.execute(params![e.id])?;
                        tx.prepare_cached(
                            "INSERT INTO dead_letters (link, target, key, status, source_status, code, reason, attempts, at)
                             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                        )?
                        .execute(params![
                            link,
                            e.target.as_str(),
                            e.key,
                            e.status,
                            e.source_status,
                            code,
                            reason,
                            e.attempts + 1,
                            now
                        ])?;
                        audit.push(dead_letter_audit(link, e, code, reason));
                    }
                    OutboxUpdate::Reread {
                        entry: e,
                        from_status,
                        expected_version,
                    } => {
                        tx.prepare_cached(
                            "UPDATE outbox SET attempts = attempts + 1, next_attempt_ms = 0,
                               last_error = 'conflict: read again', from_status = ?2, expected_version = ?3
                             WHERE id = ?1",
                        )?
                        .execute(params![e.id, from_status, expected_version])?;
                    }
                    OutboxUpdate::Dropped { entry: e, audit: a } => {
                        delete.execute(params![e.id])?;
                        audit.push(a.clone());
                    }
                }
            }
            insert_audit(tx, &audit)?;
            if applied > 0 {
                tx.prepare_cached(
                    "INSERT INTO link_stats (link, applied_total) VALUES (?1, ?2)
                     ON CONFLICT (link) DO UPDATE SET applied_total = applied_total + excluded.applied_total",
                )?
                .execute(params![link, applied])?;
            }
            Ok(())
        })
    }

    fn record_cycle(&self, lease: &Lease, cycle: &CycleRecord) -> Result<(), StoreError> {
        self.check_lease(lease)?;
        let link = lease.link.as_str();
        {
            let inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
            if !cycle_worth_recording(inner.last_errors.get(link), cycle) {
                return Ok(());
            }
        }
        self.write(|tx| {
            tx.prepare_cached(
                "INSERT INTO link_stats (link, last_cycle_at, last_cycle_ms, last_error) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (link) DO UPDATE SET last_cycle_at = excluded.last_cycle_at,
                   last_cycle_ms = excluded.last_cycle_ms, last_error = excluded.last_error",
            )?
            .execute(params![link, now_text(), cycle.ms, cycle.error])?;
            Ok(())
        })?;
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        inner
            .last_errors
            .insert(link.to_owned(), cycle.error.clone());
        Ok(())
    }

    fn checkpoint(&self) -> Result<(), StoreError> {
        self.persist_held()
    }

    fn pending_summary(&self, link: &str) -> Result<(u64, Option<String>), StoreError> {
        self.with(|inner| {
            inner
                .conn
                .prepare_cached("SELECT COUNT(*), MIN(created_at) FROM outbox WHERE link = ?1")?
                .query_row([link], |r| {
                    Ok((u64::try_from(r.get::<_, i64>(0)?).unwrap_or(0), r.get(1)?))
                })
        })
    }

    fn stats(&self, links: &[String]) -> Result<HashMap<String, LinkStats>, StoreError> {
        let mut out: HashMap<String, LinkStats> = links
            .iter()
            .map(|l| (l.clone(), LinkStats::default()))
            .collect();
        if links.is_empty() {
            return Ok(out);
        }
        let list = json_list(links);
        self.with(|inner| {
            let conn = &inner.conn;
            let mut stmt = conn.prepare_cached(
                "SELECT link, last_cycle_at, last_cycle_ms, applied_total, last_error FROM link_stats
                 WHERE link IN (SELECT value FROM json_each(?1))",
            )?;
            let mut rows = stmt.query([&list])?;
            while let Some(r) = rows.next()? {
                if let Some(s) = out.get_mut(&r.get::<_, String>(0)?) {
                    s.last_cycle_at = r.get(1)?;
                    s.last_cycle_ms = r.get(2)?;
                    s.applied_total = r.get(3)?;
                    s.last_error = r.get(4)?;
                }
            }
            for (table, pending) in [("outbox", true), ("dead_letters", false)] {
                let mut stmt = conn.prepare_cached(&format!(
                    "SELECT link, COUNT(*) FROM {table} WHERE link IN (SELECT value FROM json_each(?1)) GROUP BY link"
                ))?;
                let mut rows = stmt.query([&list])?;
                while let Some(r) = rows.next()? {
                    if let Some(s) = out.get_mut(&r.get::<_, String>(0)?) {
                        let n: i64 = r.get(1)?;
                        if pending {
                            s.pending = n;
                        } else {
                            s.dead_letters = n;
                        }
                    }
                }
            }
            Ok(())
        })?;
        Ok(out)
    }

    fn dead_letters(&self, link: Option<&str>) -> Result<Vec<DeadLetter>, StoreError> {
        const COLUMNS: &str =
            "SELECT id, link, target, key, status, source_status, code, reason, attempts, at FROM dead_letters";
        self.with(|inner| match link {
            Some(link) => inner
                .conn
                .prepare_cached(&format!("{COLUMNS} WHERE link = ?1 ORDER BY id"))?
                .query_map([link], dead_letter_row)?
                .collect(),
            None => inner
                .conn
                .prepare_cached(&format!("{COLUMNS} ORDER BY id"))?
                .query_map([], dead_letter_row)?
                .collect(),
        })
    }

    fn retry_dead_letters(&self, ids: &[i64]) -> Result<Vec<i64>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list = json_list(ids);
        let now = now_text();
        self.write(|tx| {
            let missing = missing_dead_letters(tx, ids)?;
            if !missing.is_empty() {
                return Ok(missing);
            }
            tx.execute(
                "INSERT INTO outbox (link, target, key, status, source_status, reason, attempts, next_attempt_ms, created_at)
                 SELECT link, target, key, status, source_status, 'retried from dead letters: ' || reason, 0, 0, ?2
                 FROM dead_letters WHERE id IN (SELECT value FROM json_each(?1)) ORDER BY id
                 ON CONFLICT (link, target, key) DO UPDATE SET status = excluded.status, attempts = 0, next_attempt_ms = 0",
                params![list, now],
            )?;
            tx.execute(
                "DELETE FROM dead_letters WHERE id IN (SELECT value FROM json_each(?1))",
                [&list],
            )?;
            Ok(Vec::new())
        })
    }

    fn discard_dead_letters(&self, ids: &[i64]) -> Result<Vec<i64>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        self.write(|tx| {
            let missing = missing_dead_letters(tx, ids)?;
            if missing.is_empty() {
                tx.execute(
                    "DELETE FROM dead_letters WHERE id IN (SELECT value FROM json_each(?1))",
                    [json_list(ids)],
                )?;
            }
            Ok(missing)
        })
    }

    fn history(&self, key: &str, link: Option<&str>) -> Result<Vec<AuditEntry>, StoreError> {
        self.with(|inner| {
            let mut stmt = inner.conn.prepare_cached(
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
            rows.collect()
        })
    }

    fn known_order(&self, key: &str, link: Option<&str>) -> Result<Vec<KnownOrder>, StoreError> {
        self.with(|inner| trail::known_order(&inner.conn, key, link))
    }

    fn known_keys(&self, link: &str) -> Result<Vec<String>, StoreError> {
        self.with(|inner| trail::known_keys(&inner.conn, link))
    }

    fn outbox_list(
        &self,
        link: Option<&str>,
        key: Option<&str>,
    ) -> Result<Vec<PendingWrite>, StoreError> {
        self.with(|inner| trail::pending_writes(&inner.conn, link, key))
    }

    fn queue_writes(
        &self,
        lease: &Lease,
        outbox: &[OutboxEntry],
        drop_pending: &[(Side, String)],
        audit: &[AuditEntry],
    ) -> Result<(), StoreError> {
        self.check_lease(lease)?;
        if outbox.is_empty() && drop_pending.is_empty() && audit.is_empty() {
            return Ok(());
        }
        let now = now_text();
        self.write(|tx| {
            trail::upsert_outbox(tx, &lease.link, outbox, &now)?;
            drop_outbox(tx, &lease.link, drop_pending)?;
            insert_audit(tx, audit)
        })
    }

    fn commit_orders(&self, lease: &Lease, page: &PageCommit<'_>) -> Result<(), StoreError> {
        self.check_lease(lease)?;
        if page.is_empty() {
            return Ok(());
        }
        self.write(|tx| record_page(tx, &lease.link, page, None))
    }

    fn record_audit(&self, lease: &Lease, audit: &[AuditEntry]) -> Result<(), StoreError> {
        self.check_lease(lease)?;
        if audit.is_empty() {
            return Ok(());
        }
        self.write(|tx| insert_audit(tx, audit))
    }

    fn prune_audit(&self, before: &str) -> Result<usize, StoreError> {
        self.write(|tx| trail::prune_audit(tx, before))
    }

    fn oldest_audit(&self) -> Result<Option<String>, StoreError> {
        self.with(|inner| {
            inner
                .conn
                .query_row("SELECT MIN(at) FROM audit", [], |r| r.get(0))
        })
    }

    fn checkpoint_at_or_before(
        &self,
        link: &str,
        side: Side,
        at_ms: i64,
    ) -> Result<Option<Checkpoint>, StoreError> {
        self.with(|inner| trail::checkpoint_at_or_before(&inner.conn, link, side, at_ms))
    }

    fn first_checkpoint(&self, link: &str, side: Side) -> Result<Option<Checkpoint>, StoreError> {
        self.with(|inner| trail::first_checkpoint(&inner.conn, link, side))
    }

    fn cursor_saved_at(&self, link: &str, side: Side) -> Result<Option<String>, StoreError> {
        self.with(|inner| trail::cursor_saved_at(&inner.conn, link, side))
    }

    fn set_cursor(
        &self,
        lease: &Lease,
        side: Side,
        cursor: Option<&str>,
    ) -> Result<(), StoreError> {
        self.check_lease(lease)?;
        let link = lease.link.as_str();
        {
            let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
            inner.held_cursors.remove(&(link.to_owned(), side));
        }
        let now = now_text();
        self.write(|tx| {
            match cursor {
                Some(c) => tx.prepare_cached(UPSERT_CURSOR)?.execute(params![
                    link,
                    side.as_str(),
                    c,
                    now
                ])?,
                None => tx.execute(
                    "DELETE FROM cursors WHERE link = ?1 AND side = ?2",
                    params![link, side.as_str()],
                )?,
            };
            Ok(())
        })?;
        self.remember_cursors([((link.to_owned(), side), cursor.map(str::to_owned))]);
        Ok(())
    }
}

/// The path of a store's lock file (for messages and tests).
pub fn lock_file_of(store: &Path) -> PathBuf {
    lock::lock_path(store)
}

#[cfg(test)]
mod tests;

//! The shared state store: PostgreSQL, for several hosts sharing the links. Same tables and
//! behaviour as the SQLite store, plus link leases: each link is owned by at most one host at a
//! time (a lease row with an expiry and a fencing epoch), and every state write for a link runs
//! in a transaction that first checks, and locks against change (`FOR SHARE`), that this host
//! still holds the link's lease at the epoch the write carries. A host that was paused or cut
//! off past its lease therefore cannot commit anything for the link; it gets
//! [`StoreError::Fenced`] and stops the link.
//!
//! One connection per host (one writer), guarded by a mutex; reads are batched (`= ANY($n)`).
//! Lease times are the database's clock; before remote writes a host checks its lease with a
//! monotonic local deadline derived from the last renewal ([`StateStore::lease_valid_for`]).

pub mod schema;

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use postgres::{Client, NoTls, Transaction};

use self::schema::Verdict;
use super::{
    cycle_worth_recording, now_ms, now_text, AuditEntry, CycleRecord, DeadLetter, Lease, LinkOwner,
    LinkStats, OrderRow, OutboxEntry, PageCommit, StateStore, StoreError, WriteOutcome,
};
use crate::config::Side;
use crate::lease::{plan, LeaseAction, LeaseRow, LeaseView};

/// How a PostgreSQL store is reached and how long its leases last.
#[derive(Clone)]
pub struct PgOptions {
    /// `postgres://user@host:port/db` (a password inside is accepted but better given apart).
    pub url: String,
    /// The password, when not in the URL.
    pub password: Option<String>,
    /// How long a lease lasts unless renewed.
    pub lease: Duration,
    /// This process's name among the hosts (unique per process).
    pub host: String,
}

impl std::fmt::Debug for PgOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgOptions")
            .field("url", &redact_url(&self.url))
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("lease", &self.lease)
            .field("host", &self.host)
            .finish()
    }
}

/// A URL with any password inside replaced, for messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s + 3 => {
            let cred = &url[s + 3..at];
            match cred.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &cred[..c], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// A lease this host holds, with its local deadline.
#[derive(Debug, Clone)]
struct Held {
    epoch: i64,
    /// When the lease lapses, on this host's monotonic clock (conservative: measured from the
    /// moment the renewal was sent).
    deadline: Instant,
}

struct Inner {
    client: Client,
    held_cursors: HashMap<(String, Side), String>,
    last_errors: HashMap<String, Option<String>>,
}

/// The PostgreSQL state store.
pub struct PostgresStore {
    inner: Mutex<Inner>,
    held: Mutex<HashMap<String, Held>>,
    name: String,
    options: PgOptions,
    round_trips: AtomicU64,
}

fn pg_err(name: &str, e: postgres::Error) -> StoreError {
    StoreError::Postgres {
        url: name.to_owned(),
        detail: e.to_string(),
    }
}

fn side(text: &str) -> Side {
    Side::parse(text).unwrap_or(Side::Shop)
}

fn i64_epoch(e: u64) -> i64 {
    i64::try_from(e).unwrap_or(i64::MAX)
}

impl PostgresStore {
    /// Connects, judges the database (refusing another program's or a newer one, untouched),
    /// and brings its schema up to date.
    pub fn connect(options: PgOptions) -> Result<PostgresStore, StoreError> {
        let name = redact_url(&options.url);
        let mut config =
            postgres::Config::from_str(&options.url).map_err(|e| StoreError::BadUrl {
                url: name.clone(),
                detail: e.to_string(),
            })?;
        if let Some(p) = &options.password {
            config.password(p);
        }
        config.application_name("orderlink");
        config.connect_timeout(Duration::from_secs(10));
        let mut client = config.connect(NoTls).map_err(|e| pg_err(&name, e))?;
        schema::lock(&mut client).map_err(|e| pg_err(&name, e))?;
        let judged = (|| {
            let (tables, version) = schema::identity(&mut client).map_err(|e| pg_err(&name, e))?;
            match schema::judge(&tables, version, schema::latest_version()) {
                Verdict::Foreign(detail) => Err(StoreError::Foreign {
                    path: name.clone(),
                    detail,
                }),
                Verdict::Newer(found) => Err(StoreError::Newer {
                    path: name.clone(),
                    found,
                    supported: schema::latest_version(),
                }),
                Verdict::Fresh | Verdict::Ours(_) => {
                    schema::migrate(&mut client).map_err(|e| StoreError::Migration {
                        path: name.clone(),
                        detail: e.to_string(),
                    })
                }
            }
        })();
        let unlocked = schema::unlock(&mut client).map_err(|e| pg_err(&name, e));
        judged?;
        unlocked?;
        Ok(PostgresStore {
            inner: Mutex::new(Inner {
                client,
                held_cursors: HashMap::new(),
                last_errors: HashMap::new(),
            }),
            held: Mutex::new(HashMap::new()),
            name,
            options,
            round_trips: AtomicU64::new(0),
        })
    }

    /// Statements sent to the database so far (queries and transaction commits).
    pub fn round_trips(&self) -> u64 {
        self.round_trips.load(Ordering::Relaxed)
    }

    /// This process's name among the hosts.
    pub fn host(&self) -> &str {
        &self.options.host
    }

    fn count(&self, n: u64) {
        self.round_trips.fetch_add(n, Ordering::Relaxed);
    }

    fn with<T>(
        &self,
        f: impl FnOnce(&mut Inner) -> Result<T, postgres::Error>,
    ) -> Result<T, StoreError> {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut inner).map_err(|e| pg_err(&self.name, e))
    }

    /// Runs `f` in one transaction that first checks (and holds against change) the lease.
    fn write_fenced<T>(
        &self,
        lease: &Lease,
        f: impl FnOnce(&mut Transaction<'_>) -> Result<T, postgres::Error>,
    ) -> Result<T, StoreError> {
        let host = self.options.host.clone();
        let epoch = i64_epoch(lease.epoch);
        let mut fenced = false;
        let out = self.with(|inner| {
            let mut tx = inner.client.transaction()?;
            let held = tx.query_opt(
                "SELECT 1 FROM leases WHERE link = $1 AND holder = $2 AND epoch = $3
                   AND expires_at > now() FOR SHARE",
                &[&lease.link, &host, &epoch],
            )?;
            if held.is_none() {
                fenced = true;
                tx.rollback()?;
                return Ok(None);
            }
            let out = f(&mut tx)?;
            tx.commit()?;
            Ok(Some(out))
        })?;
        self.count(3);
        match out {
            Some(v) => Ok(v),
            None if fenced => {
                self.forget(&lease.link);
                Err(StoreError::Fenced {
                    link: lease.link.clone(),
                    epoch: lease.epoch,
                })
            }
            None => unreachable_fenced(lease),
        }
    }

    fn forget(&self, link: &str) {
        self.held
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(link);
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        inner.held_cursors.retain(|(l, _), _| l != link);
    }

    /// Applies the planned lease actions; returns the leases held afterwards.
    fn apply_lease_actions(
        &self,
        actions: &[LeaseAction],
        sent: Instant,
    ) -> Result<HashMap<String, Held>, StoreError> {
        let host = self.options.host.clone();
        let secs = self.options.lease.as_secs_f64();
        let mut renew: (Vec<String>, Vec<i64>) = (Vec::new(), Vec::new());
        let mut acquire: (Vec<String>, Vec<i64>) = (Vec::new(), Vec::new());
        let mut release: (Vec<String>, Vec<i64>) = (Vec::new(), Vec::new());
        for a in actions {
            let (list, link, epoch) = match a {
                LeaseAction::Renew { link, epoch } => (&mut renew, link, *epoch),
                LeaseAction::Acquire { link, seen_epoch } => (&mut acquire, link, *seen_epoch),
                LeaseAction::Release { link, epoch } => (&mut release, link, *epoch),
            };
            list.0.push(link.clone());
            list.1.push(epoch);
        }
        let rows = self.with(|inner| {
            let mut tx = inner.client.transaction()?;
            if !release.0.is_empty() {
                tx.execute(
                    "UPDATE leases SET holder = NULL, expires_at = now()
                     FROM unnest($1::text[], $2::bigint[]) AS u(link, epoch)
                     WHERE leases.link = u.link AND leases.epoch = u.epoch AND leases.holder = $3",
                    &[&release.0, &release.1, &host],
                )?;
            }
            if !acquire.0.is_empty() {
                tx.execute(
                    "INSERT INTO leases (link, holder, epoch, expires_at)
                     SELECT u.link, NULL, 0, now() FROM unnest($1::text[]) AS u(link)
                     ON CONFLICT (link) DO NOTHING",
                    &[&acquire.0],
                )?;
                tx.execute(
                    "UPDATE leases SET holder = $3, epoch = leases.epoch + 1,
                       expires_at = now() + make_interval(secs => $4), acquired_at = now()
                     FROM unnest($1::text[], $2::bigint[]) AS u(link, epoch)
                     WHERE leases.link = u.link AND leases.epoch = u.epoch
                       AND (leases.holder IS NULL OR leases.expires_at <= now())",
                    &[&acquire.0, &acquire.1, &host, &secs],
                )?;
            }
            if !renew.0.is_empty() {
                tx.execute(
                    "UPDATE leases SET expires_at = now() + make_interval(secs => $4)
                     FROM unnest($1::text[], $2::bigint[]) AS u(link, epoch)
                     WHERE leases.link = u.link AND leases.epoch = u.epoch AND leases.holder = $3
                       AND leases.expires_at > now()",
                    &[&renew.0, &renew.1, &host, &secs],
                )?;
            }
            let rows = tx.query(
                "SELECT link, epoch, EXTRACT(EPOCH FROM (expires_at - now()))::float8
                 FROM leases WHERE holder = $1 AND expires_at > now()",
                &[&host],
            )?;
            tx.commit()?;
            Ok(rows)
        })?;
        self.count(6);
        Ok(rows
            .iter()
            .map(|r| {
                let left: f64 = r.get(2);
                (
                    r.get::<_, String>(0),
                    Held {
                        epoch: r.get(1),
                        deadline: sent + Duration::from_secs_f64(left.max(0.0)),
                    },
                )
            })
            .collect())
    }

    fn persist_held(&self) -> Result<(), StoreError> {
        let held: Vec<((String, Side), String)> = {
            let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
            inner.held_cursors.drain().collect()
        };
        for ((link, side), cursor) in held {
            let Ok(lease) = self.lease(&link) else {
                continue;
            };
            let now = now_text();
            let r = self.write_fenced(&lease, |tx| {
                tx.execute(UPSERT_CURSOR, &[&link, &side.as_str(), &cursor, &now])?;
                Ok(())
            });
            match r {
                Ok(()) | Err(StoreError::Fenced { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

fn unreachable_fenced<T>(lease: &Lease) -> Result<T, StoreError> {
    Err(StoreError::Fenced {
        link: lease.link.clone(),
        epoch: lease.epoch,
    })
}

impl Drop for PostgresStore {
    fn drop(&mut self) {
        if let Err(e) = self.persist_held() {
            tracing::warn!("cannot save the last cursors: {e}");
        }
    }
}

const UPSERT_CURSOR: &str = "INSERT INTO cursors (link, side, cursor, updated_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (link, side) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at";

fn insert_audit(tx: &mut Transaction<'_>, audit: &[AuditEntry]) -> Result<(), postgres::Error> {
    if audit.is_empty() {
        return Ok(());
    }
    let col = |f: fn(&AuditEntry) -> String| audit.iter().map(f).collect::<Vec<String>>();
    let from: Vec<Option<String>> = audit.iter().map(|a| a.from_status.clone()).collect();
    tx.execute(
        "INSERT INTO audit (at, link, key, target, from_status, to_status, action, why)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
                              $6::text[], $7::text[], $8::text[])",
        &[
            &col(|a| a.at.clone()),
            &col(|a| a.link.clone()),
            &col(|a| a.key.clone()),
            &col(|a| a.target.clone()),
            &from,
            &col(|a| a.to_status.clone()),
            &col(|a| a.action.clone()),
            &col(|a| a.why.clone()),
        ],
    )?;
    Ok(())
}

fn outcome_audit(link: &str, e: &OutboxEntry, action: &str, why: String) -> AuditEntry {
    AuditEntry {
        at: now_text(),
        link: link.to_owned(),
        key: e.key.clone(),
        target: e.target.as_str().to_owned(),
        from_status: e.from_status.clone(),
        to_status: e.status.clone(),
        action: action.to_owned(),
        why,
    }
}

fn dead_letter_row(r: &postgres::Row) -> DeadLetter {
    DeadLetter {
        id: r.get(0),
        link: r.get(1),
        target: r.get(2),
        key: r.get(3),
        status: r.get(4),
        source_status: r.get(5),
        code: r.get(6),
        reason: r.get(7),
        attempts: u32::try_from(r.get::<_, i32>(8)).unwrap_or(0),
        at: r.get(9),
    }
}

fn missing_dead_letters(
    tx: &mut Transaction<'_>,
    ids: &[i64],
) -> Result<Vec<i64>, postgres::Error> {
    let found: std::collections::HashSet<i64> = tx
        .query(
            "SELECT id FROM dead_letters WHERE id = ANY($1)",
            &[&ids.to_vec()],
        )?
        .iter()
        .map(|r| r.get(0))
        .collect();
    Ok(ids.iter().copied().filter(|i| !found.contains(i)).collect())
}

impl StateStore for PostgresStore {
    fn lease(&self, link: &str) -> Result<Lease, StoreError> {
        let held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        match held.get(link) {
            Some(h) => Ok(Lease {
                link: link.to_owned(),
                epoch: u64::try_from(h.epoch).unwrap_or(0),
            }),
            None => Err(StoreError::NotHeld {
                link: link.to_owned(),
            }),
        }
    }

    fn coordinate(
        &self,
        links: &[(String, u32)],
        stopping: bool,
    ) -> Result<Vec<Lease>, StoreError> {
        let host = self.options.host.clone();
        let secs = self.options.lease.as_secs_f64();
        let sent = Instant::now();
        let (now, live_hosts, rows) = self.with(|inner| {
            let c = &mut inner.client;
            if stopping {
                c.execute("DELETE FROM hosts WHERE host = $1", &[&host])?;
            } else {
                c.execute(
                    "INSERT INTO hosts (host, expires_at) VALUES ($1, now() + make_interval(secs => $2))
                     ON CONFLICT (host) DO UPDATE SET expires_at = excluded.expires_at",
                    &[&host, &secs],
                )?;
            }
            let now: DateTime<Utc> = c.query_one("SELECT now()", &[])?.get(0);
            let live: Vec<String> = c
                .query("SELECT host FROM hosts WHERE expires_at > now()", &[])?
                .iter()
                .map(|r| r.get(0))
                .collect();
            let rows: Vec<LeaseRow> = c
                .query("SELECT link, holder, epoch, expires_at FROM leases", &[])?
                .iter()
                .map(|r| LeaseRow {
                    link: r.get(0),
                    holder: r.get(1),
                    epoch: r.get(2),
                    expires_at: r.get(3),
                })
                .collect();
            Ok((now, live, rows))
        })?;
        self.count(4);
        let actions = plan(&LeaseView {
            now,
            me: &host,
            live_hosts: &live_hosts,
            links,
            leases: &rows,
            stopping,
        });
        if stopping {
            // Cursors held in memory go out before the leases do.
            self.persist_held()?;
        }
        let held = self.apply_lease_actions(&actions, sent)?;
        let lost: Vec<String> = {
            let before = self.held.lock().unwrap_or_else(PoisonError::into_inner);
            before
                .keys()
                .filter(|l| !held.contains_key(*l))
                .cloned()
                .collect()
        };
        for l in &lost {
            self.forget(l);
        }
        let mut out: Vec<Lease> = held
            .iter()
            .map(|(link, h)| Lease {
                link: link.clone(),
                epoch: u64::try_from(h.epoch).unwrap_or(0),
            })
            .collect();
        out.sort_by(|a, b| a.link.cmp(&b.link));
        *self.held.lock().unwrap_or_else(PoisonError::into_inner) = held;
        Ok(out)
    }

    fn lease_valid_for(&self, lease: &Lease, margin: Duration) -> bool {
        let held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        held.get(&lease.link).is_some_and(|h| {
            i64_epoch(lease.epoch) == h.epoch && h.deadline > Instant::now() + margin
        })
    }

    fn owners(&self) -> Result<HashMap<String, LinkOwner>, StoreError> {
        let rows = self.with(|inner| {
            inner.client.query(
                "SELECT link, holder, epoch, expires_at, expires_at > now() FROM leases",
                &[],
            )
        })?;
        self.count(1);
        Ok(rows
            .iter()
            .map(|r| {
                let live: bool = r.get(4);
                (
                    r.get::<_, String>(0),
                    LinkOwner {
                        host: if live { r.get(1) } else { None },
                        epoch: u64::try_from(r.get::<_, i64>(2)).unwrap_or(0),
                        expires_at: r.get::<_, DateTime<Utc>>(3).to_rfc3339(),
                    },
                )
            })
            .collect())
    }

    fn cursor(&self, link: &str, side: Side) -> Result<Option<String>, StoreError> {
        let out = self.with(|inner| {
            if let Some(c) = inner.held_cursors.get(&(link.to_owned(), side)) {
                return Ok(Some(c.clone()));
            }
            Ok(inner
                .client
                .query_opt(
                    "SELECT cursor FROM cursors WHERE link = $1 AND side = $2",
                    &[&link, &side.as_str()],
                )?
                .map(|r| r.get(0)))
        })?;
        self.count(1);
        Ok(out)
    }

    fn orders(&self, link: &str, keys: &[String]) -> Result<HashMap<String, OrderRow>, StoreError> {
        if keys.is_empty() {
            return Ok(HashMap::new());
        }
        let rows = self.with(|inner| {
            inner.client.query(
                "SELECT key, shop_status, erp_status, shop_written, erp_written FROM orders
                 WHERE link = $1 AND key = ANY($2)",
                &[&link, &keys.to_vec()],
            )
        })?;
        self.count(1);
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

    fn pending_for(
        &self,
        link: &str,
        target: Side,
        keys: &[String],
    ) -> Result<HashMap<String, String>, StoreError> {
        if keys.is_empty() {
            return Ok(HashMap::new());
        }
        let rows = self.with(|inner| {
            inner.client.query(
                "SELECT key, status FROM outbox WHERE link = $1 AND target = $2 AND key = ANY($3)",
                &[&link, &target.as_str(), &keys.to_vec()],
            )
        })?;
        self.count(1);
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    fn commit_page(&self, lease: &Lease, page: &PageCommit<'_>) -> Result<(), StoreError> {
        let link = lease.link.clone();
        let slot = (link.clone(), page.source);
        if page.is_empty() {
            if self.cursor(&link, page.source)?.as_deref() != Some(page.next_cursor) {
                let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
                inner.held_cursors.insert(slot, page.next_cursor.to_owned());
            }
            return Ok(());
        }
        let now = now_text();
        let (status_col, written_col, id_col) = match page.source {
            Side::Shop => ("shop_status", "shop_written", "shop_id"),
            Side::Erp => ("erp_status", "erp_written", "erp_id"),
        };
        self.write_fenced(lease, |tx| {
            if !page.seen.is_empty() {
                let keys: Vec<String> = page.seen.iter().map(|o| o.key.clone()).collect();
                let ids: Vec<Option<String>> = page.seen.iter().map(|o| o.id.clone()).collect();
                let statuses: Vec<String> = page.seen.iter().map(|o| o.status.clone()).collect();
                let created: Vec<Option<String>> =
                    page.seen.iter().map(|o| o.created_at.clone()).collect();
                let fulfilled: Vec<Option<bool>> = page.seen.iter().map(|o| o.fulfilled).collect();
                tx.execute(
                    &format!(
                        "INSERT INTO orders AS o (link, key, {id_col}, {status_col}, created_at, fulfilled, updated_at)
                         SELECT $1, u.key, u.id, u.status, u.created, u.fulfilled, $7
                         FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::bool[])
                           AS u(key, id, status, created, fulfilled)
                         ON CONFLICT (link, key) DO UPDATE SET {id_col} = COALESCE(excluded.{id_col}, o.{id_col}),
                           {status_col} = excluded.{status_col},
                           created_at = COALESCE(excluded.created_at, o.created_at),
                           fulfilled = COALESCE(excluded.fulfilled, o.fulfilled),
                           {written_col} = NULL, updated_at = excluded.updated_at"
                    ),
                    &[&link, &keys, &ids, &statuses, &created, &fulfilled, &now],
                )?;
            }
            if !page.outbox.is_empty() {
                let o = page.outbox;
                let targets: Vec<&str> = o.iter().map(|e| e.target.as_str()).collect();
                let keys: Vec<&str> = o.iter().map(|e| e.key.as_str()).collect();
                let statuses: Vec<&str> = o.iter().map(|e| e.status.as_str()).collect();
                let from: Vec<Option<&str>> = o.iter().map(|e| e.from_status.as_deref()).collect();
                let source: Vec<&str> = o.iter().map(|e| e.source_status.as_str()).collect();
                let version: Vec<Option<&str>> =
                    o.iter().map(|e| e.expected_version.as_deref()).collect();
                let reason: Vec<&str> = o.iter().map(|e| e.reason.as_str()).collect();
                tx.execute(
                    "INSERT INTO outbox (link, target, key, status, from_status, source_status, expected_version, reason, attempts, next_attempt_ms, created_at)
                     SELECT $1, u.target, u.key, u.status, u.from_status, u.source_status, u.version, u.reason, 0, 0, $9
                     FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
                       AS u(target, key, status, from_status, source_status, version, reason)
                     ON CONFLICT (link, target, key) DO UPDATE SET status = excluded.status,
                       from_status = excluded.from_status, source_status = excluded.source_status,
                       expected_version = excluded.expected_version, reason = excluded.reason,
                       attempts = 0, next_attempt_ms = 0, last_error = NULL",
                    &[&link, &targets, &keys, &statuses, &from, &source, &version, &reason, &now],
                )?;
            }
            if !page.drop_pending.is_empty() {
                let targets: Vec<&str> = page.drop_pending.iter().map(|(t, _)| t.as_str()).collect();
                let keys: Vec<&str> = page.drop_pending.iter().map(|(_, k)| k.as_str()).collect();
                tx.execute(
                    "DELETE FROM outbox USING unnest($2::text[], $3::text[]) AS u(target, key)
                     WHERE outbox.link = $1 AND outbox.target = u.target AND outbox.key = u.key",
                    &[&link, &targets, &keys],
                )?;
            }
            insert_audit(tx, page.audit)?;
            tx.execute(
                UPSERT_CURSOR,
                &[&link, &page.source.as_str(), &page.next_cursor, &now],
            )?;
            Ok(())
        })?;
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        inner.held_cursors.remove(&slot);
        Ok(())
    }

    fn due_outbox(
        &self,
        link: &str,
        target: Side,
        limit: u32,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        let rows = self.with(|inner| {
            inner.client.query(
                "SELECT id, target, key, status, from_status, source_status, expected_version, reason, attempts
                 FROM outbox WHERE link = $1 AND target = $2 AND next_attempt_ms <= $3 ORDER BY id LIMIT $4",
                &[&link, &target.as_str(), &now_ms(), &i64::from(limit)],
            )
        })?;
        self.count(1);
        Ok(rows
            .iter()
            .map(|r| OutboxEntry {
                id: r.get(0),
                target: side(r.get::<_, &str>(1)),
                key: r.get(2),
                status: r.get(3),
                from_status: r.get(4),
                source_status: r.get(5),
                expected_version: r.get(6),
                reason: r.get(7),
                attempts: u32::try_from(r.get::<_, i32>(8)).unwrap_or(0),
            })
            .collect())
    }

    fn record_outcomes(&self, lease: &Lease, outcomes: &[WriteOutcome]) -> Result<(), StoreError> {
        if outcomes.is_empty() {
            return Ok(());
        }
        let link = lease.link.clone();
        let now = now_text();
        self.write_fenced(lease, |tx| {
            let mut delete: Vec<i64> = Vec::new();
            let mut audit = Vec::new();
            let mut applied = 0i64;
            for outcome in outcomes {
                match outcome {
                    WriteOutcome::Done { entry: e, changed } => {
                        delete.push(e.id);
                        let (status_col, written_col) = match e.target {
                            Side::Shop => ("shop_status", "shop_written"),
                            Side::Erp => ("erp_status", "erp_written"),
                        };
                        tx.execute(
                            &format!(
                                "INSERT INTO orders (link, key, {status_col}, {written_col}, updated_at)
                                 VALUES ($1, $2, $3, CASE WHEN $5 THEN $3 END, $4)
                                 ON CONFLICT (link, key) DO UPDATE SET {status_col} = excluded.{status_col},
                                   {written_col} = excluded.{written_col}, updated_at = excluded.updated_at"
                            ),
                            &[&link, &e.key, &e.status, &now, changed],
                        )?;
                        let action = if *changed {
                            "applied"
                        } else {
                            "applied (already set)"
                        };
                        audit.push(outcome_audit(&link, e, action, e.reason.clone()));
                        applied += 1;
                    }
                    WriteOutcome::Retry {
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
                    WriteOutcome::Dead {
                        entry: e,
                        code,
                        reason,
                    } => {
                        delete.push(e.id);
                        let attempts = i32::try_from(e.attempts.saturating_add(1)).unwrap_or(i32::MAX);
                        tx.execute(
                            "INSERT INTO dead_letters (link, target, key, status, source_status, code, reason, attempts, at)
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                            &[&link, &e.target.as_str(), &e.key, &e.status, &e.source_status, code, reason, &attempts, &now],
                        )?;
                        audit.push(outcome_audit(&link, e, "dead letter", format!("{code}: {reason}")));
                    }
                    WriteOutcome::Dropped { entry: e, audit: a } => {
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
        })
    }

    fn record_cycle(&self, lease: &Lease, cycle: &CycleRecord) -> Result<(), StoreError> {
        {
            let inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
            if !cycle_worth_recording(inner.last_errors.get(&lease.link), cycle) {
                return Ok(());
            }
        }
        let link = lease.link.clone();
        self.write_fenced(lease, |tx| {
            tx.execute(
                "INSERT INTO link_stats (link, last_cycle_at, last_cycle_ms, last_error) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (link) DO UPDATE SET last_cycle_at = excluded.last_cycle_at,
                   last_cycle_ms = excluded.last_cycle_ms, last_error = excluded.last_error",
                &[&link, &now_text(), &cycle.ms, &cycle.error],
            )?;
            Ok(())
        })?;
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        inner.last_errors.insert(link, cycle.error.clone());
        Ok(())
    }

    fn checkpoint(&self) -> Result<(), StoreError> {
        self.persist_held()
    }

    fn stats(&self, links: &[String]) -> Result<HashMap<String, LinkStats>, StoreError> {
        let mut out: HashMap<String, LinkStats> = links
            .iter()
            .map(|l| (l.clone(), LinkStats::default()))
            .collect();
        if links.is_empty() {
            return Ok(out);
        }
        let list = links.to_vec();
        let (stats, pending, dead) = self.with(|inner| {
            let c = &mut inner.client;
            let stats = c.query(
                "SELECT link, last_cycle_at, last_cycle_ms, applied_total, last_error FROM link_stats
                 WHERE link = ANY($1)",
                &[&list],
            )?;
            let pending = c.query(
                "SELECT link, COUNT(*) FROM outbox WHERE link = ANY($1) GROUP BY link",
                &[&list],
            )?;
            let dead = c.query(
                "SELECT link, COUNT(*) FROM dead_letters WHERE link = ANY($1) GROUP BY link",
                &[&list],
            )?;
            Ok((stats, pending, dead))
        })?;
        self.count(3);
        for r in &stats {
            if let Some(s) = out.get_mut(r.get::<_, &str>(0)) {
                s.last_cycle_at = r.get(1);
                s.last_cycle_ms = r.get(2);
                s.applied_total = r.get(3);
                s.last_error = r.get(4);
            }
        }
        for r in &pending {
            if let Some(s) = out.get_mut(r.get::<_, &str>(0)) {
                s.pending = r.get(1);
            }
        }
        for r in &dead {
            if let Some(s) = out.get_mut(r.get::<_, &str>(0)) {
                s.dead_letters = r.get(1);
            }
        }
        Ok(out)
    }

    fn dead_letters(&self, link: Option<&str>) -> Result<Vec<DeadLetter>, StoreError> {
        let rows = self.with(|inner| {
            inner.client.query(
                "SELECT id, link, target, key, status, source_status, code, reason, attempts, at
                 FROM dead_letters WHERE $1::text IS NULL OR link = $1 ORDER BY id",
                &[&link],
            )
        })?;
        self.count(1);
        Ok(rows.iter().map(dead_letter_row).collect())
    }

    fn retry_dead_letters(&self, ids: &[i64]) -> Result<Vec<i64>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list = ids.to_vec();
        let now = now_text();
        let out = self.with(|inner| {
            let mut tx = inner.client.transaction()?;
            let missing = missing_dead_letters(&mut tx, ids)?;
            if missing.is_empty() {
                tx.execute(
                    "INSERT INTO outbox (link, target, key, status, source_status, reason, attempts, next_attempt_ms, created_at)
                     SELECT link, target, key, status, source_status, 'retried from dead letters: ' || reason, 0, 0, $2
                     FROM dead_letters WHERE id = ANY($1) ORDER BY id
                     ON CONFLICT (link, target, key) DO UPDATE SET status = excluded.status, attempts = 0, next_attempt_ms = 0",
                    &[&list, &now],
                )?;
                tx.execute("DELETE FROM dead_letters WHERE id = ANY($1)", &[&list])?;
            }
            tx.commit()?;
            Ok(missing)
        })?;
        self.count(4);
        Ok(out)
    }

    fn discard_dead_letters(&self, ids: &[i64]) -> Result<Vec<i64>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list = ids.to_vec();
        let out = self.with(|inner| {
            let mut tx = inner.client.transaction()?;
            let missing = missing_dead_letters(&mut tx, ids)?;
            if missing.is_empty() {
                tx.execute("DELETE FROM dead_letters WHERE id = ANY($1)", &[&list])?;
            }
            tx.commit()?;
            Ok(missing)
        })?;
        self.count(3);
        Ok(out)
    }

    fn history(&self, key: &str, link: Option<&str>) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = self.with(|inner| {
            inner.client.query(
                "SELECT at, link, key, target, from_status, to_status, action, why FROM audit
                 WHERE key = $1 AND ($2::text IS NULL OR link = $2) ORDER BY id",
                &[&key, &link],
            )
        })?;
        self.count(1);
        Ok(rows
            .iter()
            .map(|r| AuditEntry {
                at: r.get(0),
                link: r.get(1),
                key: r.get(2),
                target: r.get(3),
                from_status: r.get(4),
                to_status: r.get(5),
                action: r.get(6),
                why: r.get(7),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_show_in_urls_printed() {
        assert_eq!(
            redact_url("postgres://u:secret@db:5432/x"),
            "postgres://u:***@db:5432/x"
        );
        assert_eq!(redact_url("postgres://u@db/x"), "postgres://u@db/x");
        assert_eq!(redact_url("host=/tmp user=u"), "host=/tmp user=u");
        let o = PgOptions {
            url: "postgres://u:secret@db/x".into(),
            password: Some("other-secret".into()),
            lease: Duration::from_secs(30),
            host: "h".into(),
        };
        let shown = format!("{o:?}");
        assert!(!shown.contains("secret"), "{shown}");
    }
}

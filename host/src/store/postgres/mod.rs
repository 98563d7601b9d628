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

mod leases;
mod reads;
pub mod schema;
mod writes;

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use postgres::{Client, NoTls, Transaction};

use self::leases::Held;
use self::schema::Verdict;
use super::{
    cycle_worth_recording, now_text, AuditEntry, Checkpoint, CycleRecord, DeadLetter, KnownOrder,
    Lease, LinkOwner, LinkStats, OrderRow, OutboxEntry, OutboxUpdate, PageCommit, PendingWrite,
    StateStore, StoreError,
};
use crate::domain::Side;
use crate::lease::{holds_with_margin, plan, write_margin, LeaseView};

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
    /// Whether it counts among the hosts sharing the links (`run`), with a heartbeat; a
    /// one-off command only takes links nobody holds, so that the hosts never make room for it.
    pub heartbeat: bool,
}

impl std::fmt::Debug for PgOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgOptions")
            .field("url", &redact_url(&self.url))
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("lease", &self.lease)
            .field("host", &self.host)
            .field("heartbeat", &self.heartbeat)
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

struct Inner {
    client: Client,
    /// Cursors of empty pages, not yet written: (link, side) -> cursor.
    held_cursors: HashMap<(String, Side), String>,
    /// The error of each link's last recorded cycle.
    last_errors: HashMap<String, Option<String>>,
}

/// The PostgreSQL state store.
pub struct PostgresStore {
    /// The connection lease coordination uses (none for read-only commands: they use `inner`).
    leases: Option<Mutex<Client>>,
    inner: Mutex<Inner>,
    held: Mutex<HashMap<String, Held>>,
    /// When the first lease another host holds lapses (seen at the last coordination).
    next_foreign_expiry: Mutex<Option<Instant>>,
    name: String,
    options: PgOptions,
}

fn pg_err(name: &str, e: postgres::Error) -> StoreError {
    StoreError::Postgres {
        url: name.to_owned(),
        detail: e.to_string(),
    }
}

fn i64_epoch(e: u64) -> i64 {
    i64::try_from(e).unwrap_or(i64::MAX)
}

impl PostgresStore {
    /// Connects, judges the database (refusing another program's or a newer one, untouched),
    /// and, with `migrate`, brings its schema up to date (several hosts starting at once take
    /// turns). Without `migrate` (read-only commands) a new or older database is refused
    /// unchanged.
    pub fn connect(options: PgOptions, migrate: bool) -> Result<PostgresStore, StoreError> {
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
        let judged = judge_and_migrate(&mut client, &name, migrate);
        let unlocked = schema::unlock(&mut client).map_err(|e| pg_err(&name, e));
        judged?;
        unlocked?;
        // Leases have a connection of their own: renewals never wait behind the links' state
        // reads and writes (a busy host would otherwise let its leases lapse).
        let leases = if migrate {
            Some(config.connect(NoTls).map_err(|e| pg_err(&name, e))?)
        } else {
            None
        };
        Ok(PostgresStore {
            leases: leases.map(Mutex::new),
            inner: Mutex::new(Inner {
                client,
                held_cursors: HashMap::new(),
                last_errors: HashMap::new(),
            }),
            held: Mutex::new(HashMap::new()),
            next_foreign_expiry: Mutex::new(None),
            name,
            options,
        })
    }

    /// Copies a single host's SQLite state into this store, which must hold none yet (see
    /// [`super::transfer`]).
    pub fn import(&self, from: &super::SqliteStore) -> Result<super::transfer::Copied, StoreError> {
        from.read_tables(|conn, from_name| {
            let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
            super::transfer::copy(conn, from_name, &mut inner.client, &self.name)
        })
    }

    /// Runs `f` on the connection; errors name the database.
    fn with<T>(
        &self,
        f: impl FnOnce(&mut Inner) -> Result<T, postgres::Error>,
    ) -> Result<T, StoreError> {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut inner).map_err(|e| pg_err(&self.name, e))
    }

    /// Runs lease coordination on the leases' own connection.
    fn on_leases<T>(
        &self,
        f: impl FnOnce(&mut Client) -> Result<T, postgres::Error>,
    ) -> Result<T, StoreError> {
        match &self.leases {
            Some(c) => {
                let mut client = c.lock().unwrap_or_else(PoisonError::into_inner);
                f(&mut client).map_err(|e| pg_err(&self.name, e))
            }
            None => self.read(f),
        }
    }

    /// Runs a read on the connection.
    fn read<T>(
        &self,
        f: impl FnOnce(&mut Client) -> Result<T, postgres::Error>,
    ) -> Result<T, StoreError> {
        self.with(|inner| f(&mut inner.client))
    }

    /// Runs `f` in one transaction that first checks, and holds against change (`FOR SHARE`),
    /// that this host still holds the link's lease at the lease's epoch; otherwise nothing is
    /// written, the link is forgotten here and the answer is [`StoreError::Fenced`].
    fn write_fenced<T>(
        &self,
        lease: &Lease,
        f: impl FnOnce(&mut Transaction<'_>) -> Result<T, postgres::Error>,
    ) -> Result<T, StoreError> {
        let host = self.options.host.as_str();
        let epoch = i64_epoch(lease.epoch);
        let out = self.with(|inner| {
            let mut tx = inner.client.transaction()?;
            let held = tx.query_opt(
                "SELECT 1 FROM leases WHERE link = $1 AND holder = $2 AND epoch = $3
                   AND expires_at > now() FOR SHARE",
                &[&lease.link, &host, &epoch],
            )?;
            if held.is_none() {
                tx.rollback()?;
                return Ok(None);
            }
            let out = f(&mut tx)?;
            tx.commit()?;
            Ok(Some(out))
        })?;
        match out {
            Some(v) => Ok(v),
            None => {
                self.forget(&lease.link);
                Err(StoreError::Fenced {
                    link: lease.link.clone(),
                    epoch: lease.epoch,
                })
            }
        }
    }

    /// Runs `f` in one transaction (operator edits that need no lease).
    fn write<T>(
        &self,
        f: impl FnOnce(&mut Transaction<'_>) -> Result<T, postgres::Error>,
    ) -> Result<T, StoreError> {
        self.with(|inner| {
            let mut tx = inner.client.transaction()?;
            let out = f(&mut tx)?;
            tx.commit()?;
            Ok(out)
        })
    }

    /// Drops what this host kept of a link it no longer holds.
    fn forget(&self, link: &str) {
        self.held
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(link);
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        inner.held_cursors.retain(|(l, _), _| l != link);
    }

    /// Writes the cursors of empty pages held in memory, for the links still held.
    fn persist_held(&self) -> Result<(), StoreError> {
        let held: Vec<((String, Side), String)> = {
            let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
            inner.held_cursors.drain().collect()
        };
        for ((link, side), cursor) in held {
            let Ok(lease) = self.lease(&link) else {
                continue;
            };
            match self.write_fenced(&lease, |tx| {
                writes::set_cursor(tx, &link, side, Some(&cursor))
            }) {
                Ok(()) | Err(StoreError::Fenced { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

fn judge_and_migrate(client: &mut Client, name: &str, migrate: bool) -> Result<(), StoreError> {
    let (tables, version) = schema::identity(client).map_err(|e| pg_err(name, e))?;
    match schema::judge(&tables, version, schema::latest_version()) {
        Verdict::Foreign(detail) => Err(StoreError::Foreign {
            path: name.to_owned(),
            detail,
        }),
        Verdict::Newer(found) => Err(StoreError::Newer {
            path: name.to_owned(),
            found,
            supported: schema::latest_version(),
        }),
        Verdict::Fresh if !migrate => Err(StoreError::Missing(name.to_owned())),
        Verdict::Ours(v) if !migrate && v < schema::latest_version() => Err(StoreError::Migration {
            path: name.to_owned(),
            detail: format!("schema version {v} is older than this build's; `orderlink run` or `orderlink sync --once` upgrades it"),
        }),
        Verdict::Fresh | Verdict::Ours(_) if !migrate => Ok(()),
        Verdict::Fresh | Verdict::Ours(_) => {
            schema::migrate(client).map_err(|e| StoreError::Migration {
                path: name.to_owned(),
                detail: e.to_string(),
            })
        }
    }
}

impl Drop for PostgresStore {
    fn drop(&mut self) {
        if let Err(e) = self.persist_held() {
            tracing::warn!("cannot save the last cursors: {e}");
        }
    }
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
        let host = self.options.host.as_str();
        let sent = Instant::now();
        let seen = self.on_leases(|c| {
            leases::observe(
                c,
                host,
                self.options.lease,
                stopping,
                self.options.heartbeat,
            )
        })?;
        let foreign = seen
            .leases
            .iter()
            .filter(|r| r.is_held(seen.now) && r.holder.as_deref() != Some(host))
            .filter_map(|r| (r.expires_at - seen.now).to_std().ok())
            .min();
        *self
            .next_foreign_expiry
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = foreign.map(|d| sent + d);
        let actions = plan(&LeaseView {
            now: seen.now,
            me: host,
            live_hosts: &seen.live_hosts,
            links,
            leases: &seen.leases,
            stopping,
        });
        if stopping {
            // Cursors held in memory go out before the leases do.
            self.persist_held()?;
        }
        let held =
            self.on_leases(|c| leases::apply(c, host, self.options.lease, &actions, sent))?;
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
            i64_epoch(lease.epoch) == h.epoch
                && holds_with_margin(h.deadline, Instant::now(), margin)
        })
    }

    fn next_lease_change_in(&self) -> Option<Duration> {
        let at = (*self
            .next_foreign_expiry
            .lock()
            .unwrap_or_else(PoisonError::into_inner))?;
        // Just past the lapse, so the database sees it expired.
        Some(at.saturating_duration_since(Instant::now()) + Duration::from_millis(100))
    }

    fn remote_write_margin(&self) -> Duration {
        write_margin(self.options.lease)
    }

    fn owners(&self) -> Result<HashMap<String, LinkOwner>, StoreError> {
        self.on_leases(leases::owners)
    }

    fn cursor(&self, link: &str, side: Side) -> Result<Option<String>, StoreError> {
        self.with(|inner| {
            if let Some(c) = inner.held_cursors.get(&(link.to_owned(), side)) {
                return Ok(Some(c.clone()));
            }
            reads::cursor(&mut inner.client, link, side)
        })
    }

    fn orders(&self, link: &str, keys: &[String]) -> Result<HashMap<String, OrderRow>, StoreError> {
        if keys.is_empty() {
            return Ok(HashMap::new());
        }
        self.read(|c| reads::orders(c, link, keys))
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
        self.read(|c| reads::pending_into(c, link, target, keys))
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
        self.read(|c| reads::last_decisions(c, link, target, keys))
    }

    fn commit_page(&self, lease: &Lease, page: &PageCommit<'_>) -> Result<(), StoreError> {
        let link = lease.link.as_str();
        let slot = (link.to_owned(), page.source);
        if page.is_empty() {
            // Nothing to record but the cursor: hold it in memory (an idle cycle writes
            // nothing), but only for a link still held.
            if self.lease_valid_for(lease, Duration::ZERO)
                && self.cursor(link, page.source)?.as_deref() != Some(page.next_cursor)
            {
                let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
                inner.held_cursors.insert(slot, page.next_cursor.to_owned());
            }
            return Ok(());
        }
        self.write_fenced(lease, |tx| {
            writes::record_page(tx, link, page, Some(page.next_cursor))
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
        self.read(|c| reads::due_outbox(c, link, target, limit))
    }

    fn record_outcomes(&self, lease: &Lease, outcomes: &[OutboxUpdate]) -> Result<(), StoreError> {
        if outcomes.is_empty() {
            return Ok(());
        }
        self.write_fenced(lease, |tx| {
            writes::record_outcomes(tx, &lease.link, outcomes)
        })
    }

    fn record_cycle(&self, lease: &Lease, cycle: &CycleRecord) -> Result<(), StoreError> {
        let link = lease.link.as_str();
        {
            let inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
            if !cycle_worth_recording(inner.last_errors.get(link), cycle) {
                return Ok(());
            }
        }
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
        inner
            .last_errors
            .insert(link.to_owned(), cycle.error.clone());
        Ok(())
    }

    fn checkpoint(&self) -> Result<(), StoreError> {
        self.persist_held()
    }

    fn pending_summary(&self, link: &str) -> Result<(u64, Option<String>), StoreError> {
        self.read(|c| reads::pending_summary(c, link))
    }

    fn stats(&self, links: &[String]) -> Result<HashMap<String, LinkStats>, StoreError> {
        self.read(|c| reads::stats(c, links))
    }

    fn dead_letters(&self, link: Option<&str>) -> Result<Vec<DeadLetter>, StoreError> {
        self.read(|c| reads::dead_letters(c, link))
    }

    fn retry_dead_letters(&self, ids: &[i64]) -> Result<Vec<i64>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let now = now_text();
        self.write(|tx| {
            let missing = writes::missing_dead_letters(tx, ids)?;
            if missing.is_empty() {
                tx.execute(
                    "INSERT INTO outbox (link, target, key, status, source_status, reason, attempts, next_attempt_ms, created_at)
                     SELECT DISTINCT ON (link, target, key) link, target, key, status, source_status,
                       'retried from dead letters: ' || reason, 0, 0, $2
                     FROM dead_letters WHERE id = ANY($1) ORDER BY link, target, key, id DESC
                     ON CONFLICT (link, target, key) DO UPDATE SET status = excluded.status, attempts = 0, next_attempt_ms = 0",
                    &[&ids, &now],
                )?;
                tx.execute("DELETE FROM dead_letters WHERE id = ANY($1)", &[&ids])?;
            }
            Ok(missing)
        })
    }

    fn discard_dead_letters(&self, ids: &[i64]) -> Result<Vec<i64>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        self.write(|tx| {
            let missing = writes::missing_dead_letters(tx, ids)?;
            if missing.is_empty() {
                tx.execute("DELETE FROM dead_letters WHERE id = ANY($1)", &[&ids])?;
            }
            Ok(missing)
        })
    }

    fn history(&self, key: &str, link: Option<&str>) -> Result<Vec<AuditEntry>, StoreError> {
        self.read(|c| reads::history(c, key, link))
    }

    fn known_order(&self, key: &str, link: Option<&str>) -> Result<Vec<KnownOrder>, StoreError> {
        self.read(|c| reads::known_order(c, key, link))
    }

    fn known_keys(&self, link: &str) -> Result<Vec<String>, StoreError> {
        self.read(|c| reads::known_keys(c, link))
    }

    fn outbox_list(
        &self,
        link: Option<&str>,
        key: Option<&str>,
    ) -> Result<Vec<PendingWrite>, StoreError> {
        self.read(|c| reads::pending_writes(c, link, key))
    }

    fn queue_writes(
        &self,
        lease: &Lease,
        outbox: &[OutboxEntry],
        drop_pending: &[(Side, String)],
        audit: &[AuditEntry],
    ) -> Result<(), StoreError> {
        if outbox.is_empty() && drop_pending.is_empty() && audit.is_empty() {
            return Ok(());
        }
        let now = now_text();
        self.write_fenced(lease, |tx| {
            writes::upsert_outbox(tx, &lease.link, outbox, &now)?;
            writes::drop_outbox(tx, &lease.link, drop_pending)?;
            writes::insert_audit(tx, audit)
        })
    }

    fn commit_orders(&self, lease: &Lease, page: &PageCommit<'_>) -> Result<(), StoreError> {
        if page.is_empty() {
            return Ok(());
        }
        self.write_fenced(lease, |tx| writes::record_page(tx, &lease.link, page, None))
    }

    fn record_audit(&self, lease: &Lease, audit: &[AuditEntry]) -> Result<(), StoreError> {
        if audit.is_empty() {
            return Ok(());
        }
        self.write_fenced(lease, |tx| writes::insert_audit(tx, audit))
    }

    fn prune_audit(&self, before: &str) -> Result<usize, StoreError> {
        self.write(|tx| writes::prune_audit(tx, before))
    }

    fn oldest_audit(&self) -> Result<Option<String>, StoreError> {
        self.read(reads::oldest_audit)
    }

    fn checkpoint_at_or_before(
        &self,
        link: &str,
        side: Side,
        at_ms: i64,
    ) -> Result<Option<Checkpoint>, StoreError> {
        self.read(|c| reads::checkpoint_at_or_before(c, link, side, at_ms))
    }

    fn first_checkpoint(&self, link: &str, side: Side) -> Result<Option<Checkpoint>, StoreError> {
        self.read(|c| reads::first_checkpoint(c, link, side))
    }

    fn cursor_saved_at(&self, link: &str, side: Side) -> Result<Option<String>, StoreError> {
        self.read(|c| reads::cursor_saved_at(c, link, side))
    }

    fn set_cursor(
        &self,
        lease: &Lease,
        side: Side,
        cursor: Option<&str>,
    ) -> Result<(), StoreError> {
        {
            let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
            inner.held_cursors.remove(&(lease.link.clone(), side));
        }
        self.write_fenced(lease, |tx| {
            writes::set_cursor(tx, &lease.link, side, cursor)
        })
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
            heartbeat: true,
        };
        let shown = format!("{o:?}");
        assert!(!shown.contains("secret"), "{shown}");
    }
}

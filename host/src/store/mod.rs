//! The durable state of the host behind one trait, [`StateStore`]: cursors, the order table,
//! the outbox, dead letters, the audit trail and per-link statistics. The engine, the CLI and
//! the admin API speak only to the trait; [`sqlite::SqliteStore`] is the single-host store.
//!
//! Invariants every implementation keeps (ARCHITECTURE.md lists them too):
//! - A page is committed in one transaction that records its outbox entries, its order
//!   snapshots and the advanced cursor together, so the cursor never passes a change that is
//!   neither applied, pending, nor dead-lettered ([`StateStore::commit_page`]).
//! - A batch of write outcomes is recorded in one transaction ([`StateStore::record_outcomes`]).
//! - Reads are batched: one query per page of keys, never one per order.
//! - An idle cycle writes nothing: an empty page's cursor may be held in memory (losing it only
//!   re-reads an empty window) and a cycle record is written only when it says something new.
//! - Every write that changes what a link owns carries the link's [`Lease`]; a store shared by
//!   several hosts refuses a stale epoch with [`StoreError::Fenced`].
//! - A store file that is another program's, newer than this build, or damaged is refused before
//!   anything else happens, and left untouched.

pub mod checkpoints;
mod error;
pub mod open;
pub mod order_trail;
pub mod postgres;
mod records;
pub mod sqlite;
pub mod transfer;
pub mod verdict;

use std::collections::HashMap;

pub use checkpoints::Checkpoint;
pub use error::StoreError;
pub use order_trail::{KnownOrder, PendingWrite};
pub use postgres::PostgresStore;
pub use records::{
    applied_audit, cycle_worth_recording, dead_letter_audit, now_ms, now_text, outcome_audit,
    AuditEntry, CycleRecord, DeadLetter, Lease, LinkOwner, LinkStats, OrderRow, OutboxEntry,
    OutboxUpdate, PageCommit, SeenOrder,
};
pub use sqlite::{OpenMode, SqliteStore};

use crate::domain::Side;

/// The state store, shared by every link of a host (`Arc<dyn StateStore>`): methods take
/// `&self` and the implementation serialises its writes (one writer per host).
pub trait StateStore: Send + Sync {
    /// The lease this process holds on a link's state, taken if free (idempotent while held);
    /// writes then carry it.
    fn lease(&self, link: &str) -> Result<Lease, StoreError>;

    /// Which of `links` (name, weight) this process may run now. A store shared by several
    /// hosts takes, renews and gives up leases so that live hosts share the links evenly, and
    /// with `stopping` gives every lease back at once; called at start and then every third of
    /// the lease period. A single-host store holds every link, at epoch 0.
    fn coordinate(
        &self,
        links: &[(String, u32)],
        stopping: bool,
    ) -> Result<Vec<Lease>, StoreError> {
        if stopping {
            return Ok(Vec::new());
        }
        links.iter().map(|(l, _)| self.lease(l)).collect()
    }

    /// Whether `lease` is still held with at least `margin` to spare: checked before each batch
    /// of writes to a shop or ERP. Always true on a single-host store.
    fn lease_valid_for(&self, lease: &Lease, margin: std::time::Duration) -> bool {
        let _ = (lease, margin);
        true
    }

    /// When, at the latest, to coordinate again so as to pick up a lease of another host the
    /// moment it lapses (a host that died); `None`: no sooner than usual.
    fn next_lease_change_in(&self) -> Option<std::time::Duration> {
        None
    }

    /// How much of a lease must be left to start a batch of writes to a shop or ERP (see
    /// [`StateStore::lease_valid_for`]); none on a single-host store.
    fn remote_write_margin(&self) -> std::time::Duration {
        std::time::Duration::ZERO
    }

    /// Who owns each leased link (several hosts sharing a store); empty on a single-host store.
    fn owners(&self) -> Result<HashMap<String, LinkOwner>, StoreError> {
        Ok(HashMap::new())
    }

    /// The saved cursor of a link's feed from one side.
    fn cursor(&self, link: &str, side: Side) -> Result<Option<String>, StoreError>;

    /// What the store knows of some orders of a link (one query for all the keys).
    fn orders(&self, link: &str, keys: &[String]) -> Result<HashMap<String, OrderRow>, StoreError>;

    /// Pending outbox entries of a link aimed at one side, by key (one query for all the keys).
    fn pending_into(
        &self,
        link: &str,
        target: Side,
        keys: &[String],
    ) -> Result<HashMap<String, OutboxEntry>, StoreError>;

    /// The latest audit record of each of some orders on one side of a link: the decision a new
    /// one is compared with (a decision is recorded only when it differs). One query.
    fn last_decisions(
        &self,
        link: &str,
        target: Side,
        keys: &[String],
    ) -> Result<HashMap<String, AuditEntry>, StoreError>;

    /// Commits one page of a feed in one transaction (see [`PageCommit`]). A page with no
    /// order, write or audit record need not be written at all: its cursor may be held in
    /// memory and returned by [`StateStore::cursor`].
    fn commit_page(&self, lease: &Lease, page: &PageCommit<'_>) -> Result<(), StoreError>;

    /// Outbox entries due now for a link's target side, oldest first.
    fn due_outbox(
        &self,
        link: &str,
        target: Side,
        limit: u32,
    ) -> Result<Vec<OutboxEntry>, StoreError>;

    /// Records what became of a batch of outbox entries, in one transaction.
    fn record_outcomes(&self, lease: &Lease, outcomes: &[OutboxUpdate]) -> Result<(), StoreError>;

    /// Records the end of a cycle, unless it is idle and ends as the last recorded one did
    /// ([`cycle_worth_recording`]).
    fn record_cycle(&self, lease: &Lease, cycle: &CycleRecord) -> Result<(), StoreError>;

    /// Makes whatever is held in memory (cursors of empty pages) durable; called when a host
    /// stops.
    fn checkpoint(&self) -> Result<(), StoreError>;

    /// A link's pending writes: how many, and when the oldest was queued (RFC 3339).
    fn pending_summary(&self, link: &str) -> Result<(u64, Option<String>), StoreError>;

    /// Statistics of some links (a link never seen gets defaults), in a fixed number of queries.
    fn stats(&self, links: &[String]) -> Result<HashMap<String, LinkStats>, StoreError>;

    /// Dead letters, optionally of one link, oldest first.
    fn dead_letters(&self, link: Option<&str>) -> Result<Vec<DeadLetter>, StoreError>;

    /// Puts dead letters back into the outbox (due now), in one transaction. Returns the ids it
    /// did not find; then nothing is changed.
    fn retry_dead_letters(&self, ids: &[i64]) -> Result<Vec<i64>, StoreError>;

    /// Deletes dead letters, in one transaction. Returns the ids it did not find; then nothing
    /// is changed.
    fn discard_dead_letters(&self, ids: &[i64]) -> Result<Vec<i64>, StoreError>;

    /// The audit trail of one order, oldest first.
    fn history(&self, key: &str, link: Option<&str>) -> Result<Vec<AuditEntry>, StoreError>;

    /// What each link (or one) last saw of an order.
    fn known_order(&self, key: &str, link: Option<&str>) -> Result<Vec<KnownOrder>, StoreError>;

    /// Every order key a link has seen.
    fn known_keys(&self, link: &str) -> Result<Vec<String>, StoreError>;

    /// Pending writes of one link (every order, `key` None) or of one order (every link, `link`
    /// None), oldest first.
    fn outbox_list(
        &self,
        link: Option<&str>,
        key: Option<&str>,
    ) -> Result<Vec<PendingWrite>, StoreError>;

    /// Queues writes through the outbox outside a feed page (reconcile), replacing older pending
    /// ones, drops pending writes `(target, key)`, with their audit records, in one transaction.
    /// The cursor does not move.
    fn queue_writes(
        &self,
        lease: &Lease,
        outbox: &[OutboxEntry],
        drop_pending: &[(Side, String)],
        audit: &[AuditEntry],
    ) -> Result<(), StoreError>;

    /// Commits decisions about orders read outside the feed (resync of given orders) like a
    /// page, in one transaction, without moving the cursor (`page.next_cursor` is ignored).
    fn commit_orders(&self, lease: &Lease, page: &PageCommit<'_>) -> Result<(), StoreError>;

    /// Records decisions of a link that wrote nothing (audit only), in one transaction.
    fn record_audit(&self, lease: &Lease, audit: &[AuditEntry]) -> Result<(), StoreError>;

    /// Deletes audit records and cursor checkpoints older than `before` (RFC 3339), keeping the
    /// newest checkpoint of each link and side. Returns the audit records deleted.
    fn prune_audit(&self, before: &str) -> Result<usize, StoreError>;

    /// The oldest audit record kept (RFC 3339), if any.
    fn oldest_audit(&self) -> Result<Option<String>, StoreError>;

    /// The newest checkpoint of a link's feed from one side saved at or before `at_ms`.
    fn checkpoint_at_or_before(
        &self,
        link: &str,
        side: Side,
        at_ms: i64,
    ) -> Result<Option<Checkpoint>, StoreError>;

    /// The oldest checkpoint kept of a link's feed from one side: since when the feed is known
    /// to have been followed.
    fn first_checkpoint(&self, link: &str, side: Side) -> Result<Option<Checkpoint>, StoreError>;

    /// When a link's cursor from one side was last saved (the feed last read), if ever.
    fn cursor_saved_at(&self, link: &str, side: Side) -> Result<Option<String>, StoreError>;

    /// Sets a link's cursor from one side (`None`: the connector's start point), to move it
    /// back for a resync.
    fn set_cursor(&self, lease: &Lease, side: Side, cursor: Option<&str>)
        -> Result<(), StoreError>;
}

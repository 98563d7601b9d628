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

mod error;
pub mod postgres;
mod records;
pub mod sqlite;

use std::collections::HashMap;

pub use error::StoreError;
pub use postgres::PostgresStore;
pub use records::{
    cycle_worth_recording, now_ms, now_text, AuditEntry, CycleRecord, DeadLetter, Lease, LinkOwner,
    LinkStats, OrderRow, OutboxEntry, PageCommit, SeenOrder, WriteOutcome,
};
pub use sqlite::SqliteStore;

use crate::config::Side;

/// The state store, shared by every link of a host (`Arc<dyn StateStore>`): methods take
/// `&self` and the implementation serialises its writes (one writer per host).
pub trait StateStore: Send + Sync {
    /// Takes ownership of a link's state for this process; writes then carry the lease.
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

    /// Who owns each leased link (several hosts sharing a store); empty on a single-host store.
    fn owners(&self) -> Result<HashMap<String, LinkOwner>, StoreError> {
        Ok(HashMap::new())
    }

    /// The saved cursor of a link's feed from one side.
    fn cursor(&self, link: &str, side: Side) -> Result<Option<String>, StoreError>;

    /// What the store knows of some orders of a link (one query for all the keys).
    fn orders(&self, link: &str, keys: &[String]) -> Result<HashMap<String, OrderRow>, StoreError>;

    /// Pending outbox entries of a link aimed at one side, by key: the status each would set.
    fn pending_for(
        &self,
        link: &str,
        target: Side,
        keys: &[String],
    ) -> Result<HashMap<String, String>, StoreError>;

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
    fn record_outcomes(&self, lease: &Lease, outcomes: &[WriteOutcome]) -> Result<(), StoreError>;

    /// Records the end of a cycle, unless it is idle and ends as the last recorded one did
    /// ([`cycle_worth_recording`]).
    fn record_cycle(&self, lease: &Lease, cycle: &CycleRecord) -> Result<(), StoreError>;

    /// Makes whatever is held in memory (cursors of empty pages) durable; called when a host
    /// stops.
    fn checkpoint(&self) -> Result<(), StoreError>;

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
}

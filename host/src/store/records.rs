//! What the state store holds and what the engine hands it: orders, outbox entries, audit
//! records, dead letters, per-link statistics, and the batches written in one transaction.

use crate::domain::Side;

/// Now, as RFC 3339 (UTC).
pub fn now_text() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Now, in ms since the epoch.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// The right to write what one link owns (its cursors, orders, outbox and statistics), with the
/// epoch that fences a stale owner: a store that shares links between hosts refuses a write
/// whose epoch is no longer the link's current one. A single-host store (SQLite, guarded by its
/// file lock) always hands out epoch 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The link.
    pub link: String,
    /// The owner's epoch (0 on a single-host store).
    pub epoch: u64,
}

/// The owner of a link in a store shared by several hosts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkOwner {
    /// The host holding the lease now (`None`: nobody, the lease lapsed or was given back).
    pub host: Option<String>,
    /// The lease's epoch.
    pub epoch: u64,
    /// When it lapses unless renewed (RFC 3339).
    pub expires_at: String,
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
    /// Last recorded cycle (RFC 3339): the last one that did something or changed the error.
    pub last_cycle_at: Option<String>,
    /// Its duration in ms.
    pub last_cycle_ms: Option<i64>,
    /// Status writes applied so far.
    pub applied_total: i64,
    /// The last error, if the last recorded cycle had one.
    pub last_error: Option<String>,
    /// Pending outbox entries.
    pub pending: i64,
    /// Dead letters.
    pub dead_letters: i64,
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

/// One page of a feed, committed in one transaction: order snapshots (echo markers of the
/// source side consumed), outbox entries (replacing older pending ones for the same order and
/// target), pending entries dropped by the conflict rule, audit records, and the advanced cursor.
#[derive(Debug, Clone, Copy)]
pub struct PageCommit<'a> {
    /// The side whose feed this page came from.
    pub source: Side,
    /// The cursor after this page.
    pub next_cursor: &'a str,
    /// Every order of the page.
    pub seen: &'a [SeenOrder],
    /// Writes to queue.
    pub outbox: &'a [OutboxEntry],
    /// Pending writes to drop: (target, key).
    pub drop_pending: &'a [(Side, String)],
    /// Audit records.
    pub audit: &'a [AuditEntry],
}

impl PageCommit<'_> {
    /// True when the page holds nothing but (perhaps) a new cursor: no order, write or audit.
    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
            && self.outbox.is_empty()
            && self.drop_pending.is_empty()
            && self.audit.is_empty()
    }
}

/// What to do with one outbox entry after a write attempt (or a check before it); a batch of
/// these is recorded in one transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutboxUpdate {
    /// The write landed: the entry goes, the echo to expect is remembered (only if the status
    /// really changed: an unchanged order reports no change), it is audited and counted.
    Done {
        /// The entry.
        entry: OutboxEntry,
        /// Whether the target's status changed.
        changed: bool,
    },
    /// Try again after `delay_ms`.
    Retry {
        /// The entry.
        entry: OutboxEntry,
        /// Wait before the next attempt.
        delay_ms: i64,
        /// What failed (`code: message`).
        error: String,
        /// Forget the precondition version (the target was re-read).
        clear_version: bool,
    },
    /// Give up: the entry becomes a dead letter, with the reason.
    Dead {
        /// The entry.
        entry: OutboxEntry,
        /// The failure code.
        code: String,
        /// The failure message.
        reason: String,
    },
    /// Refused as stale and decided again after a re-read: due now, with the target status (and
    /// version) just read as its precondition; the refusal counts as an attempt.
    Reread {
        /// The entry.
        entry: OutboxEntry,
        /// The target's status just read.
        from_status: String,
        /// Its version just read.
        expected_version: Option<String>,
    },
    /// No longer needed: the entry goes, with an audit record.
    Dropped {
        /// The entry.
        entry: OutboxEntry,
        /// Why.
        audit: AuditEntry,
    },
}

/// The end of a cycle, as the store records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CycleRecord {
    /// Its duration in ms.
    pub ms: i64,
    /// The error that cut it short, if any.
    pub error: Option<String>,
    /// Whether it read, wrote, retried or dead-lettered anything.
    pub did_work: bool,
}

/// Whether a cycle's record must be written: a cycle that did nothing and ended as the last
/// recorded one did (same error or none) writes nothing. `last_error` is `None` when nothing is
/// known of the link's last recorded cycle (then it is written).
pub fn cycle_worth_recording(last_error: Option<&Option<String>>, cycle: &CycleRecord) -> bool {
    cycle.did_work || last_error != Some(&cycle.error)
}

/// The audit record of what became of an outbox entry (`action`, `why`).
pub fn outcome_audit(link: &str, e: &OutboxEntry, action: &str, why: String) -> AuditEntry {
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

/// The audit record of a write that landed: `applied`, or `applied (already set)` when the
/// target reported no change.
pub fn applied_audit(link: &str, e: &OutboxEntry, changed: bool) -> AuditEntry {
    let action = if changed {
        "applied"
    } else {
        "applied (already set)"
    };
    outcome_audit(link, e, action, e.reason.clone())
}

/// The audit record of a write that became a dead letter.
pub fn dead_letter_audit(link: &str, e: &OutboxEntry, code: &str, reason: &str) -> AuditEntry {
    outcome_audit(link, e, "dead letter", format!("{code}: {reason}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cycle(error: Option<&str>, did_work: bool) -> CycleRecord {
        CycleRecord {
            ms: 3,
            error: error.map(str::to_owned),
            did_work,
        }
    }

    #[test]
    fn an_idle_cycle_like_the_last_one_is_not_recorded() {
        assert!(!cycle_worth_recording(Some(&None), &cycle(None, false)));
        let e = Some("shop down".to_owned());
        assert!(!cycle_worth_recording(
            Some(&e),
            &cycle(Some("shop down"), false)
        ));
    }

    #[test]
    fn work_a_new_error_a_recovery_or_an_unknown_past_is_recorded() {
        assert!(cycle_worth_recording(Some(&None), &cycle(None, true)));
        assert!(cycle_worth_recording(Some(&None), &cycle(Some("x"), false)));
        assert!(cycle_worth_recording(
            Some(&Some("x".into())),
            &cycle(None, false)
        ));
        assert!(cycle_worth_recording(None, &cycle(None, false)));
    }
}

//! Why an order was left alone, what the audit trail records, and what happened to a write.

use std::time::Duration;

use super::Side;

/// Why the engine left an order's target alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SkipReason {
    /// The source status is the one the host itself last wrote there (its echo).
    OwnEcho,
    /// The mapping has no line for the source status.
    NotMapped,
    /// Into the shop with scope `unfulfilled`: the ERP issued a sales document.
    OutOfScopeFulfilled,
    /// Into the shop with scope `recent`: created before the window.
    OutOfScopeOld,
    /// The target system does not know the order.
    TargetMissing {
        /// The side that lacks it.
        target: Side,
    },
    /// The two statuses already correspond under the mapping.
    InSync,
    /// The target's status is protected: never overwritten.
    Protected,
    /// With `both`: both sides changed and the other side's change wins.
    ConflictLost {
        /// The side whose change wins.
        winner: Side,
    },
}

impl SkipReason {
    /// Every reason, for parsing and documentation.
    pub const ALL: [SkipReason; 10] = [
        SkipReason::OwnEcho,
        SkipReason::NotMapped,
        SkipReason::OutOfScopeFulfilled,
        SkipReason::OutOfScopeOld,
        SkipReason::TargetMissing { target: Side::Shop },
        SkipReason::TargetMissing { target: Side::Erp },
        SkipReason::InSync,
        SkipReason::Protected,
        SkipReason::ConflictLost { winner: Side::Shop },
        SkipReason::ConflictLost { winner: Side::Erp },
    ];

    /// Parses the text [`Display`](std::fmt::Display) writes.
    pub fn parse(text: &str) -> Option<SkipReason> {
        SkipReason::ALL.into_iter().find(|r| r.to_string() == text)
    }
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SkipReason::OwnEcho => f.write_str("own echo"),
            SkipReason::NotMapped => f.write_str("not mapped"),
            SkipReason::OutOfScopeFulfilled => f.write_str("out of scope: fulfilled"),
            SkipReason::OutOfScopeOld => f.write_str("out of scope: older than the window"),
            SkipReason::TargetMissing { target } => write!(f, "not in {}", target.the()),
            SkipReason::InSync => f.write_str("in sync"),
            SkipReason::Protected => f.write_str("protected"),
            SkipReason::ConflictLost { winner } => {
                write!(f, "conflict: both sides changed, {} wins", winner.the())
            }
        }
    }
}

/// What an audit record says happened to an order on one side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditAction {
    /// A write was queued (or a pending one replaced).
    Queued,
    /// With `both`: both sides changed, this side's change wins and is queued.
    ConflictWon {
        /// The winner.
        winner: Side,
    },
    /// A write landed; `changed` is false when the target already had the status.
    Applied {
        /// Whether the status really changed.
        changed: bool,
    },
    /// The order was left alone.
    Skipped(SkipReason),
    /// A pending write was dropped: a newer source state asks for something else (or nothing).
    Superseded,
    /// A write refused as stale was dropped after reading the target again.
    DroppedAfterReread(SkipReason),
    /// A write that will not succeed as asked, moved to the dead letters.
    DeadLetter,
}

impl AuditAction {
    /// Parses the text [`Display`](std::fmt::Display) writes (what the store holds).
    pub fn parse(text: &str) -> Option<AuditAction> {
        let simple = [
            AuditAction::Queued,
            AuditAction::Applied { changed: true },
            AuditAction::Applied { changed: false },
            AuditAction::Superseded,
            AuditAction::DeadLetter,
            AuditAction::ConflictWon { winner: Side::Shop },
            AuditAction::ConflictWon { winner: Side::Erp },
        ];
        if let Some(a) = simple.into_iter().find(|a| a.to_string() == text) {
            return Some(a);
        }
        if let Some(r) = text.strip_prefix("skipped: ") {
            return SkipReason::parse(r).map(AuditAction::Skipped);
        }
        if let Some(r) = text.strip_prefix("dropped after re-read: ") {
            return SkipReason::parse(r).map(AuditAction::DroppedAfterReread);
        }
        None
    }

    /// Whether this records a status written to a system.
    pub fn is_write(self) -> bool {
        matches!(self, AuditAction::Applied { .. })
    }
}

impl std::fmt::Display for AuditAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AuditAction::Queued => f.write_str("queued"),
            AuditAction::ConflictWon { winner } => {
                write!(
                    f,
                    "queued: conflict, both sides changed, {} wins",
                    winner.the()
                )
            }
            AuditAction::Applied { changed: true } => f.write_str("applied"),
            AuditAction::Applied { changed: false } => f.write_str("applied (already set)"),
            AuditAction::Skipped(r) => write!(f, "skipped: {r}"),
            AuditAction::Superseded => f.write_str("superseded"),
            AuditAction::DroppedAfterReread(r) => write!(f, "dropped after re-read: {r}"),
            AuditAction::DeadLetter => f.write_str("dead letter"),
        }
    }
}

/// What happened to one status write, as the engine acts on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteOutcome {
    /// Applied; `changed` is false when the target already had the status.
    Done {
        /// Whether the status really changed.
        changed: bool,
    },
    /// Not applied now; try again later (no sooner than `after`, when the system said).
    Retry {
        /// The system's wait, if it said.
        after: Option<Duration>,
    },
    /// Refused because the order changed since it was read (compare-and-set or version): read
    /// it again and decide again.
    Conflict,
    /// Will never succeed as asked.
    Failed,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_skip_reason_and_action_round_trips_through_its_text() {
        for r in SkipReason::ALL {
            assert_eq!(SkipReason::parse(&r.to_string()), Some(r), "{r}");
            for a in [AuditAction::Skipped(r), AuditAction::DroppedAfterReread(r)] {
                assert_eq!(AuditAction::parse(&a.to_string()), Some(a), "{a}");
            }
        }
        for a in [
            AuditAction::Queued,
            AuditAction::Applied { changed: true },
            AuditAction::Applied { changed: false },
            AuditAction::Superseded,
            AuditAction::DeadLetter,
            AuditAction::ConflictWon { winner: Side::Erp },
        ] {
            assert_eq!(AuditAction::parse(&a.to_string()), Some(a), "{a}");
        }
        assert_eq!(AuditAction::parse("skipped: because"), None);
    }

    #[test]
    fn texts_users_already_know_stay() {
        assert_eq!(
            AuditAction::Skipped(SkipReason::Protected).to_string(),
            "skipped: protected"
        );
        assert_eq!(
            SkipReason::OutOfScopeOld.to_string(),
            "out of scope: older than the window"
        );
        assert_eq!(
            SkipReason::TargetMissing { target: Side::Erp }.to_string(),
            "not in the ERP"
        );
    }
}

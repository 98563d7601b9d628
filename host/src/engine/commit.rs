//! Turning a page's decisions into what the store records: order snapshots, outbox entries
//! (new, replacing, dropped) and audit records.

use std::collections::HashMap;

use orderlink_plugin_api::model::OrderState;

use super::cycle::CycleReport;
use super::decide::{Action, Decision};
use super::plan::LinkPlan;
use crate::domain::{AuditAction, Side, SkipReason};
use crate::store::{now_text, AuditEntry, OutboxEntry, SeenOrder};

/// A status write the cycle queued (or, in a dry run, would queue), or one applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    /// The side to write.
    pub target: Side,
    /// Order key.
    pub key: String,
    /// The target's status now.
    pub from: Option<String>,
    /// The status to set.
    pub to: String,
    /// Why.
    pub reason: String,
}

impl Planned {
    /// The planned form of an outbox entry.
    pub fn of(e: &OutboxEntry) -> Planned {
        Planned {
            target: e.target,
            key: e.key.clone(),
            from: e.from_status.clone(),
            to: e.status.clone(),
            reason: e.reason.clone(),
        }
    }
}

/// What one page commits.
#[derive(Debug, Default)]
pub struct Commit {
    /// Order snapshots of the source side.
    pub seen: Vec<SeenOrder>,
    /// Writes to queue (replacing pending ones for the same order and target).
    pub outbox: Vec<OutboxEntry>,
    /// Pending writes to drop: (target, key).
    pub drop_pending: Vec<(Side, String)>,
    /// Audit records.
    pub audit: Vec<AuditEntry>,
}

/// Why a source status asks for a write, for people: `enova365 status Zaakceptowany`.
pub fn source_reason(plan: &LinkPlan, source: Side, status: &str) -> String {
    format!("{} status {status}", plan.endpoint(source).connector_name)
}

/// An audit record of a decision.
pub fn audit(plan: &LinkPlan, d: &Decision, action: AuditAction, why: String) -> AuditEntry {
    AuditEntry {
        at: now_text(),
        link: plan.link.name.clone(),
        key: d.key.clone(),
        target: d.target().as_str().to_owned(),
        from_status: d.target_status.as_ref().map(|s| s.to_string()),
        to_status: d.wanted.as_ref().map(|s| s.to_string()).unwrap_or_default(),
        action: action.to_string(),
        why,
    }
}

/// Whether a decision's record says something the order's last record does not (the moment
/// and the link aside): only those are recorded, so the trail holds each change of decision.
pub fn differs(last: Option<&AuditEntry>, new: &AuditEntry) -> bool {
    last.is_none_or(|l| {
        (&l.action, &l.from_status, &l.to_status, &l.why)
            != (&new.action, &new.from_status, &new.to_status, &new.why)
    })
}

/// The records a page's decisions make, and their counts in the report. Each decision that
/// differs from the order's last record (`last`, by key) is recorded with both sides' statuses,
/// skips included (except the host's own echo); superseded and conflict-lost writes always are.
pub fn decisions_to_commit(
    plan: &LinkPlan,
    orders: &[OrderState],
    decisions: &[Decision],
    last: &HashMap<String, AuditEntry>,
    report: &mut CycleReport,
) -> Commit {
    let mut c = Commit {
        seen: orders
            .iter()
            .map(|o| SeenOrder {
                key: o.key.clone(),
                id: o.id.clone(),
                status: o.status.clone(),
                created_at: o.created_at.map(|t| t.to_rfc3339()),
                fulfilled: o.fulfilled,
            })
            .collect(),
        ..Commit::default()
    };
    for d in decisions {
        let target = d.target();
        let why = source_reason(plan, d.source, d.source_status.as_str());
        if let Some(p) = &d.drops_opposite {
            c.drop_pending.push((d.source, d.key.clone()));
            c.audit.push(AuditEntry {
                at: now_text(),
                link: plan.link.name.clone(),
                key: d.key.clone(),
                target: d.source.as_str().to_owned(),
                from_status: None,
                to_status: p.status.clone(),
                action: AuditAction::Skipped(SkipReason::ConflictLost { winner: d.source })
                    .to_string(),
                why: source_reason(plan, target, &p.source_status),
            });
        }
        match &d.action {
            Action::Keep => {}
            Action::Write(w) => {
                if let Some(p) = &d.superseded {
                    if p.source_status != d.source_status.as_str() {
                        report.superseded += 1;
                    }
                }
                let entry = OutboxEntry {
                    id: 0,
                    target,
                    key: d.key.clone(),
                    status: w.status.to_string(),
                    from_status: Some(w.expected_status.to_string()),
                    source_status: d.source_status.to_string(),
                    expected_version: w.expected_version.clone(),
                    reason: format!("{why} -> {}", w.status),
                    attempts: 0,
                };
                let action = if w.won_conflict {
                    AuditAction::ConflictWon { winner: d.source }
                } else {
                    AuditAction::Queued
                };
                let record = audit(plan, d, action, why.clone());
                if differs(last.get(&d.key), &record) {
                    c.audit.push(record);
                }
                report.queued.push(Planned::of(&entry));
                c.outbox.push(entry);
            }
            Action::Skip(reason) => {
                report.skip(*reason);
                if let Some(p) = &d.superseded {
                    report.superseded += 1;
                    c.drop_pending.push((target, d.key.clone()));
                    c.audit.push(AuditEntry {
                        to_status: p.status.clone(),
                        ..audit(plan, d, AuditAction::Superseded, format!("{why}: {reason}"))
                    });
                }
                if *reason != SkipReason::OwnEcho {
                    let record = audit(plan, d, AuditAction::Skipped(*reason), why.clone());
                    if d.superseded.is_some() || differs(last.get(&d.key), &record) {
                        c.audit.push(record);
                    }
                }
            }
        }
    }
    c
}

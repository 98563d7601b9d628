//! Flushing the outbox into one target: each due write is checked against the latest known
//! source state (`decide::before_send`), sent with the target status it expects
//! (compare-and-set), and its outcome recorded (`outcome.rs`): done, retry later, dead letter,
//! or, on a conflict, the target is read again and the write decided again (`decide::decide`).
//! Everything a batch did is recorded in one store transaction (`StateStore::record_outcomes`).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use orderlink_plugin_api::model::{ApplyRequest, OrderState, StatusUpdate};

use super::backoff::delay;
use super::commit::{source_reason, Planned};
use super::cycle::{connector_error, known, read_target, CycleError, CycleReport};
use super::decide::{before_send, decide, Action, BeforeSend, Page, Pending};
use super::outcome::{classify, classify_error, next, Next};
use super::plan::LinkPlan;
use crate::domain::{AuditAction, Direction, Side, WriteOutcome};
use crate::store::{now_text, AuditEntry, Lease, OutboxEntry, OutboxUpdate, StateStore};

/// Batches flushed per target in one cycle at most.
const MAX_BATCHES: usize = 1000;

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn as_pending(e: &OutboxEntry) -> Pending {
    Pending {
        status: e.status.clone(),
        source_status: e.source_status.clone(),
        from_status: e.from_status.clone(),
    }
}

fn dropped(plan: &LinkPlan, e: &OutboxEntry, action: AuditAction, why: String) -> AuditEntry {
    AuditEntry {
        at: now_text(),
        link: plan.link.name.clone(),
        key: e.key.clone(),
        target: e.target.as_str().to_owned(),
        from_status: e.from_status.clone(),
        to_status: e.status.clone(),
        action: action.to_string(),
        why,
    }
}

/// Applies the due outbox entries aimed at `target`. Returns whether the target answered at
/// least one batch (it is healthy).
pub fn flush(
    plan: &LinkPlan,
    store: &dyn StateStore,
    lease: &Lease,
    target: Side,
    stop: &AtomicBool,
    report: &mut CycleReport,
) -> Result<bool, CycleError> {
    let link = plan.link.name.clone();
    let ep = plan.endpoint(target);
    let mut answered = false;
    for _ in 0..MAX_BATCHES {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let due = store.due_outbox(&link, target, plan.link.batch_size)?;
        if due.is_empty() {
            break;
        }
        // Right before sending: a write whose source has moved on since is dropped.
        let keys: Vec<String> = due.iter().map(|e| e.key.clone()).collect();
        let known_now = known(store, &link, &keys)?;
        let mut out = Vec::with_capacity(due.len());
        let mut entries = Vec::new();
        for e in due {
            match before_send(target, &as_pending(&e), known_now.get(&e.key)) {
                BeforeSend::Send => entries.push(e),
                BeforeSend::Superseded { source_now } => {
                    let why = format!("{} now", source_reason(plan, target.other(), &source_now));
                    let audit = dropped(plan, &e, AuditAction::Superseded, why);
                    out.push(OutboxUpdate::Dropped { entry: e, audit });
                    report.superseded += 1;
                }
            }
        }
        if entries.is_empty() {
            store.record_outcomes(lease, &out)?;
            continue;
        }
        let request = ApplyRequest {
            updates: entries
                .iter()
                .map(|e| StatusUpdate {
                    key: e.key.clone(),
                    status: e.status.clone(),
                    expected_version: e.expected_version.clone(),
                    expected_status: e.from_status.clone(),
                })
                .collect(),
        };
        // Only while the lease lasts through the batch, with the store's margin (several hosts
        // sharing a store: a paused host must not write after its links moved on).
        if !store.lease_valid_for(lease, store.remote_write_margin()) {
            store.record_outcomes(lease, &out)?;
            return Err(CycleError::LeaseRunningOut { link });
        }
        let response = match ep.connector.apply(&request) {
            Ok(r) => r,
            Err(err) => {
                let outcome = classify_error(&err);
                for e in &entries {
                    record(plan, &mut out, e, &outcome, &err.message, report);
                }
                store.record_outcomes(lease, &out)?;
                return Err(connector_error(plan, target, err));
            }
        };
        answered = true;
        let mut reread = Vec::new();
        for e in &entries {
            let Some(o) = response.outcomes.iter().find(|o| o.key == e.key) else {
                let outcome = WriteOutcome::Retry { after: None };
                let msg = "no_outcome: the connector reported no outcome for this order";
                record(plan, &mut out, e, &outcome, msg, report);
                continue;
            };
            let outcome = classify(o);
            if outcome == WriteOutcome::Conflict && next(e.attempts, &outcome) == Next::Reread {
                reread.push(e.clone());
                continue;
            }
            let msg = format!("{}: {}", o.code, o.message);
            record(plan, &mut out, e, &outcome, &msg, report);
        }
        // The batch's outcomes go in one transaction, also when the re-read fails.
        let decided_again = if reread.is_empty() {
            Ok(())
        } else {
            decide_again(plan, store, target, &reread, &mut out, report)
        };
        store.record_outcomes(lease, &out)?;
        decided_again?;
    }
    Ok(answered)
}

/// Records an outcome other than a conflict to re-read.
fn record(
    plan: &LinkPlan,
    out: &mut Vec<OutboxUpdate>,
    e: &OutboxEntry,
    outcome: &WriteOutcome,
    message: &str,
    report: &mut CycleReport,
) {
    let entry = e.clone();
    out.push(match next(e.attempts, outcome) {
        Next::Done { changed } => {
            report.applied.push(Planned::of(e));
            OutboxUpdate::Done { entry, changed }
        }
        Next::Retry { after } => {
            report.retried += 1;
            OutboxUpdate::Retry {
                entry,
                delay_ms: ms(delay(e.attempts, after)),
                error: message.to_owned(),
                clear_version: false,
            }
        }
        Next::Reread => {
            report.retried += 1;
            OutboxUpdate::Retry {
                entry,
                delay_ms: 0,
                error: message.to_owned(),
                clear_version: true,
            }
        }
        Next::Dead { why } => {
            report.dead += 1;
            let code = message.split(':').next().unwrap_or("failed").to_owned();
            let reason = format!("{why}: {message}");
            // A new dead letter: a WARN naming the link, the endpoint, the order and why.
            tracing::warn!(
                link = %plan.link.name,
                endpoint = %plan.endpoint(e.target).name,
                key = %e.key,
                code = %code,
                reason = %reason,
                "dead letter: order {} not set to {} ({reason})",
                e.key,
                e.status
            );
            OutboxUpdate::Dead {
                entry,
                code,
                reason,
            }
        }
    });
}

/// The target changed since the writes were decided: read it again and decide each write again
/// against the latest known source state, through the same rules as a cycle.
fn decide_again(
    plan: &LinkPlan,
    store: &dyn StateStore,
    target: Side,
    entries: &[OutboxEntry],
    out: &mut Vec<OutboxUpdate>,
    report: &mut CycleReport,
) -> Result<(), CycleError> {
    let link = &plan.link.name;
    let source = target.other();
    let keys: Vec<String> = entries.iter().map(|e| e.key.clone()).collect();
    let current = read_target(plan, target, &keys)?;
    let known = known(store, link, &keys)?;
    let orders: Vec<OrderState> = entries
        .iter()
        .map(|e| OrderState {
            key: e.key.clone(),
            id: None,
            status: e.source_status.clone(),
            created_at: None,
            changed_at: None,
            fulfilled: None,
            version: None,
        })
        .collect();
    let pending_in: HashMap<String, Pending> = entries
        .iter()
        .map(|e| (e.key.clone(), as_pending(e)))
        .collect();
    let opposite_entries = if plan.link.direction == Direction::Both {
        store.pending_into(link, source, &keys)?
    } else {
        HashMap::new()
    };
    let opposite: HashMap<String, Pending> = opposite_entries
        .iter()
        .map(|(k, e)| (k.clone(), as_pending(e)))
        .collect();
    let rules = plan.rules();
    let decisions = decide(
        &rules,
        &Page {
            source,
            orders: &orders,
            known: &known,
            target: &current,
            pending: &pending_in,
            opposite: &opposite,
            now: chrono::Utc::now(),
        },
    );
    for (e, d) in entries.iter().zip(decisions) {
        match d.action {
            Action::Write(w) => {
                out.push(OutboxUpdate::Reread {
                    entry: e.clone(),
                    from_status: w.expected_status.as_str().to_owned(),
                    expected_version: w.expected_version.clone(),
                });
                report.retried += 1;
            }
            // The target moved back to what the write expected: send it again as it is.
            Action::Keep => {
                out.push(OutboxUpdate::Reread {
                    entry: e.clone(),
                    from_status: e.from_status.clone().unwrap_or_default(),
                    expected_version: e.expected_version.clone(),
                });
                report.retried += 1;
            }
            Action::Skip(reason) => {
                let mut a = dropped(
                    plan,
                    e,
                    AuditAction::DroppedAfterReread(reason),
                    e.reason.clone(),
                );
                a.from_status = d.target_status.map(|s| s.to_string());
                out.push(OutboxUpdate::Dropped {
                    entry: e.clone(),
                    audit: a,
                });
                report.skip(reason);
            }
        }
        if let (Some(_), Some(o)) = (&d.drops_opposite, opposite_entries.get(&e.key)) {
            let why = source_reason(plan, source, &e.source_status);
            let lost =
                AuditAction::Skipped(crate::domain::SkipReason::ConflictLost { winner: source });
            out.push(OutboxUpdate::Dropped {
                entry: o.clone(),
                audit: dropped(plan, o, lost, why),
            });
        }
    }
    Ok(())
}

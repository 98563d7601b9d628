//! Flushing the outbox: apply due writes in batches, record each batch's outcomes (done, retry
//! later, dead letter, dropped) in one store transaction, re-check writes refused for a stale
//! version.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use orderlink_plugin_api::model::{ApplyRequest, OutcomeKind, StatusUpdate};
use orderlink_plugin_api::ErrorKind;

use super::backoff::{delay, MAX_ATTEMPTS};
use super::cycle::{blocked, read_target, CycleError, CycleReport, Planned};
use super::plan::LinkPlan;
use crate::config::Side;
use crate::store::{now_text, AuditEntry, Lease, OutboxEntry, StateStore, WriteOutcome};

/// Batches flushed per target in one cycle at most.
const MAX_BATCHES: usize = 1000;

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn planned(e: &OutboxEntry) -> Planned {
    Planned {
        target: e.target,
        key: e.key.clone(),
        from: e.from_status.clone(),
        to: e.status.clone(),
        reason: e.reason.clone(),
    }
}

/// Retries an entry later, or dead-letters it once it has failed too often.
fn retry_or_dead(
    out: &mut Vec<WriteOutcome>,
    e: &OutboxEntry,
    wait: Duration,
    code: &str,
    message: &str,
    report: &mut CycleReport,
) {
    if e.attempts + 1 >= MAX_ATTEMPTS {
        out.push(dead(
            e,
            code,
            &format!("gave up after {} attempts: {message}", e.attempts + 1),
        ));
        report.dead += 1;
    } else {
        out.push(WriteOutcome::Retry {
            entry: e.clone(),
            delay_ms: ms(wait),
            error: format!("{code}: {message}"),
            clear_version: false,
        });
        report.retried += 1;
    }
}

fn dead(e: &OutboxEntry, code: &str, reason: &str) -> WriteOutcome {
    WriteOutcome::Dead {
        entry: e.clone(),
        code: code.to_owned(),
        reason: reason.to_owned(),
    }
}

/// Applies the due outbox entries aimed at `target`.
pub fn flush(
    plan: &LinkPlan,
    store: &dyn StateStore,
    lease: &Lease,
    target: Side,
    stop: &AtomicBool,
    report: &mut CycleReport,
) -> Result<(), CycleError> {
    let link = plan.link.name.clone();
    let ep = plan.endpoint(target);
    for _ in 0..MAX_BATCHES {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let entries = store.due_outbox(&link, target, plan.link.batch_size)?;
        if entries.is_empty() {
            break;
        }
        let request = ApplyRequest {
            updates: entries
                .iter()
                .map(|e| StatusUpdate {
                    key: e.key.clone(),
                    status: e.status.clone(),
                    expected_version: e.expected_version.clone(),
                    expected_status: None,
                })
                .collect(),
        };
        let mut out = Vec::with_capacity(entries.len());
        let response = match ep.connector.apply(&request) {
            Ok(r) => r,
            Err(err) => {
                let wait = match err.kind {
                    ErrorKind::Auth | ErrorKind::Config => delay(6, err.retry_after),
                    _ => delay(
                        entries.iter().map(|e| e.attempts).min().unwrap_or(0),
                        err.retry_after,
                    ),
                };
                for e in &entries {
                    if matches!(err.kind, ErrorKind::Permanent | ErrorKind::NotFound) {
                        out.push(dead(e, err.kind.as_str(), &err.message));
                        report.dead += 1;
                    } else {
                        retry_or_dead(&mut out, e, wait, err.kind.as_str(), &err.message, report);
                    }
                }
                store.record_outcomes(lease, &out)?;
                return Err(CycleError::Connector {
                    endpoint: ep.name.clone(),
                    source: err,
                });
            }
        };
        let mut stale = Vec::new();
        for e in &entries {
            let Some(outcome) = response.outcomes.iter().find(|o| o.key == e.key) else {
                retry_or_dead(
                    &mut out,
                    e,
                    delay(e.attempts, None),
                    "no_outcome",
                    "the connector reported no outcome for this order",
                    report,
                );
                continue;
            };
            match outcome.outcome {
                OutcomeKind::Done => {
                    out.push(WriteOutcome::Done {
                        entry: e.clone(),
                        changed: outcome.changed,
                    });
                    report.applied.push(planned(e));
                }
                OutcomeKind::Conflict => stale.push(e.clone()),
                OutcomeKind::Retry if outcome.code == "conflict" => stale.push(e.clone()),
                OutcomeKind::Retry | OutcomeKind::Unknown => {
                    let wait = delay(
                        e.attempts,
                        outcome.retry_after_ms.map(Duration::from_millis),
                    );
                    retry_or_dead(&mut out, e, wait, &outcome.code, &outcome.message, report);
                }
                OutcomeKind::Failed => {
                    out.push(dead(e, &outcome.code, &outcome.message));
                    report.dead += 1;
                }
            }
        }
        // The batch's outcomes go in one transaction, also when the re-read fails.
        let rechecked = if stale.is_empty() {
            Ok(())
        } else {
            recheck_stale(plan, target, &stale, &mut out, report)
        };
        store.record_outcomes(lease, &out)?;
        rechecked?;
    }
    Ok(())
}

/// The target changed since the write was decided: read it again; drop the write if the order
/// is now in sync or protected, else retry it at once without the stale precondition.
fn recheck_stale(
    plan: &LinkPlan,
    target: Side,
    stale: &[OutboxEntry],
    out: &mut Vec<WriteOutcome>,
    report: &mut CycleReport,
) -> Result<(), CycleError> {
    let keys: Vec<String> = stale.iter().map(|e| e.key.clone()).collect();
    let current = read_target(plan, target, &keys)?;
    for e in stale {
        let Some(t) = current.get(&e.key) else {
            out.push(dead(
                e,
                "not_found",
                "the order disappeared from the target",
            ));
            report.dead += 1;
            continue;
        };
        let (shop, erp) = match target {
            Side::Shop => (t.status.as_str(), e.source_status.as_str()),
            Side::Erp => (e.source_status.as_str(), t.status.as_str()),
        };
        if let Some(why) = blocked(plan, target, shop, erp, &t.status) {
            out.push(WriteOutcome::Dropped {
                entry: e.clone(),
                audit: AuditEntry {
                    at: now_text(),
                    link: plan.link.name.clone(),
                    key: e.key.clone(),
                    target: target.as_str().to_owned(),
                    from_status: Some(t.status.clone()),
                    to_status: e.status.clone(),
                    action: format!("dropped after re-read: {why}"),
                    why: e.reason.clone(),
                },
            });
            report.skip(why);
        } else {
            out.push(WriteOutcome::Retry {
                entry: e.clone(),
                delay_ms: 0,
                error: "conflict: re-read, retrying".to_owned(),
                clear_version: true,
            });
            report.retried += 1;
        }
    }
    Ok(())
}

//! Flushing the outbox: apply due writes in batches, record each order's outcome (done, retry
//! later, dead letter), re-check writes refused for a stale version.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use orderlink_plugin_api::model::{ApplyRequest, OutcomeKind, StatusUpdate};
use orderlink_plugin_api::ErrorKind;

use super::backoff::{delay, MAX_ATTEMPTS};
use super::cycle::{blocked, read_target, CycleError, CycleReport, Planned};
use super::plan::LinkPlan;
use crate::config::Side;
use crate::store::{now_text, AuditEntry, OutboxEntry, Store};

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

/// Makes an entry a dead letter, with a WARN naming the link, the endpoint, the order and why.
fn dead_letter(
    store: &mut Store,
    (link, endpoint): (&str, &str),
    e: &OutboxEntry,
    code: &str,
    reason: &str,
    report: &mut CycleReport,
) -> Result<(), CycleError> {
    store.record_dead(link, e, code, reason)?;
    report.dead += 1;
    tracing::warn!(
        link,
        endpoint,
        key = %e.key,
        code,
        reason,
        "dead letter: order {} not set to {} ({code}: {reason})",
        e.key,
        e.status
    );
    Ok(())
}

/// Retries an entry later, or dead-letters it once it has failed too often.
fn retry_or_dead(
    store: &mut Store,
    (link, endpoint): (&str, &str),
    e: &OutboxEntry,
    wait: Duration,
    code: &str,
    message: &str,
    report: &mut CycleReport,
) -> Result<(), CycleError> {
    if e.attempts + 1 >= MAX_ATTEMPTS {
        dead_letter(
            store,
            (link, endpoint),
            e,
            code,
            &format!("gave up after {} attempts: {message}", e.attempts + 1),
            report,
        )?;
    } else {
        store.record_retry(e, ms(wait), &format!("{code}: {message}"), false)?;
        report.retried += 1;
    }
    Ok(())
}

/// Applies the due outbox entries aimed at `target`.
pub fn flush(
    plan: &LinkPlan,
    store: &mut Store,
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
                        dead_letter(
                            store,
                            (&link, &ep.name),
                            e,
                            err.kind.as_str(),
                            &err.message,
                            report,
                        )?;
                    } else {
                        retry_or_dead(
                            store,
                            (&link, &ep.name),
                            e,
                            wait,
                            err.kind.as_str(),
                            &err.message,
                            report,
                        )?;
                    }
                }
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
                    store,
                    (&link, &ep.name),
                    e,
                    delay(e.attempts, None),
                    "no_outcome",
                    "the connector reported no outcome for this order",
                    report,
                )?;
                continue;
            };
            match outcome.outcome {
                OutcomeKind::Done => {
                    store.record_done(&link, e, outcome.changed)?;
                    report.applied.push(planned(e));
                }
                OutcomeKind::Conflict => stale.push(e.clone()),
                OutcomeKind::Retry if outcome.code == "conflict" => stale.push(e.clone()),
                OutcomeKind::Retry | OutcomeKind::Unknown => {
                    let wait = delay(
                        e.attempts,
                        outcome.retry_after_ms.map(Duration::from_millis),
                    );
                    retry_or_dead(
                        store,
                        (&link, &ep.name),
                        e,
                        wait,
                        &outcome.code,
                        &outcome.message,
                        report,
                    )?;
                }
                OutcomeKind::Failed => {
                    dead_letter(
                        store,
                        (&link, &ep.name),
                        e,
                        &outcome.code,
                        &outcome.message,
                        report,
                    )?;
                }
            }
        }
        if !stale.is_empty() {
            recheck_stale(plan, store, target, &stale, report)?;
        }
    }
    Ok(())
}

/// The target changed since the write was decided: read it again; drop the write if the order
/// is now in sync or protected, else retry it at once without the stale precondition.
fn recheck_stale(
    plan: &LinkPlan,
    store: &mut Store,
    target: Side,
    stale: &[OutboxEntry],
    report: &mut CycleReport,
) -> Result<(), CycleError> {
    let keys: Vec<String> = stale.iter().map(|e| e.key.clone()).collect();
    let current = read_target(plan, target, &keys)?;
    for e in stale {
        let Some(t) = current.get(&e.key) else {
            dead_letter(
                store,
                (&plan.link.name, &plan.endpoint(target).name),
                e,
                "not_found",
                "the order disappeared from the target",
                report,
            )?;
            continue;
        };
        let (shop, erp) = match target {
            Side::Shop => (t.status.as_str(), e.source_status.as_str()),
            Side::Erp => (e.source_status.as_str(), t.status.as_str()),
        };
        if let Some(why) = blocked(plan, target, shop, erp, &t.status) {
            store.record_dropped(
                e,
                &AuditEntry {
                    at: now_text(),
                    link: plan.link.name.clone(),
                    key: e.key.clone(),
                    target: target.as_str().to_owned(),
                    from_status: Some(t.status.clone()),
                    to_status: e.status.clone(),
                    action: format!("dropped after re-read: {why}"),
                    why: e.reason.clone(),
                },
            )?;
            report.skip(why);
        } else {
            store.record_retry(e, 0, "conflict: re-read, retrying", true)?;
            report.retried += 1;
        }
    }
    Ok(())
}

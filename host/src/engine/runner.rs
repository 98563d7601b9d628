//! `orderlink run`: one thread per link, each cycling until stopped. A link whose endpoint is
//! down or slow stalls only itself; it keeps retrying its setup and its cycles.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::cycle::{run_cycle, CycleReport};
use super::live::{LinkState, LiveRegistry};
use super::plan::{plan_link, EndpointRuntime, LinkPlan};
use crate::config::{Config, Link};
use crate::store::Store;

/// Sleeps up to `d`, waking early when `stop` is set.
pub fn sleep_unless_stopped(d: Duration, stop: &AtomicBool) {
    let until = Instant::now() + d;
    while !stop.load(Ordering::SeqCst) {
        let now = Instant::now();
        if now >= until {
            break;
        }
        std::thread::sleep((until - now).min(Duration::from_millis(100)));
    }
}

/// Whether a cycle did anything worth an INFO line.
pub fn changed_something(report: &CycleReport) -> bool {
    report.pulled > 0
        || !report.applied.is_empty()
        || !report.skipped.is_empty()
        || report.retried > 0
        || report.dead > 0
}

/// Logs what a cycle did: one INFO line when it changed something (each write at DEBUG).
/// Errors and dead letters are logged where they happen, at WARN.
pub fn log_report(link: &str, report: &CycleReport) {
    for a in &report.applied {
        tracing::debug!(
            link,
            key = %a.key,
            "{} {}: {} -> {} ({})",
            a.target.as_str(),
            a.key,
            a.from.as_deref().unwrap_or("?"),
            a.to,
            a.reason
        );
    }
    if changed_something(report) {
        let skipped: Vec<String> = report
            .skipped
            .iter()
            .map(|(why, n)| format!("{n} {why}"))
            .collect();
        tracing::info!(
            link,
            pulled = report.pulled,
            applied = report.applied.len(),
            retried = report.retried,
            dead = report.dead,
            skipped = %skipped.join(", "),
            "cycle: {} pulled, {} applied, {} retrying, {} dead{}",
            report.pulled,
            report.applied.len(),
            report.retried,
            report.dead,
            if skipped.is_empty() {
                String::new()
            } else {
                format!(", left alone: {}", skipped.join(", "))
            }
        );
    }
}

/// Publishes a finished cycle in the live registry (with the outbox left after it).
fn publish_cycle(
    live: &LiveRegistry,
    store: &Store,
    name: &str,
    report: &CycleReport,
    failures: u32,
) {
    let pending = store
        .stats(name)
        .map(|s| u64::try_from(s.pending).unwrap_or(0))
        .unwrap_or(0);
    let oldest = store
        .oldest_pending(name)
        .ok()
        .flatten()
        .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
        .map(|t| t.with_timezone(&Utc));
    live.update(name, |l| {
        l.after_cycle(report, pending, oldest);
        l.state = if failures == 0 {
            LinkState::Running
        } else {
            LinkState::BackingOff
        };
    });
}

/// Runs one link until `stop` is set.
pub fn run_link(
    config: Arc<Config>,
    link: Link,
    endpoints: (Arc<EndpointRuntime>, Arc<EndpointRuntime>),
    mut plan: Option<LinkPlan>,
    stop: Arc<AtomicBool>,
    live: LiveRegistry,
) {
    let name = link.name.clone();
    let _span = tracing::info_span!("link", link = %name).entered();
    let mut store = match Store::open(&config.store) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(link = %name, "cannot open the state store: {e}");
            live.update(&name, |l| {
                l.state = LinkState::Failed;
                l.last_error = Some(format!("cannot open the state store: {e}"));
            });
            return;
        }
    };
    let mut failures = 0u32;
    while !stop.load(Ordering::SeqCst) {
        let current = match plan.take() {
            Some(p) => p,
            None => match plan_link(&config, &link, endpoints.0.clone(), endpoints.1.clone()) {
                Ok(p) => {
                    tracing::info!(link = %name, "link ready");
                    p
                }
                Err(e) => {
                    let endpoint = match &e {
                        super::plan::SetupError::Endpoint { endpoint, .. } => endpoint.as_str(),
                        super::plan::SetupError::Input(_) => "",
                    };
                    tracing::warn!(link = %name, endpoint, "link not ready, retrying: {e}");
                    live.update(&name, |l| {
                        l.state = if e.is_bad_input() {
                            LinkState::Failed
                        } else {
                            LinkState::Starting
                        };
                        l.last_error = Some(e.to_string());
                    });
                    let _ = store.record_cycle(&name, 0, Some(&e.to_string()));
                    sleep_unless_stopped(link.poll_interval.max(Duration::from_secs(1)), &stop);
                    continue;
                }
            },
        };
        let report = run_cycle(&current, &mut store, &stop, false);
        log_report(&name, &report);
        plan = Some(current);
        // A link whose system keeps failing backs off (up to 5 min), so a shop that is down is
        // not polled, and billed, at full rate.
        failures = if report.error.is_some() {
            failures + 1
        } else {
            0
        };
        publish_cycle(&live, &store, &name, &report, failures);
        let wait = if failures == 0 {
            link.poll_interval
        } else {
            link.poll_interval
                .max(super::backoff::delay(failures - 1, None))
        };
        sleep_unless_stopped(wait, &stop);
    }
    live.update(&name, |l| l.state = LinkState::Stopped);
    tracing::info!(link = %name, "link stopped");
}

//! `orderlink run`: one thread per link, each cycling until stopped. A link whose endpoint is
//! down or slow stalls only itself; it keeps retrying its setup and its cycles.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::cycle::{run_cycle, CycleReport};
use super::plan::{plan_link, EndpointRuntime, LinkPlan};
use crate::config::{Config, Link};
use crate::store::{CycleRecord, StateStore};

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

/// Logs what a cycle did, one line per write plus a summary.
pub fn log_report(link: &str, report: &CycleReport) {
    for a in &report.applied {
        tracing::info!(
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
    if let Some(e) = &report.error {
        tracing::warn!(link, "cycle error: {e}");
    }
    if report.pulled > 0 || report.retried > 0 || report.dead > 0 {
        tracing::debug!(
            link,
            pulled = report.pulled,
            applied = report.applied.len(),
            retried = report.retried,
            dead = report.dead,
            "cycle done"
        );
    }
}

/// Runs one link until `stop` is set.
pub fn run_link(
    config: Arc<Config>,
    link: Link,
    endpoints: (Arc<EndpointRuntime>, Arc<EndpointRuntime>),
    mut plan: Option<LinkPlan>,
    store: Arc<dyn StateStore>,
    stop: Arc<AtomicBool>,
) {
    let name = link.name.clone();
    let lease = match store.lease(&name) {
        Ok(l) => l,
        Err(e) => {
            tracing::error!(link = %name, "cannot take the link's state: {e}");
            return;
        }
    };
    while !stop.load(Ordering::SeqCst) {
        let current = match plan.take() {
            Some(p) => p,
            None => match plan_link(&config, &link, endpoints.0.clone(), endpoints.1.clone()) {
                Ok(p) => {
                    tracing::info!(link = %name, "link ready");
                    p
                }
                Err(e) => {
                    tracing::warn!(link = %name, "link not ready, retrying: {e}");
                    let _ = store.record_cycle(
                        &lease,
                        &CycleRecord {
                            ms: 0,
                            error: Some(e.to_string()),
                            did_work: false,
                        },
                    );
                    sleep_unless_stopped(link.poll_interval.max(Duration::from_secs(1)), &stop);
                    continue;
                }
            },
        };
        let report = run_cycle(&current, store.as_ref(), &lease, &stop, false);
        log_report(&name, &report);
        plan = Some(current);
        // A side whose system keeps failing rests inside the cycle (per-side backoff), so the
        // link keeps its pace for the other side; a feed that held changes back is polled then.
        let wait = report
            .poll_after
            .map_or(link.poll_interval, |p| p.min(link.poll_interval));
        sleep_unless_stopped(wait, &stop);
    }
    tracing::info!(link = %name, "link stopped");
}

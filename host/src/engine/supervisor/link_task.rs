//! One link under the supervisor: an async task that sets the link up, then cycles it, each
//! step run on the blocking pool (plugins are called from plain threads only). Between steps it
//! sleeps on a timer and wakes at once when told to stop. A setup that fails, a lease that cannot
//! be taken and a crash (panic) are reported and retried with backoff; a link whose mapping or
//! endpoint is broken stays off until a reload.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::endpoints::EndpointTable;
use super::schedule::{Finished, Pace};
use crate::config::{Config, Link};
use crate::engine::cycle::{run_cycle, CycleReport};
use crate::engine::live::{LinkState, LiveRegistry};
use crate::engine::plan::{plan_link, LinkPlan};
use crate::plugins::PluginSet;
use crate::store::{StateStore, StoreError};

/// The longest the supervisor sleeps in one go (keeps `Instant` arithmetic in range).
const MAX_WAIT: Duration = Duration::from_secs(365 * 24 * 3600);

/// What a link tells the supervisor about its setup.
#[derive(Debug)]
pub enum SetupEvent {
    /// It is set up and cycling.
    Ready(String),
    /// Its mapping or endpoint config is wrong: it stays off until a reload (the message says
    /// why).
    BadInput(String, String),
    /// This host no longer holds its lease: the task ended (another host runs the link).
    LeaseLost(String),
}

/// Everything one link task needs.
pub struct LinkTask {
    /// The config the link comes from.
    pub config: Arc<Config>,
    /// The link.
    pub link: Link,
    /// The loaded plugins.
    pub plugins: Arc<PluginSet>,
    /// Shared endpoint connectors.
    pub endpoints: Arc<EndpointTable>,
    /// The host's state store (one writer for every link).
    pub store: Arc<dyn StateStore>,
    /// Where the link's live state is published.
    pub live: LiveRegistry,
    /// Set to end a cycle in flight between batches.
    pub cancel: Arc<AtomicBool>,
    /// Turns true when the link must stop.
    pub stop: watch::Receiver<bool>,
    /// Setup outcomes, for the supervisor.
    pub events: mpsc::UnboundedSender<SetupEvent>,
}

/// The message of a panic payload.
fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned())
}

fn join_error_message(e: tokio::task::JoinError) -> String {
    if e.is_panic() {
        format!("crashed: {}", panic_message(&*e.into_panic()))
    } else {
        "cancelled".to_owned()
    }
}

/// When a cycle `wait` from now starts: rounded up to a tick shared by every link
/// ([`super::schedule::on_tick`]), so that links due at about the same time wake together.
fn on_tick(wait: Duration) -> Instant {
    static EPOCH: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    let epoch = *EPOCH.get_or_init(Instant::now);
    let now = Instant::now();
    epoch + super::schedule::on_tick(now.saturating_duration_since(epoch), wait)
}

/// Whether the feeds' `poll_after_ms` hints are followed: yes, unless `ORDERLINK_POLL_AFTER`
/// is `ignore` (a switch for measuring what they save: `sync_throughput`'s burst benchmark).
pub fn honour_poll_after() -> bool {
    static HONOUR: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *HONOUR.get_or_init(|| {
        std::env::var("ORDERLINK_POLL_AFTER").map_or(true, |v| !v.eq_ignore_ascii_case("ignore"))
    })
}

/// Whether a cycle did anything worth an INFO line.
pub fn changed_something(report: &CycleReport) -> bool {
    report.pulled > 0
        || !report.applied.is_empty()
        || !report.skipped.is_empty()
        || report.retried > 0
        || report.dead > 0
}

/// Logs what a cycle did: one INFO line when it changed something (pulled, applied, retrying,
/// dead, left alone by reason), each write at DEBUG. Dead letters are logged where they are
/// made (WARN with the order key and the reason).
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
    if let Some(e) = &report.error {
        tracing::warn!(link, "cycle error: {e}");
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

impl LinkTask {
    /// Sleeps until `due`; false when told to stop first.
    async fn wait_until(&mut self, due: Instant) -> bool {
        if *self.stop.borrow() {
            return false;
        }
        tokio::select! {
            _ = tokio::time::sleep_until(due) => !*self.stop.borrow(),
            _ = self.stop.changed() => false,
        }
    }

    fn publish_wait(&self, wait: Duration) {
        let at = Utc::now() + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX);
        self.live.update(&self.link.name, |l| {
            l.next_cycle_at = Some(at);
            l.current_interval_secs = wait.as_secs_f64();
        });
    }

    fn fail(&self, state: LinkState, error: &str) {
        self.live.update(&self.link.name, |l| {
            l.state = state;
            l.last_error = Some(error.to_owned());
            l.last_cycle_at = Some(Utc::now());
            l.cycle_errors += 1;
        });
    }

    /// Sets the link up: connectors, vocabularies, mapping. None when told to stop, or when
    /// the link's input is broken (it then waits, off, for a stop or a reload).
    async fn setup(&mut self, pace: &mut Pace, due: &mut Instant) -> Option<LinkPlan> {
        let name = self.link.name.clone();
        loop {
            if !self.wait_until(*due).await {
                return None;
            }
            let (config, link, plugins, endpoints, live) = (
                self.config.clone(),
                self.link.clone(),
                self.plugins.clone(),
                self.endpoints.clone(),
                self.live.clone(),
            );
            let result = tokio::task::spawn_blocking(move || {
                let shop = endpoints.get(&config, &plugins, &link.shop)?;
                let erp = endpoints.get(&config, &plugins, &link.erp)?;
                live.set_endpoint(shop.clone());
                live.set_endpoint(erp.clone());
                plan_link(&config, &link, shop, erp)
            })
            .await;
            let error = match result {
                Ok(Ok(plan)) => {
                    tracing::info!(link = %name, "link ready");
                    self.live.update(&name, |l| {
                        l.state = LinkState::Running;
                        l.last_error = None;
                    });
                    let _ = self.events.send(SetupEvent::Ready(name));
                    return Some(plan);
                }
                Ok(Err(e)) if e.is_bad_input() => {
                    let msg = e.to_string();
                    tracing::error!(
                        link = %name,
                        "link stays off until its config or mapping is fixed (reload with SIGHUP): {msg}"
                    );
                    self.fail(LinkState::Failed, &msg);
                    let _ = self.events.send(SetupEvent::BadInput(name, msg));
                    while self.stop.changed().await.is_ok() && !*self.stop.borrow() {}
                    return None;
                }
                Ok(Err(e)) => e.to_string(),
                Err(join) => join_error_message(join),
            };
            let wait = pace.after_failure(self.link.poll_interval).min(MAX_WAIT);
            tracing::warn!(
                link = %name,
                "link not ready, retrying in {}: {error}",
                crate::engine::progress::humanize(wait)
            );
            self.fail(LinkState::Failed, &error);
            self.publish_wait(wait);
            *due = Instant::now() + wait;
        }
    }

    /// Runs the link until told to stop.
    pub async fn run(mut self) {
        let name = self.link.name.clone();
        let (interval, ceiling) = (self.link.poll_interval, self.link.poll_interval_max);
        let mut pace = Pace::default();
        let mut due = Instant::now();
        'setup: while let Some(plan) = self.setup(&mut pace, &mut due).await {
            let mut plan = Some(plan);
            let mut first = true;
            loop {
                if !self.wait_until(due).await {
                    break 'setup;
                }
                // How far behind schedule this cycle starts (the first one waits for the setup).
                let late = if first {
                    Duration::ZERO
                } else {
                    Instant::now().saturating_duration_since(due)
                };
                let Some(p) = plan.take() else {
                    continue 'setup;
                };
                let (store, cancel) = (self.store.clone(), self.cancel.clone());
                let want_pending = first;
                let result = tokio::task::spawn_blocking(move || {
                    // Whatever is logged during the cycle (plugins included) names the link.
                    let _span = tracing::info_span!("link", link = %p.link.name).entered();
                    let lease = match store.lease(&p.link.name) {
                        Ok(l) => l,
                        Err(e) => {
                            let report = CycleReport {
                                lease_lost: matches!(
                                    e,
                                    StoreError::NotHeld { .. } | StoreError::Fenced { .. }
                                ),
                                error: Some(format!("cannot take the link's state: {e}")),
                                ..CycleReport::default()
                            };
                            return (p, report, None);
                        }
                    };
                    let report = run_cycle(&p, store.as_ref(), &lease, &cancel, false);
                    let pending = (want_pending || Finished::of(&report).changed)
                        .then(|| store.pending_summary(&p.link.name).ok())
                        .flatten();
                    (p, report, pending)
                })
                .await;
                let (p, report, pending) = match result {
                    Ok(r) => r,
                    Err(join) => {
                        let error = join_error_message(join);
                        let wait = pace.after_failure(interval).min(MAX_WAIT);
                        tracing::error!(
                            link = %name,
                            "link {error}; restarting it in {}",
                            crate::engine::progress::humanize(wait)
                        );
                        self.fail(LinkState::Failed, &error);
                        self.live.update(&name, |l| l.restarts += 1);
                        self.publish_wait(wait);
                        due = Instant::now() + wait;
                        continue 'setup;
                    }
                };
                first = false;
                if report.lease_lost {
                    tracing::warn!(
                        link = %name,
                        "this host no longer holds the link's lease; it stops here and goes to its next owner: {}",
                        report.error.as_deref().unwrap_or("lease lost")
                    );
                    self.live.update(&name, |l| {
                        l.state = LinkState::Standby;
                        l.last_error = report.error.clone();
                    });
                    let _ = self.events.send(SetupEvent::LeaseLost(name.clone()));
                    return;
                }
                log_report(&name, &report);
                let mut finished = Finished::of(&report);
                if !honour_poll_after() {
                    finished.poll_after = None;
                }
                let wait = pace.after_cycle(finished, interval, ceiling).min(MAX_WAIT);
                let now = Utc::now();
                self.live.update(&name, |l| {
                    l.cycles += 1;
                    l.last_cycle_at = Some(now);
                    l.pulled += report.pulled as u64;
                    l.applied += report.applied.len() as u64;
                    l.retried += report.retried as u64;
                    l.dead += report.dead as u64;
                    l.worst_start_delay_ms = l
                        .worst_start_delay_ms
                        .max(u64::try_from(late.as_millis()).unwrap_or(u64::MAX));
                    if let Some(e) = &report.error {
                        l.state = LinkState::BackingOff;
                        l.cycle_errors += 1;
                        l.last_error = Some(e.clone());
                    } else {
                        l.state = LinkState::Running;
                        l.last_error = None;
                        l.last_success_at = Some(now);
                    }
                    if let Some((count, oldest)) = &pending {
                        l.pending = *count;
                        l.oldest_pending_at = oldest
                            .as_deref()
                            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                            .map(|t| t.with_timezone(&Utc));
                    }
                });
                self.publish_wait(wait);
                due = on_tick(wait);
                plan = Some(p);
            }
        }
        self.live.update(&name, |l| {
            l.state = LinkState::Stopped;
            l.next_cycle_at = None;
        });
        tracing::debug!(link = %name, "link stopped");
    }
}

//! The live state of every link, published by whoever runs the links (`orderlink run`) and read
//! by the status views (admin HTTP, metrics, `status`). Writers update one link's entry after each
//! cycle; readers take a snapshot. Nothing here touches the store or the network.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::plan::EndpointRuntime;

/// What a link is doing now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkState {
    /// Configured with `enabled = false`.
    Off,
    /// Being set up (vocabularies, mapping) or waiting for its first cycle.
    Starting,
    /// Cycling normally.
    Running,
    /// Its last cycles failed; waiting longer than its interval before the next one.
    BackingOff,
    /// Cannot run (broken mapping or endpoint); retried, and reported until fixed.
    Failed,
    /// Stopped (shutdown, or handed to another host).
    Stopped,
    /// Run by another host sharing the store (see `owner`).
    Standby,
}

/// Counters and times of one link since the process started.
#[derive(Debug, Clone, Serialize)]
pub struct LinkLive {
    /// The link's name.
    pub link: String,
    /// What it is doing now.
    pub state: LinkState,
    /// The poll interval the link is configured with, in seconds.
    pub interval_secs: f64,
    /// When its last cycle ended.
    pub last_cycle_at: Option<DateTime<Utc>>,
    /// When its last cycle ended without an error.
    pub last_success_at: Option<DateTime<Utc>>,
    /// The error of its last failed cycle or setup, cleared by a good cycle.
    pub last_error: Option<String>,
    /// Cycles run.
    pub cycles: u64,
    /// Cycles that ended with an error.
    pub cycle_errors: u64,
    /// Orders read from the feeds.
    pub pulled: u64,
    /// Writes applied.
    pub applied: u64,
    /// Writes scheduled for a retry.
    pub retried: u64,
    /// Writes that became dead letters.
    pub dead: u64,
    /// Writes pending in the outbox after the last cycle.
    pub pending: u64,
    /// The oldest change not yet applied (when it was queued), if any is pending.
    pub oldest_pending_at: Option<DateTime<Utc>>,
    /// When the next cycle (or setup attempt) is due.
    pub next_cycle_at: Option<DateTime<Utc>>,
    /// The current wait between cycles in seconds: the interval, longer while the feeds stay
    /// idle (up to the link's ceiling) or while it fails.
    pub current_interval_secs: f64,
    /// The latest a cycle started behind its schedule, in milliseconds (the pool was busy).
    pub worst_start_delay_ms: u64,
    /// Times the link was restarted after a crash.
    pub restarts: u64,
    /// The host whose lease runs the link (several hosts sharing a store; `None` on a store
    /// file, or while nobody holds it).
    pub owner: Option<String>,
    /// The fencing epoch of that lease.
    pub epoch: Option<u64>,
}

impl LinkLive {
    /// A link that has not cycled yet.
    pub fn new(link: &str, state: LinkState, interval_secs: f64) -> Self {
        LinkLive {
            link: link.to_owned(),
            state,
            interval_secs,
            last_cycle_at: None,
            last_success_at: None,
            last_error: None,
            cycles: 0,
            cycle_errors: 0,
            pulled: 0,
            applied: 0,
            retried: 0,
            dead: 0,
            pending: 0,
            oldest_pending_at: None,
            next_cycle_at: None,
            current_interval_secs: interval_secs,
            worst_start_delay_ms: 0,
            restarts: 0,
            owner: None,
            epoch: None,
        }
    }
}

impl LinkLive {
    /// Seconds since the oldest change not yet applied was queued (0 when none is pending).
    pub fn lag_secs(&self, now: DateTime<Utc>) -> f64 {
        self.oldest_pending_at
            .map(|t| ((now - t).num_milliseconds().max(0) as f64) / 1000.0)
            .unwrap_or(0.0)
    }

    /// Whether the link is keeping up: an off link always is; a failed one never; any other
    /// must have ended a cycle (good or bad) within [`LinkLive::ready_bound_secs`].
    pub fn is_ready(&self, now: DateTime<Utc>) -> bool {
        match self.state {
            LinkState::Off | LinkState::Standby => true,
            LinkState::Failed => false,
            _ => self.last_cycle_at.is_some_and(|at| {
                ((now - at).num_milliseconds() as f64) / 1000.0 <= self.ready_bound_secs()
            }),
        }
    }

    /// How long after its last cycle a link still counts as ready: three intervals plus 30 s
    /// (a long cycle or one backoff step is not an outage).
    pub fn ready_bound_secs(&self) -> f64 {
        self.interval_secs * 3.0 + 30.0
    }
}

/// The registry of every link's live state, shared between the runner and the readers; it also
/// holds the connected endpoints (for `/metrics`: API usage and call timings).
#[derive(Clone, Default)]
pub struct LiveRegistry {
    links: Arc<RwLock<BTreeMap<String, LinkLive>>>,
    endpoints: Arc<RwLock<BTreeMap<String, Arc<EndpointRuntime>>>>,
}

impl std::fmt::Debug for LiveRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveRegistry")
            .field("links", &self.snapshot())
            .finish_non_exhaustive()
    }
}

impl LiveRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces a link's entry.
    pub fn insert(&self, live: LinkLive) {
        if let Ok(mut links) = self.links.write() {
            links.insert(live.link.clone(), live);
        }
    }

    /// Changes one link's entry in place (nothing when the link is unknown).
    pub fn update(&self, link: &str, f: impl FnOnce(&mut LinkLive)) {
        if let Ok(mut links) = self.links.write() {
            if let Some(l) = links.get_mut(link) {
                f(l);
            }
        }
    }

    /// Removes a link (dropped by a reload, or handed over).
    pub fn remove(&self, link: &str) {
        if let Ok(mut links) = self.links.write() {
            links.remove(link);
        }
    }

    /// A copy of every link's state, by name.
    pub fn snapshot(&self) -> Vec<LinkLive> {
        self.links
            .read()
            .map(|l| l.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Publishes a connected endpoint (replacing one of the same name).
    pub fn set_endpoint(&self, endpoint: Arc<EndpointRuntime>) {
        if let Ok(mut eps) = self.endpoints.write() {
            eps.insert(endpoint.name.clone(), endpoint);
        }
    }

    /// The connected endpoints, by name.
    pub fn endpoints(&self) -> Vec<Arc<EndpointRuntime>> {
        self.endpoints
            .read()
            .map(|e| e.values().cloned().collect())
            .unwrap_or_default()
    }

    /// A copy of one link's state.
    pub fn get(&self, link: &str) -> Option<LinkLive> {
        self.links.read().ok().and_then(|l| l.get(link).cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn updates_reach_snapshots() {
        let reg = LiveRegistry::new();
        reg.insert(LinkLive::new("a", LinkState::Starting, 5.0));
        reg.insert(LinkLive::new("b", LinkState::Off, 5.0));
        reg.update("a", |l| {
            l.state = LinkState::Running;
            l.cycles += 1;
        });
        reg.update("missing", |l| l.cycles += 1);
        let snap = reg.snapshot();
        assert_eq!(snap.len(), 2);
        assert_eq!(snap[0].state, LinkState::Running);
        assert_eq!(snap[0].cycles, 1);
        reg.remove("b");
        assert!(reg.get("b").is_none());
    }

    #[test]
    fn lag_is_the_age_of_the_oldest_pending_change() {
        let now = Utc::now();
        let mut l = LinkLive::new("a", LinkState::Running, 5.0);
        assert_eq!(l.lag_secs(now), 0.0);
        l.oldest_pending_at = Some(now - chrono::Duration::seconds(10));
        assert_eq!(l.lag_secs(now), 10.0);
    }

    #[test]
    fn ready_means_a_recent_cycle_unless_off() {
        let now = Utc::now();
        let mut l = LinkLive::new("a", LinkState::Starting, 5.0);
        assert!(!l.is_ready(now), "no cycle yet");
        l.state = LinkState::Running;
        l.last_cycle_at = Some(now - chrono::Duration::seconds(44));
        assert!(l.is_ready(now));
        l.last_cycle_at = Some(now - chrono::Duration::seconds(46));
        assert!(!l.is_ready(now), "past 3 x 5 s + 30 s");
        l.state = LinkState::Off;
        assert!(l.is_ready(now));
    }
}

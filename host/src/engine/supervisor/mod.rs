//! `orderlink run`: one supervisor for every link.
//!
//! One async task per link sleeps on a timer between cycles; each setup and cycle runs on a
//! bounded pool of plain threads (plugin calls block, and never run on an async worker). Every
//! link's live state is published in the [`LiveRegistry`]. A link whose setup or cycle fails is
//! retried with backoff, a crashed one (panic) is restarted with backoff, and a link whose
//! mapping or endpoint is broken stays off while the others run. Stop and reload arrive on a
//! channel ([`Control`]); nothing polls a flag.

pub mod endpoints;
pub mod link_task;
pub mod reload;
pub mod schedule;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use self::endpoints::EndpointTable;
use self::link_task::{LinkTask, SetupEvent};
use self::reload::Recipe;
use crate::config::Config;
use crate::engine::live::{LinkLive, LinkState, LiveRegistry};
use crate::plugins::PluginSet;
use crate::service::retention;
use crate::store::StateStore;

/// Threads that run link setups and cycles at most (the blocking pool's bound).
pub const MAX_WORKERS: usize = 32;

/// How often the supervisor logs its totals (at DEBUG).
pub const HEARTBEAT: Duration = Duration::from_secs(5);

/// What the supervisor is told from outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Finish the cycles in flight and stop.
    Stop,
    /// Read the config and the mappings again; restart the links that changed.
    Reload,
}

/// How a supervisor ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Ended {
    /// Told to stop.
    Stopped,
    /// Every enabled link's config or mapping is broken: nothing can run (the reasons).
    NothingCanRun(Vec<String>),
}

struct Running {
    recipe: Recipe,
    /// The lease epoch the link was started under (0 on a store file).
    epoch: u64,
    stop: watch::Sender<bool>,
    cancel: Arc<AtomicBool>,
    handle: JoinHandle<()>,
}

/// Prunes the audit trail to the config's retention at once, then every
/// [`retention::PRUNE_EVERY`], on the worker pool, until `stop` turns true.
async fn prune_audit(
    store: Arc<dyn StateStore>,
    retention: Duration,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let store = store.clone();
        let pruned =
            tokio::task::spawn_blocking(move || retention::prune(store.as_ref(), retention)).await;
        match pruned {
            Ok(Ok(0)) => {}
            Ok(Ok(n)) => tracing::info!(
                records = n,
                "audit trail pruned to {}",
                retention::describe(retention)
            ),
            Ok(Err(e)) => tracing::warn!("audit pruning failed: {e}"),
            Err(e) => tracing::warn!("audit pruning failed: {e}"),
        }
        tokio::select! {
            _ = tokio::time::sleep(retention::PRUNE_EVERY) => {}
            _ = stop.changed() => return,
        }
    }
}

/// Runs `f` on a thread of its own, not on the worker pool: lease renewals must not wait behind
/// link cycles (a pool busy with slow cycles would let the leases lapse).
async fn off_pool<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, &'static str> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("orderlink-leases".to_owned())
        .spawn(move || {
            let _ = tx.send(f());
        })
        .map_err(|_| "cannot start a thread")?;
    rx.await
        .map_err(|_| "the lease thread ended without an answer")
}

/// The supervisor of every link of one config.
pub struct Supervisor {
    config_path: PathBuf,
    config: Arc<Config>,
    plugins: Arc<PluginSet>,
    endpoints: Arc<EndpointTable>,
    store: Arc<dyn StateStore>,
    live: LiveRegistry,
    links: BTreeMap<String, Running>,
    events_tx: mpsc::UnboundedSender<SetupEvent>,
    events_rx: mpsc::UnboundedReceiver<SetupEvent>,
    /// How often leases are coordinated.
    coordinate_every: Duration,
}

impl Supervisor {
    /// A supervisor for `config` (read from `config_path`, read again on reload) publishing into
    /// `live`, keeping the links' state in `store`.
    pub fn new(
        config_path: PathBuf,
        config: Config,
        plugins: PluginSet,
        live: LiveRegistry,
        store: Arc<dyn StateStore>,
    ) -> Self {
        let (events_tx, events_rx) = mpsc::unbounded_channel();
        let coordinate_every = crate::store::open::coordinate_every(&config);
        Supervisor {
            coordinate_every,
            store,
            config_path,
            config: Arc::new(config),
            plugins: Arc::new(plugins),
            endpoints: Arc::new(EndpointTable::default()),
            live,
            links: BTreeMap::new(),
            events_tx,
            events_rx,
        }
    }

    /// Starts link `name` of the current config, if this host holds its lease; `after` is a
    /// previous task of the same link to wait for first.
    fn start(&mut self, name: &str, after: Option<JoinHandle<()>>) {
        let Some(link) = self.config.links.get(name).cloned() else {
            return;
        };
        let Ok(lease) = self.store.lease(name) else {
            // Another host runs it; the next coordination starts it here if it comes our way.
            self.publish_standby(name);
            return;
        };
        let mut live = LinkLive::new(name, LinkState::Starting, link.poll_interval.as_secs_f64());
        if let Some(previous) = self.live.get(name) {
            live.owner = previous.owner;
        }
        live.epoch = Some(lease.epoch);
        self.live.insert(live);
        let (stop, stop_rx) = watch::channel(false);
        let cancel = Arc::new(AtomicBool::new(false));
        let task = LinkTask {
            config: self.config.clone(),
            link,
            plugins: self.plugins.clone(),
            endpoints: self.endpoints.clone(),
            store: self.store.clone(),
            live: self.live.clone(),
            cancel: cancel.clone(),
            stop: stop_rx,
            events: self.events_tx.clone(),
        };
        let handle = tokio::spawn(async move {
            if let Some(previous) = after {
                let _ = previous.await;
            }
            task.run().await;
        });
        self.links.insert(
            name.to_owned(),
            Running {
                recipe: Recipe::of(&self.config, &self.config.links[name]),
                epoch: lease.epoch,
                stop,
                cancel,
                handle,
            },
        );
    }

    /// Tells a link to stop (a cycle in flight ends after its batch); returns its task.
    fn stop_link(&mut self, name: &str) -> Option<JoinHandle<()>> {
        let r = self.links.remove(name)?;
        r.cancel.store(true, Ordering::SeqCst);
        let _ = r.stop.send(true);
        Some(r.handle)
    }

    /// Shows a link this host does not run (another host holds its lease).
    fn publish_standby(&self, name: &str) {
        let Some(link) = self.config.links.get(name) else {
            return;
        };
        match self.live.get(name) {
            Some(_) => self.live.update(name, |l| {
                l.state = LinkState::Standby;
                l.next_cycle_at = None;
            }),
            None => self.live.insert(LinkLive::new(
                name,
                LinkState::Standby,
                link.poll_interval.as_secs_f64(),
            )),
        }
    }

    /// Takes, renews and gives up leases through the store (on a store file every link is this
    /// host's), then starts the links this host now holds and stops those it lost.
    async fn coordinate(&mut self) {
        let weights: Vec<(String, u32)> = self
            .config
            .links
            .values()
            .filter(|l| l.enabled)
            .map(|l| (l.name.clone(), l.weight))
            .collect();
        let store = self.store.clone();
        let result = off_pool(move || {
            let held = store.coordinate(&weights, false)?;
            let owners = store.owners()?;
            Ok::<_, crate::store::StoreError>((held, owners))
        })
        .await;
        let (held, owners) = match result {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => {
                tracing::warn!(
                    "cannot coordinate leases ({e}); links keep running only while their leases last"
                );
                return;
            }
            Err(e) => {
                tracing::warn!("cannot coordinate leases: {e}");
                return;
            }
        };
        let held: BTreeMap<String, u64> = held.into_iter().map(|l| (l.link, l.epoch)).collect();
        let running: Vec<(String, u64)> = self
            .links
            .iter()
            .map(|(n, r)| (n.clone(), r.epoch))
            .collect();
        for (name, epoch) in running {
            match held.get(&name) {
                None => {
                    tracing::info!(link = %name, "lease gone to another host: the link stops here");
                    self.stop_link(&name);
                    self.publish_standby(&name);
                }
                Some(now) if *now != epoch => {
                    tracing::info!(link = %name, epoch = now, "lease taken again: the link restarts");
                    let previous = self.stop_link(&name);
                    self.start(&name, previous);
                }
                Some(_) => {}
            }
        }
        for name in held.keys() {
            let enabled = self.config.links.get(name).is_some_and(|l| l.enabled);
            if enabled && !self.links.contains_key(name) {
                tracing::info!(link = %name, epoch = held[name], "lease taken: the link starts here");
                self.start(name, None);
            }
        }
        for l in self.config.links.values().filter(|l| l.enabled) {
            if !self.links.contains_key(&l.name) {
                self.publish_standby(&l.name);
            }
            let owner = owners.get(&l.name);
            self.live.update(&l.name, |live| {
                live.owner = owner.and_then(|o| o.host.clone());
                live.epoch = owner.map(|o| o.epoch).or(held.get(&l.name).copied());
            });
        }
    }

    /// When to coordinate leases next: every third of a lease, or as soon as a lease another
    /// host holds lapses (a host that died: its links are taken over within one lease).
    fn next_coordination(&self) -> tokio::time::Instant {
        let wait = self
            .store
            .next_lease_change_in()
            .map_or(self.coordinate_every, |d| d.min(self.coordinate_every));
        tokio::time::Instant::now() + wait
    }

    fn publish_off_links(&self) {
        for l in self.config.links.values().filter(|l| !l.enabled) {
            self.live.insert(LinkLive::new(
                &l.name,
                LinkState::Off,
                l.poll_interval.as_secs_f64(),
            ));
        }
    }

    /// Reads the config again and applies it: changed links restart, the others keep going. A
    /// config that does not pass its checks changes nothing.
    fn reload(&mut self) {
        tracing::info!(config = %self.config_path.display(), "reloading the config");
        let new = match Config::load(&self.config_path) {
            Ok(c) => c,
            Err(e) => {
                tracing::error!("reload refused, the running config stays: {e}");
                return;
            }
        };
        if let Some(why) = reload::refusal(&self.config, &new) {
            tracing::error!("reload refused, the running config stays: {why}");
            return;
        }
        if new.plugin_dirs != self.config.plugin_dirs
            || new.plugin_files != self.config.plugin_files
        {
            tracing::warn!("the plugin settings changed: they take effect at the next start");
        }
        let old: BTreeMap<String, Recipe> = self
            .links
            .iter()
            .map(|(n, r)| (n.clone(), r.recipe.clone()))
            .chain(
                // Links that were off count as present, so that switching one on starts it.
                self.config
                    .links
                    .values()
                    .filter(|l| !l.enabled)
                    .map(|l| (l.name.clone(), Recipe::of(&self.config, l))),
            )
            .collect();
        let new = Arc::new(new);
        let plan = reload::plan(&old, &reload::recipes(&new));
        self.config = new;
        self.endpoints.retain_current(&self.config);
        for name in &plan.stop {
            self.stop_link(name);
            self.live.remove(name);
        }
        for name in &plan.restart {
            let previous = self.stop_link(name);
            self.start(name, previous);
        }
        for name in &plan.start {
            self.start(name, None);
        }
        // Links removed from the config entirely leave the registry.
        for l in self.live.snapshot() {
            if !self.config.links.contains_key(&l.link) {
                self.live.remove(&l.link);
            }
        }
        self.publish_off_links();
        tracing::info!(
            restarted = plan.restart.len(),
            started = plan.start.len(),
            stopped = plan.stop.len(),
            unchanged = plan.keep.len(),
            "config reloaded: {} restarted, {} started, {} stopped, {} unchanged",
            plan.restart.len(),
            plan.start.len(),
            plan.stop.len(),
            plan.keep.len()
        );
    }

    /// Runs every enabled link until told to stop. Must run inside a tokio runtime whose
    /// blocking pool is the worker pool.
    pub async fn run(mut self, mut control: mpsc::UnboundedReceiver<Control>) -> Ended {
        let (stop_pruner, pruner_stop) = watch::channel(false);
        let pruner = tokio::spawn(prune_audit(
            self.store.clone(),
            self.config.audit_retention,
            pruner_stop,
        ));
        self.publish_off_links();
        // Which links are this host's: on a store file all of them; on a shared store, the
        // share the hosts' leases give it (coordinated again every third of a lease).
        self.coordinate().await;
        tracing::info!(
            links = self.links.len(),
            "orderlink running {} links; SIGTERM or Ctrl-C stops, SIGHUP reloads the config",
            self.links.len()
        );
        let mut next_coordination = self.next_coordination();
        // Until one link is up: if every link turns out broken, nothing can run.
        let mut starting = true;
        let mut broken: BTreeMap<String, String> = BTreeMap::new();
        let mut heartbeat = tokio::time::interval(HEARTBEAT);
        let ended = loop {
            tokio::select! {
                _ = heartbeat.tick() => {
                    let snap = self.live.snapshot();
                    let cycles: u64 = snap.iter().map(|l| l.cycles).sum();
                    let failing = snap.iter().filter(|l| l.state == LinkState::Failed).count();
                    tracing::debug!(cycles, links = snap.len(), failing, "heartbeat");
                },
                _ = tokio::time::sleep_until(next_coordination) => {
                    self.coordinate().await;
                    next_coordination = self.next_coordination();
                }
                c = control.recv() => match c {
                    Some(Control::Reload) => {
                        starting = false;
                        self.reload();
                    }
                    Some(Control::Stop) | None => break Ended::Stopped,
                },
                Some(e) = self.events_rx.recv() => match e {
                    SetupEvent::Ready(_) => starting = false,
                    SetupEvent::LeaseLost(name) => {
                        self.links.remove(&name);
                    }
                    SetupEvent::BadInput(name, why) => {
                        broken.insert(name.clone(), format!("link `{name}`: {why}"));
                        if starting && broken.len() == self.links.len() {
                            break Ended::NothingCanRun(broken.into_values().collect());
                        }
                    }
                },
            }
        };
        tracing::info!("stopping: finishing the batches in flight");
        let names: Vec<String> = self.links.keys().cloned().collect();
        let handles: Vec<JoinHandle<()>> = names.iter().filter_map(|n| self.stop_link(n)).collect();
        let _ = stop_pruner.send(true);
        for h in handles.into_iter().chain([pruner]) {
            let _ = h.await;
        }
        // The batches in flight are done: hand every lease back at once (a shared store's other
        // hosts take the links at their next coordination).
        let store = self.store.clone();
        match off_pool(move || store.coordinate(&[], true)).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::warn!("cannot hand the leases back ({e}); they lapse instead"),
            Err(e) => tracing::warn!("cannot hand the leases back: {e}"),
        }
        let snap = self.live.snapshot();
        let cycles: u64 = snap.iter().map(|l| l.cycles).sum();
        let worst = snap
            .iter()
            .map(|l| l.worst_start_delay_ms)
            .max()
            .unwrap_or(0);
        tracing::info!(
            cycles,
            worst_start_delay_ms = worst,
            "stopped after {cycles} cycles; the latest cycle started {worst} ms behind its schedule"
        );
        ended
    }
}

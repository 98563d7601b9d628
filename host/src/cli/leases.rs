//! Leases for one-off commands on a store shared by several hosts: `sync --once` takes the
//! leases of the links it syncs (waiting up to one lease period for those a stopped host left)
//! and renews them while it runs; `resync` and `reconcile --fix` take their one link's lease.
//! On a store file none of this applies.

use std::collections::HashMap;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::thread::JoinHandle;

use super::BadInput;
use crate::config::{Config, Link};
use crate::lease::renew_every;
use crate::store::{Lease, StateStore};

/// For a command that writes one link's state (`resync`, `reconcile --fix`): on a shared store,
/// takes the link's lease for the command's run; refused while a host runs the link (as a
/// store file's lock refuses while `run` holds it). Give it back with [`release_leases`].
pub fn hold_link(config: &Config, store: &dyn StateStore, link: &Link) -> anyhow::Result<()> {
    if config.shared.is_none() {
        return Ok(());
    }
    let held = store.coordinate(&[(link.name.clone(), link.weight)], false)?;
    if held.iter().any(|l| l.link == link.name) {
        return Ok(());
    }
    let owner = store
        .owners()?
        .remove(&link.name)
        .and_then(|o| o.host.map(|h| format!("{h} (lease epoch {})", o.epoch)))
        .unwrap_or_else(|| "another host".to_owned());
    store.coordinate(&[], true)?;
    Err(BadInput(format!(
        "link `{}` is run by {owner}: stop that host's `orderlink run` (or wait for it to hand the link over), then try again",
        link.name
    ))
    .into())
}

/// Gives back every lease a command took (nothing on a store file).
pub fn release_leases(config: &Config, store: &dyn StateStore) -> anyhow::Result<()> {
    if config.shared.is_some() {
        store.coordinate(&[], true)?;
    }
    Ok(())
}

/// The leases `sync --once` holds, renewed in the background until dropped (then given back).
pub struct SyncLeases {
    /// The leases held, by link.
    pub held: HashMap<String, Lease>,
    store: Arc<dyn StateStore>,
    renewer: Option<(mpsc::Sender<()>, JoinHandle<()>)>,
}

impl SyncLeases {
    /// Takes the leases of `links` (name, weight): a link still leased to a host that stopped
    /// comes free within one lease period, so this waits that long at most; a link a live host
    /// keeps renewing stays with it (and is not in `held`).
    pub fn take(
        config: &Config,
        store: Arc<dyn StateStore>,
        links: Vec<(String, u32)>,
    ) -> anyhow::Result<SyncLeases> {
        let period = config.shared.as_ref().map(|s| s.lease).unwrap_or_default();
        let every = renew_every(period);
        let started = std::time::Instant::now();
        let leases = loop {
            let leases = store.coordinate(&links, false)?;
            if leases.len() == links.len() || started.elapsed() > period {
                break leases;
            }
            std::thread::sleep(every);
        };
        let (stop, stopped) = mpsc::channel::<()>();
        let renewing = store.clone();
        let handle = std::thread::spawn(move || {
            while stopped.recv_timeout(every) == Err(RecvTimeoutError::Timeout) {
                if let Err(e) = renewing.coordinate(&links, false) {
                    tracing::warn!("cannot renew the leases: {e}");
                }
            }
        });
        Ok(SyncLeases {
            held: leases.into_iter().map(|l| (l.link.clone(), l)).collect(),
            store,
            renewer: Some((stop, handle)),
        })
    }
}

impl Drop for SyncLeases {
    fn drop(&mut self) {
        if let Some((stop, handle)) = self.renewer.take() {
            drop(stop);
            let _ = handle.join();
        }
        if let Err(e) = self.store.coordinate(&[], true) {
            tracing::warn!("cannot hand the leases back ({e}); they lapse instead");
        }
    }
}

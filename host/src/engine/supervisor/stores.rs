//! Store connections for the cycles in flight: one per concurrent cycle at most, reused, opened
//! on demand (so a store that cannot be opened now fails the cycle, which is retried, instead of
//! killing the link).

use std::path::PathBuf;
use std::sync::Mutex;

use crate::store::{Store, StoreError};

/// A small pool of open stores.
pub struct StorePool {
    path: PathBuf,
    idle: Mutex<Vec<Store>>,
    keep: usize,
}

impl StorePool {
    /// A pool for the store at `path`, keeping up to `keep` idle connections.
    pub fn new(path: PathBuf, keep: usize) -> Self {
        StorePool {
            path,
            idle: Mutex::new(Vec::new()),
            keep,
        }
    }

    /// An open store: an idle one, or a new connection.
    pub fn take(&self) -> Result<Store, StoreError> {
        let idle = self.idle.lock().ok().and_then(|mut v| v.pop());
        match idle {
            Some(s) => Ok(s),
            None => Store::open(&self.path),
        }
    }

    /// Gives a store back for reuse.
    pub fn give(&self, store: Store) {
        if let Ok(mut v) = self.idle.lock() {
            if v.len() < self.keep {
                v.push(store);
            }
        }
    }
}

//! The simulator's shared state: settings, the shop, fault settings, the rate limit and the
//! per-endpoint request counters.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, RwLock};

use crate::faults::{FaultState, Faults, RateLimit};
use crate::shop::Shop;

/// How a simulator starts.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// The key with read and write rights.
    pub api_key: String,
    /// A key with read rights only (writes get 403).
    pub readonly_key: Option<String>,
    /// The API versions served (`/api/admin/v{N}`).
    pub versions: Vec<u32>,
    /// The shop login (order ids are `{shop}-{serial}`).
    pub shop: String,
    /// The seed of the orders made at start.
    pub seed: u64,
    /// How many orders to make at start.
    pub orders: u64,
    /// Requests a second before 429 (0 = no limit).
    pub rate_limit: u32,
    /// Fault rates at start.
    pub faults: Faults,
    /// The seed of the random source that draws faults.
    pub fault_seed: u64,
    /// Ignore `ordersBy` entirely (names unchecked) and answer searches in an order unrelated
    /// to any field, as a shop that honours no sort may.
    pub ignore_sort: bool,
    /// Treat `ordersDateEnd` as exclusive (dates before it), as a shop may.
    pub exclusive_date_end: bool,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            api_key: String::new(),
            readonly_key: None,
            versions: vec![6, 7, 8],
            shop: "shop1".into(),
            seed: 1,
            orders: 0,
            rate_limit: 0,
            faults: Faults::default(),
            fault_seed: 0,
            ignore_sort: false,
            exclusive_date_end: false,
        }
    }
}

/// Everything the handlers share.
#[derive(Debug)]
pub struct AppState {
    /// The settings the simulator started with.
    pub config: SimConfig,
    shop: Mutex<Shop>,
    faults: Mutex<FaultState>,
    limit: RwLock<RateLimit>,
    counters: Mutex<BTreeMap<String, u64>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl AppState {
    /// State for a configuration, with its start orders seeded.
    pub fn new(config: SimConfig) -> Self {
        let mut shop = Shop::new(config.shop.clone());
        if config.orders > 0 {
            shop.seed(
                config.seed,
                config.orders,
                &config.shop,
                crate::clock::now(),
            );
        }
        AppState {
            shop: Mutex::new(shop),
            faults: Mutex::new(FaultState::new(config.faults.clone(), config.fault_seed)),
            limit: RwLock::new(RateLimit::new(config.rate_limit)),
            counters: Mutex::new(BTreeMap::new()),
            config,
        }
    }

    /// The shop, locked.
    pub fn shop(&self) -> MutexGuard<'_, Shop> {
        lock(&self.shop)
    }

    /// The fault state, locked.
    pub fn faults(&self) -> MutexGuard<'_, FaultState> {
        lock(&self.faults)
    }

    /// `None` if a request may go ahead under the rate limit, else the `Retry-After` seconds.
    pub fn rate_check(&self) -> Option<u64> {
        self.limit
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .check()
    }

    /// The rate limit (requests a second, 0 = none).
    pub fn rate_limit(&self) -> u32 {
        self.limit
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .per_second()
    }

    /// Replaces the rate limit.
    pub fn set_rate_limit(&self, per_second: u32) {
        *self
            .limit
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = RateLimit::new(per_second);
    }

    /// Counts one request to an endpoint (`"POST /orders/orders/search"`).
    pub fn count(&self, endpoint: String) {
        *lock(&self.counters).entry(endpoint).or_insert(0) += 1;
    }

    /// Requests by endpoint so far.
    pub fn counters(&self) -> BTreeMap<String, u64> {
        lock(&self.counters).clone()
    }

    /// Forgets the counts.
    pub fn reset_counters(&self) {
        lock(&self.counters).clear();
    }
}

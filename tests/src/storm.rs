//! The fault storm: both simulators faulted (5xx, 429, answers slower than the connectors'
//! timeout, dropped connections, malformed bodies, per-order failures in a batch) while
//! `orderlink run` keeps a link in one direction and statuses keep changing; then the faults stop
//! and the link settles. Every changed order must then correspond under the mapping, with the
//! latest change kept, or be explained by `history`. Used by the in-suite test (small) and the
//! `fault_storm` benchmark (thousands of orders), which prints the figures.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

use crate::sims::{spawn_run, terminate};
use crate::sync_env::{SyncEnv, MAPPING};

/// ERP `Potwierdzenie` values the storm sets, and the shop status each maps to.
const ERP_VALUES: [&str; 3] = ["Niepotwierdzony", "Potwierdzony", "Zaakceptowany"];
/// Shop statuses the storm sets.
const SHOP_VALUES: [&str; 3] = ["new", "on_order", "packed"];

/// Whether a shop status and an ERP status correspond under [`MAPPING`].
pub fn corresponds(shop: &str, erp: &str) -> bool {
    let to_shop = |e: &str| {
        ERP_VALUES
            .iter()
            .position(|v| *v == e)
            .map(|i| SHOP_VALUES[i])
    };
    let to_erp = |s: &str| match s {
        "packed_ready" => Some("Zaakceptowany"),
        _ => SHOP_VALUES
            .iter()
            .position(|v| *v == s)
            .map(|i| ERP_VALUES[i]),
    };
    to_shop(erp) == Some(shop) || to_erp(shop) == Some(erp)
}

/// The link's direction in a storm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// ERP changes into the shop.
    ToShop,
    /// Shop changes into the ERP.
    ToErp,
    /// Both ways.
    Both,
}

impl Flow {
    fn link_body(self) -> &'static str {
        match self {
            Flow::ToShop => "direction = \"to_shop\"\nscope = \"unfulfilled\"\n",
            Flow::ToErp => "direction = \"to_erp\"\n",
            Flow::Both => "direction = \"both\"\nscope = \"unfulfilled\"\n",
        }
    }

    /// The config spelling.
    pub fn name(self) -> &'static str {
        match self {
            Flow::ToShop => "to_shop",
            Flow::ToErp => "to_erp",
            Flow::Both => "both",
        }
    }
}

/// What a storm does.
#[derive(Debug, Clone)]
pub struct Storm {
    /// Linked orders seeded in both simulators.
    pub orders: usize,
    /// The link's direction.
    pub flow: Flow,
    /// The share of API requests (and of orders in a shop batch) that fail, 0 to 1.
    pub fault_rate: f64,
    /// Rounds of changes while the link runs.
    pub rounds: usize,
    /// Orders changed per round.
    pub changes_per_round: usize,
    /// Pause between rounds.
    pub round_gap: Duration,
    /// How long the faults stay on after the last change.
    pub tail: Duration,
    /// How long the link may take to settle once the faults stop.
    pub settle_timeout: Duration,
    /// Random seed (which orders change, to what).
    pub seed: u64,
}

/// What a storm found.
#[derive(Debug, Clone, Default)]
pub struct StormReport {
    /// Status changes made while the link ran.
    pub changes: usize,
    /// Distinct orders changed.
    pub orders_changed: usize,
    /// API requests served while the faults were on (shop, ERP).
    pub requests_in_storm: (u64, u64),
    /// API requests served from the first change until settled (shop, ERP).
    pub requests_total: (u64, u64),
    /// Faults expected from the requests served under faults at the configured rate.
    pub faults_expected: u64,
    /// The least requests the changes need: per changed order, one feed read, one target read
    /// and one write, each batched 100 to a request.
    pub lower_bound: u64,
    /// How long the link took to settle once the faults stopped (`None`: not within the timeout).
    pub settle: Option<Duration>,
    /// Orders whose target holds something else than the latest change, unexplained.
    pub wrong: Vec<String>,
    /// Orders not as expected, but explained by their history (conflicts, dead letters).
    pub explained: Vec<String>,
    /// `orderlink run` processes killed with SIGKILL during the rounds.
    pub kills: usize,
    /// The exit code of the final, clean run (stopped with SIGTERM).
    pub final_exit: Option<i32>,
    /// The store's soundness after the storm (`ok` when sound, see [`SyncEnv::store_check`]).
    pub store_check: String,
}

fn zo(env: &SyncEnv, key: &str) -> Value {
    env.sims.erp.get(&format!("/_sim/documents/by-obcy/{key}"))
}

/// Keys of orders a storm may change: the ZO is open and both statuses are among the values the
/// storm sets (so nothing is protected or out of scope).
fn open_keys(env: &SyncEnv, n: usize) -> Vec<String> {
    (1..=n)
        .map(|k| k.to_string())
        .filter(|k| {
            let z = zo(env, k);
            let erp = z.get("Potwierdzenie").and_then(Value::as_str).unwrap_or("");
            z.get("Zrealizowane").and_then(Value::as_bool) == Some(false)
                && !matches!(
                    z.get("Stan").and_then(Value::as_str),
                    Some("Anulowany" | "Zablokowany")
                )
                && ERP_VALUES.contains(&erp)
                && [&SHOP_VALUES[..], &["packed_ready"]]
                    .concat()
                    .contains(&env.sims.shop_status(k).as_str())
        })
        .collect()
}

fn faults(env: &SyncEnv, rate: f64) {
    env.sims.shop.post(
        "/_sim/faults",
        json!({
            "error_rate": rate * 0.3, "too_many_rate": rate * 0.2, "retry_after_secs": 1,
            "slow_rate": rate * 0.1, "slow_ms": 1500, "drop_rate": rate * 0.15,
            "malformed_rate": rate * 0.15, "batch_fail_rate": rate,
        }),
    );
    env.sims.erp.post(
        "/_sim/faults",
        json!({
            "error_rate": rate * 0.4, "slow_rate": rate * 0.1, "slow_ms": 1500,
            "drop_rate": rate * 0.25, "malformed_rate": rate * 0.25,
        }),
    );
}

/// The last change made to an order: the side and the value.
type LastChange = BTreeMap<String, (bool, &'static str)>;

/// Whether an order is as it should be: in sync, and the side changed last keeps its value.
fn as_expected(env: &SyncEnv, key: &str, last: &(bool, &str)) -> bool {
    let (shop, erp) = (env.sims.shop_status(key), env.sims.erp_status(key));
    let (on_shop, value) = *last;
    let kept = if on_shop { shop == value } else { erp == value };
    kept && corresponds(&shop, &erp)
}

impl Storm {
    /// Runs the storm and reports what it found.
    pub fn run(&self) -> StormReport {
        self.run_with_kills(0)
    }

    /// Runs the storm, and during its rounds kills `orderlink run` with SIGKILL `kills` times at
    /// seeded random moments (restarting it each time); the run that follows the last kill is
    /// the clean one the link settles under.
    pub fn run_with_kills(&self, kills: usize) -> StormReport {
        let env = SyncEnv::with_endpoint_lines(
            self.orders,
            self.flow.link_body(),
            MAPPING,
            "timeout_secs = 1",
        );
        // The first syncs read every order with the storm's short connector timeout; on a loaded
        // machine one may time out before any fault is on: it resumes from its cursor.
        for _ in 0..2 {
            env.sync_once_retrying(5);
        }
        let keys = open_keys(&env, self.orders);
        assert!(
            keys.len() >= self.changes_per_round,
            "too few open orders: {}",
            keys.len()
        );
        let mut rng = StdRng::seed_from_u64(self.seed);
        let mut last: LastChange = BTreeMap::new();
        let mut report = StormReport::default();
        let base = env.sims.request_counts();
        faults(&env, self.fault_rate);
        let mut run = spawn_run(env.dir.path(), &env.config, &SyncEnv::secrets());
        for _ in 0..self.rounds {
            for _ in 0..self.changes_per_round {
                let key = keys[rng.gen_range(0..keys.len())].clone();
                // With `both`, each order changes on one side only (its first), so a change
                // never races a write into the same side (no compare-and-set to catch it).
                let on_shop = match (self.flow, last.get(&key)) {
                    (Flow::ToShop, _) => false,
                    (Flow::ToErp, _) => true,
                    (Flow::Both, Some((side, _))) => *side,
                    (Flow::Both, None) => rng.gen_bool(0.5),
                };
                // A change is to a value other than the current one (else it is no change).
                let values = if on_shop { SHOP_VALUES } else { ERP_VALUES };
                let now = if on_shop {
                    env.sims.shop_status(&key)
                } else {
                    env.sims.erp_status(&key)
                };
                let choices: Vec<&'static str> = values.into_iter().filter(|v| *v != now).collect();
                let value = choices[rng.gen_range(0..choices.len())];
                if on_shop {
                    env.sims.set_shop_status(&key, value);
                } else {
                    env.sims.set_erp_status(&key, value);
                }
                last.insert(key, (on_shop, value));
                report.changes += 1;
            }
            // The kills due this round, each at a random moment of the gap.
            let due = kills
                .saturating_sub(report.kills)
                .min(kills.div_ceil(self.rounds.max(1)));
            let mut left = self.round_gap;
            for _ in 0..due {
                let at = left.mul_f64(rng.gen_range(0.1..0.9) / due as f64);
                std::thread::sleep(at);
                left = left.saturating_sub(at);
                let _ = run.kill();
                let _ = run.wait();
                report.kills += 1;
                run = spawn_run(env.dir.path(), &env.config, &SyncEnv::secrets());
            }
            std::thread::sleep(left);
        }
        std::thread::sleep(self.tail);
        let stormy = env.sims.request_counts();
        faults(&env, 0.0);
        report.requests_in_storm = (stormy.0 - base.0, stormy.1 - base.1);
        report.faults_expected = ((report.requests_in_storm.0 + report.requests_in_storm.1) as f64
            * self.fault_rate)
            .round() as u64;
        report.orders_changed = last.len();
        let batches = (report.orders_changed as u64).div_ceil(100);
        let sides = if self.flow == Flow::Both { 2 } else { 1 };
        report.lower_bound = 3 * batches.max(1) * sides;
        let calm = Instant::now();
        // Settled: every changed order as expected (checked again a moment later).
        let settled = |env: &SyncEnv| last.iter().all(|(k, l)| as_expected(env, k, l));
        while calm.elapsed() < self.settle_timeout {
            if settled(&env) {
                std::thread::sleep(Duration::from_millis(1500));
                if settled(&env) {
                    report.settle = Some(calm.elapsed());
                    break;
                }
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        terminate(&run);
        report.final_exit = run.wait().ok().and_then(|s| s.code());
        report.store_check = env.store_check();
        let end = env.sims.request_counts();
        report.requests_total = (end.0 - base.0, end.1 - base.1);
        for (k, l) in &last {
            if as_expected(&env, k, l) {
                continue;
            }
            let history = env.json(&["history", "--order", k]);
            let text = history.to_string();
            let line = format!(
                "{k}: shop {} erp {}, last change {} := {}; history {text}",
                env.sims.shop_status(k),
                env.sims.erp_status(k),
                if l.0 { "shop" } else { "erp" },
                l.1
            );
            if text.contains("conflict") || text.contains("dead letter") {
                report.explained.push(line);
            } else {
                report.wrong.push(line);
            }
        }
        report
    }
}

impl StormReport {
    /// The figures, one line each.
    pub fn figures(&self, flow: Flow) -> String {
        let total = self.requests_total.0 + self.requests_total.1;
        format!(
            "direction {}: {} changes on {} orders; {} faults expected ({} shop + {} ERP requests under faults); \
             {} requests until settled ({:.2} per change, lower bound {}, {:.1}x); settled in {}; \
             {} wrong or lost, {} explained by history",
            flow.name(),
            self.changes,
            self.orders_changed,
            self.faults_expected,
            self.requests_in_storm.0,
            self.requests_in_storm.1,
            total,
            total as f64 / self.changes.max(1) as f64,
            self.lower_bound,
            total as f64 / self.lower_bound.max(1) as f64,
            self.settle
                .map(|d| format!("{:.1} s", d.as_secs_f64()))
                .unwrap_or_else(|| "NOT within the timeout".into()),
            self.wrong.len(),
            self.explained.len(),
        )
    }
}

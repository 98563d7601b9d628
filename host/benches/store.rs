//! What the SQLite state store costs per applied write, and how long `orderlink status` takes on
//! a big store.
//!
//! 1. One link on the memory plugin (loaded from its plugin file, as `run` loads plugins) whose
//!    ERP holds `ORDERS` orders (default 10,000) the shop does not match: the engine's own
//!    cycles (`run_cycle`: feed pages decided and committed, the outbox flushed in batches,
//!    outcomes recorded) until every write is applied, against a `StateStore` wrapper that adds
//!    up the CPU time of this thread inside store calls (`CLOCK_THREAD_CPUTIME_ID`; SQLite works
//!    on the calling thread). Printed per 10,000 applied writes: store CPU, its share of the
//!    cycles' CPU, and transactions committed.
//! 2. fsyncs: the same run in a child process under `strace -f -c -e trace=fsync,fdatasync`,
//!    minus a child that only sets up (store created, migrations, plugins) and stops; both end
//!    with `exit` before the store is closed, so the close's final checkpoint is not counted.
//!    Without strace the figure is skipped, and says so.
//! 3. `orderlink status` (the binary built with this bench) on a store of 1,000 links and
//!    100,000 dead letters: the median wall time of 5 runs, and of the store query it makes.
//!
//! `cargo bench -p orderlink --bench store [-- ORDERS]`

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use orderlink::config::Config;
use orderlink::domain::Side;
use orderlink::engine::{connect_endpoints, plan_link, run_cycle};
use orderlink::plugins::PluginSet;
use orderlink::store::sqlite::OpenMode;
use orderlink::store::*;
use orderlink_plugin_api::testkit::artifacts;

/// CPU time of the calling thread.
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we own.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// A store that adds up the thread CPU time spent inside the store it wraps, in all and by
/// method.
struct Timed {
    inner: SqliteStore,
    cpu_ns: AtomicU64,
    calls: AtomicU64,
    by_method: Mutex<BTreeMap<&'static str, (Duration, u64)>>,
}

impl Timed {
    fn new(inner: SqliteStore) -> Self {
        Timed {
            inner,
            cpu_ns: AtomicU64::new(0),
            calls: AtomicU64::new(0),
            by_method: Mutex::new(BTreeMap::new()),
        }
    }

    fn time<T>(&self, method: &'static str, f: impl FnOnce(&SqliteStore) -> T) -> T {
        let t = thread_cpu();
        let out = f(&self.inner);
        let spent = thread_cpu().saturating_sub(t);
        self.cpu_ns
            .fetch_add(spent.as_nanos() as u64, Ordering::Relaxed);
        self.calls.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut m) = self.by_method.lock() {
            let e = m.entry(method).or_default();
            e.0 += spent;
            e.1 += 1;
        }
        out
    }
}

type R<T> = Result<T, StoreError>;

impl StateStore for Timed {
    fn lease(&self, link: &str) -> R<Lease> {
        self.time("lease", |s| s.lease(link))
    }
    fn cursor(&self, link: &str, side: Side) -> R<Option<String>> {
        self.time("cursor", |s| s.cursor(link, side))
    }
    fn orders(&self, link: &str, keys: &[String]) -> R<HashMap<String, OrderRow>> {
        self.time("orders", |s| s.orders(link, keys))
    }
    fn pending_into(
        &self,
        link: &str,
        target: Side,
        keys: &[String],
    ) -> R<HashMap<String, OutboxEntry>> {
        self.time("pending_into", |s| s.pending_into(link, target, keys))
    }
    fn last_decisions(
        &self,
        link: &str,
        target: Side,
        keys: &[String],
    ) -> R<HashMap<String, AuditEntry>> {
        self.time("last_decisions", |s| s.last_decisions(link, target, keys))
    }
    fn commit_page(&self, lease: &Lease, page: &PageCommit<'_>) -> R<()> {
        self.time("commit_page", |s| s.commit_page(lease, page))
    }
    fn due_outbox(&self, link: &str, target: Side, limit: u32) -> R<Vec<OutboxEntry>> {
        self.time("due_outbox", |s| s.due_outbox(link, target, limit))
    }
    fn record_outcomes(&self, lease: &Lease, outcomes: &[OutboxUpdate]) -> R<()> {
        self.time("record_outcomes", |s| s.record_outcomes(lease, outcomes))
    }
    fn record_cycle(&self, lease: &Lease, cycle: &CycleRecord) -> R<()> {
        self.time("record_cycle", |s| s.record_cycle(lease, cycle))
    }
    fn checkpoint(&self) -> R<()> {
        self.time("checkpoint", |s| s.checkpoint())
    }
    fn pending_summary(&self, link: &str) -> R<(u64, Option<String>)> {
        self.time("pending_summary", |s| s.pending_summary(link))
    }
    fn stats(&self, links: &[String]) -> R<HashMap<String, LinkStats>> {
        self.time("stats", |s| s.stats(links))
    }
    fn dead_letters(&self, link: Option<&str>) -> R<Vec<DeadLetter>> {
        self.time("dead_letters", |s| s.dead_letters(link))
    }
    fn retry_dead_letters(&self, ids: &[i64]) -> R<Vec<i64>> {
        self.time("retry_dead_letters", |s| s.retry_dead_letters(ids))
    }
    fn discard_dead_letters(&self, ids: &[i64]) -> R<Vec<i64>> {
        self.time("discard_dead_letters", |s| s.discard_dead_letters(ids))
    }
    fn history(&self, key: &str, link: Option<&str>) -> R<Vec<AuditEntry>> {
        self.time("history", |s| s.history(key, link))
    }
    fn known_order(&self, key: &str, link: Option<&str>) -> R<Vec<KnownOrder>> {
        self.time("known_order", |s| s.known_order(key, link))
    }
    fn known_keys(&self, link: &str) -> R<Vec<String>> {
        self.time("known_keys", |s| s.known_keys(link))
    }
    fn outbox_list(&self, link: Option<&str>, key: Option<&str>) -> R<Vec<PendingWrite>> {
        self.time("outbox_list", |s| s.outbox_list(link, key))
    }
    fn queue_writes(
        &self,
        lease: &Lease,
        outbox: &[OutboxEntry],
        drop_pending: &[(Side, String)],
        audit: &[AuditEntry],
    ) -> R<()> {
        self.time("queue_writes", |s| {
            s.queue_writes(lease, outbox, drop_pending, audit)
        })
    }
    fn commit_orders(&self, lease: &Lease, page: &PageCommit<'_>) -> R<()> {
        self.time("commit_orders", |s| s.commit_orders(lease, page))
    }
    fn record_audit(&self, lease: &Lease, audit: &[AuditEntry]) -> R<()> {
        self.time("record_audit", |s| s.record_audit(lease, audit))
    }
    fn prune_audit(&self, before: &str) -> R<usize> {
        self.time("prune_audit", |s| s.prune_audit(before))
    }
    fn oldest_audit(&self) -> R<Option<String>> {
        self.time("oldest_audit", |s| s.oldest_audit())
    }
    fn checkpoint_at_or_before(&self, link: &str, side: Side, at_ms: i64) -> R<Option<Checkpoint>> {
        self.time("checkpoint_at_or_before", |s| {
            s.checkpoint_at_or_before(link, side, at_ms)
        })
    }
    fn first_checkpoint(&self, link: &str, side: Side) -> R<Option<Checkpoint>> {
        self.time("first_checkpoint", |s| s.first_checkpoint(link, side))
    }
    fn cursor_saved_at(&self, link: &str, side: Side) -> R<Option<String>> {
        self.time("cursor_saved_at", |s| s.cursor_saved_at(link, side))
    }
    fn set_cursor(&self, lease: &Lease, side: Side, cursor: Option<&str>) -> R<()> {
        self.time("set_cursor", |s| s.set_cursor(lease, side, cursor))
    }
}

const MAPPING: &str = "[to_shop]\nnew = \"new\"\npacked = \"packed\"\nsent = \"sent\"\n\
    delivered = \"delivered\"\ncancelled = \"cancelled\"\n\n[to_erp]\nnew = \"new\"\n";

/// Endpoints and links `l0000`.. on the memory plugin: each ERP holds `orders` orders `packed`,
/// each shop the same orders `new` (so every order needs one write into the shop).
fn write_config(dir: &Path, links: usize, orders: usize) -> PathBuf {
    let seed = |status: &str| {
        (1..=orders)
            .map(|k| format!("{{ key = \"{k}\", status = \"{status}\" }}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (shop, erp) = (seed("new"), seed("packed"));
    let mut text = format!(
        "[store]\npath = \"{}\"\n\n[plugins]\nfiles = [\"{}\"]\n",
        dir.join("state.sqlite").display(),
        artifacts::cdylib("orderlink_memory").display()
    );
    for i in 0..links {
        text.push_str(&format!(
            "\n[endpoints.s{i:04}]\nconnector = \"memory-shop\"\n[endpoints.s{i:04}.config]\norders = [{shop}]\n\
             \n[endpoints.e{i:04}]\nconnector = \"memory-erp\"\n[endpoints.e{i:04}.config]\norders = [{erp}]\n\
             \n[links.l{i:04}]\nshop = \"s{i:04}\"\nerp = \"e{i:04}\"\ndirection = \"to_shop\"\nscope = \"recent\"\n\
             recent_days = 30\nmapping = \"{}\"\n",
            dir.join("mapping.toml").display()
        ));
    }
    std::fs::write(dir.join("mapping.toml"), MAPPING).expect("mapping file");
    let config = dir.join("orderlink.toml");
    std::fs::write(&config, text).expect("config file");
    config
}

struct SyncFigures {
    applied: usize,
    cycles: usize,
    transactions: u64,
    calls: u64,
    by_method: BTreeMap<&'static str, (Duration, u64)>,
    store_cpu: Duration,
    cycle_cpu: Duration,
    wall: Duration,
}

/// Sets one link up (store file, plugins, plan) and, with `sync`, runs its cycles until every
/// write is applied.
fn first_sync(dir: &Path, orders: usize, sync: bool) -> Option<SyncFigures> {
    let config = Config::load(&write_config(dir, 1, orders)).expect("config");
    let plugins = PluginSet::load_or_default(&config.plugin_dirs, &config.plugin_files);
    let endpoints = connect_endpoints(&config, &plugins);
    let link = config.links.get("l0000").expect("link");
    let ep = |name: &str| match endpoints.get(name) {
        Some(Ok(e)) => Arc::clone(e),
        _ => panic!("endpoint {name} not connected"),
    };
    let plan = plan_link(&config, link, ep(&link.shop), ep(&link.erp)).expect("plan");
    let store = Timed::new(SqliteStore::open(&config.store, OpenMode::Own).expect("store"));
    let lease = store.lease(&link.name).expect("lease");
    if !sync {
        // Leave without closing the store (see the fsync count).
        std::process::exit(0);
    }
    let stop = AtomicBool::new(false);
    let (t0, w0, c0) = (thread_cpu(), Instant::now(), store.inner.commits());
    let mut applied = 0;
    let mut cycles = 0;
    loop {
        let report = run_cycle(&plan, &store, &lease, &stop, false);
        cycles += 1;
        applied += report.applied.len();
        assert!(report.error.is_none(), "cycle failed: {:?}", report.error);
        if !report.more && report.applied.is_empty() {
            break;
        }
    }
    Some(SyncFigures {
        applied,
        cycles,
        transactions: store.inner.commits() - c0,
        calls: store.calls.load(Ordering::Relaxed),
        by_method: store
            .by_method
            .lock()
            .map(|m| m.clone())
            .unwrap_or_default(),
        store_cpu: Duration::from_nanos(store.cpu_ns.load(Ordering::Relaxed)),
        cycle_cpu: thread_cpu() - t0,
        wall: w0.elapsed(),
    })
}

/// fsync + fdatasync calls of a child running this bench in `mode` (`setup` or `sync`), counted
/// by strace; `None` without strace.
fn fsyncs_of_child(orders: usize, mode: &str) -> Option<u64> {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("strace.txt");
    let exe = std::env::current_exe().ok()?;
    let status = Command::new("strace")
        .args(["-f", "-c", "-e", "trace=fsync,fdatasync", "-o"])
        .arg(&out)
        .arg(exe)
        .args(["--child", mode, &orders.to_string()])
        .arg(dir.path())
        .status()
        .ok()?;
    assert!(status.success(), "child under strace failed: {status}");
    let text = std::fs::read_to_string(&out).ok()?;
    // The summary's `total` row: "100.00  0.000189  189  1  total" (calls is the 4th column),
    // missing when no call was made.
    Some(
        text.lines()
            .find(|l| l.trim_end().ends_with("total"))
            .and_then(|l| l.split_whitespace().nth(3))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0),
    )
}

fn per_10k(x: f64, applied: usize) -> f64 {
    x * 10_000.0 / applied.max(1) as f64
}

/// A store of `links` links with `dead` dead letters spread over them, made through the store.
fn big_store(dir: &Path, links: usize, dead: usize) -> PathBuf {
    let config = write_config(dir, links, 1);
    let path = dir.join("state.sqlite");
    let store = SqliteStore::open(&path, OpenMode::Own).expect("store");
    let per_link = dead / links;
    for i in 0..links {
        let lease = store.lease(&format!("l{i:04}")).expect("lease");
        let outcomes: Vec<OutboxUpdate> = (0..per_link)
            .map(|k| OutboxUpdate::Dead {
                entry: OutboxEntry {
                    id: 0,
                    target: Side::Shop,
                    key: format!("{}", 100_000 + k),
                    status: "packed".into(),
                    from_status: Some("new".into()),
                    source_status: "packed".into(),
                    expected_version: None,
                    reason: "ERP status packed".into(),
                    attempts: 4,
                },
                code: "permanent".into(),
                reason: "order is locked in the shop".into(),
            })
            .collect();
        store
            .record_outcomes(&lease, &outcomes)
            .expect("dead letters");
        let cycle = CycleRecord {
            ms: 12,
            error: None,
            did_work: true,
        };
        store.record_cycle(&lease, &cycle).expect("cycle");
    }
    config
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [flag, mode, orders, dir] = args.as_slice() {
        if flag == "--child" {
            let orders = orders.parse().expect("orders");
            first_sync(Path::new(dir), orders, mode == "sync");
            std::process::exit(0);
        }
    }
    let orders: usize = args
        .iter()
        .find_map(|a| a.parse().ok())
        .or_else(|| std::env::var("ORDERS").ok().and_then(|v| v.parse().ok()))
        .unwrap_or(10_000);

    println!(
        "SQLite store, first sync of one link on the memory plugin: {orders} writes into the shop"
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let f = first_sync(dir.path(), orders, true).expect("figures");
    assert_eq!(f.applied, orders, "every order gets its write");
    println!(
        "  {} writes applied in {} cycles, {:.2} s wall ({} store calls)",
        f.applied,
        f.cycles,
        f.wall.as_secs_f64(),
        f.calls
    );
    println!(
        "  per 10,000 applied writes: store CPU {:.0} ms ({:.0} % of the cycles' CPU of {:.0} ms), \
         {:.0} transactions",
        per_10k(f.store_cpu.as_secs_f64() * 1000.0, f.applied),
        f.store_cpu.as_secs_f64() / f.cycle_cpu.as_secs_f64().max(1e-9) * 100.0,
        per_10k(f.cycle_cpu.as_secs_f64() * 1000.0, f.applied),
        per_10k(f.transactions as f64, f.applied),
    );
    let mut methods: Vec<_> = f.by_method.iter().collect();
    methods.sort_by_key(|(_, (d, _))| std::cmp::Reverse(*d));
    let top: Vec<String> = methods
        .iter()
        .take(6)
        .map(|(name, (d, n))| {
            format!(
                "{name} {:.0} ms/{n}",
                per_10k(d.as_secs_f64() * 1000.0, f.applied)
            )
        })
        .collect();
    println!(
        "  store CPU by call, per 10,000 writes (ms/calls): {}",
        top.join(", ")
    );
    match (
        fsyncs_of_child(orders, "setup"),
        fsyncs_of_child(orders, "sync"),
    ) {
        (Some(setup), Some(all)) => println!(
            "  per 10,000 applied writes: {:.0} fsyncs (strace: {all} for setup + sync, {setup} for setup \
             alone; WAL, synchronous = NORMAL: the log is synced at checkpoints)",
            per_10k(all.saturating_sub(setup) as f64, orders)
        ),
        _ => println!("  fsyncs: not counted (strace not found)"),
    }

    let (links, dead) = (1000, 100_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let config = big_store(dir.path(), links, dead);
    let status = env!("CARGO_BIN_EXE_orderlink");
    let runs: Vec<Duration> = (0..5)
        .map(|_| {
            let t = Instant::now();
            let out = Command::new(status)
                .args(["status", "--config"])
                .arg(&config)
                .output()
                .expect("orderlink status");
            assert!(
                out.status.success(),
                "status failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            t.elapsed()
        })
        .collect();
    let store = SqliteStore::open(&dir.path().join("state.sqlite"), OpenMode::Read).expect("store");
    let names: Vec<String> = (0..links).map(|i| format!("l{i:04}")).collect();
    let queries: Vec<Duration> = (0..5)
        .map(|_| {
            let t = Instant::now();
            let stats = store.stats(&names).expect("stats");
            assert_eq!(
                stats.values().map(|s| s.dead_letters).sum::<i64>(),
                dead as i64
            );
            t.elapsed()
        })
        .collect();
    println!(
        "`orderlink status` with {links} links and {dead} dead letters: {:.0} ms (median of 5 runs; \
         config load included), of which the store query {:.1} ms",
        median(runs).as_secs_f64() * 1000.0,
        median(queries).as_secs_f64() * 1000.0
    );
}

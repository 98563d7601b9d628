//! How `orderlink run` scales with the number of links: 10, 100 and 1,000 links on the memory
//! plugin (every endpoint an in-memory shop or ERP inside the host, no network), polled every
//! 5 s. After the links are up and their first writes done, the host is watched while idle for a
//! window (`WINDOW_SECS`, default 30): resident memory, threads, open files, CPU share of one
//! core, cycles made against those due, and the worst delay of a cycle's start behind its
//! schedule (the supervisor's own count, logged at stop). Then the same links with adaptive
//! polling (ceiling 30 s): idle feed requests per link per day.
//!
//! `cargo build --release -p orderlink -p orderlink-memory-plugin &&
//!  cargo bench -p orderlink-e2e --bench supervisor_scale [-- 1000 100 10]`; `ADAPTIVE=0` skips the
//!  adaptive part.

use std::time::{Duration, Instant};

use orderlink_e2e::memory_links::{MemoryLinks, RunningHost};

fn proc_status(pid: u32, key: &str) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    text.lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// User + system CPU time of a process, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = text.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let get = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    // utime and stime are fields 14 and 15 of stat; here 0-based after the name: 11 and 12.
    get(11) + get(12)
}

fn open_files(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .unwrap_or(0)
}

/// The cumulative cycle counts of the supervisor's heartbeat lines (one every 5 s).
fn heartbeats(host: &RunningHost) -> Vec<u64> {
    host.log()
        .lines()
        .filter(|l| l.contains("heartbeat"))
        .filter_map(|l| {
            l.split_whitespace()
                .find_map(|w| w.strip_prefix("cycles="))
                .and_then(|v| v.parse().ok())
        })
        .collect()
}

/// The number in the stop line's `field=N`.
fn logged(host: &RunningHost, field: &str) -> u64 {
    host.log()
        .lines()
        .rev()
        .find_map(|l| {
            l.split_whitespace()
                .find_map(|w| w.strip_prefix(&format!("{field}=")))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

struct Figures {
    rss_mb: f64,
    threads: u64,
    fds: usize,
    cpu_pct: f64,
    cycles: u64,
    rate: f64,
}

fn watch(n: usize, settle: Duration, window: Duration, extra: &str) -> (Figures, u64, u64) {
    let links = MemoryLinks::new(n, 1, "5s", extra);
    let started = Instant::now();
    let mut host = links.run("info,orderlink::engine::supervisor=debug");
    host.wait_for("link ready", n, Duration::from_secs(300));
    // The first cycle of each link writes its one order.
    host.wait_for("-> packed", n, Duration::from_secs(300));
    let warm = started.elapsed();
    std::thread::sleep(settle);
    let pid = host.pid();
    let t0 = cpu_ticks(pid);
    let w0 = Instant::now();
    let beats0 = heartbeats(&host).len();
    std::thread::sleep(window);
    let beats = heartbeats(&host);
    // Cycles per second during the window, from the heartbeats (5 s apart) inside it.
    let in_window = &beats[beats0.saturating_sub(1).min(beats.len())..];
    let rate = match (in_window.first(), in_window.last()) {
        (Some(a), Some(b)) if in_window.len() > 1 => {
            (b - a) as f64 / ((in_window.len() - 1) as f64 * 5.0)
        }
        _ => 0.0,
    };
    let ticks = cpu_ticks(pid) - t0;
    let secs = w0.elapsed().as_secs_f64();
    let hz = 100.0; // USER_HZ on Linux
    let figures = Figures {
        rss_mb: proc_status(pid, "VmRSS:") as f64 / 1024.0,
        threads: proc_status(pid, "Threads:"),
        fds: open_files(pid),
        cpu_pct: ticks as f64 / hz / secs * 100.0,
        cycles: 0,
        rate,
    };
    host.signal(libc::SIGTERM);
    let code = host.wait(Duration::from_secs(60));
    assert_eq!(code, Some(0), "run did not stop cleanly:\n{}", host.log());
    let cycles = logged(&host, "cycles");
    let worst = logged(&host, "worst_start_delay_ms");
    println!(
        "  ({n} links up and first writes done in {:.1} s)",
        warm.as_secs_f64()
    );
    (
        Figures { cycles, ..figures },
        worst,
        warm.as_secs() + settle.as_secs() + window.as_secs(),
    )
}

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![10, 100, 1000]
    } else {
        sizes
    };
    let window = Duration::from_secs(
        std::env::var("WINDOW_SECS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(30),
    );
    println!("idle links on the memory plugin, poll_interval 5 s, watched for {window:?}");
    for &n in &sizes {
        let (f, worst, lifetime) = watch(
            n,
            Duration::from_secs(6),
            window,
            "poll_interval_max = \"5s\"",
        );
        let due = n as f64 * lifetime as f64 / 5.0;
        println!(
            "{n} links, fixed 5 s: RSS {:.1} MB, {} threads, {} open files, CPU {:.2} % of a core idle, \
             {} cycles in {lifetime} s (~{due:.0} due), worst start {worst} ms behind schedule ({})",
            f.rss_mb,
            f.threads,
            f.fds,
            f.cpu_pct,
            f.cycles,
            if worst < 5000 { "every link cycled within its interval" } else { "LATE" }
        );
        if std::env::var("ADAPTIVE").is_ok_and(|v| v == "0") {
            continue;
        }
        // Adaptive polling reaches its 30 s ceiling after about 100 s of idle cycles: watched after,
        // for at least two ceilings (links started together poll in waves).
        let (a, worst, lifetime) = watch(
            n,
            Duration::from_secs(100),
            window.max(Duration::from_secs(60)),
            "",
        );
        let per_link_day = a.rate / n as f64 * 86400.0;
        println!(
            "{n} links, adaptive (5 s to 30 s): RSS {:.1} MB, {} threads, CPU {:.2} % of a core idle, \
             {} cycles in {lifetime} s; during the window {:.1} cycles/s: {per_link_day:.0} feed requests \
             per idle link per day (fixed 5 s: 17280; at the 30 s ceiling: 2880), worst start {worst} ms behind",
            a.rss_mb, a.threads, a.cpu_pct, a.cycles, a.rate
        );
    }
}

//! Several `orderlink run` hosts sharing the links of one config through a throwaway PostgreSQL
//! store: one simulator pair per link, hosts started, killed, paused and stopped at will, and
//! the leases read straight from the database.

use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::postgres::{PgServer, PG_PASSWORD_ENV};
use crate::sims::plugin_dir;
use crate::sync_env::{SimPair, SyncEnv, MAPPING};

/// A set of links, each over its own simulator pair, in one config with a PostgreSQL store.
pub struct Cluster {
    /// The database server.
    pub pg: PgServer,
    /// One simulator pair per link, link `l{i}` over `pairs[i]`.
    pub pairs: Vec<SimPair>,
    /// The temp dir with the config, the mapping and the hosts' logs.
    pub dir: TempDir,
    /// The config file.
    pub config: PathBuf,
    hosts: Vec<Option<Child>>,
    database: String,
}

/// What a cluster is made of.
#[derive(Debug, Clone)]
pub struct ClusterOptions<'a> {
    /// Links, each over its own simulator pair.
    pub links: usize,
    /// Linked orders per pair.
    pub orders: usize,
    /// Every link's direction.
    pub direction: &'a str,
    /// `[store] lease`.
    pub lease: &'a str,
    /// Every link's `poll_interval` (and `poll_interval_max`: a fixed pace, so that figures
    /// do not depend on how long the links were idle).
    pub poll: &'a str,
    /// Extra PostgreSQL server options.
    pub pg_options: &'a str,
}

impl Cluster {
    /// `links` links of `orders` linked orders each, direction `direction`, leases of `lease`,
    /// polled every 300 ms.
    pub fn start(links: usize, orders: usize, direction: &str, lease: &str) -> Cluster {
        Cluster::start_with(&ClusterOptions {
            links,
            orders,
            direction,
            lease,
            poll: "300ms",
            pg_options: "",
        })
    }

    /// A cluster as `o` says.
    pub fn start_with(o: &ClusterOptions<'_>) -> Cluster {
        let (links, orders, direction, lease, poll) =
            (o.links, o.orders, o.direction, o.lease, o.poll);
        let pg = PgServer::start_with(o.pg_options);
        let database = "orderlink".to_owned();
        pg.create_database(&database);
        let pairs: Vec<SimPair> = (0..links)
            .map(|i| SimPair::start(orders, 11 + i as u64))
            .collect();
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("no temp dir: {e}"));
        std::fs::write(dir.path().join("mapping.toml"), MAPPING).unwrap_or_else(|e| panic!("{e}"));
        let mut text = format!(
            "[store]\nurl = \"{}\"\npassword = \"${{env:{PG_PASSWORD_ENV}}}\"\nlease = \"{lease}\"\n\n[plugins]\ndirs = [\"{}\"]\n",
            pg.url_without_password(&database),
            plugin_dir().display()
        );
        for (i, p) in pairs.iter().enumerate() {
            text.push_str(&p.endpoints_toml(&format!("shop{i}"), &format!("erp{i}")));
            text.push_str(&format!(
                "\n[links.l{i}]\nshop = \"shop{i}\"\nerp = \"erp{i}\"\nmapping = \"mapping.toml\"\ndirection = \"{direction}\"\nscope = \"unfulfilled\"\npoll_interval = \"{poll}\"\npoll_interval_max = \"{poll}\"\n"
            ));
        }
        let config = dir.path().join("orderlink.toml");
        std::fs::write(&config, text).unwrap_or_else(|e| panic!("{e}"));
        Cluster {
            pg,
            pairs,
            dir,
            config,
            hosts: Vec::new(),
            database,
        }
    }

    /// Writes a copy of the config with a store file instead of PostgreSQL (a single host, to
    /// compare with); returns its path.
    pub fn single_host_config(&self) -> PathBuf {
        let text = std::fs::read_to_string(&self.config).unwrap_or_else(|e| panic!("{e}"));
        let store_end = text.find("\n\n").unwrap_or(0);
        let text = format!("[store]\npath = \"single.sqlite\"{}", &text[store_end..]);
        let path = self.dir.path().join("single.toml");
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
        path
    }

    /// Starts one more `orderlink run` host; returns its index. Its log goes to `host{i}.log`.
    pub fn start_host(&mut self) -> usize {
        let config = self.config.clone();
        self.start_host_with(&config)
    }

    /// Starts one more `orderlink run` host on config `config`; returns its index.
    pub fn start_host_with(&mut self, config: &std::path::Path) -> usize {
        let i = self.hosts.len();
        let log = std::fs::File::create(self.log_path(i)).unwrap_or_else(|e| panic!("{e}"));
        let mut cmd = crate::orderlink::command();
        cmd.current_dir(self.dir.path())
            .args(["run", "--config"])
            .arg(config)
            .env("RUST_LOG", "info")
            .envs(SyncEnv::secrets())
            .stdout(Stdio::null())
            .stderr(log);
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start orderlink run: {e}"));
        self.hosts.push(Some(child));
        i
    }

    fn log_path(&self, i: usize) -> PathBuf {
        self.dir.path().join(format!("host{i}.log"))
    }

    /// What host `i` logged so far.
    pub fn log(&self, i: usize) -> String {
        std::fs::read_to_string(self.log_path(i)).unwrap_or_default()
    }

    /// The process id of host `i`.
    pub fn pid(&self, i: usize) -> u32 {
        self.hosts[i]
            .as_ref()
            .map(Child::id)
            .unwrap_or_else(|| panic!("host {i} is not running"))
    }

    /// Sends a signal to host `i`.
    pub fn signal(&self, i: usize, signal: i32) {
        let pid = i32::try_from(self.pid(i)).unwrap_or_else(|e| panic!("{e}"));
        // SAFETY: kill(2) on a child process we own.
        unsafe {
            libc::kill(pid, signal);
        }
    }

    /// Kills host `i` at once (SIGKILL).
    pub fn kill(&mut self, i: usize) {
        if let Some(mut c) = self.hosts[i].take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Stops host `i` cleanly (SIGTERM) and returns its exit code.
    pub fn stop(&mut self, i: usize) -> Option<i32> {
        self.signal(i, libc::SIGTERM);
        let mut c = self.hosts[i].take()?;
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = c.try_wait() {
                return status.code();
            }
            if Instant::now() > deadline {
                let _ = c.kill();
                panic!("host {i} did not stop within 30 s:\n{}", self.log(i));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Runs `orderlink ARGS --config CONFIG` to its end; returns stdout and stderr.
    pub fn orderlink(&self, args: &[&str]) -> String {
        let config = self.config.display().to_string();
        let mut all = args.to_vec();
        all.extend(["--config", &config]);
        let out = crate::sims::orderlink(self.dir.path(), &all, &SyncEnv::secrets());
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    }

    /// Runs SQL on the store's database; rows as `|`-separated lines.
    pub fn sql(&self, query: &str) -> Vec<String> {
        self.pg.sql(&self.database, query)
    }

    /// The name host `i` goes by among the hosts (`HOSTNAME-PID`): its pid suffix.
    pub fn host_suffix(&self, i: usize) -> String {
        format!("-{}", self.pid(i))
    }

    /// The links host `i` holds a live lease on, with their epochs.
    pub fn held_by(&self, i: usize) -> Vec<(String, i64)> {
        let suffix = self.host_suffix(i);
        self.owners()
            .into_iter()
            .filter(|(_, h, _)| h.ends_with(&suffix))
            .map(|(l, _, e)| (l, e))
            .collect()
    }

    /// Waits until the live hosts hold every link, each its even share (by count, give or take
    /// one); returns how long it took.
    pub fn wait_balanced(&mut self, hosts: usize, timeout: Duration) -> Duration {
        let start = Instant::now();
        loop {
            let owners = self.owners();
            let mut per: std::collections::BTreeMap<&str, usize> = Default::default();
            for (_, h, _) in &owners {
                *per.entry(h.as_str()).or_default() += 1;
            }
            let (lo, hi) = (
                per.values().min().copied().unwrap_or(0),
                per.values().max().copied().unwrap_or(0),
            );
            if owners.len() == self.pairs.len() && per.len() == hosts && hi - lo <= 1 {
                return start.elapsed();
            }
            if start.elapsed() > timeout || self.any_exited() {
                panic!(
                    "after {:?}: leases {per:?}\n{}",
                    start.elapsed(),
                    self.logs()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Live lease holders: (link, holder, epoch), by link.
    pub fn owners(&self) -> Vec<(String, String, i64)> {
        // Before the first host has created the schema, nobody owns anything.
        if self.sql("SELECT to_regclass('leases') IS NOT NULL") != ["t"] {
            return Vec::new();
        }
        self.sql(
            "SELECT link, holder, epoch FROM leases WHERE holder IS NOT NULL AND expires_at > now() ORDER BY link",
        )
        .iter()
        .filter_map(|l| {
            let mut parts = l.split('|');
            Some((
                parts.next()?.to_owned(),
                parts.next()?.to_owned(),
                parts.next()?.parse().ok()?,
            ))
        })
        .collect()
    }

    /// Whether a host that should be running has exited.
    pub fn any_exited(&mut self) -> bool {
        self.hosts
            .iter_mut()
            .flatten()
            .any(|c| matches!(c.try_wait(), Ok(Some(_))))
    }

    /// Every host's log, for failure messages.
    pub fn logs(&self) -> String {
        (0..self.hosts.len())
            .map(|i| format!("--- host {i} ---\n{}", self.log(i)))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for i in 0..self.hosts.len() {
            self.kill(i);
        }
    }
}

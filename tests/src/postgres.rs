//! A throwaway PostgreSQL server for tests and benchmarks: `initdb` into a temporary directory,
//! `pg_ctl start` on a free loopback port (and a Unix socket in the same directory), password
//! authentication for one role, stopped and removed on drop.
//!
//! Uses Debian's `postgresql` package (`.ci/run` installs it when missing). PostgreSQL refuses to
//! run as root: when the tests run as root, the server runs as the `postgres` system user, which
//! owns the temporary directory.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use tempfile::TempDir;

/// The role the tests connect as.
pub const PG_USER: &str = "orderlink";
/// Its password (a test secret; tests check it never shows in logs).
pub const PG_PASSWORD: &str = "pg-test-secret-789";
/// The environment variable the tests' configs read that password from.
pub const PG_PASSWORD_ENV: &str = "ORDERLINK_TEST_PG_PASSWORD";

/// A running throwaway PostgreSQL cluster.
pub struct PgServer {
    dir: TempDir,
    bin: PathBuf,
    /// The loopback TCP port it listens on.
    pub port: u16,
    as_postgres: bool,
}

impl PgServer {
    /// Creates a cluster and starts it; panics with an install hint when PostgreSQL is missing.
    pub fn start() -> PgServer {
        PgServer::start_with("")
    }

    /// Like [`PgServer::start`], with extra server options (`-c name=value ...`).
    pub fn start_with(extra: &str) -> PgServer {
        let bin = pg_bin_dir().unwrap_or_else(|| {
            panic!(
                "PostgreSQL server binaries not found (looked for initdb in $PG_BIN, \
                 /usr/lib/postgresql/*/bin and PATH): `apt-get install postgresql` \
                 (.ci/run does it)"
            )
        });
        let dir = tempfile::Builder::new()
            .prefix("orderlink-pg-")
            .tempdir()
            .expect("temp dir");
        // SAFETY: geteuid has no preconditions.
        let as_postgres = unsafe { libc::geteuid() } == 0;
        let pwfile = dir.path().join("pwfile");
        std::fs::write(&pwfile, PG_PASSWORD).expect("write pwfile");
        let data = dir.path().join("data");
        if as_postgres {
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .expect("chown");
            assert!(status.success(), "chown of the test cluster dir failed");
        }
        let server = PgServer {
            dir,
            bin,
            port: free_port(),
            as_postgres,
        };
        server.pg(
            "initdb",
            &[
                "-D",
                path_str(&data),
                "-U",
                PG_USER,
                "--pwfile",
                path_str(&pwfile),
                "--auth=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ],
        );
        let opts = format!(
            "-c listen_addresses=127.0.0.1 -p {} -k {} -c fsync=off -c max_connections=200 {extra}",
            server.port,
            path_str(server.dir.path())
        );
        server.pg(
            "pg_ctl",
            &[
                "-D",
                path_str(&data),
                "-l",
                path_str(&server.dir.path().join("log")),
                "-o",
                &opts,
                "-w",
                "start",
            ],
        );
        server
    }

    /// Creates a database and returns its URL (password inline: for tests only; the configs the
    /// tests write use `${env:}` or `${file:}` instead).
    pub fn create_database(&self, name: &str) -> String {
        self.sql("postgres", &format!("CREATE DATABASE \"{name}\""));
        self.url(name)
    }

    /// The URL of a database on this server, with the password inline.
    pub fn url(&self, database: &str) -> String {
        format!(
            "postgres://{PG_USER}:{PG_PASSWORD}@127.0.0.1:{}/{database}",
            self.port
        )
    }

    /// The URL of a database without the password (to combine with a `password` setting).
    pub fn url_without_password(&self, database: &str) -> String {
        format!("postgres://{PG_USER}@127.0.0.1:{}/{database}", self.port)
    }

    /// Runs SQL on a database with this server's psql; rows as `|`-separated lines.
    pub fn sql(&self, database: &str, query: &str) -> Vec<String> {
        let out = Command::new(self.bin.join("psql"))
            .env("PGPASSWORD", PG_PASSWORD)
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                PG_USER,
                "-d",
                database,
            ])
            .args(["-At", "-v", "ON_ERROR_STOP=1", "-c", query])
            .output()
            .unwrap_or_else(|e| panic!("cannot run psql: {e}"));
        assert!(
            out.status.success(),
            "psql {query}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// The `[store]` lines of a config on database `database` of this server (password from
    /// [`PG_PASSWORD_ENV`], lease 3 s, a fixed host name: a host restarted after a crash takes
    /// its leases back at once, as the one process on a store file does).
    pub fn store_toml(&self, database: &str) -> String {
        format!(
            "url = \"{}\"\npassword = \"${{env:{PG_PASSWORD_ENV}}}\"\nlease = \"3s\"\nhost = \"test-host\"",
            self.url_without_password(database)
        )
    }

    /// The server's log so far (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
    }

    fn pg(&self, tool: &str, args: &[&str]) {
        let program = self.bin.join(tool);
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&program);
            c
        } else {
            Command::new(&program)
        };
        let out = cmd
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
        assert!(
            out.status.success(),
            "{tool} failed: {}{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            self.log()
        );
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        let data = self.dir.path().join("data");
        let program = self.bin.join("pg_ctl");
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&program);
            c
        } else {
            Command::new(&program)
        };
        let _ = cmd
            .args(["-D", path_str(&data), "-m", "immediate", "-w", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("temp paths are UTF-8")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// Where `initdb` and `pg_ctl` live: `$PG_BIN`, Debian's versioned directory, or `PATH`.
fn pg_bin_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("PG_BIN") {
        return Some(PathBuf::from(dir));
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|p| p.join("initdb").exists())
        .collect();
    versions.sort();
    if let Some(newest) = versions.pop() {
        return Some(newest);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths).find(|p| p.join("initdb").exists() && p.join("psql").exists())
    })
}

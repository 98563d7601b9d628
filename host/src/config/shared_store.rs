//! `[store] url`: the state store shared by several hosts (PostgreSQL), its password, how long a
//! link's lease lasts, and this host's name among the hosts.

use std::path::Path;
use std::time::Duration;

use orderlink_plugin_api::Secret;

use super::{ranges, secrets, FileError, SourceFile};

/// Where a shared store is and how this host takes part.
#[derive(Clone)]
pub struct SharedStore {
    /// `postgres://USER@HOST:PORT/DATABASE` (never with a password: that goes in `password`).
    pub url: String,
    /// The password (`${env:NAME}` or `${file:PATH}` in the file).
    pub password: Option<Secret>,
    /// How long a lease lasts unless renewed (`[store] lease`); renewed every third of it.
    pub lease: Duration,
    /// This host's name among the hosts (`[store] host`, default `HOSTNAME-PID`).
    pub host: String,
}

impl std::fmt::Debug for SharedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedStore")
            .field("url", &self.url)
            .field("password", &self.password)
            .field("lease", &self.lease)
            .field("host", &self.host)
            .finish()
    }
}

/// The default `[store] lease`: 30 s.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(30);

/// The `[store]` keys of a shared store, as read from the file.
#[derive(Debug, Default)]
pub struct RawShared<'a> {
    /// `url`.
    pub url: Option<&'a str>,
    /// `password`.
    pub password: Option<&'a str>,
    /// `lease`.
    pub lease: Option<&'a str>,
    /// `host`.
    pub host: Option<&'a str>,
    /// Whether `path` is set too.
    pub has_path: bool,
}

/// Checks the shared-store keys; `None` when `url` is not set (a store file).
pub fn load(
    raw: &RawShared<'_>,
    src: &SourceFile,
    base: &Path,
) -> Result<Option<SharedStore>, FileError> {
    let Some(url) = raw.url else {
        for (key, set) in [
            ("store.password", raw.password.is_some()),
            ("store.lease", raw.lease.is_some()),
            ("store.host", raw.host.is_some()),
        ] {
            if set {
                return Err(src.error_for_key(
                    key,
                    "applies only to a shared store: set [store] url = \"postgres://USER@HOST:PORT/DATABASE\" too",
                ));
            }
        }
        return Ok(None);
    };
    if raw.has_path {
        return Err(src.error_for_key(
            "store.url",
            "set either path (a store file for one host) or url (a PostgreSQL store shared by hosts), not both",
        ));
    }
    let url = url.trim();
    let rest = url
        .strip_prefix("postgres://")
        .or_else(|| url.strip_prefix("postgresql://"))
        .ok_or_else(|| {
            src.error_for_key(
                "store.url",
                "must start with postgres:// (such as \"postgres://orderlink@db.example:5432/orderlink\")",
            )
        })?;
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    if let Some((cred, _)) = authority.rsplit_once('@') {
        if cred.contains(':') {
            return Err(src.error_for_key(
                "store.url",
                "must not hold the password: remove it from the URL and set password = \"${env:NAME}\" or \"${file:PATH}\"",
            ));
        }
    }
    postgres_url_ok(url).map_err(|m| src.error_for_key("store.url", m))?;
    let password = match raw.password {
        None => None,
        Some(p) => {
            let p = secrets::resolve_str(p, base)
                .map_err(|m| src.error_for_key("store.password", m))?;
            Some(Secret::new(p))
        }
    };
    let lease = match raw.lease {
        None => DEFAULT_LEASE,
        Some(t) => ranges::LEASE
            .check(t)
            .map_err(|m| src.error_for_key("store.lease", m))?,
    };
    let host = match raw.host {
        None => default_host(),
        Some(h) if valid_host(h) => h.to_owned(),
        Some(h) => {
            return Err(src.error_for_key(
                "store.host",
                format!(
                    "`{h}` is not a host name: expected 1 to 64 letters, digits, '.', '-' or '_'"
                ),
            ))
        }
    };
    Ok(Some(SharedStore {
        url: url.to_owned(),
        password,
        lease,
        host,
    }))
}

fn postgres_url_ok(url: &str) -> Result<(), String> {
    use std::str::FromStr;
    postgres::Config::from_str(url).map(|_| ()).map_err(|e| {
        format!("is not a PostgreSQL URL ({e}); expected postgres://USER@HOST:PORT/DATABASE")
    })
}

fn valid_host(h: &str) -> bool {
    (1..=64).contains(&h.len())
        && h.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

/// This machine's name and this process's id: unique among the hosts sharing a store.
pub fn default_host() -> String {
    let name = gethostname::gethostname().to_string_lossy().into_owned();
    let name: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        .take(48)
        .collect();
    format!(
        "{}-{}",
        if name.is_empty() { "host" } else { &name },
        std::process::id()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_are_plain() {
        assert!(valid_host("node-1.example_a"));
        assert!(!valid_host(""));
        assert!(!valid_host("a b"));
        assert!(!valid_host(&"x".repeat(65)));
        assert!(valid_host(&default_host()));
    }

    #[test]
    fn urls_are_checked_by_the_driver() {
        assert!(postgres_url_ok("postgres://u@127.0.0.1:5432/db").is_ok());
        assert!(postgres_url_ok("postgres://u@127.0.0.1:notaport/db").is_err());
    }
}

//! Store failures. Those caused by the file the user pointed at (another program's database, a
//! newer schema, a damaged file, a store held by another process) are bad input: exit 2.

/// A store failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite said no.
    #[error("state store {path}: {source}")]
    Sqlite {
        /// The store file.
        path: String,
        /// What SQLite said.
        source: rusqlite::Error,
    },
    /// PostgreSQL said no (or could not be reached).
    #[error("state store {url}: {detail}")]
    Postgres {
        /// The database URL, without its password.
        url: String,
        /// What PostgreSQL (or the connection) said.
        detail: String,
    },
    /// `[store] url` is not a PostgreSQL URL.
    #[error("state store url {url} is not valid ({detail}); expected postgres://USER@HOST:PORT/DATABASE")]
    BadUrl {
        /// The URL, without its password.
        url: String,
        /// What is wrong.
        detail: String,
    },
    /// `store migrate`: the PostgreSQL store already holds state.
    #[error("state store {url} is not empty ({detail}); migrate into a new, empty database")]
    NotEmpty {
        /// The database URL, without its password.
        url: String,
        /// What it holds.
        detail: String,
    },
    /// This host does not hold the link's lease (another host runs it).
    #[error("link `{link}` is not leased to this host")]
    NotHeld {
        /// The link.
        link: String,
    },
    /// The store file does not exist (commands that only read it).
    #[error(
        "state store {0} does not exist yet (run `orderlink sync --once` or `orderlink run` first)"
    )]
    Missing(String),
    /// The file is damaged, truncated or not a database at all.
    #[error("state store {path} is damaged or not a database file ({detail}); restore it from a backup, or move it away to start afresh")]
    Corrupt {
        /// The store file.
        path: String,
        /// What is wrong.
        detail: String,
    },
    /// The file is another program's database. It was left untouched.
    #[error("{path} is not an orderlink state store ({detail}); it was left untouched: point `[store] path` at another file")]
    Foreign {
        /// The file.
        path: String,
        /// What it holds instead.
        detail: String,
    },
    /// The file was written by a newer orderlink. It was left untouched.
    #[error("state store {path} has schema version {found}, newer than this orderlink understands (up to {supported}); it was left untouched: run the newer orderlink")]
    Newer {
        /// The store file.
        path: String,
        /// Its schema version.
        found: i64,
        /// The newest this build knows.
        supported: i64,
    },
    /// Another process owns the store (`run` or `sync`).
    #[error("state store {path} is in use by another orderlink ({holder}); stop it first, or use `status`/`history`, which only read")]
    Locked {
        /// The store file.
        path: String,
        /// Who holds it, as its lock file says.
        holder: String,
    },
    /// A write carried a lease epoch that is no longer the link's: another owner took over.
    #[error(
        "link `{link}`: lease epoch {epoch} is no longer current; another owner holds the link"
    )]
    Fenced {
        /// The link.
        link: String,
        /// The stale epoch.
        epoch: u64,
    },
    /// A file-system failure around the store (its directory, its lock file).
    #[error("state store {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What failed.
        source: std::io::Error,
    },
    /// The store's schema could not be brought up to date.
    #[error("state store {path}: cannot upgrade its schema: {detail}")]
    Migration {
        /// The store file.
        path: String,
        /// What failed.
        detail: String,
    },
}

impl StoreError {
    /// Whether the user's input (the file named in the config) is at fault: exit 2.
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            StoreError::Corrupt { .. }
                | StoreError::BadUrl { .. }
                | StoreError::NotEmpty { .. }
                | StoreError::Foreign { .. }
                | StoreError::Newer { .. }
                | StoreError::Locked { .. }
        )
    }
}

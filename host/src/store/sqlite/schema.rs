//! The SQLite schema: versioned migrations (`rusqlite_migration`, version in `user_version`),
//! the file's identity (`application_id`), and the check that refuses a file that is not ours,
//! is newer than this build, or is damaged, before anything reads or writes it.

use std::io::Read;
use std::path::Path;

use rusqlite::Connection;
use rusqlite_migration::{Migrations, M};

/// `PRAGMA application_id` of an orderlink store: "OLNK".
pub const APPLICATION_ID: i64 = 0x4F4C_4E4B;

/// The migrations, oldest first; the schema version is how many have run.
const MIGRATION_SQL: &[&str] = &[
    include_str!("migrations/001_initial.sql"),
    include_str!("migrations/002_identity_and_indexes.sql"),
    include_str!("migrations/003_cursor_checkpoints.sql"),
    include_str!("migrations/004_outbox_in_order.sql"),
];

/// The schema version this build writes.
pub const LATEST_VERSION: i64 = MIGRATION_SQL.len() as i64;

/// The oldest schema version this build's queries can read without upgrading it (read-only
/// commands read an older store as it is). Raise it when a migration changes what reads ask.
pub const MIN_READABLE_VERSION: i64 = 1;

/// The tables of the unstamped versions (neither `application_id` nor `user_version`): version 1
/// and a build between it and the versioned schema that added `cursor_checkpoints` (the
/// migrations re-create with `IF NOT EXISTS`, so both upgrade the same way).
const V1_TABLES: &[&str] = &[
    "cursors",
    "orders",
    "outbox",
    "dead_letters",
    "audit",
    "link_stats",
    "cursor_checkpoints",
];

/// The migrations.
pub fn migrations() -> Migrations<'static> {
    Migrations::new(MIGRATION_SQL.iter().map(|sql| M::up(sql)).collect())
}

/// What a database file holds, as far as its identity goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// `PRAGMA application_id`.
    pub application_id: i64,
    /// `PRAGMA user_version`.
    pub user_version: i64,
    /// Its tables (without SQLite's own).
    pub tables: Vec<String>,
}

pub use crate::store::verdict::Verdict;

/// Judges a file by its identity.
pub fn judge(id: &Identity) -> Verdict {
    if id.application_id == APPLICATION_ID {
        return if id.user_version > LATEST_VERSION {
            Verdict::Newer(id.user_version)
        } else {
            Verdict::Ours(id.user_version)
        };
    }
    if id.application_id != 0 {
        return Verdict::Foreign(format!(
            "its application id is {:#010x}, orderlink's is {APPLICATION_ID:#010x}",
            id.application_id
        ));
    }
    if id.tables.is_empty() && id.user_version == 0 {
        return Verdict::Fresh;
    }
    let unknown: Vec<&str> = id
        .tables
        .iter()
        .map(String::as_str)
        .filter(|t| !V1_TABLES.contains(t))
        .collect();
    if id.user_version == 0 && unknown.is_empty() && id.tables.iter().any(|t| t == "cursors") {
        return Verdict::Ours(1);
    }
    if unknown.is_empty() && !id.tables.is_empty() {
        Verdict::Foreign(format!(
            "its schema version stamp is {}, which orderlink never wrote without its application id",
            id.user_version
        ))
    } else {
        Verdict::Foreign(format!(
            "it holds tables orderlink does not know: {}",
            unknown.join(", ")
        ))
    }
}

/// Reads a connection's identity.
pub fn identity(conn: &Connection) -> rusqlite::Result<Identity> {
    let application_id = conn.pragma_query_value(None, "application_id", |r| r.get(0))?;
    let user_version = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let mut stmt = conn.prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )?;
    let tables = stmt
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    Ok(Identity {
        application_id,
        user_version,
        tables,
    })
}

/// Checks the file's header without SQLite: `Err(detail)` when it is not an SQLite file or is
/// shorter than its header says (and no write-ahead log could make up the difference).
pub fn check_header(path: &Path) -> Result<(), String> {
    let Ok(mut file) = std::fs::File::open(path) else {
        return Ok(()); // missing or unreadable: SQLite reports it
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    if len == 0 {
        return Ok(()); // an empty file is a new database
    }
    let mut header = [0u8; 100];
    let mut got = 0;
    while got < header.len() {
        match file.read(&mut header[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) => return Err(format!("cannot read its header: {e}")),
        }
    }
    judge_header(&header[..got], len, wal_has_frames(path))
}

fn wal_has_frames(path: &Path) -> bool {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    std::fs::metadata(Path::new(&wal)).is_ok_and(|m| m.len() > 32)
}

/// The header rule: the SQLite magic, a whole header, and (when the header's page count is
/// valid and no write-ahead log holds frames) a file at least as long as the pages it counts.
pub fn judge_header(header: &[u8], file_len: u64, wal_has_frames: bool) -> Result<(), String> {
    const MAGIC: &[u8] = b"SQLite format 3\0";
    if header.len() < MAGIC.len() || &header[..MAGIC.len()] != MAGIC {
        return Err("it does not start with the SQLite file header".into());
    }
    if header.len() < 100 {
        return Err(format!(
            "truncated: {file_len} bytes, not even a whole header"
        ));
    }
    let be32 = |at: usize| {
        u32::from_be_bytes([header[at], header[at + 1], header[at + 2], header[at + 3]])
    };
    let page_size = match u16::from_be_bytes([header[16], header[17]]) {
        1 => 65_536u64,
        n => u64::from(n),
    };
    let pages = u64::from(be32(28));
    let counter_valid = be32(24) == be32(92);
    if counter_valid && pages > 0 && !wal_has_frames && file_len < pages * page_size {
        return Err(format!(
            "truncated: its header counts {pages} pages of {page_size} bytes, the file has {file_len} bytes"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(app: i64, version: i64, tables: &[&str]) -> Identity {
        Identity {
            application_id: app,
            user_version: version,
            tables: tables.iter().map(|t| t.to_string()).collect(),
        }
    }

    #[test]
    fn an_empty_file_is_a_new_store() {
        assert_eq!(judge(&id(0, 0, &[])), Verdict::Fresh);
    }

    #[test]
    fn the_unstamped_first_version_is_recognised_by_its_tables() {
        assert_eq!(judge(&id(0, 0, V1_TABLES)), Verdict::Ours(1));
        assert_eq!(judge(&id(0, 0, &["cursors", "orders"])), Verdict::Ours(1));
    }

    #[test]
    fn a_stamped_store_is_ours_up_to_this_build_and_newer_beyond() {
        assert_eq!(
            judge(&id(APPLICATION_ID, LATEST_VERSION, V1_TABLES)),
            Verdict::Ours(LATEST_VERSION)
        );
        assert_eq!(
            judge(&id(APPLICATION_ID, LATEST_VERSION + 1, V1_TABLES)),
            Verdict::Newer(LATEST_VERSION + 1)
        );
    }

    #[test]
    fn another_programs_database_is_foreign_and_says_why() {
        let Verdict::Foreign(why) = judge(&id(0, 0, &["users", "cursors"])) else {
            panic!("not foreign")
        };
        assert!(why.contains("users"), "{why}");
        assert!(
            matches!(judge(&id(0x1234, 0, &[])), Verdict::Foreign(w) if w.contains("0x00001234"))
        );
        assert!(matches!(judge(&id(0, 7, &["outbox"])), Verdict::Foreign(w) if w.contains('7')));
        assert!(matches!(judge(&id(0, 3, &[])), Verdict::Foreign(_)));
    }

    fn header(page_size: u16, pages: u32) -> Vec<u8> {
        let mut h = b"SQLite format 3\0".to_vec();
        h.resize(100, 0);
        h[16..18].copy_from_slice(&page_size.to_be_bytes());
        h[24..28].copy_from_slice(&5u32.to_be_bytes());
        h[28..32].copy_from_slice(&pages.to_be_bytes());
        h[92..96].copy_from_slice(&5u32.to_be_bytes());
        h
    }

    #[test]
    fn a_file_shorter_than_its_header_says_is_truncated_unless_a_log_holds_the_rest() {
        assert!(judge_header(&header(4096, 10), 40960, false).is_ok());
        let e = judge_header(&header(4096, 10), 8192, false).unwrap_err();
        assert!(e.contains("truncated") && e.contains("8192"), "{e}");
        assert!(judge_header(&header(4096, 10), 8192, true).is_ok());
        assert!(judge_header(&header(1, 2), 65_536, false).is_err());
    }

    #[test]
    fn a_file_that_is_not_sqlite_or_a_cut_header_is_refused() {
        assert!(judge_header(b"hello world, this is text", 25, false)
            .unwrap_err()
            .contains("SQLite file header"));
        assert!(judge_header(&header(4096, 1)[..40], 40, false)
            .unwrap_err()
            .contains("truncated"));
    }

    #[test]
    fn the_migrations_are_valid() {
        assert!(migrations().validate().is_ok());
    }
}

//! The PostgreSQL schema: versioned migrations (`refinery`, history in
//! `orderlink_schema_history`), the database's identity (the `orderlink_identity` table), and the
//! check that refuses a database that is another program's or newer than this build, before
//! anything reads or writes it. Several hosts starting at once migrate one after the other
//! (an advisory lock).

use postgres::Client;

refinery::embed_migrations!("src/store/postgres/migrations");

/// The table refinery keeps its history in.
pub const HISTORY_TABLE: &str = "orderlink_schema_history";

/// The advisory lock held while a host judges and migrates the database.
const MIGRATION_LOCK: i64 = 0x4F4C_4E4B;

/// The schema version this build writes.
pub fn latest_version() -> i64 {
    migrations::runner()
        .get_migrations()
        .iter()
        .map(|m| i64::from(m.version()))
        .max()
        .unwrap_or(0)
}

pub use crate::store::verdict::Verdict;

/// Judges a database by its tables (in the connection's current schema) and schema history.
pub fn judge(tables: &[String], version: Option<i64>, latest: i64) -> Verdict {
    let ours = tables.iter().any(|t| t == "orderlink_identity");
    if !ours {
        let others: Vec<&str> = tables
            .iter()
            .map(String::as_str)
            .filter(|t| *t != HISTORY_TABLE)
            .collect();
        if others.is_empty() {
            return Verdict::Fresh;
        }
        let mut shown = others[..others.len().min(5)].join(", ");
        if others.len() > 5 {
            shown.push_str(", ...");
        }
        return Verdict::Foreign(format!(
            "it holds tables of another program ({shown}) and no orderlink_identity"
        ));
    }
    let v = version.unwrap_or(0);
    if v > latest {
        Verdict::Newer(v)
    } else {
        Verdict::Ours(v)
    }
}

/// Reads what [`judge`] needs.
pub fn identity(client: &mut Client) -> Result<(Vec<String>, Option<i64>), postgres::Error> {
    let tables: Vec<String> = client
        .query(
            "SELECT table_name::text FROM information_schema.tables
             WHERE table_schema = current_schema() ORDER BY table_name",
            &[],
        )?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let version = if tables.iter().any(|t| t == HISTORY_TABLE) {
        client
            .query_one(
                &format!("SELECT MAX(version)::bigint FROM {HISTORY_TABLE}"),
                &[],
            )?
            .get::<_, Option<i64>>(0)
    } else {
        None
    };
    Ok((tables, version))
}

/// Takes the migration lock for the session.
pub fn lock(client: &mut Client) -> Result<(), postgres::Error> {
    client.execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])?;
    Ok(())
}

/// Gives the migration lock back.
pub fn unlock(client: &mut Client) -> Result<(), postgres::Error> {
    client.execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])?;
    Ok(())
}

/// Brings the schema up to the latest version.
pub fn migrate(client: &mut Client) -> Result<(), refinery::Error> {
    let mut runner = migrations::runner()
        .set_abort_divergent(true)
        .set_abort_missing(true);
    runner.set_migration_table_name(HISTORY_TABLE);
    runner.run(client).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(t: &[&str]) -> Vec<String> {
        t.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn an_empty_database_is_fresh() {
        assert_eq!(judge(&[], None, 1), Verdict::Fresh);
        assert_eq!(judge(&names(&[HISTORY_TABLE]), Some(0), 1), Verdict::Fresh);
    }

    #[test]
    fn another_programs_tables_are_foreign_and_named() {
        match judge(&names(&["customers", "invoices"]), None, 1) {
            Verdict::Foreign(d) => assert!(d.contains("customers, invoices"), "{d}"),
            v => panic!("{v:?}"),
        }
    }

    #[test]
    fn ours_newer_or_current() {
        let t = names(&["orderlink_identity", HISTORY_TABLE, "orders"]);
        assert_eq!(judge(&t, Some(1), 1), Verdict::Ours(1));
        assert_eq!(judge(&t, Some(3), 1), Verdict::Newer(3));
    }

    #[test]
    fn the_embedded_migrations_have_versions() {
        assert!(latest_version() >= 1);
    }
}

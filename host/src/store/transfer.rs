//! `orderlink store migrate`: a single host's SQLite state copied into an empty PostgreSQL
//! store, table by table in one PostgreSQL transaction (all or nothing), row ids kept.

use postgres::types::ToSql;
use rusqlite::types::Value;

use super::StoreError;

/// The type of a copied column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Int8,
    Int4,
    Bool,
}

use Kind::{Bool, Int4, Int8, Text};

impl Kind {
    /// The PostgreSQL array type of a column of this kind.
    fn sql_array(self) -> &'static str {
        match self {
            Text => "text[]",
            Int8 => "bigint[]",
            Int4 => "integer[]",
            Bool => "boolean[]",
        }
    }
}

/// The tables of the state, with their columns (no foreign keys: any order copies).
const TABLES: &[(&str, &[(&str, Kind)])] = &[
    (
        "cursors",
        &[
            ("link", Text),
            ("side", Text),
            ("cursor", Text),
            ("updated_at", Text),
        ],
    ),
    (
        "orders",
        &[
            ("link", Text),
            ("key", Text),
            ("shop_id", Text),
            ("shop_status", Text),
            ("erp_id", Text),
            ("erp_status", Text),
            ("created_at", Text),
            ("fulfilled", Bool),
            ("shop_written", Text),
            ("erp_written", Text),
            ("updated_at", Text),
        ],
    ),
    (
        "outbox",
        &[
            ("id", Int8),
            ("link", Text),
            ("target", Text),
            ("key", Text),
            ("status", Text),
            ("from_status", Text),
            ("source_status", Text),
            ("expected_version", Text),
            ("reason", Text),
            ("attempts", Int4),
            ("next_attempt_ms", Int8),
            ("last_error", Text),
            ("created_at", Text),
        ],
    ),
    (
        "dead_letters",
        &[
            ("id", Int8),
            ("link", Text),
            ("target", Text),
            ("key", Text),
            ("status", Text),
            ("source_status", Text),
            ("code", Text),
            ("reason", Text),
            ("attempts", Int4),
            ("at", Text),
        ],
    ),
    (
        "audit",
        &[
            ("id", Int8),
            ("at", Text),
            ("link", Text),
            ("key", Text),
            ("target", Text),
            ("from_status", Text),
            ("to_status", Text),
            ("action", Text),
            ("why", Text),
        ],
    ),
    (
        "link_stats",
        &[
            ("link", Text),
            ("last_cycle_at", Text),
            ("last_cycle_ms", Int8),
            ("applied_total", Int8),
            ("last_error", Text),
        ],
    ),
    (
        "cursor_checkpoints",
        &[
            ("id", Int8),
            ("link", Text),
            ("side", Text),
            ("cursor", Text),
            ("at", Text),
            ("at_ms", Int8),
        ],
    ),
];

/// Rows copied per statement.
const CHUNK: usize = 5_000;

/// What was copied: rows per table.
pub type Copied = Vec<(&'static str, usize)>;

/// One column's values of a chunk, typed for PostgreSQL.
enum ColumnValues {
    Text(Vec<Option<String>>),
    Int8(Vec<Option<i64>>),
    Int4(Vec<Option<i32>>),
    Bool(Vec<Option<bool>>),
}

impl ColumnValues {
    fn new(kind: Kind) -> Self {
        match kind {
            Text => ColumnValues::Text(Vec::new()),
            Int8 => ColumnValues::Int8(Vec::new()),
            Int4 => ColumnValues::Int4(Vec::new()),
            Bool => ColumnValues::Bool(Vec::new()),
        }
    }

    fn push(&mut self, v: Value) -> Result<(), String> {
        match (self, v) {
            (ColumnValues::Text(c), Value::Null) => c.push(None),
            (ColumnValues::Int8(c), Value::Null) => c.push(None),
            (ColumnValues::Int4(c), Value::Null) => c.push(None),
            (ColumnValues::Bool(c), Value::Null) => c.push(None),
            (ColumnValues::Text(c), Value::Text(t)) => c.push(Some(t)),
            (ColumnValues::Int8(c), Value::Integer(i)) => c.push(Some(i)),
            (ColumnValues::Int4(c), Value::Integer(i)) => c.push(Some(
                i32::try_from(i).map_err(|_| format!("{i} is too large"))?,
            )),
            (ColumnValues::Bool(c), Value::Integer(i)) => c.push(Some(i != 0)),
            (_, other) => return Err(format!("unexpected value {other:?}")),
        }
        Ok(())
    }

    fn as_param(&self) -> &(dyn ToSql + Sync) {
        match self {
            ColumnValues::Text(c) => c,
            ColumnValues::Int8(c) => c,
            ColumnValues::Int4(c) => c,
            ColumnValues::Bool(c) => c,
        }
    }
}

fn pg(name: &str) -> impl Fn(postgres::Error) -> StoreError + '_ {
    move |e| StoreError::Postgres {
        url: name.to_owned(),
        detail: e.to_string(),
    }
}

fn sqlite(path: &str) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
    move |source| StoreError::Sqlite {
        path: path.to_owned(),
        source,
    }
}

/// Copies every table of the SQLite store `from` (named `from_name`) into the PostgreSQL
/// store behind `to` (named `to_name`), which must hold no state yet. One transaction: on any
/// error nothing is left behind.
pub fn copy(
    from: &rusqlite::Connection,
    from_name: &str,
    to: &mut postgres::Client,
    to_name: &str,
) -> Result<Copied, StoreError> {
    let mut tx = to.transaction().map_err(pg(to_name))?;
    for (table, _) in TABLES {
        let n: i64 = tx
            .query_one(&format!("SELECT COUNT(*) FROM {table}"), &[])
            .map_err(pg(to_name))?
            .get(0);
        if n > 0 {
            return Err(StoreError::NotEmpty {
                url: to_name.to_owned(),
                detail: format!("its table {table} holds {n} rows"),
            });
        }
    }
    let mut copied = Vec::new();
    for (table, columns) in TABLES {
        let names: Vec<&str> = columns.iter().map(|(c, _)| *c).collect();
        let list = names.join(", ");
        let mut stmt = from
            .prepare(&format!("SELECT {list} FROM {table}"))
            .map_err(sqlite(from_name))?;
        let mut rows = stmt.query([]).map_err(sqlite(from_name))?;
        let unnest: Vec<String> = columns
            .iter()
            .enumerate()
            .map(|(i, (_, k))| format!("${}::{}", i + 1, k.sql_array()))
            .collect();
        let insert = format!(
            "INSERT INTO {table} ({list}) SELECT * FROM unnest({})",
            unnest.join(", ")
        );
        let mut total = 0usize;
        loop {
            let mut chunk: Vec<ColumnValues> =
                columns.iter().map(|(_, k)| ColumnValues::new(*k)).collect();
            let mut n = 0;
            while n < CHUNK {
                let Some(row) = rows.next().map_err(sqlite(from_name))? else {
                    break;
                };
                for (i, values) in chunk.iter_mut().enumerate() {
                    let v: Value = row.get(i).map_err(sqlite(from_name))?;
                    values.push(v).map_err(|detail| StoreError::Corrupt {
                        path: from_name.to_owned(),
                        detail: format!("{table}.{}: {detail}", names[i]),
                    })?;
                }
                n += 1;
            }
            if n == 0 {
                break;
            }
            let params: Vec<&(dyn ToSql + Sync)> =
                chunk.iter().map(ColumnValues::as_param).collect();
            tx.execute(&insert, &params).map_err(pg(to_name))?;
            total += n;
            if n < CHUNK {
                break;
            }
        }
        if columns.iter().any(|(c, _)| *c == "id") {
            tx.execute(
                &format!(
                    "SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
                ),
                &[],
            )
            .map_err(pg(to_name))?;
        }
        copied.push((*table, total));
    }
    tx.commit().map_err(pg(to_name))?;
    Ok(copied)
}

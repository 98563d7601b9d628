//! What a store's identity check concludes, for the SQLite file and the PostgreSQL database
//! alike: new, orderlink's (at a schema version), newer than this build, or another program's.

/// The verdict on a store's identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// No tables yet: a new store.
    Fresh,
    /// An orderlink store at this schema version.
    Ours(i64),
    /// An orderlink store newer than this build.
    Newer(i64),
    /// Another program's database: what it holds instead.
    Foreign(String),
}

use super::*;
use crate::store::outcome_audit;
use crate::store::SeenOrder;

const V1_FIXTURE: &str = include_str!("../../../tests/fixtures/store-v1.sql");

fn temp() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.sqlite");
    (dir, path)
}

fn make_v1(path: &Path) {
    let conn = Connection::open(path).unwrap();
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    conn.execute_batch(V1_FIXTURE).unwrap();
}

fn entry(key: &str, id: i64) -> OutboxEntry {
    OutboxEntry {
        id,
        target: Side::Shop,
        key: key.to_owned(),
        status: "packed".into(),
        from_status: Some("new".into()),
        source_status: "Zaakceptowany".into(),
        expected_version: None,
        reason: "erp status Zaakceptowany -> packed".into(),
        attempts: 0,
    }
}

fn seen(key: &str) -> SeenOrder {
    SeenOrder {
        key: key.to_owned(),
        id: None,
        status: "Zaakceptowany".into(),
        created_at: None,
        fulfilled: Some(false),
    }
}

fn page<'a>(cursor: &'a str, seen: &'a [SeenOrder], outbox: &'a [OutboxEntry]) -> PageCommit<'a> {
    PageCommit {
        source: Side::Erp,
        next_cursor: cursor,
        seen,
        outbox,
        drop_pending: &[],
        audit: &[],
    }
}

#[test]
fn a_store_made_by_the_first_version_opens_reads_and_is_upgraded() {
    let (_dir, path) = temp();
    make_v1(&path);
    // Read-only commands read it as it is, without changing it.
    let read = SqliteStore::open(&path, OpenMode::Read).unwrap();
    assert_eq!(read.history("1002", None).unwrap().len(), 1);
    drop(read);
    let v: i64 = Connection::open(&path)
        .unwrap()
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(v, 0, "a read-only open upgraded the file");

    let store = SqliteStore::open(&path, OpenMode::Own).unwrap();
    assert_eq!(
        store.cursor("main", Side::Erp).unwrap().as_deref(),
        Some("c-42")
    );
    let orders = store
        .orders("main", &["1001".into(), "1002".into(), "9".into()])
        .unwrap();
    assert_eq!(orders.len(), 2);
    assert_eq!(orders["1001"].erp_written.as_deref(), Some("Potwierdzony"));
    assert_eq!(orders["1002"].shop_written.as_deref(), Some("packed"));
    let due = store.due_outbox("main", Side::Shop, 10).unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(
        (
            due[0].key.as_str(),
            due[0].attempts,
            due[0].expected_version.as_deref()
        ),
        ("1001", 1, Some("v3"))
    );
    let stats = store.stats(&["main".into()]).unwrap();
    assert_eq!(
        (
            stats["main"].applied_total,
            stats["main"].pending,
            stats["main"].dead_letters
        ),
        (1, 1, 1)
    );
    assert_eq!(store.dead_letters(Some("main")).unwrap()[0].key, "1003");
    drop(store);
    let conn = Connection::open(&path).unwrap();
    let id = schema::identity(&conn).unwrap();
    assert_eq!(
        (id.application_id, id.user_version),
        (schema::APPLICATION_ID, LATEST_VERSION)
    );
}

fn file_bytes(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

#[test]
fn another_programs_database_is_refused_and_left_untouched() {
    let (_dir, path) = temp();
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch("CREATE TABLE users (name TEXT); INSERT INTO users VALUES ('ann');")
        .unwrap();
    drop(conn);
    let before = file_bytes(&path);
    for mode in [OpenMode::Own, OpenMode::Edit, OpenMode::Read] {
        let err = SqliteStore::open(&path, mode).err().unwrap();
        let text = err.to_string();
        assert!(err.is_bad_input(), "{text}");
        assert!(
            text.contains("state.sqlite") && text.contains("users"),
            "{text}"
        );
    }
    assert_eq!(file_bytes(&path), before);
    assert!(
        !lock::lock_path(&path).exists(),
        "a lock file beside a foreign file"
    );
}

#[test]
fn a_store_from_a_newer_orderlink_is_refused_and_left_untouched() {
    let (_dir, path) = temp();
    drop(SqliteStore::open(&path, OpenMode::Own).unwrap());
    let conn = Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", LATEST_VERSION + 1)
        .unwrap();
    drop(conn);
    let before = file_bytes(&path);
    let err = SqliteStore::open(&path, OpenMode::Own).err().unwrap();
    assert!(matches!(err, StoreError::Newer { found, .. } if found == LATEST_VERSION + 1));
    assert!(err.to_string().contains("newer"), "{err}");
    assert_eq!(file_bytes(&path), before);
}

#[test]
fn a_damaged_or_truncated_file_is_named_as_such() {
    let (dir, path) = temp();
    std::fs::write(&path, "just some text, not a database at all, long enough for a header ........................................").unwrap();
    let err = SqliteStore::open(&path, OpenMode::Own).err().unwrap();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
    assert!(err.to_string().contains("state.sqlite"), "{err}");

    let cut = dir.path().join("cut.sqlite");
    {
        let store = SqliteStore::open(&cut, OpenMode::Own).unwrap();
        let lease = store.lease("main").unwrap();
        let seen: Vec<SeenOrder> = (0..2000).map(|i| seen(&format!("k{i}"))).collect();
        store.commit_page(&lease, &page("c1", &seen, &[])).unwrap();
    }
    // A clean close leaves no log: the file is whole, then cut in half.
    let len = std::fs::metadata(&cut).unwrap().len();
    assert!(!Path::new(&format!("{}-wal", cut.display())).exists());
    let f = std::fs::OpenOptions::new().write(true).open(&cut).unwrap();
    f.set_len(len / 2).unwrap();
    drop(f);
    let err = SqliteStore::open(&cut, OpenMode::Read).err().unwrap();
    let text = err.to_string();
    assert!(
        err.is_bad_input() && text.contains("cut.sqlite") && text.contains("truncated"),
        "{text}"
    );
}

#[test]
fn an_idle_cycle_writes_nothing_and_its_cursor_is_kept_until_the_store_closes() {
    let (_dir, path) = temp();
    let store = SqliteStore::open(&path, OpenMode::Own).unwrap();
    let lease = store.lease("main").unwrap();
    let idle = CycleRecord {
        ms: 1,
        error: None,
        did_work: false,
    };
    store.record_cycle(&lease, &idle).unwrap();
    let after_first = store.commits();
    for i in 0..5 {
        store
            .commit_page(&lease, &page(&format!("c{i}"), &[], &[]))
            .unwrap();
        store.record_cycle(&lease, &idle).unwrap();
    }
    assert_eq!(store.commits(), after_first, "idle cycles committed");
    assert_eq!(
        store.cursor("main", Side::Erp).unwrap().as_deref(),
        Some("c4")
    );
    let failing = CycleRecord {
        error: Some("shop down".into()),
        ..idle.clone()
    };
    store.record_cycle(&lease, &failing).unwrap();
    store.record_cycle(&lease, &failing).unwrap();
    assert_eq!(store.commits(), after_first + 1, "one record per new error");
    drop(store);
    let read = SqliteStore::open(&path, OpenMode::Read).unwrap();
    assert_eq!(
        read.cursor("main", Side::Erp).unwrap().as_deref(),
        Some("c4")
    );
    assert_eq!(
        read.stats(&["main".into()]).unwrap()["main"]
            .last_error
            .as_deref(),
        Some("shop down")
    );
}

#[test]
fn a_page_and_a_batch_of_outcomes_are_one_transaction_each() {
    let (_dir, path) = temp();
    let store = SqliteStore::open(&path, OpenMode::Own).unwrap();
    let lease = store.lease("main").unwrap();
    let keys: Vec<String> = (0..100).map(|i| format!("k{i}")).collect();
    let seen: Vec<SeenOrder> = keys.iter().map(|k| seen(k)).collect();
    let outbox: Vec<OutboxEntry> = keys.iter().map(|k| entry(k, 0)).collect();
    store
        .commit_page(&lease, &page("c1", &seen, &outbox))
        .unwrap();
    assert_eq!(store.commits(), 1);
    assert_eq!(store.orders("main", &keys).unwrap().len(), 100);
    assert_eq!(
        store.pending_into("main", Side::Shop, &keys).unwrap().len(),
        100
    );
    let due = store.due_outbox("main", Side::Shop, 100).unwrap();
    let outcomes: Vec<OutboxUpdate> = due
        .iter()
        .enumerate()
        .map(|(i, e)| match i % 4 {
            0 => OutboxUpdate::Done {
                entry: e.clone(),
                changed: true,
            },
            1 => OutboxUpdate::Retry {
                entry: e.clone(),
                delay_ms: 60_000,
                error: "transient: 503".into(),
                clear_version: false,
            },
            2 => OutboxUpdate::Dead {
                entry: e.clone(),
                code: "permanent".into(),
                reason: "closed".into(),
            },
            _ => OutboxUpdate::Dropped {
                entry: e.clone(),
                audit: outcome_audit(
                    "main",
                    e,
                    "dropped after re-read: in sync",
                    e.reason.clone(),
                ),
            },
        })
        .collect();
    store.record_outcomes(&lease, &outcomes).unwrap();
    assert_eq!(store.commits(), 2);
    let s = &store.stats(&["main".into(), "other".into()]).unwrap();
    assert_eq!(
        (
            s["main"].applied_total,
            s["main"].pending,
            s["main"].dead_letters
        ),
        (25, 25, 25)
    );
    assert_eq!(s["other"], LinkStats::default());
    assert!(
        store
            .due_outbox("main", Side::Shop, 100)
            .unwrap()
            .is_empty(),
        "retries wait"
    );
    let k0 = store.orders("main", &["k0".into()]).unwrap();
    assert_eq!(
        k0["k0"].shop_written.as_deref(),
        Some("packed"),
        "echo expected"
    );
    assert_eq!(
        store.history("k0", Some("main")).unwrap()[0].action,
        "applied"
    );
}

#[test]
fn a_stale_lease_epoch_is_fenced() {
    let store = SqliteStore::in_memory().unwrap();
    let stale = Lease {
        link: "main".into(),
        epoch: 3,
    };
    let err = store
        .commit_page(&stale, &page("c", &[seen("k")], &[]))
        .unwrap_err();
    assert!(matches!(err, StoreError::Fenced { epoch: 3, .. }), "{err}");
    assert!(store.record_outcomes(&stale, &[]).is_err());
}

#[test]
fn one_owner_at_a_time_while_readers_still_read() {
    let (_dir, path) = temp();
    let owner = SqliteStore::open(&path, OpenMode::Own).unwrap();
    let lease = owner.lease("main").unwrap();
    owner
        .commit_page(&lease, &page("c1", &[seen("k")], &[]))
        .unwrap();
    let err = SqliteStore::open(&path, OpenMode::Own).err().unwrap();
    assert!(
        matches!(err, StoreError::Locked { .. }) && err.is_bad_input(),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains(&format!("pid {}", std::process::id())),
        "{err}"
    );
    let reader = SqliteStore::open(&path, OpenMode::Read).unwrap();
    assert_eq!(reader.orders("main", &["k".into()]).unwrap().len(), 1);
    let editor = SqliteStore::open(&path, OpenMode::Edit).unwrap();
    assert!(editor.dead_letters(None).unwrap().is_empty());
    drop(owner);
    assert!(SqliteStore::open(&path, OpenMode::Own).is_ok());
}

#[test]
fn dead_letter_edits_with_an_unknown_id_change_nothing() {
    let (_dir, path) = temp();
    make_v1(&path);
    let store = SqliteStore::open(&path, OpenMode::Edit).unwrap();
    let id = store.dead_letters(None).unwrap()[0].id;
    assert_eq!(store.retry_dead_letters(&[id, 999]).unwrap(), vec![999]);
    assert_eq!(store.discard_dead_letters(&[999, id]).unwrap(), vec![999]);
    assert_eq!(store.dead_letters(None).unwrap().len(), 1);
    assert!(store.retry_dead_letters(&[id]).unwrap().is_empty());
    assert!(store.dead_letters(None).unwrap().is_empty());
    let due = store.due_outbox("main", Side::Erp, 10).unwrap();
    assert_eq!(due.len(), 1);
    assert!(due[0].reason.starts_with("retried from dead letters"));
}

fn audit_at(at: &str, key: &str) -> AuditEntry {
    AuditEntry {
        at: at.into(),
        link: "l".into(),
        key: key.into(),
        target: "shop".into(),
        from_status: None,
        to_status: "new".into(),
        action: "applied".into(),
        why: "test".into(),
    }
}

#[test]
fn pruning_drops_only_records_older_than_the_horizon() {
    let s = SqliteStore::in_memory().unwrap();
    let lease = s.lease("l").unwrap();
    s.record_audit(
        &lease,
        &[
            audit_at("2020-01-01T00:00:00.000Z", "1"),
            audit_at("2030-01-01T00:00:00.000Z", "1"),
        ],
    )
    .unwrap();
    assert_eq!(s.prune_audit("2025-01-01T00:00:00.000Z").unwrap(), 1);
    let left = s.history("1", None).unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].at, "2030-01-01T00:00:00.000Z");
    assert_eq!(
        s.oldest_audit().unwrap().as_deref(),
        Some("2030-01-01T00:00:00.000Z")
    );
}

#[test]
fn queued_writes_are_pending_and_replace_older_ones() {
    let s = SqliteStore::in_memory().unwrap();
    let lease = s.lease("l").unwrap();
    let with = |status: &str| OutboxEntry {
        status: status.into(),
        reason: "reconcile".into(),
        ..entry("7", 0)
    };
    s.queue_writes(&lease, &[with("on_order")], &[], &[])
        .unwrap();
    s.queue_writes(&lease, &[with("packed")], &[], &[]).unwrap();
    let p = s.outbox_list(Some("l"), None).unwrap();
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].status, "packed");
    assert_eq!(s.outbox_list(None, Some("8")).unwrap().len(), 0);
}

fn commit_cursor(s: &SqliteStore, cursor: &str) {
    let lease = s.lease("l").unwrap();
    // A page with an order: an empty page's cursor is only held in memory.
    s.commit_page(&lease, &page(cursor, &[seen("k")], &[]))
        .unwrap();
}

#[test]
fn a_checkpoint_per_interval_and_the_newest_before_a_moment_wins() {
    let s = SqliteStore::in_memory().unwrap();
    commit_cursor(&s, "10");
    commit_cursor(&s, "11");
    let first = s.first_checkpoint("l", Side::Erp).unwrap().unwrap();
    assert_eq!(first.cursor, "10", "the second save is inside the interval");
    // An older checkpoint, as if saved two minutes ago.
    s.with(|inner| {
        inner.conn.execute(
            "UPDATE cursor_checkpoints SET at_ms = at_ms - 120000 WHERE cursor = '10'",
            [],
        )
    })
    .unwrap();
    commit_cursor(&s, "12");
    let now = now_ms();
    let at = |ms| {
        s.checkpoint_at_or_before("l", Side::Erp, ms)
            .unwrap()
            .map(|c| c.cursor)
    };
    assert_eq!(at(now - 60_000), Some("10".to_owned()));
    assert_eq!(at(now + 1), Some("12".to_owned()));
    assert_eq!(at(now - 3_600_000), None);
    assert_eq!(
        s.checkpoint_at_or_before("l", Side::Shop, now + 1).unwrap(),
        None
    );
}

#[test]
fn set_cursor_moves_it_and_none_starts_over_even_over_a_held_cursor() {
    let s = SqliteStore::in_memory().unwrap();
    let lease = s.lease("l").unwrap();
    commit_cursor(&s, "12");
    s.commit_page(&lease, &page("13", &[], &[])).unwrap();
    assert_eq!(s.cursor("l", Side::Erp).unwrap().as_deref(), Some("13"));
    s.set_cursor(&lease, Side::Erp, Some("5")).unwrap();
    assert_eq!(s.cursor("l", Side::Erp).unwrap().as_deref(), Some("5"));
    s.set_cursor(&lease, Side::Erp, None).unwrap();
    assert_eq!(s.cursor("l", Side::Erp).unwrap(), None);
}

#[test]
fn an_unstamped_store_with_cursor_checkpoints_is_ours_too() {
    let (_dir, path) = temp();
    make_v1(&path);
    Connection::open(&path)
        .unwrap()
        .execute_batch(include_str!("migrations/003_cursor_checkpoints.sql"))
        .unwrap();
    let store = SqliteStore::open(&path, OpenMode::Own).unwrap();
    assert_eq!(
        store.cursor("main", Side::Shop).unwrap().as_deref(),
        Some("s-7")
    );
}

#[test]
fn an_idle_outbox_is_not_read_again_yet_writes_from_here_or_elsewhere_are_seen() {
    let (_dir, path) = temp();
    let owner = SqliteStore::open(&path, OpenMode::Own).unwrap();
    let lease = owner.lease("main").unwrap();
    assert!(owner.due_outbox("main", Side::Shop, 10).unwrap().is_empty());
    // A write through the owner is due at once.
    owner
        .queue_writes(&lease, &[entry("1", 0)], &[], &[])
        .unwrap();
    let due = owner.due_outbox("main", Side::Shop, 10).unwrap();
    assert_eq!(due.len(), 1);
    owner
        .record_outcomes(
            &lease,
            &[OutboxUpdate::Done {
                entry: due[0].clone(),
                changed: true,
            }],
        )
        .unwrap();
    assert!(owner.due_outbox("main", Side::Shop, 10).unwrap().is_empty());
    // An operator's edit from another process (another connection) is seen too.
    let operator = SqliteStore::open(&path, OpenMode::Edit).unwrap();
    operator
        .queue_writes(&operator.lease("main").unwrap(), &[entry("2", 0)], &[], &[])
        .unwrap();
    std::thread::sleep(OTHER_WRITERS_EVERY);
    let due = owner.due_outbox("main", Side::Shop, 10).unwrap();
    assert_eq!(
        due.iter().map(|e| e.key.as_str()).collect::<Vec<_>>(),
        ["2"]
    );
}

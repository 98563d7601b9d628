//! The PostgreSQL store against a real, throwaway PostgreSQL server: the same behaviour as the
//! SQLite store, leases shared by hosts, fencing of a stale owner, and a database that is not
//! ours (or newer) refused untouched.

use std::time::Duration;

use orderlink::domain::Side;
use orderlink::store::postgres::{PgOptions, PostgresStore};
use orderlink::store::{OutboxEntry, OutboxUpdate, PageCommit, SeenOrder, StateStore, StoreError};
use orderlink_e2e::postgres::{PgServer, PG_PASSWORD};

/// Connects to database `db` as host `host` (`heartbeat`: a `run` host, not a one-off command).
fn connect(
    pg: &PgServer,
    db: &str,
    host: &str,
    lease: Duration,
    heartbeat: bool,
) -> Result<PostgresStore, StoreError> {
    PostgresStore::connect(
        PgOptions {
            url: pg.url_without_password(db),
            password: Some(PG_PASSWORD.to_owned()),
            lease,
            host: host.to_owned(),
            heartbeat,
        },
        true,
    )
}

fn open(pg: &PgServer, db: &str, host: &str, lease: Duration) -> PostgresStore {
    connect(pg, db, host, lease, true).unwrap_or_else(|e| panic!("connect: {e}\n{}", pg.log()))
}

fn links(names: &[&str]) -> Vec<(String, u32)> {
    names.iter().map(|n| (n.to_string(), 1)).collect()
}

fn entry(key: &str) -> OutboxEntry {
    OutboxEntry {
        id: 0,
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
        id: Some(format!("id-{key}")),
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
fn a_page_its_writes_and_their_outcomes_round_trip() {
    let pg = PgServer::start();
    pg.create_database("roundtrip");
    let store = open(&pg, "roundtrip", "h1", Duration::from_secs(30));
    let held = store.coordinate(&links(&["main"]), false).unwrap();
    assert_eq!(held.len(), 1);
    let lease = &held[0];
    assert_eq!(lease.epoch, 1);

    let s = [seen("1"), seen("2")];
    let o = [entry("1"), entry("2")];
    store.commit_page(lease, &page("c-1", &s, &o)).unwrap();
    assert_eq!(
        store.cursor("main", Side::Erp).unwrap().as_deref(),
        Some("c-1")
    );
    let orders = store
        .orders("main", &["1".into(), "2".into(), "3".into()])
        .unwrap();
    assert_eq!(orders.len(), 2);
    assert_eq!(orders["1"].erp_status.as_deref(), Some("Zaakceptowany"));
    let pending = store
        .pending_into("main", Side::Shop, &["1".into(), "2".into()])
        .unwrap();
    assert_eq!(pending["2"].status, "packed");

    let due = store.due_outbox("main", Side::Shop, 10).unwrap();
    assert_eq!(due.len(), 2);
    store
        .record_outcomes(
            lease,
            &[
                OutboxUpdate::Done {
                    entry: due[0].clone(),
                    changed: true,
                },
                OutboxUpdate::Dead {
                    entry: due[1].clone(),
                    code: "refused".into(),
                    reason: "no such order".into(),
                },
            ],
        )
        .unwrap();
    let stats = store.stats(&["main".into()]).unwrap();
    assert_eq!(stats["main"].applied_total, 1);
    assert_eq!(stats["main"].pending, 0);
    assert_eq!(stats["main"].dead_letters, 1);
    let dead = store.dead_letters(Some("main")).unwrap();
    assert_eq!(dead[0].key, "2");
    assert_eq!(store.history("1", None).unwrap()[0].action, "applied");
    assert_eq!(
        store.retry_dead_letters(&[dead[0].id, 999]).unwrap(),
        vec![999]
    );
    assert!(store.retry_dead_letters(&[dead[0].id]).unwrap().is_empty());
    assert_eq!(store.due_outbox("main", Side::Shop, 10).unwrap().len(), 1);
    // An idle page writes nothing but is remembered, and saved at the checkpoint.
    store.commit_page(lease, &page("c-2", &[], &[])).unwrap();
    assert_eq!(
        store.cursor("main", Side::Erp).unwrap().as_deref(),
        Some("c-2")
    );
    store.checkpoint().unwrap();
    drop(store);
    let again = open(&pg, "roundtrip", "h2", Duration::from_secs(30));
    assert_eq!(
        again.cursor("main", Side::Erp).unwrap().as_deref(),
        Some("c-2")
    );
}

#[test]
fn hosts_share_links_and_a_stale_owner_is_fenced() {
    let pg = PgServer::start();
    pg.create_database("leases");
    let lease_period = Duration::from_secs(2);
    let a = open(&pg, "leases", "a", lease_period);
    let b = open(&pg, "leases", "b", lease_period);
    let all = links(&["l1", "l2", "l3", "l4"]);

    // Alone, a takes every link.
    assert_eq!(a.coordinate(&all, false).unwrap().len(), 4);
    // b joins: nothing is free yet; a gives up its surplus at its next tick, b takes it.
    assert!(b.coordinate(&all, false).unwrap().is_empty());
    assert_eq!(a.coordinate(&all, false).unwrap().len(), 2);
    let b_held = b.coordinate(&all, false).unwrap();
    assert_eq!(b_held.len(), 2);
    assert!(b_held.iter().all(|l| l.epoch == 2), "{b_held:?}");
    let owners = a.owners().unwrap();
    assert_eq!(owners.len(), 4);
    assert_eq!(
        owners
            .values()
            .filter(|o| o.host.as_deref() == Some("b"))
            .count(),
        2
    );

    // a stops renewing (paused) past its lease; b takes a's links over with a new epoch.
    let a_lease = a
        .lease(&a.coordinate(&all, false).unwrap()[0].link)
        .unwrap();
    assert!(a.lease_valid_for(&a_lease, Duration::from_millis(100)));
    std::thread::sleep(lease_period + Duration::from_millis(300));
    assert!(!a.lease_valid_for(&a_lease, Duration::ZERO));
    let b_now = b.coordinate(&all, false).unwrap();
    assert_eq!(b_now.len(), 4, "{b_now:?}");
    let taken = b_now.iter().find(|l| l.link == a_lease.link).unwrap();
    assert_eq!(taken.epoch, a_lease.epoch + 1);

    // a wakes up: its write is refused by the epoch check, and it no longer holds the link.
    let s = [seen("9")];
    let err = a
        .commit_page(&a_lease, &page("stale", &s, &[]))
        .unwrap_err();
    assert!(matches!(err, StoreError::Fenced { .. }), "{err}");
    assert!(a.lease(&a_lease.link).is_err());
    assert_eq!(b.cursor(&a_lease.link, Side::Erp).unwrap(), None);
    b.commit_page(taken, &page("fresh", &s, &[])).unwrap();

    // A clean shutdown hands everything back at once.
    assert!(b.coordinate(&all, true).unwrap().is_empty());
    assert_eq!(a.coordinate(&all, false).unwrap().len(), 4);
}

#[test]
fn another_programs_database_and_a_newer_one_are_refused_untouched() {
    let pg = PgServer::start();
    let url = pg.create_database("foreign");
    let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    c.batch_execute("CREATE TABLE customers (id int); INSERT INTO customers VALUES (1);")
        .unwrap();
    let err = connect(&pg, "foreign", "h", Duration::from_secs(30), true)
        .err()
        .expect("a foreign database is refused");
    let shown = err.to_string();
    assert!(shown.contains("customers"), "{shown}");
    assert!(!shown.contains(PG_PASSWORD), "{shown}");
    let tables: i64 = c
        .query_one(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(tables, 1, "the foreign database was changed");

    pg.create_database("newer");
    drop(open(&pg, "newer", "h", Duration::from_secs(30)));
    let url = pg.url("newer");
    let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    c.batch_execute(
        "INSERT INTO orderlink_schema_history (version, name, applied_on, checksum)
         VALUES (99, 'future', '2030-01-01', '0')",
    )
    .unwrap();
    let err = connect(&pg, "newer", "h", Duration::from_secs(30), true)
        .err()
        .expect("a newer database is refused");
    assert!(matches!(err, StoreError::Newer { found: 99, .. }), "{err}");
}

#[test]
fn a_one_off_command_takes_only_free_links_and_never_makes_hosts_give_way() {
    let pg = PgServer::start();
    pg.create_database("command");
    let lease = Duration::from_secs(30);
    let a = open(&pg, "command", "a", lease);
    let all = links(&["l1", "l2", "l3"]);
    assert_eq!(a.coordinate(&all, false).unwrap().len(), 3);
    let sync = connect(&pg, "command", "a+sync-1", lease, false).unwrap();
    // Every link is held by a live host: the command gets none, and the host keeps them all.
    assert!(sync.coordinate(&all, false).unwrap().is_empty());
    assert_eq!(a.coordinate(&all, false).unwrap().len(), 3);
    // Once the host has stopped, the command takes every link, and gives them back.
    assert!(a.coordinate(&all, true).unwrap().is_empty());
    assert_eq!(sync.coordinate(&all, false).unwrap().len(), 3);
    assert!(sync.coordinate(&all, true).unwrap().is_empty());
    assert!(a.owners().unwrap().values().all(|o| o.host.is_none()));
}

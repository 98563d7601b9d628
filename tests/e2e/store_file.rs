//! The state store file through the binary: one `run` or `sync` owns it at a time (the second
//! exits 2 naming the holder, readers still read), and a file that is another program's, from a
//! newer orderlink, or damaged is refused before any network call and left as it was.

use std::time::{Duration, Instant};

use orderlink_e2e::sims::{spawn_run, terminate};
use orderlink_e2e::sync_env::{SyncEnv, MAPPING};

const TO_SHOP: &str = "direction = \"to_shop\"\nscope = \"unfulfilled\"\n";

fn text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn one_owner_at_a_time_while_status_and_history_still_read() {
    let env = SyncEnv::new(20, TO_SHOP, MAPPING);
    env.sync_once();
    let mut child = spawn_run(env.dir.path(), &env.config, &SyncEnv::secrets());
    let lock = env.dir.path().join("state.sqlite.lock");
    let holder = format!("pid {}", child.id());
    let deadline = Instant::now() + Duration::from_secs(20);
    while !std::fs::read_to_string(&lock).is_ok_and(|t| t.contains(&holder)) {
        assert!(Instant::now() < deadline, "run never took the store's lock");
        std::thread::sleep(Duration::from_millis(50));
    }
    for second in [&["sync", "--once"][..], &["run"][..]] {
        let out = env.orderlink(second);
        let t = text(&out);
        assert_eq!(out.status.code(), Some(2), "{second:?}: {t}");
        assert!(
            t.contains("in use") && t.contains(&holder),
            "{second:?}: {t}"
        );
        assert!(!t.contains("panicked"), "{t}");
    }
    let status = env.orderlink(&["status", "--json"]);
    assert!(status.status.success(), "{}", text(&status));
    let history = env.orderlink(&["history", "--order", "1"]);
    assert!(history.status.success(), "{}", text(&history));
    terminate(&child);
    let code = child.wait().unwrap_or_else(|e| panic!("{e}")).code();
    assert_eq!(code, Some(0));
    env.sync_once();
}

/// Runs `sync --once` on the store as it is; asserts exit 2, the words, no network call, and
/// the file unchanged.
fn refused(env: &SyncEnv, words: &[&str]) {
    let path = env.dir.path().join("state.sqlite");
    let before = std::fs::read(&path).unwrap_or_else(|e| panic!("{e}"));
    let calls = env.sims.request_counts();
    for args in [&["sync", "--once"][..], &["status"][..], &["check"][..]] {
        let out = env.orderlink(args);
        let t = text(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {t}");
        assert!(
            t.contains("state.sqlite"),
            "{args:?} does not name the file: {t}"
        );
        for w in words {
            assert!(t.contains(w), "{args:?} does not say `{w}`: {t}");
        }
        assert!(!t.contains("panicked"), "{t}");
    }
    assert_eq!(env.sims.request_counts(), calls, "a network call was made");
    assert_eq!(
        std::fs::read(&path).ok(),
        Some(before),
        "the file was changed"
    );
}

#[test]
fn a_foreign_newer_or_damaged_store_is_refused_before_any_network_call_and_left_as_it_was() {
    let env = SyncEnv::new(5, TO_SHOP, MAPPING);
    let path = env.dir.path().join("state.sqlite");

    let conn = rusqlite::Connection::open(&path).unwrap_or_else(|e| panic!("{e}"));
    conn.execute_batch("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL); INSERT INTO invoices VALUES (1, 9.5);")
        .unwrap_or_else(|e| panic!("{e}"));
    drop(conn);
    refused(
        &env,
        &["not an orderlink state store", "invoices", "untouched"],
    );
    std::fs::remove_file(&path).unwrap_or_else(|e| panic!("{e}"));

    env.sync_once();
    let conn = rusqlite::Connection::open(&path).unwrap_or_else(|e| panic!("{e}"));
    conn.pragma_update(None, "user_version", 999)
        .unwrap_or_else(|e| panic!("{e}"));
    drop(conn);
    refused(&env, &["newer", "999"]);

    let len = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap_or_else(|e| panic!("{e}"));
    f.set_len(len / 2).unwrap_or_else(|e| panic!("{e}"));
    drop(f);
    refused(&env, &["damaged", "truncated"]);
}

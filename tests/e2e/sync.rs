//! End-to-end: the `orderlink` binary, the real plugin files, both simulators on loopback.

use std::time::{Duration, Instant};

use orderlink_e2e::sims::{spawn_run, terminate};
use orderlink_e2e::sync_env::{SimPair, SyncEnv, MAPPING};
use serde_json::{json, Value};

const TO_SHOP: &str = "direction = \"to_shop\"\nscope = \"unfulfilled\"\n";
const TO_ERP: &str = "direction = \"to_erp\"\n";
const BOTH: &str = "direction = \"both\"\nscope = \"unfulfilled\"\n";

fn text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Keys of ZOs with no sales document yet, in a status the shop may change.
fn open_keys(sims: &SimPair, n: usize) -> Vec<String> {
    (1..=n)
        .map(|k| k.to_string())
        .filter(|k| {
            let zo = sims.erp.get(&format!("/_sim/documents/by-obcy/{k}"));
            zo.get("Zrealizowane").and_then(Value::as_bool) == Some(false)
                && zo.get("Stan").and_then(Value::as_str) != Some("Anulowany")
                && zo.get("Stan").and_then(Value::as_str) != Some("Zablokowany")
        })
        .collect()
}

fn history(env: &SyncEnv, key: &str) -> Vec<Value> {
    let out = env.orderlink(&["history", "--order", key, "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    v["decisions"].as_array().cloned().unwrap_or_default()
}

#[test]
fn erp_confirmation_changes_reach_the_shop() {
    let env = SyncEnv::new(30, TO_SHOP, MAPPING);
    env.sync_once();
    let keys = open_keys(&env.sims, 30);
    let (a, b) = (&keys[0], &keys[1]);
    env.sims.set_erp_status(a, "Zaakceptowany");
    env.sims.set_erp_status(b, "Potwierdzony");
    let out = env.sync_once();
    assert_eq!(env.sims.shop_status(a), "packed", "{out}");
    assert_eq!(env.sims.shop_status(b), "on_order", "{out}");
    assert!(out.contains(&format!("order {a}")), "{out}");
    let h = history(&env, a);
    assert!(
        h.iter()
            .any(|e| e["to"] == "packed"
                && e["action"].as_str().unwrap_or("").starts_with("applied")),
        "{h:?}"
    );
    // Nothing changed since: the next cycle writes nothing to the shop.
    let out = env.sync_once();
    assert!(out.contains("0 changed"), "{out}");
}

#[test]
fn shop_changes_reach_the_erp_and_unlisted_statuses_leave_it_alone() {
    let env = SyncEnv::new(30, TO_ERP, MAPPING);
    env.sync_once();
    let keys = open_keys(&env.sims, 30);
    let (a, b) = (&keys[0], &keys[1]);
    env.sims.set_erp_status(a, "Niepotwierdzony");
    env.sims.set_erp_status(b, "Niepotwierdzony");
    std::thread::sleep(Duration::from_millis(1100));
    env.sims.set_shop_status(a, "on_order");
    env.sims.set_shop_status(b, "suspended");
    env.settle_shop();
    let out = env.sync_once();
    assert_eq!(env.sims.erp_status(a), "Potwierdzony", "{out}");
    assert_eq!(
        env.sims.erp_status(b),
        "Niepotwierdzony",
        "suspended is not in [to_erp]: {out}"
    );
}

#[test]
fn an_invoiced_order_is_left_alone_under_unfulfilled_scope() {
    let env = SyncEnv::new(30, TO_SHOP, MAPPING);
    env.sync_once();
    let keys = open_keys(&env.sims, 30);
    let (inv, open) = (&keys[0], &keys[1]);
    env.sims.set_erp_status(inv, "Potwierdzony");
    env.sims.set_erp_status(open, "Potwierdzony");
    env.sync_once();
    env.sims.erp_action(inv, "approve");
    env.sims.erp_action(inv, "invoice");
    env.sims.set_erp_status(inv, "Zaakceptowany");
    env.sims.set_erp_status(open, "Zaakceptowany");
    let out = env.sync_once();
    assert_eq!(env.sims.shop_status(inv), "on_order", "invoiced: {out}");
    assert_eq!(env.sims.shop_status(open), "packed", "{out}");
    assert!(out.contains("out of scope: fulfilled"), "{out}");
    // Each decision is on record, with both sides' statuses.
    env.sims.set_erp_status(inv, "Niepotwierdzony");
    env.sync_once();
    env.sims.set_erp_status(inv, "Zaakceptowany");
    env.sync_once();
    let h = history(&env, inv);
    let skips: Vec<&Value> = h
        .iter()
        .filter(|e| e["action"] == "skipped: out of scope: fulfilled")
        .collect();
    assert!(!skips.is_empty(), "{h:?}");
    assert!(
        skips
            .iter()
            .any(|e| e["why"].as_str().unwrap_or("").contains("Zaakceptowany")),
        "{h:?}"
    );
}

#[test]
fn an_order_older_than_the_window_is_left_alone_under_recent_scope() {
    let env = SyncEnv::new(
        10,
        "direction = \"to_shop\"\nscope = \"recent\"\nrecent_days = 30\n",
        MAPPING,
    );
    let old_add = (chrono_like_days_ago(40)).to_string();
    env.sims.shop.post(
        "/_sim/orders",
        json!({"orderSerialNumber": 11, "orderStatus": "new", "orderAddDate": old_add}),
    );
    env.sims.erp.post(
        "/_sim/documents",
        json!({"ObcyNumer": "11", "Potwierdzenie": "Niepotwierdzony", "Stan": "Zatwierdzony"}),
    );
    env.sims.erp_action("11", "invoice");
    env.sync_once();
    let fresh = open_keys(&env.sims, 10)[0].clone();
    env.sims.set_erp_status("11", "Zaakceptowany");
    env.sims.set_erp_status(&fresh, "Zaakceptowany");
    let out = env.sync_once();
    assert_eq!(
        env.sims.shop_status("11"),
        "new",
        "older than 30 days: {out}"
    );
    assert_eq!(env.sims.shop_status(&fresh), "packed", "{out}");
    assert!(out.contains("out of scope: older than the window"), "{out}");
}

/// `YYYY-MM-DD HH:MM:SS` some days ago (UTC is close enough for a 10-day margin).
fn chrono_like_days_ago(days: u64) -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
        - days * 86_400;
    let (d, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, dd) = civil_from_days(d as i64);
    format!(
        "{y:04}-{m:02}-{dd:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[test]
fn an_unmapped_erp_status_stops_start_up_with_the_list() {
    let mapping = "[to_shop]\nPotwierdzony = \"on_order\"\n";
    let env = SyncEnv::new(3, TO_SHOP, mapping);
    for cmd in [&["run"][..], &["check"][..], &["sync", "--once"][..]] {
        let out = env.orderlink(cmd);
        let t = text(&out);
        assert_eq!(out.status.code(), Some(2), "{cmd:?}: {t}");
        assert!(t.contains("Niepotwierdzony, Zaakceptowany"), "{cmd:?}: {t}");
        assert!(t.contains("mapping.toml"), "{cmd:?}: {t}");
    }
    assert!(env.sims.request_counts().0 > 0, "vocabulary is read live");
}

#[test]
fn a_config_error_names_file_line_and_key_before_any_network_call() {
    let env = SyncEnv::new(2, "direction = \"sideways\"\n", MAPPING);
    let before = env.sims.request_counts();
    let out = env.orderlink(&["check"]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(2), "{t}");
    assert!(t.contains("orderlink.toml:"), "{t}");
    assert!(
        t.contains("to_shop") && t.contains("both"),
        "says what is valid: {t}"
    );
    assert_eq!(
        env.sims.request_counts(),
        before,
        "no network call on a bad config"
    );
    assert!(!t.contains(orderlink_e2e::sync_env::SHOP_KEY));
}

const ERP_VALUES: [&str; 3] = ["Niepotwierdzony", "Potwierdzony", "Zaakceptowany"];
const SHOP_VALUES: [&str; 3] = ["new", "on_order", "packed"];

fn shop_for(erp: &str) -> &'static str {
    SHOP_VALUES[ERP_VALUES.iter().position(|v| *v == erp).unwrap_or(0)]
}

fn erp_for(shop: &str) -> &'static str {
    ERP_VALUES[SHOP_VALUES.iter().position(|v| *v == shop).unwrap_or(0)]
}

/// Changes both sides of an order, each to a value that differs from its current one and from
/// the other side's: a real conflict. Returns (shop status set, ERP status set).
fn conflicting_changes(sims: &SimPair, key: &str) -> (&'static str, &'static str) {
    let now = ERP_VALUES
        .iter()
        .position(|v| *v == sims.erp_status(key))
        .unwrap_or(0);
    let (erp_new, shop_new) = (ERP_VALUES[(now + 1) % 3], SHOP_VALUES[(now + 2) % 3]);
    sims.set_shop_status(key, shop_new);
    sims.set_erp_status(key, erp_new);
    (shop_new, erp_new)
}

#[test]
fn both_directions_without_ping_pong_and_the_conflict_rule() {
    let env = SyncEnv::new(30, BOTH, MAPPING);
    env.sync_once();
    env.sync_once();
    let keys = open_keys(&env.sims, 30);
    let (a, b, c) = (&keys[0], &keys[1], &keys[2]);
    std::thread::sleep(Duration::from_millis(1100));
    env.sims.set_shop_status(a, "on_order");
    env.sims.set_erp_status(b, "Zaakceptowany");
    // Both sides of c change before the next cycle: the ERP wins by default.
    let (shop_c, erp_c) = conflicting_changes(&env.sims, c);
    env.settle_shop();
    env.sync_once();
    assert_eq!(env.sims.erp_status(a), "Potwierdzony");
    assert_eq!(env.sims.shop_status(b), "packed");
    assert_eq!(env.sims.erp_status(c), erp_c);
    assert_eq!(
        env.sims.shop_status(c),
        shop_for(erp_c),
        "the ERP's change won over the shop's {shop_c}"
    );
    // Settled: further cycles write nothing anywhere.
    let puts_before = env.sims.shop.get("/_sim/counters");
    let erp_before = env.sims.erp.get("/_sim/counters");
    std::thread::sleep(Duration::from_millis(1100));
    let out1 = env.sync_once();
    let out2 = env.sync_once();
    assert!(
        out1.contains("0 changed") && out2.contains("0 changed"),
        "{out1}\n{out2}"
    );
    let puts_after = env.sims.shop.get("/_sim/counters");
    let erp_after = env.sims.erp.get("/_sim/counters");
    assert_eq!(
        puts_before["PUT /orders/orders"], puts_after["PUT /orders/orders"],
        "no shop writes"
    );
    assert_eq!(
        erp_before["UstawPotwierdzenia"], erp_after["UstawPotwierdzenia"],
        "no ERP writes"
    );
}

#[test]
fn the_shop_wins_a_conflict_when_configured() {
    let env = SyncEnv::new(20, &format!("{BOTH}conflict_winner = \"shop\"\n"), MAPPING);
    env.sync_once();
    let c = open_keys(&env.sims, 20)[0].clone();
    std::thread::sleep(Duration::from_millis(1100));
    let (shop_c, erp_c) = conflicting_changes(&env.sims, &c);
    env.settle_shop();
    env.sync_once();
    assert_eq!(env.sims.shop_status(&c), shop_c);
    assert_eq!(
        env.sims.erp_status(&c),
        erp_for(shop_c),
        "the shop's change won over the ERP's {erp_c}"
    );
}

#[test]
fn a_protected_status_is_not_overwritten() {
    let env = SyncEnv::new(20, TO_SHOP, MAPPING);
    env.sync_once();
    let k = open_keys(&env.sims, 20)[0].clone();
    env.sims.set_shop_status(&k, "finished");
    env.sims.set_erp_status(&k, "Zaakceptowany");
    let out = env.sync_once();
    assert_eq!(env.sims.shop_status(&k), "finished", "{out}");
    let h = history(&env, &k);
    assert!(
        h.iter().any(|e| e["action"] == "skipped: protected"),
        "{h:?}"
    );
}

#[test]
fn a_refused_write_becomes_a_dead_letter_that_can_be_retried_or_discarded() {
    let env = SyncEnv::new(20, TO_ERP, MAPPING);
    env.sync_once();
    let k = open_keys(&env.sims, 20)[0].clone();
    env.sims.set_erp_status(&k, "Niepotwierdzony");
    env.sims.erp_action(&k, "cancel");
    std::thread::sleep(Duration::from_millis(1100));
    env.sims.set_shop_status(&k, "on_order");
    env.settle_shop();
    let sync = env.sync_once();
    let out = env.orderlink(&["dead-letters", "list", "--json"]);
    let list: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap_or_default();
    let dl = list
        .iter()
        .find(|d| d["key"] == k.as_str())
        .unwrap_or_else(|| {
            panic!(
                "no dead letter for {k}: {list:?}\n{sync}\n{:?}",
                env.sims.erp.get(&format!("/_sim/documents/by-obcy/{k}"))
            )
        });
    let id = dl["id"].to_string();
    let status = env.orderlink(&["status"]);
    assert!(text(&status).contains("main"), "{}", text(&status));
    let out = env.orderlink(&["dead-letters", "retry", &id]);
    assert!(out.status.success(), "{}", text(&out));
    env.sync_once();
    let list: Vec<Value> =
        serde_json::from_slice(&env.orderlink(&["dead-letters", "list", "--json"]).stdout)
            .unwrap_or_default();
    let again = list
        .iter()
        .find(|d| d["key"] == k.as_str())
        .unwrap_or_else(|| panic!("still refused: {list:?}"));
    let out = env.orderlink(&["dead-letters", "discard", &again["id"].to_string()]);
    assert!(out.status.success(), "{}", text(&out));
    let out = env.orderlink(&["dead-letters", "list", "--json"]);
    let list: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap_or_default();
    assert!(list.is_empty(), "{list:?}");
}

#[test]
fn kill_9_mid_sync_then_restart_converges_with_nothing_lost() {
    let n = 600;
    let env = SyncEnv::new(n, TO_SHOP, MAPPING);
    env.sync_once();
    let keys = open_keys(&env.sims, n);
    let values = ["Niepotwierdzony", "Potwierdzony", "Zaakceptowany"];
    // `packed_ready` maps to Zaakceptowany too, so an order already there is in sync.
    let expect = |i: usize, s: &str| match i % 3 {
        0 => s == "new",
        1 => s == "on_order",
        _ => s == "packed" || s == "packed_ready",
    };
    for (i, k) in keys.iter().enumerate() {
        env.sims.set_erp_status(k, values[i % 3]);
    }
    env.sims
        .shop
        .post("/_sim/faults", json!({"slow_rate": 1.0, "slow_ms": 30}));
    for kill_after in [150u64, 400] {
        let mut child = spawn_run(env.dir.path(), &env.config, &SyncEnv::secrets());
        std::thread::sleep(Duration::from_millis(kill_after));
        let _ = child.kill();
        let _ = child.wait();
    }
    env.sims
        .shop
        .post("/_sim/faults", json!({"slow_rate": 0.0}));
    for _ in 0..5 {
        env.sync_once();
    }
    let wrong: Vec<_> = keys
        .iter()
        .enumerate()
        .filter(|(i, k)| !expect(*i, &env.sims.shop_status(k)))
        .map(|(_, k)| k.clone())
        .collect();
    let detail: Vec<String> = wrong
        .iter()
        .map(|k| {
            format!(
                "{k}: shop {} erp {} history {:?}",
                env.sims.shop_status(k),
                env.sims.erp_status(k),
                history(&env, k)
            )
        })
        .collect();
    assert!(wrong.is_empty(), "not converged: {detail:#?}");
}

#[test]
fn storms_of_429_and_5xx_converge() {
    let env = SyncEnv::new(60, BOTH, MAPPING);
    env.sync_once();
    let keys = open_keys(&env.sims, 60);
    std::thread::sleep(Duration::from_millis(1100));
    for (i, k) in keys.iter().enumerate() {
        if i % 2 == 0 {
            env.sims.set_erp_status(k, "Zaakceptowany");
        } else {
            env.sims.set_shop_status(k, "on_order");
        }
    }
    env.sims.shop.post(
        "/_sim/faults",
        json!({"error_rate": 0.3, "too_many_rate": 0.3, "retry_after_secs": 1}),
    );
    env.sims
        .erp
        .post("/_sim/faults", json!({"error_rate": 0.3, "drop_rate": 0.1}));
    let started = Instant::now();
    let converged = |env: &SyncEnv| {
        keys.iter().enumerate().all(|(i, k)| {
            if i % 2 == 0 {
                env.sims.shop_status(k) == "packed"
            } else {
                env.sims.erp_status(k) == "Potwierdzony"
            }
        })
    };
    let mut rounds = 0;
    while !converged(&env) && rounds < 60 {
        let _ = env.orderlink(&["sync", "--once"]);
        std::thread::sleep(Duration::from_millis(300));
        rounds += 1;
    }
    assert!(
        converged(&env),
        "no convergence after {rounds} rounds, {:?}",
        started.elapsed()
    );
}

#[test]
fn two_links_one_shop_down_the_other_keeps_syncing_and_sigterm_exits_0() {
    let a = SimPair::start(10, 1);
    let b = SimPair::start(10, 2);
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.path().join("mapping.toml"), MAPPING).unwrap_or_else(|e| panic!("{e}"));
    let config = dir.path().join("orderlink.toml");
    let link = |name: &str, shop: &str, erp: &str| {
        format!("[links.{name}]\nshop = \"{shop}\"\nerp = \"{erp}\"\nmapping = \"mapping.toml\"\npoll_interval = \"200ms\"\n{TO_SHOP}\n")
    };
    std::fs::write(
        &config,
        format!(
            "[plugins]\ndirs = [\"{}\"]\n{}{}{}{}",
            orderlink_e2e::sims::plugin_dir().display(),
            a.endpoints_toml("shop_a", "erp_a"),
            b.endpoints_toml("shop_b", "erp_b"),
            link("a", "shop_a", "erp_a"),
            link("b", "shop_b", "erp_b"),
        ),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut child = spawn_run(dir.path(), &config, &SyncEnv::secrets());
    std::thread::sleep(Duration::from_millis(1500));
    let mut a = a;
    a.shop.kill();
    // Both ERPs change: link a must reach its dead shop, link b its live one.
    let ka = open_keys(&a, 10)[0].clone();
    let other = if a.erp_status(&ka) == "Zaakceptowany" {
        "Potwierdzony"
    } else {
        "Zaakceptowany"
    };
    a.set_erp_status(&ka, other);
    let k = open_keys(&b, 10)[0].clone();
    b.set_erp_status(&k, "Zaakceptowany");
    let deadline = Instant::now() + Duration::from_secs(30);
    while b.shop_status(&k) != "packed" && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(
        b.shop_status(&k),
        "packed",
        "link b kept syncing while shop a is down"
    );
    // `status` reads the store while `run` holds it: link a reports its dead shop (once its
    // cycle has tried to reach it), link b no error.
    let status_json = || {
        let out = orderlink_e2e::sims::orderlink(
            dir.path(),
            &[
                "status",
                "--json",
                "--config",
                &config.display().to_string(),
            ],
            &SyncEnv::secrets(),
        );
        serde_json::from_slice::<Vec<Value>>(&out.stdout).unwrap_or_default()
    };
    let a_error = |links: &[Value]| {
        links
            .iter()
            .find(|l| l["link"] == "a")
            .and_then(|l| l["last_error"].as_str())
            .is_some_and(|e| e.contains("shop_a"))
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut links = status_json();
    while !a_error(&links) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
        links = status_json();
    }
    terminate(&child);
    let status = child.wait().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(status.code(), Some(0));
    let by_name = |n: &str| {
        links
            .iter()
            .find(|l| l["link"] == n)
            .cloned()
            .unwrap_or_default()
    };
    assert!(
        by_name("a")["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("shop_a")),
        "{links:?}"
    );
    assert_eq!(by_name("b")["last_error"], Value::Null, "{links:?}");
    assert!(
        by_name("b")["applied"].as_i64().unwrap_or(0) >= 1,
        "{links:?}"
    );
}

#[test]
fn a_dry_run_says_what_it_would_change_and_changes_nothing() {
    let env = SyncEnv::new(20, TO_SHOP, MAPPING);
    env.sync_once();
    let k = open_keys(&env.sims, 20)[0].clone();
    let before = env.sims.shop_status(&k);
    let target = if before == "packed" {
        "Potwierdzony"
    } else {
        "Zaakceptowany"
    };
    env.sims.set_erp_status(&k, target);
    let out = env.orderlink(&["sync", "--once", "--dry-run"]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.contains(&format!("would set shop order {k}:")), "{t}");
    assert_eq!(
        env.sims.shop_status(&k),
        before,
        "dry run wrote to the shop"
    );
    // The real run still has the change to make: the dry run moved no cursor.
    let out = env.sync_once();
    assert!(out.contains(&format!("set shop order {k}:")), "{out}");
}

#[test]
fn a_link_with_sync_off_is_left_alone() {
    let env = SyncEnv::new(10, &format!("{TO_SHOP}enabled = false\n"), MAPPING);
    let before = env.sims.request_counts();
    let out = env.sync_once();
    assert!(
        out.contains("status sync is off") || out.trim().is_empty(),
        "{out}"
    );
    let status: Value =
        serde_json::from_slice(&env.orderlink(&["status", "--json"]).stdout).unwrap_or_default();
    assert_eq!(status[0]["enabled"], false, "{status}");
    assert_eq!(status[0]["last_cycle_at"], Value::Null, "{status}");
    let (shop, erp) = env.sims.request_counts();
    assert_eq!(
        (shop - before.0, erp - before.1),
        (0, 0),
        "no feed read or write for a link that is off (vocabulary reads aside)"
    );
}

#[test]
fn secrets_never_reach_output_even_at_trace_level() {
    let env = SyncEnv::new(10, BOTH, MAPPING);
    let config = env.config.display().to_string();
    for args in [
        &["--log", "trace", "sync", "--once", "--config", &config][..],
        &["--log", "trace", "check", "--config", &config][..],
        &["--log", "trace", "mapping", "show", "--config", &config][..],
    ] {
        let out = orderlink_e2e::sims::orderlink(env.dir.path(), args, &SyncEnv::secrets());
        let t = text(&out);
        assert!(t.len() > 100, "expected trace output: {t}");
        for secret in [
            orderlink_e2e::sync_env::SHOP_KEY,
            orderlink_e2e::sync_env::ERP_PASSWORD,
        ] {
            assert!(!t.contains(secret), "{args:?} printed a secret");
        }
    }
}

#[test]
fn mapping_show_prints_both_tables_side_by_side() {
    let env = SyncEnv::new(2, BOTH, MAPPING);
    let out = env.orderlink(&["mapping", "show"]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    let row = t
        .lines()
        .find(|l| l.matches("Potwierdzony").count() == 2 && l.matches("on_order").count() == 2)
        .unwrap_or_else(|| panic!("no side-by-side row: {t}"));
    assert!(row.find("Potwierdzony") < row.find("on_order"), "{row}");
    assert!(t.contains("packed_ready"), "{t}");
    assert!(
        t.contains("enova365 status") && t.contains("idosell status"),
        "{t}"
    );
}

#[test]
fn a_connector_refusing_its_config_is_reported_at_the_endpoint_line() {
    let env = SyncEnv::new(2, TO_SHOP, MAPPING);
    let text_before = std::fs::read_to_string(&env.config).unwrap_or_default();
    let broken = text_before.replacen(
        "requests_per_second = 1000\n",
        "requests_per_second = 1000\napi_kye = \"typo\"\n",
        1,
    );
    std::fs::write(&env.config, broken).unwrap_or_else(|e| panic!("{e}"));
    let out = env.orderlink(&["sync", "--once"]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(2), "{t}");
    assert!(t.contains("orderlink.toml:"), "{t}");
    assert!(t.contains("endpoints.shop.config"), "{t}");
    assert!(t.contains("api_kye"), "names the unknown field: {t}");
}

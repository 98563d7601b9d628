//! Several `orderlink run` hosts sharing 30 links through one PostgreSQL store: they share the
//! links evenly, a killed host's links resume elsewhere with a new lease epoch and no change is
//! lost, a paused host gives its links up when it wakes, and a clean shutdown hands its links
//! over at once. Every order ends with the status its ERP document says, and the statuses
//! written into each order never go backwards.

use std::time::Duration;

use orderlink_e2e::cluster::Cluster;

const LINKS: usize = 30;
const ORDERS: usize = 60;
/// The ERP changes of one order, in the order they are made, and the shop status each maps to.
const STEPS: [(&str, &str); 2] = [("Potwierdzony", "on_order"), ("Zaakceptowany", "packed")];

/// Per link, six orders the test may change: the ZO is open and the shop status is one the
/// mapping writes (nothing protected, out of scope or refused by the shop's transitions).
/// Picked before any host runs, from the simulators' seeded state (the same at every run).
fn pick_orders(c: &Cluster) -> Vec<Vec<String>> {
    c.pairs
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let keys: Vec<String> = p
                .open_keys(ORDERS)
                .into_iter()
                .filter(|k| ["new", "on_order", "packed"].contains(&p.shop_status(k).as_str()))
                .take(6)
                .collect();
            assert_eq!(keys.len(), 6, "l{i}: too few open orders among {ORDERS}");
            keys
        })
        .collect()
}

/// The orders of slots `slots` of every link: (link index, key).
fn orders_at(picked: &[Vec<String>], slots: &[usize]) -> Vec<(usize, String)> {
    picked
        .iter()
        .enumerate()
        .flat_map(|(i, keys)| slots.iter().map(move |s| (i, keys[*s].clone())))
        .collect()
}

/// Makes both changes on `orders`, one right after the other; returns how many API writes each
/// order had before.
fn change(c: &Cluster, orders: &[(usize, String)]) -> Vec<usize> {
    orders
        .iter()
        .map(|(i, k)| {
            let before = c.pairs[*i].shop_status_writes(k).len();
            for (erp, _) in STEPS {
                c.pairs[*i].set_erp_status(k, erp);
            }
            before
        })
        .collect()
}

/// Waits until `orders` show the last step's status in the shop.
fn wait_applied(c: &Cluster, orders: &[(usize, String)], timeout: Duration) {
    let start = std::time::Instant::now();
    let want = STEPS[STEPS.len() - 1].1;
    loop {
        let behind: Vec<String> = orders
            .iter()
            .filter(|(i, k)| c.pairs[*i].shop_status(k) != want)
            .map(|(i, k)| format!("l{i}/{k}"))
            .collect();
        if behind.is_empty() {
            return;
        }
        if start.elapsed() > timeout {
            panic!(
                "after {timeout:?}, {} orders not applied: {behind:?}\n{}",
                behind.len(),
                c.logs()
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// No order was set back to an earlier step after a later one since the changes were made.
fn assert_in_order(c: &Cluster, orders: &[(usize, String)], before: &[usize]) {
    let rank = |s: &str| STEPS.iter().position(|(_, shop)| *shop == s);
    for ((i, k), skip) in orders.iter().zip(before) {
        let writes = c.pairs[*i].shop_status_writes(k);
        let ranks: Vec<usize> = writes[*skip..].iter().filter_map(|w| rank(w)).collect();
        assert!(
            ranks.windows(2).all(|w| w[0] <= w[1]),
            "l{i}/{k}: statuses written out of order: {:?}",
            &writes[*skip..]
        );
    }
}

#[test]
fn hosts_share_links_take_over_from_a_killed_or_paused_host_and_hand_over_on_stop() {
    let mut c = Cluster::start(LINKS, ORDERS, "to_shop", "3s");
    let picked = pick_orders(&c);
    let check = c.orderlink(&["check"]);
    assert!(
        check.contains("holds no state yet"),
        "check before any host ran: {check}"
    );
    for _ in 0..3 {
        c.start_host();
    }
    c.wait_balanced(3, Duration::from_secs(60));
    for i in 0..3 {
        assert_eq!(c.held_by(i).len(), LINKS / 3, "{}", c.logs());
    }
    // `status` names each link's owner and epoch.
    let status = c.orderlink(&["status"]);
    assert!(status.contains("OWNER (EPOCH)"), "{status}");
    for i in 0..3 {
        assert!(
            status.contains(&c.host_suffix(i)),
            "host {i} missing: {status}"
        );
    }

    // kill -9: host 0's links go to the others under a new epoch; changes made meanwhile land.
    let lost = c.held_by(0);
    c.kill(0);
    let first = orders_at(&picked, &[0, 1]);
    let first_before = change(&c, &first);
    c.wait_balanced(2, Duration::from_secs(60));
    let owners = c.owners();
    for (link, epoch) in &lost {
        let (_, _, now) = owners.iter().find(|(l, _, _)| l == link).expect("owned");
        assert!(now > epoch, "{link}: epoch {epoch} -> {now}");
    }
    wait_applied(&c, &first, Duration::from_secs(90));

    // SIGSTOP host 1 past its lease: host 2 takes everything; changes land meanwhile. Woken,
    // host 1 finds its leases gone, stops those links, and only takes links back under new
    // epochs when the hosts rebalance.
    let paused = c.held_by(1);
    c.signal(1, libc::SIGSTOP);
    c.wait_balanced(1, Duration::from_secs(60));
    let second = orders_at(&picked, &[2, 3]);
    let second_before = change(&c, &second);
    wait_applied(&c, &second, Duration::from_secs(90));
    c.signal(1, libc::SIGCONT);
    c.wait_balanced(2, Duration::from_secs(60));
    let log = c.log(1);
    assert!(
        log.contains("lease gone to another host") || log.contains("no longer holds"),
        "host 1 did not notice it lost its links:\n{log}"
    );
    for (link, epoch) in c.held_by(1) {
        let before = paused.iter().find(|(l, _)| *l == link).map(|(_, e)| *e);
        assert!(
            before.is_none_or(|b| epoch > b),
            "{link}: host 1 writes under epoch {epoch} again"
        );
    }

    // A clean stop hands over at once: when host 2 has exited, none of its leases is left.
    let handed = c.held_by(2);
    assert_eq!(c.stop(2), Some(0), "{}", c.log(2));
    let rows = c.sql("SELECT link FROM leases WHERE holder IS NOT NULL AND expires_at > now()");
    for (link, _) in &handed {
        let still = c
            .owners()
            .into_iter()
            .any(|(l, h, _)| &l == link && !h.ends_with(&c.host_suffix(1)));
        assert!(!still, "{link} still leased after a clean stop: {rows:?}");
    }
    let third = orders_at(&picked, &[4, 5]);
    let third_before = change(&c, &third);
    c.wait_balanced(1, Duration::from_secs(30));
    wait_applied(&c, &third, Duration::from_secs(90));

    assert_in_order(&c, &first, &first_before);
    assert_in_order(&c, &second, &second_before);
    assert_in_order(&c, &third, &third_before);
    assert_eq!(c.stop(1), Some(0), "{}", c.log(1));
    assert!(
        !c.logs().contains("pg-test-secret"),
        "the database password reached a log"
    );
}

#[test]
fn a_store_file_moves_into_postgres_and_the_sync_goes_on_from_where_it_was() {
    use orderlink_e2e::postgres::{PgServer, PG_PASSWORD, PG_PASSWORD_ENV};
    use orderlink_e2e::sims::orderlink;
    use orderlink_e2e::sync_env::{SyncEnv, MAPPING};

    let env = SyncEnv::new(
        40,
        "direction = \"to_shop\"\nscope = \"unfulfilled\"",
        MAPPING,
    );
    assert!(env.pg.is_none(), "this test starts from a store file");
    let first = env.sync_once();
    assert!(!first.contains(" 0 changed"), "{first}");
    let before = env.json(&["status"]);

    let pg = PgServer::start();
    pg.create_database("moved");
    let to = pg.url_without_password("moved");
    let config = env.config.display().to_string();
    let migrate = |extra: &[(&str, &str)]| {
        let mut vars: Vec<(&str, &str)> = SyncEnv::secrets().to_vec();
        vars.extend_from_slice(extra);
        orderlink(
            env.dir.path(),
            &["store", "migrate", "--to", &to, "--config", &config],
            &vars,
        )
    };
    let out = migrate(&[("PGPASSWORD", PG_PASSWORD)]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("orders: 40 rows"), "{stdout}");
    // Into a database that holds state already: refused, nothing changed.
    let again = migrate(&[("PGPASSWORD", PG_PASSWORD)]);
    assert_eq!(again.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("not empty"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );

    // The config now names the shared store: the same state, and nothing left to write.
    let text = std::fs::read_to_string(&env.config).unwrap_or_default();
    let text = text.replace(
        "path = \"state.sqlite\"",
        &format!("url = \"{to}\"\npassword = \"${{env:{PG_PASSWORD_ENV}}}\"\nlease = \"3s\""),
    );
    std::fs::write(&env.config, text).unwrap_or_else(|e| panic!("{e}"));
    let after = env.json(&["status"]);
    assert_eq!(after[0]["applied"], before[0]["applied"], "{after}");
    assert_eq!(after[0]["pending"], before[0]["pending"], "{after}");
    let next = env.sync_once();
    assert!(next.contains(" 0 changed"), "{next}");
}

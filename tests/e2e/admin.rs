//! End-to-end: running orderlink as a server: logs fit for journald, the default config path,
//! the admin HTTP server (health, readiness, metrics, JSON API) and the status page in
//! headless Chromium.

#[path = "support/browser.rs"]
mod browser;

use std::io::Read;
use std::process::Stdio;
use std::time::{Duration, Instant};

use orderlink_e2e::running::Running;
use orderlink_e2e::sync_env::{SyncEnv, MAPPING};
use serde_json::Value;

const TO_ERP_WITH_ADMIN: &str = "direction = \"to_erp\"\n\n[admin]\nlisten = \"127.0.0.1:0\"\n";

fn get(url: &str) -> (u16, String) {
    match ureq::get(url).call() {
        Ok(r) => (r.status(), r.into_string().unwrap_or_default()),
        Err(ureq::Error::Status(code, r)) => (code, r.into_string().unwrap_or_default()),
        Err(e) => panic!("GET {url}: {e}"),
    }
}

fn get_json(url: &str) -> Value {
    let (code, body) = get(url);
    assert_eq!(code, 200, "GET {url}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {url}: not JSON ({e}): {body}"))
}

/// Polls until `f` gives a value or 20 s pass.
fn eventually<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn json_lines(stderr: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(stderr)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

#[test]
fn a_dead_letter_is_a_warn_naming_link_endpoint_order_and_reason_and_json_logs_have_no_colour() {
    let env = SyncEnv::new(20, "direction = \"to_erp\"\n", MAPPING);
    let (key, out) = env.make_dead_letter(20, &["--log-json", "--color", "always"]);
    assert!(out.status.success(), "{out:?}");
    let lines = json_lines(&out.stderr);
    let warn = lines
        .iter()
        .find(|l| l["level"] == "WARN" && l["fields"]["key"] == key.as_str())
        .unwrap_or_else(|| panic!("no dead letter WARN for {key}: {lines:?}"));
    assert_eq!(warn["fields"]["link"], "main", "{warn}");
    assert_eq!(warn["fields"]["endpoint"], "erp", "{warn}");
    assert!(
        warn["fields"]["reason"]
            .as_str()
            .is_some_and(|r| !r.is_empty()),
        "{warn}"
    );
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains('\u{1b}'),
        "colour codes in JSON logs"
    );
}

#[test]
fn colour_only_when_asked_or_on_a_terminal_and_one_info_line_per_changing_cycle() {
    let env = SyncEnv::new(
        5,
        "direction = \"to_shop\"\nscope = \"unfulfilled\"\n",
        MAPPING,
    );
    let mut plain = Running::start(env.dir.path(), &env.config, &[], &SyncEnv::secrets());
    let line = plain.wait_for_line("cycle:");
    assert!(line.contains("INFO") && line.contains("5 pulled"), "{line}");
    // Later cycles change nothing (200 ms apart): no more lines.
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(plain.stop(), Some(0));
    let log = plain.log().join("\n");
    assert_eq!(log.matches("cycle:").count(), 1, "{log}");
    assert!(!log.contains('\u{1b}'), "colour codes on a pipe:\n{log}");
    let mut coloured = Running::start(
        env.dir.path(),
        &env.config,
        &["--color", "always"],
        &SyncEnv::secrets(),
    );
    coloured.wait_for_line("orderlink running");
    assert_eq!(coloured.stop(), Some(0));
    assert!(
        coloured.log().join("\n").contains('\u{1b}'),
        "--color always wrote no colour"
    );
}

#[test]
fn a_closed_stdout_ends_the_command_quietly_not_with_a_panic() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut child = orderlink_e2e::orderlink::command()
        .args(["plugins", "--plugin-dir"])
        .arg(orderlink_e2e::sims::plugin_dir())
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    // `| head -0`: the reader goes away before anything is written.
    drop(child.stdout.take());
    let mut stderr = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut stderr);
    }
    let status = child.wait().unwrap_or_else(|e| panic!("{e}"));
    assert_ne!(status.code(), Some(101), "panicked:\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn the_config_comes_from_orderlink_config_or_the_default_path() {
    let env = SyncEnv::new(3, "direction = \"to_erp\"\n", MAPPING);
    env.sync_once();
    let out = orderlink_e2e::orderlink::command()
        .args(["status", "--json"])
        .env("ORDERLINK_CONFIG", &env.config)
        .envs(SyncEnv::secrets())
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"main\""));
    let missing = orderlink_e2e::run(["status"]);
    missing.expect_code(2);
    assert!(
        missing.stderr.contains("/etc/orderlink/orderlink.toml")
            || std::path::Path::new("/etc/orderlink/orderlink.toml").exists(),
        "{missing:?}"
    );
}

#[test]
fn the_admin_server_reports_health_readiness_metrics_and_serves_the_json_api() {
    let env = SyncEnv::new(20, TO_ERP_WITH_ADMIN, MAPPING);
    let (key, out) = env.make_dead_letter(20, &[]);
    assert!(out.status.success(), "{out:?}");
    let mut run = Running::start(env.dir.path(), &env.config, &[], &SyncEnv::secrets());
    let url = run.admin_url();

    assert_eq!(get(&format!("{url}/healthz")), (200, "ok\n".to_owned()));
    eventually("/readyz to say ready", || {
        (get(&format!("{url}/readyz")).0 == 200).then_some(())
    });

    let metrics = eventually("metrics of a cycle", || {
        let (_, text) = get(&format!("{url}/metrics"));
        text.contains("orderlink_link_cycles_total{link=\"main\"}")
            .then_some(text)
            .filter(|t| !t.contains("orderlink_link_cycles_total{link=\"main\"} 0"))
    });
    for needle in [
        "orderlink_link_pending{link=\"main\"}",
        "orderlink_link_lag_seconds{link=\"main\"}",
        "orderlink_link_last_success_timestamp_seconds{link=\"main\"}",
        "orderlink_link_writes_total{link=\"main\",outcome=\"dead\"}",
        "orderlink_endpoint_request_duration_seconds_count{endpoint=\"shop\",call=\"changes\"}",
        "orderlink_endpoint_rate_limit_waits_total{endpoint=\"shop\"}",
        "orderlink_endpoint_api_requests_total{endpoint=\"shop\"",
    ] {
        assert!(metrics.contains(needle), "no {needle} in\n{metrics}");
    }

    let links = get_json(&format!("{url}/api/links"));
    assert_eq!(links[0]["link"], "main", "{links}");
    assert_eq!(links[0]["state"], "running", "{links}");
    assert_eq!(links[0]["dead_letters"], 1, "{links}");

    let list = get_json(&format!("{url}/api/dead-letters"));
    let dl = list
        .as_array()
        .and_then(|l| l.iter().find(|d| d["key"] == key.as_str()))
        .unwrap_or_else(|| panic!("no dead letter for {key}: {list}"))
        .clone();
    let history = get_json(&format!("{url}/api/orders/{key}/history"));
    assert!(
        history.as_array().is_some_and(|h| h
            .iter()
            .any(|a| a["action"].as_str().is_some_and(|s| s.contains("dead")))),
        "{history}"
    );

    // Another site's page cannot make the browser discard it.
    let discard = format!("{url}/api/dead-letters/{}/discard", dl["id"]);
    let cross = ureq::post(&discard)
        .set("Origin", "https://elsewhere.example")
        .call();
    assert!(
        matches!(cross, Err(ureq::Error::Status(403, _))),
        "{cross:?}"
    );
    let done = ureq::post(&discard)
        .call()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(done.status(), 200);
    let list = get_json(&format!("{url}/api/dead-letters"));
    assert!(
        !list
            .as_array()
            .is_some_and(|l| l.iter().any(|d| d["id"] == dl["id"])),
        "{list}"
    );
    assert_eq!(run.stop(), Some(0), "{}", run.log().join("\n"));
}

#[test]
fn the_status_page_shows_the_link_and_a_dead_letter_is_retried_by_a_click() {
    let env = SyncEnv::new(20, TO_ERP_WITH_ADMIN, MAPPING);
    let (key, out) = env.make_dead_letter(20, &[]);
    assert!(out.status.success(), "{out:?}");
    // Slow cycles: the retried write must not come back before the page is read again.
    let text = std::fs::read_to_string(&env.config).unwrap_or_default();
    std::fs::write(
        &env.config,
        text.replace("poll_interval = \"200ms\"", "poll_interval = \"1h\""),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut run = Running::start(env.dir.path(), &env.config, &[], &SyncEnv::secrets());
    let url = run.admin_url();
    let chromium = browser::chromium();
    let tab = chromium.browser.new_tab().unwrap_or_else(|e| panic!("{e}"));
    tab.navigate_to(&format!("{url}/"))
        .and_then(|t| t.wait_until_navigated())
        .unwrap_or_else(|e| panic!("cannot open the page: {e}"));
    let links = tab
        .wait_for_element("#links")
        .and_then(|e| e.get_inner_text())
        .unwrap_or_else(|e| panic!("no links table: {e}"));
    assert!(links.contains("main"), "{links}");
    let statusy = tab
        .find_element("table.statusy")
        .and_then(|e| e.get_inner_text())
        .unwrap_or_else(|e| panic!("no Statusy table: {e}"));
    assert!(
        statusy.contains("Potwierdzony") && statusy.contains("on_order"),
        "{statusy}"
    );
    let row = tab
        .wait_for_element("#dead-letters tr[data-id]")
        .unwrap_or_else(|e| panic!("no dead letter row: {e}"));
    let row_text = row.get_inner_text().unwrap_or_default();
    assert!(row_text.contains(&key), "{row_text}");
    let id = row
        .get_attribute_value("data-id")
        .ok()
        .flatten()
        .unwrap_or_else(|| panic!("row without id"));
    tab.find_element(&format!("tr[data-id=\"{id}\"] button[value=\"retry\"]"))
        .and_then(|b| b.click().map(|_| ()))
        .unwrap_or_else(|e| panic!("cannot click retry: {e}"));
    let message = tab
        .wait_for_element(".msg")
        .and_then(|e| e.get_inner_text())
        .unwrap_or_else(|e| panic!("no message after the click: {e}"));
    assert!(
        message.contains(&format!("Dead letter {id} requeued")),
        "{message}"
    );
    assert!(
        tab.find_element(&format!("tr[data-id=\"{id}\"]")).is_err(),
        "the retried dead letter is still listed"
    );
    // The store agrees: it is back in the outbox.
    let links = get_json(&format!("{url}/api/links"));
    assert_eq!(links[0]["dead_letters"], 0, "{links}");
    assert_eq!(run.stop(), Some(0), "{}", run.log().join("\n"));
}

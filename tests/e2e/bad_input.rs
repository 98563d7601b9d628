//! Bad input, end to end: one table of broken configs, mappings, secret placeholders, plugin
//! files, store files and garbage answers, each driven through the `orderlink` binary. Every row
//! must end with its exit code (2 for bad input), the words that say where and what, no panic,
//! nothing written (the store file neither created nor changed) and, for input the host can judge
//! alone, no request to either system.

use std::path::Path;

use std::process::Stdio;
use std::time::{Duration, Instant};

use orderlink_e2e::sync_env::{SyncEnv, MAPPING};
use orderlink_e2e::workspace_plugin;
use serde_json::{json, Value};

/// A file a row writes into its directory.
#[derive(Clone, Copy)]
enum File {
    /// Text, as is.
    Text(&'static str, &'static str),
    /// The idosell plugin library cut to this many bytes, under its own name in `plugins/`.
    CutPlugin(usize),
    /// The idosell plugin cut to half its size.
    HalfPlugin,
}

/// Who may be asked over the network during a row.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Net {
    /// Nobody: the host judges the input alone, before any request.
    None,
    /// The systems may be asked (statuses are checked against live vocabularies).
    Allowed,
}

/// One row: what to break, what to run, and what must come out.
struct Case {
    /// What the row is about.
    what: &'static str,
    /// Replacements in the good config, in order (`""` as the first: append the second).
    config: &'static [(&'static str, &'static str)],
    /// Replacements in the good mapping.
    mapping: &'static [(&'static str, &'static str)],
    /// Other files.
    files: &'static [File],
    /// Arguments (`--config orderlink.toml` is appended unless the first is `plugins`).
    args: &'static [&'static str],
    /// The exit code.
    code: i32,
    /// Words the output (stdout + stderr) must hold.
    words: &'static [&'static str],
    /// Network use.
    net: Net,
    /// Faults to set on the shop (`Some`) while the row runs.
    shop_faults: Option<&'static str>,
}

const SYNC: &[&str] = &["sync", "--once"];
const CHECK: &[&str] = &["check"];
const RUN: &[&str] = &["run"];

const fn row(
    what: &'static str,
    config: &'static [(&'static str, &'static str)],
    args: &'static [&'static str],
    words: &'static [&'static str],
) -> Case {
    Case {
        what,
        config,
        mapping: &[],
        files: &[],
        args,
        code: 2,
        words,
        net: Net::None,
        shop_faults: None,
    }
}

const LINK: &str = "[links.main]";

fn table() -> Vec<Case> {
    vec![
        // --- the config file: syntax, unknown keys, types, ranges, references ---
        row("a TOML syntax error", &[(LINK, "[links.main")], SYNC, &["orderlink.toml:"]),
        row("an unknown top-level table", &[("", "[stor]\npath = \"x\"\n")], SYNC, &["unknown field `stor`", "store"]),
        row("an unknown link setting", &[("", "colour = 1\n")], SYNC, &["links.main.colour", "unknown field", "batch_size"]),
        row("an unknown direction", &[("direction = \"to_shop\"", "direction = \"up\"")], CHECK, &["links.main.direction", "to_shop", "both"]),
        row("an unknown scope", &[("scope = \"unfulfilled\"", "scope = \"sometimes\"")], SYNC, &["links.main.scope", "recent"]),
        row("a negative batch size", &[("", "batch_size = -1\n")], SYNC, &["orderlink.toml:", "links.main.batch_size", "1 to 100"]),
        row("a zero batch size", &[("", "batch_size = 0\n")], RUN, &["links.main.batch_size", "1 to 100"]),
        row("a batch size that is text", &[("", "batch_size = \"ten\"\n")], SYNC, &["links.main.batch_size", "integer"]),
        row("negative recent days", &[("scope = \"unfulfilled\"", "scope = \"recent\"\nrecent_days = -3")], SYNC, &["links.main.recent_days", "1 to 3650"]),
        row("recent days past u32", &[("scope = \"unfulfilled\"", "scope = \"recent\"\nrecent_days = 4294967295")], RUN, &["links.main.recent_days", "1 to 3650"]),
        row("recent days without scope recent", &[("", "recent_days = 14\n")], SYNC, &["links.main.recent_days", "only applies"]),
        row("scope recent without days", &[("scope = \"unfulfilled\"", "scope = \"recent\"")], SYNC, &["links.main.scope", "recent_days"]),
        row("a poll interval past any duration", &[("poll_interval = \"200ms\"", "poll_interval = \"10000000000000000000\"")], RUN, &["links.main.poll_interval", "100ms", "1day"]),
        row("a poll interval too short", &[("poll_interval = \"200ms\"", "poll_interval = \"5ms\"")], SYNC, &["links.main.poll_interval", "out of range"]),
        row("a poll interval as a number", &[("poll_interval = \"200ms\"", "poll_interval = 5")], SYNC, &["links.main.poll_interval", "1m30s"]),
        row("a polling ceiling below the interval", &[("", "poll_interval_max = \"100ms\"\n")], SYNC, &["links.main.poll_interval_max", "poll_interval"]),
        row("enabled as text", &[("", "enabled = \"yes\"\n")], SYNC, &["links.main.enabled", "true or false"]),
        row("an unknown conflict winner", &[("", "conflict_winner = \"nobody\"\n")], SYNC, &["links.main.conflict_winner", "shop", "erp"]),
        row("protected statuses as text", &[("", "protected_shop = \"finished\"\n")], SYNC, &["links.main.protected_shop", "list of status names"]),
        row("an unknown shop endpoint", &[("shop = \"shop\"", "shop = \"nowhere\"")], SYNC, &["links.main.shop", "no endpoint named `nowhere`", "erp, shop"]),
        row("one endpoint on both sides", &[("erp = \"erp\"", "erp = \"shop\"")], SYNC, &["links.main.erp", "different endpoints"]),
        row("endpoints on the wrong sides", &[("shop = \"shop\"", "shop = \"erp\""), ("erp = \"erp\"", "erp = \"shop\"")], CHECK, &["endpoints.", "other side"]),
        row("a missing mapping file", &[("mapping = \"mapping.toml\"", "mapping = \"nope.toml\"")], SYNC, &["links.main.mapping", "does not exist"]),
        row("a link without a direction", &[("direction = \"to_shop\"\n", "")], SYNC, &["missing field `direction`"]),
        row("into the shop without a scope", &[("scope = \"unfulfilled\"\n", "")], SYNC, &["links.main", "needs a scope"]),
        row("a misspelt links table", &[("[links.main]", "[unused]")], SYNC, &["unknown field `unused`"]),
        row("an audit retention that is not a duration", &[("[store]", "[store]\naudit_retention = \"soon\"")], SYNC, &["store.audit_retention", "90d"]),
        // --- a store shared by several hosts ---
        row("a store url beside a store path", &[("[store]", "[store]\nurl = \"postgres://u@127.0.0.1:9/db\"")], SYNC, &["store.url", "not both"]),
        row("a password inside the store url", &[("path = \"state.sqlite\"", "url = \"postgres://u:hunter2@127.0.0.1:9/db\"")], SYNC, &["store.url", "must not hold the password", "${env:NAME}"]),
        row("a store url that is not PostgreSQL", &[("path = \"state.sqlite\"", "url = \"mysql://u@127.0.0.1:9/db\"")], CHECK, &["store.url", "postgres://"]),
        row("a lease shorter than 3 s", &[("path = \"state.sqlite\"", "url = \"postgres://u@127.0.0.1:9/db\"\nlease = \"1s\"")], SYNC, &["store.lease", "3s"]),
        row("a host name with a space", &[("path = \"state.sqlite\"", "url = \"postgres://u@127.0.0.1:9/db\"\nhost = \"node 1\"")], RUN, &["store.host", "letters, digits"]),
        row("a store password without a url", &[("[store]", "[store]\npassword = \"x\"")], SYNC, &["store.password", "url"]),
        row("a link weight of zero", &[("", "weight = 0\n")], SYNC, &["links.main.weight", "1 to 1000"]),
        row("an empty connector name", &[("connector = \"idosell\"", "connector = \"\"")], SYNC, &["endpoints.shop.connector", "must name a connector"]),
        row("a connector no plugin provides", &[("connector = \"idosell\"", "connector = \"nosuch\"")], CHECK, &["endpoints.shop.connector", "no plugin provides connector `nosuch`", "enova365"]),
        // --- connector configs, checked against each connector's schema ---
        row("an API version that is text", &[("api_version = 6", "api_version = \"seven\"")], CHECK, &["orderlink.toml:", "endpoints.shop.config.api_version", "6, 7, 8"]),
        row("a negative request rate", &[("requests_per_second = 1000", "requests_per_second = -5")], SYNC, &["endpoints.shop.config.requests_per_second", "1 to 1000"]),
        row("a misspelt connector setting", &[("requests_per_second = 1000", "requests_per_second = 1000\napi_kye = \"x\"")], RUN, &["endpoints.shop.config.api_kye", "no such setting", "api_key"]),
        row("a required connector setting left out", &[("[endpoints.erp.config]\nurl", "[endpoints.erp.config]\nur")], CHECK, &["endpoints.erp.config.url", "required", "endpoints.erp.config.ur:", "no such setting"]),
        row("an inline connector table with a bad value", &[("[endpoints.erp.config]\nurl", "config = { page_size = 0, operator = \"A\", url = \"http://127.0.0.1:9\" }\n# url"), ("application_token = \"${env:ORDERLINK_TEST_ERP_PASSWORD}\"\noperator = \"Administrator\"\n", "")], CHECK, &["endpoints.erp.config.page_size", "1 to 500"]),
        // --- secret placeholders ---
        row("an unset secret variable", &[("${env:ORDERLINK_TEST_ERP_PASSWORD}", "${env:ORDERLINK_UNSET_SECRET_41}")], SYNC, &["endpoints.erp.config.application_token", "ORDERLINK_UNSET_SECRET_41", "not set"]),
        row("a missing secret file", &[("${env:ORDERLINK_TEST_ERP_PASSWORD}", "${file:no-such-secret}")], SYNC, &["endpoints.erp.config.application_token", "cannot read secret file"]),
        row("an unknown placeholder kind", &[("${env:ORDERLINK_TEST_SHOP_KEY}", "${vault:shop}")], CHECK, &["endpoints.shop.config.api_key", "unknown placeholder", "${env:NAME}"]),
        row("an unclosed placeholder", &[("${env:ORDERLINK_TEST_SHOP_KEY}", "${env:ORDERLINK_TEST_SHOP_KEY")], SYNC, &["endpoints.shop.config.api_key", "unclosed"]),
        // --- the mapping file ---
        Case { mapping: &[("[to_shop]", "[to_shop")], ..row("a mapping syntax error", &[], SYNC, &["mapping.toml:"]) },
        Case { mapping: &[("[to_erp]", "[to_where]")], ..row("an unknown mapping table", &[], CHECK, &["mapping.toml:", "unknown field `to_where`"]) },
        Case { mapping: &[("Niepotwierdzony = \"new\"", "Niepotwierdzony = 3")], ..row("a mapped status that is not text", &[], SYNC, &["mapping.toml:", "to_shop.Niepotwierdzony"]) },
        Case { mapping: &[("[to_shop]\nNiepotwierdzony = \"new\"\nPotwierdzony = \"on_order\"\nZaakceptowany = \"packed\"\n", "")], ..row("into the shop without a to_shop table", &[], SYNC, &["to_shop", "no [to_shop] table"]) },
        Case { mapping: &[("Niepotwierdzony = \"new\"", "Niepotwierdzony = \"teleported\"")], net: Net::Allowed, ..row("a mapping to a status the shop does not have", &[], SYNC, &["mapping.toml:", "teleported"]) },
        Case { mapping: &[("Zaakceptowany = \"packed\"\n", "")], net: Net::Allowed, ..row("an ERP status left unmapped", &[], CHECK, &["Zaakceptowany"]) },
        Case { net: Net::Allowed, ..row("a protected status the shop does not have", &[("", "protected_shop = [\"finished\", \"shipped\"]\n")], SYNC, &["orderlink.toml:", "links.main.protected_shop", "`shipped` is not a status", "finished"]) },
        // --- plugin files ---
        row("a plugin directory that does not exist", &[("dirs = [", "dirs = [\"no-such-dir\"]\n# ")], SYNC, &["no-such-dir", "cannot read plugin directory"]),
        Case { files: &[File::CutPlugin(10)], ..row("a plugin cut to 10 bytes", &[], &["plugins", "--plugin-dir", "plugins"], &["liborderlink_idosell.so", "truncated"]) },
        Case { files: &[File::HalfPlugin], ..row("a plugin cut in half, with check", &[("dirs = [", "dirs = [\"plugins\"]\n# ")], CHECK, &["truncated", "liborderlink_idosell.so", "no plugin provides connector `idosell`"]) },
        Case { files: &[File::HalfPlugin], ..row("a plugin cut in half, with run", &[("dirs = [", "dirs = [\"plugins\"]\n# ")], RUN, &["truncated", "no plugin provides connector `idosell`"]) },
        Case { files: &[File::Text("plugins/libgarbage.so", "not a library\n")], ..row("a text file posing as a plugin", &[], &["plugins", "--plugin-dir", "plugins"], &["libgarbage.so", "not a loadable shared library"]) },
        // --- commands and files ---
        row("a config file that does not exist", &[], &["check", "--config", "missing.toml"], &["missing.toml", "does not exist"]),
        row("status with a config error", &[("", "batch_size = 101\n")], &["status"], &["links.main.batch_size"]),
        Case { mapping: &[("[to_shop]", "[to_shop")], ..row("mapping show with a mapping error", &[], &["mapping", "show"], &["mapping.toml:"]) },
        // --- store files ---
        Case {
            files: &[File::Text("state.sqlite", "this is not a database, just text\n")],
            ..row("a store file that is not a database", &[], &["status"], &["state.sqlite"])
        },
        Case {
            files: &[File::Text("state.sqlite", "this is not a database, just text\n")],
            ..row("a store file that is not a database, with sync", &[], SYNC, &["state.sqlite"])
        },
        // --- garbage from the network: a clear error, exit 1, no panic ---
        Case { code: 1, net: Net::Allowed, shop_faults: Some(r#"{"malformed_rate": 1.0}"#), ..row("a shop answering malformed bodies", &[], CHECK, &["endpoint `shop`"]) },
        Case { code: 1, net: Net::Allowed, shop_faults: Some(r#"{"malformed_rate": 1.0}"#), ..row("a shop answering malformed bodies during sync", &[("direction = \"to_shop\"\nscope = \"unfulfilled\"", "direction = \"to_erp\"")], SYNC, &["shop"]) },
    ]
}

fn replace_all(text: &str, edits: &[(&str, &str)]) -> String {
    let mut out = text.to_owned();
    for (from, to) in edits {
        if from.is_empty() {
            out.push_str(to);
        } else {
            assert!(out.contains(from), "`{from}` not in:\n{out}");
            out = out.replacen(from, to, 1);
        }
    }
    out
}

/// What one bounded run of the binary did.
struct Ran {
    code: Option<i32>,
    text: String,
}

/// Runs `orderlink ARGS` in `dir`, stdout and stderr into files there; killed after 60 s (a
/// row that hangs is a failure, not a stuck suite).
fn run_bounded(dir: &Path, args: &[&str]) -> Ran {
    let out = std::fs::File::create(dir.join("out.txt")).unwrap_or_else(|e| panic!("{e}"));
    let err = std::fs::File::create(dir.join("err.txt")).unwrap_or_else(|e| panic!("{e}"));
    let mut child = orderlink_e2e::orderlink::command()
        .current_dir(dir)
        .args(args)
        .env("RUST_LOG", "warn")
        .envs(SyncEnv::secrets())
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(err))
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run orderlink: {e}"));
    let started = Instant::now();
    let code = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status.code(),
            Ok(None) if started.elapsed() > Duration::from_secs(60) => {
                let _ = child.kill();
                let _ = child.wait();
                break Some(-1);
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => panic!("{e}"),
        }
    };
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap_or_default();
    Ran {
        code,
        text: format!("{}{}", read("out.txt"), read("err.txt")),
    }
}

fn write(path: &Path, contents: &[u8]) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap_or_else(|e| panic!("{e}"));
    }
    std::fs::write(path, contents).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

#[test]
fn every_bad_input_is_named_with_exit_2_no_panic_and_nothing_written() {
    let env = SyncEnv::new(
        3,
        "direction = \"to_shop\"\nscope = \"unfulfilled\"\n",
        MAPPING,
    );
    let good = std::fs::read_to_string(&env.config).unwrap_or_else(|e| panic!("{e}"));
    // The link table ends the file: appended lines land in it.
    assert!(
        good.trim_end().ends_with("scope = \"unfulfilled\""),
        "{good}"
    );
    let library = std::fs::read(workspace_plugin("orderlink_idosell"))
        .unwrap_or_else(|e| panic!("cannot read the idosell plugin: {e}"));
    let cases = table();
    assert!(cases.len() >= 40, "{} rows", cases.len());
    assert!(cases.iter().filter(|c| c.code == 2).count() >= 40);
    let mut failures = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let dir = env.dir.path().join(format!("case-{i:02}"));
        write(
            &dir.join("orderlink.toml"),
            replace_all(&good, case.config).as_bytes(),
        );
        write(
            &dir.join("mapping.toml"),
            replace_all(MAPPING, case.mapping).as_bytes(),
        );
        for file in case.files {
            match *file {
                File::Text(name, text) => write(&dir.join(name), text.as_bytes()),
                File::CutPlugin(n) => {
                    write(&dir.join("plugins/liborderlink_idosell.so"), &library[..n])
                }
                File::HalfPlugin => write(
                    &dir.join("plugins/liborderlink_idosell.so"),
                    &library[..library.len() / 2],
                ),
            }
        }
        let store = dir.join("state.sqlite");
        let store_before = std::fs::read(&store).ok();
        if let Some(faults) = case.shop_faults {
            let faults: Value = serde_json::from_str(faults).unwrap_or_else(|e| panic!("{e}"));
            env.sims.shop.post("/_sim/faults", faults);
        }
        let requests_before = env.sims.request_counts();
        let mut args: Vec<&str> = case.args.to_vec();
        if !matches!(args.first(), Some(&"plugins")) && !args.contains(&"--config") {
            args.extend(["--config", "orderlink.toml"]);
        }
        let ran = run_bounded(&dir, &args);
        let requests_after = env.sims.request_counts();
        if case.shop_faults.is_some() {
            env.sims
                .shop
                .post("/_sim/faults", json!({"malformed_rate": 0.0}));
        }
        let text = ran.text;
        let mut wrong = Vec::new();
        if ran.code != Some(case.code) {
            wrong.push(format!(
                "exit {:?} (-1: killed after 60 s), expected {}",
                ran.code, case.code
            ));
        }
        for word in case.words {
            if !text.contains(word) {
                wrong.push(format!("`{word}` missing"));
            }
        }
        if text.contains("panicked") || text.contains("RUST_BACKTRACE") {
            wrong.push("a panic".to_owned());
        }
        // A failure over the network may leave what was learnt; bad input leaves nothing.
        if case.code == 2 && std::fs::read(&store).ok() != store_before {
            wrong.push("the store file was created or changed".to_owned());
        }
        if case.net == Net::None && requests_after != requests_before {
            wrong.push(format!(
                "requests were made: {requests_before:?} -> {requests_after:?}"
            ));
        }
        if !wrong.is_empty() {
            failures.push(format!(
                "row {i} ({}): {}\n  orderlink {}\n{}",
                case.what,
                wrong.join("; "),
                args.join(" "),
                text.lines()
                    .map(|l| format!("    | {l}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} rows failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

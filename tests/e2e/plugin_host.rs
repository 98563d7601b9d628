//! The plugin host, end to end: the `orderlink` binary loads real plugin files side by side,
//! reports every broken plugin without stopping, survives plugins that panic, keeps loading
//! plugins built against an older or a newer minor ABI of the same generation, and refuses
//! another generation or an unreadable ABI version.

use std::path::{Path, PathBuf};

use orderlink_e2e::external::fixtures;
use orderlink_e2e::{run, workspace_plugin, PluginDir, Run};
use orderlink_plugin_api::abi::{ABI_MAJOR, ABI_VERSION};
use orderlink_plugin_api::client::PluginLibrary;
use orderlink_plugin_api::sdk::Connector;
use orderlink_plugin_api::testkit::{self, Subject};
use serde_json::{json, Value};

/// The memory plugin (current ABI), built by the workspace: `memory-shop` and `memory-erp`.
fn memory_plugin() -> PathBuf {
    workspace_plugin("orderlink_memory")
}

/// `legacy-shop`, built against the frozen ABI 1.0.
fn legacy_plugin() -> PathBuf {
    fixtures().cdylib("orderlink_fixture_abi_v1")
}

/// A plugin directory holding the two good plugins.
fn good_plugins() -> PluginDir {
    let dir = PluginDir::new();
    dir.add(&memory_plugin());
    dir.add(&legacy_plugin());
    dir
}

fn dir_arg(dir: &PluginDir) -> String {
    dir.path().display().to_string()
}

fn plugins_json(extra: &[&str], dir: &PluginDir) -> (Run, Value) {
    let mut args = vec!["plugins", "--json", "--plugin-dir"];
    let d = dir_arg(dir);
    args.push(&d);
    args.extend_from_slice(extra);
    let run = run(&args);
    let json = run.json();
    (run, json)
}

/// `(plugin name, [connector names])` of a `plugins --json` listing, all sorted.
fn listed(json: &Value) -> Vec<(String, Vec<String>)> {
    let plugins = json["plugins"].as_array().cloned().unwrap_or_default();
    let mut listed: Vec<(String, Vec<String>)> = plugins
        .iter()
        .map(|p| {
            let mut connectors: Vec<String> = p["connectors"]
                .as_array()
                .map(|cs| {
                    cs.iter()
                        .filter_map(|c| c["name"].as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            connectors.sort();
            (
                p["plugin"].as_str().unwrap_or_default().to_owned(),
                connectors,
            )
        })
        .collect();
    listed.sort();
    listed
}

fn problems(json: &Value) -> Vec<(String, String)> {
    json["problems"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|p| {
            (
                p["path"].as_str().unwrap_or_default().to_owned(),
                p["message"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// Checks that a plugin directory with the good plugins and one bad file gives exit code 2,
/// still lists and drives the good plugins, and reports exactly one problem, for `bad`, whose
/// message holds every fragment; in JSON and in the table. Returns the problem's message.
fn assert_reported(dir: &PluginDir, bad: &Path, fragments: &[&str]) -> String {
    let (listing, json) = plugins_json(&[], dir);
    listing.expect_code(2);
    let plugins: Vec<String> = listed(&json).into_iter().map(|(p, _)| p).collect();
    assert_eq!(
        plugins,
        ["legacy", "memory"],
        "good plugins missing:\n{listing:?}"
    );
    let problems = problems(&json);
    assert_eq!(problems.len(), 1, "expected one problem:\n{listing:?}");
    let (path, message) = &problems[0];
    assert_eq!(Path::new(path), bad, "{listing:?}");
    assert!(message.contains(&bad.display().to_string()), "{message}");
    for fragment in fragments {
        assert!(
            message.contains(fragment),
            "`{fragment}` missing from: {message}"
        );
    }

    let table = run(["plugins", "--plugin-dir", &dir_arg(dir)]);
    table.expect_code(2);
    for connector in ["memory-shop", "memory-erp", "legacy-shop"] {
        assert!(
            table.stdout.contains(connector),
            "{connector} not listed:\n{table:?}"
        );
    }
    assert!(
        table.stderr.contains(&format!("error: {message}")),
        "the table run does not report the problem:\n{table:?}"
    );

    let check = run([
        "connector",
        "--plugin-dir",
        &dir_arg(dir),
        "--connector",
        "memory-shop",
        "--config",
        r#"{"orders":[{"key":"1","status":"new"}]}"#,
        "check",
    ]);
    check.expect_code(0);
    assert_eq!(check.json()["details"], "1 orders in memory", "{check:?}");
    message.clone()
}

#[test]
fn several_plugins_load_side_by_side_and_each_is_driven() {
    let dir = good_plugins();
    dir.add(&fixtures().cdylib("orderlink_fixture_panic_on_create"));
    let (run_json, json) = plugins_json(&[], &dir);
    run_json.expect_code(0);
    assert_eq!(
        listed(&json),
        [
            ("fragile".to_owned(), vec!["fragile-shop".to_owned()]),
            ("legacy".to_owned(), vec!["legacy-shop".to_owned()]),
            (
                "memory".to_owned(),
                vec!["memory-erp".to_owned(), "memory-shop".to_owned()]
            ),
        ]
        .into_iter()
        .collect::<Vec<_>>(),
        "{run_json:?}"
    );
    assert!(problems(&json).is_empty(), "{run_json:?}");

    let table = run(["plugins", "--plugin-dir", &dir_arg(&dir)]);
    table.expect_code(0);
    for connector in ["memory-shop", "memory-erp", "legacy-shop", "fragile-shop"] {
        assert!(
            table.stdout.contains(connector),
            "{connector} not listed:\n{table:?}"
        );
    }

    for (connector, config) in [
        ("memory-erp", r#"{"orders":[{"key":"7","status":"sent"}]}"#),
        ("legacy-shop", r#"{"orders":{"7":"sent"}}"#),
    ] {
        let read = run([
            "connector",
            "--plugin-dir",
            &dir_arg(&dir),
            "--connector",
            connector,
            "--config",
            config,
            "read",
            "7",
        ]);
        read.expect_code(0);
        assert_eq!(read.json()["orders"][0]["status"], "sent", "{read:?}");
    }
}

#[test]
fn a_file_that_is_not_a_shared_library_is_reported() {
    let dir = good_plugins();
    let bad = dir.write("broken.so", b"this is a text file, not a plugin\n");
    assert_reported(&dir, &bad, &["not a loadable shared library"]);
}

#[test]
fn a_shared_library_that_is_not_a_plugin_is_reported() {
    let dir = good_plugins();
    let bad = dir.add(&fixtures().cdylib("orderlink_fixture_not_a_plugin"));
    assert_reported(&dir, &bad, &["not an orderlink plugin"]);
}

/// Where a test may cut a library: the start, inside the ELF header, just before the end of the
/// program headers, and spread over the rest (segments, sections, the last byte).
fn cut_points(library: &[u8]) -> Vec<usize> {
    let size = library.len();
    let u16_at = |at: usize| u16::from_le_bytes([library[at], library[at + 1]]) as usize;
    let mut phoff = [0u8; 8];
    phoff.copy_from_slice(&library[32..40]);
    let headers_end = u64::from_le_bytes(phoff) as usize + u16_at(54) * u16_at(56);
    let mut cuts = vec![
        0,
        1,
        4,
        10,
        63,
        64,
        headers_end - 1,
        headers_end,
        4096,
        65_536,
    ];
    cuts.extend((1..10).map(|i| size * i / 10));
    cuts.extend([size / 2 + 1, size - 4096, size - 1]);
    cuts
}

#[test]
fn a_plugin_file_cut_at_any_size_is_reported_never_a_crash() {
    let library = std::fs::read(workspace_plugin("orderlink_idosell"))
        .unwrap_or_else(|e| panic!("cannot read the idosell plugin: {e}"));
    let cuts = cut_points(&library);
    assert!(cuts.len() >= 20, "{cuts:?}");
    let dir = good_plugins();
    for (i, cut) in cuts.into_iter().enumerate() {
        let bad = dir.write("liborderlink_idosell.so", &library[..cut]);
        // An empty file is no ELF file: the dynamic loader refuses it by itself.
        let fragments: Vec<String> = if cut == 0 {
            vec!["not a loadable shared library".into()]
        } else {
            vec!["truncated shared library".into(), format!("({cut} bytes)")]
        };
        if i % 7 == 0 {
            // Every way of listing and using plugins, now and then.
            let fragments: Vec<&str> = fragments.iter().map(String::as_str).collect();
            assert_reported(&dir, &bad, &fragments);
            continue;
        }
        let (listing, json) = plugins_json(&[], &dir);
        listing.expect_code(2);
        assert_eq!(listed(&json).len(), 2, "good plugins missing:\n{listing:?}");
        let problems = problems(&json);
        assert_eq!(problems.len(), 1, "cut at {cut}:\n{listing:?}");
        for fragment in &fragments {
            assert!(
                problems[0].1.contains(fragment.as_str()),
                "cut at {cut}:\n{listing:?}"
            );
        }
    }
}

#[test]
fn a_plugin_built_for_another_abi_generation_is_refused_naming_both_versions() {
    let dir = good_plugins();
    let bad = dir.add(&fixtures().cdylib("orderlink_fixture_abi_v2"));
    assert_reported(
        &dir,
        &bad,
        &[
            "built for orderlink plugin ABI 2.0.0",
            "ABI major version 2 is another generation than 1",
            &format!("this host (ABI {ABI_VERSION})"),
            &format!("accepts plugins built for ABI {ABI_MAJOR}.x"),
        ],
    );
}

#[test]
fn a_plugin_that_panics_while_loading_is_reported_and_the_others_load() {
    let dir = good_plugins();
    let bad = dir.add(&fixtures().cdylib("orderlink_fixture_panic_on_load"));
    assert_reported(
        &dir,
        &bad,
        &[
            "failed while loading",
            "plugin panicked: the connector description of this fixture always panics",
        ],
    );
}

#[test]
fn a_panic_while_creating_a_connector_is_an_internal_error_not_a_crash() {
    let dir = good_plugins();
    dir.add(&fixtures().cdylib("orderlink_fixture_panic_on_create"));
    let run = run([
        "connector",
        "--plugin-dir",
        &dir_arg(&dir),
        "--connector",
        "fragile-shop",
        "--config",
        "{}",
        "check",
    ]);
    // An exit code (not a signal): the host caught the panic and failed cleanly.
    run.expect_code(1);
    assert!(run.stdout.is_empty(), "{run:?}");
    assert!(
        run.stderr.contains("error: creating connector `fragile-shop`: internal error: plugin panicked: fragile-shop always panics while it is created"),
        "{run:?}"
    );
}

#[test]
fn a_second_plugin_claiming_a_connector_name_is_ignored_and_reported() {
    let dir = good_plugins();
    let duplicate = fixtures().cdylib("orderlink_fixture_duplicate");
    let dup_arg = duplicate.display().to_string();
    // Directories load before explicit files: the memory plugin comes first.
    let (run_json, json) = plugins_json(&["--plugin", &dup_arg], &dir);
    run_json.expect_code(2);
    let plugins = json["plugins"].as_array().cloned().unwrap_or_default();
    let active = |plugin: &str| -> Option<bool> {
        plugins.iter().find(|p| p["plugin"] == plugin)?["connectors"]
            .as_array()?
            .iter()
            .find(|c| c["name"] == "memory-shop")?["active"]
            .as_bool()
    };
    assert_eq!(active("memory"), Some(true), "{run_json:?}");
    assert_eq!(active("duplicate"), Some(false), "{run_json:?}");
    let problems = problems(&json);
    assert_eq!(problems.len(), 1, "{run_json:?}");
    let (path, message) = &problems[0];
    assert_eq!(Path::new(path), duplicate);
    assert!(
        message.contains("connector `memory-shop` is already provided by plugin `memory`")
            && message.contains("this one is ignored"),
        "{message}"
    );

    let table = run([
        "plugins",
        "--plugin-dir",
        &dir_arg(&dir),
        "--plugin",
        &dup_arg,
    ]);
    table.expect_code(2);
    assert!(
        table.stdout.contains("memory-shop (ignored: duplicate)"),
        "{table:?}"
    );

    // The connector in use is the first plugin's (the duplicate's refuses every config).
    let check = run([
        "connector",
        "--plugin-dir",
        &dir_arg(&dir),
        "--plugin",
        &dup_arg,
        "--connector",
        "memory-shop",
        "--config",
        "{}",
        "check",
    ]);
    check.expect_code(0);
    assert_eq!(check.json()["details"], "0 orders in memory", "{check:?}");
    assert!(
        check.stderr.contains("already provided by plugin `memory`"),
        "{check:?}"
    );
}

#[test]
fn plugins_json_shows_the_abi_version_each_plugin_was_built_for() {
    let dir = good_plugins();
    let (run_json, json) = plugins_json(&[], &dir);
    run_json.expect_code(0);
    let mut versions: Vec<(String, String)> = json["plugins"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|p| {
            (
                p["plugin"].as_str().unwrap_or_default().to_owned(),
                p["abi_version"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    versions.sort();
    assert_eq!(
        versions,
        [
            ("legacy".to_owned(), "1.0.0".to_owned()),
            ("memory".to_owned(), ABI_VERSION.to_owned())
        ],
        "{run_json:?}"
    );
    let table = run(["plugins", "--plugin-dir", &dir_arg(&dir)]);
    table.expect_code(0);
    let legacy_row = table
        .stdout
        .lines()
        .find(|l| l.contains("legacy-shop"))
        .unwrap_or_else(|| panic!("no legacy-shop row:\n{table:?}"));
    assert!(legacy_row.contains("1.0.0"), "{table:?}");
}

#[test]
fn the_host_drives_a_plugin_built_against_abi_1_0() {
    let dir = PluginDir::new();
    dir.add(&legacy_plugin());
    let d = dir_arg(&dir);
    let config = r#"{"orders":{"1":"new","2":"packed"}}"#;
    let call = |args: &[&str]| {
        let mut all = vec![
            "connector",
            "--plugin-dir",
            &d,
            "--connector",
            "legacy-shop",
            "--config",
            config,
        ];
        all.extend_from_slice(args);
        let r = run(&all);
        r.expect_code(0);
        r.json()
    };

    assert_eq!(call(&["check"])["details"], "legacy shop with 2 orders");
    let codes: Vec<Value> = call(&["vocabulary"])["statuses"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|s| s["code"].clone())
        .collect();
    assert_eq!(codes, [json!("new"), json!("packed"), json!("sent")]);

    let first = call(&["changes", "--limit", "1"]);
    assert_eq!(first["orders"][0]["key"], "1");
    assert_eq!(first["has_more"], true);
    let cursor = first["next_cursor"].as_str().unwrap_or_default().to_owned();
    let rest = call(&["changes", "--cursor", &cursor]);
    assert_eq!(rest["orders"][0]["key"], "2");
    assert_eq!(rest["has_more"], false);

    let applied = call(&["apply", "1=sent", "2=packed", "3=new"]);
    let outcomes = applied["outcomes"].as_array().cloned().unwrap_or_default();
    let summary: Vec<(Value, Value, Value)> = outcomes
        .iter()
        .map(|o| (o["key"].clone(), o["outcome"].clone(), o["changed"].clone()))
        .collect();
    assert_eq!(
        summary,
        [
            (json!("1"), json!("done"), json!(true)),
            (json!("2"), json!("done"), json!(false)),
            (json!("3"), json!("failed"), json!(false)),
        ]
    );

    let read = call(&["read", "2", "9"]);
    assert_eq!(read["orders"][0]["status"], "packed");
    assert_eq!(read["missing"], json!(["9"]));
}

#[test]
fn api_usage_of_an_abi_1_0_plugin_reads_as_unsupported() {
    let legacy = PluginLibrary::load(&legacy_plugin()).expect("load the ABI 1.0 plugin");
    assert_eq!(legacy.manifest().abi_version, "1.0.0");
    let old = legacy
        .create("legacy-shop", &json!({"orders": {"1": "new"}}))
        .expect("create legacy-shop");
    assert!(!old.has_api_usage());
    old.check().expect("check");
    assert_eq!(old.api_usage(), Default::default());

    let memory = PluginLibrary::load(&memory_plugin()).expect("load the memory plugin");
    let new = memory
        .create(
            "memory-shop",
            &json!({"orders": [{"key": "1", "status": "new"}]}),
        )
        .expect("create memory-shop");
    assert!(new.has_api_usage());
    new.check().expect("check");
    new.vocabulary().expect("vocabulary");
    let usage = new.api_usage();
    assert_eq!(usage.requests, 2, "{usage:?}");
}

#[test]
fn the_memory_plugin_passes_the_conformance_testkit() {
    let lib = PluginLibrary::load(&memory_plugin()).expect("load the memory plugin");
    for connector in ["memory-shop", "memory-erp"] {
        let create = |cfg: &Value| {
            lib.create(connector, cfg)
                .map(|c| Box::new(c) as Box<dyn Connector>)
        };
        let subject = Subject {
            manifest: lib.manifest(),
            connector,
            create: &create,
            config: json!({"orders": [{"key": "1", "status": "new"}, {"key": "2", "status": "sent"}]}),
            bad_configs: vec![
                json!({"orders": 5}),
                json!({"statuses": []}),
                json!({"unknown": true}),
            ],
            key: "1".into(),
            statuses: ("packed".into(), "sent".into()),
            panic_probe: true,
        };
        if let Err(failures) = testkit::run(&subject) {
            panic!("{connector}: {failures}");
        }
    }
}

#[test]
fn a_plugins_log_events_reach_the_hosts_log_with_level_target_and_fields() {
    let dir = PluginDir::new();
    dir.add(&memory_plugin());
    let config = json!({"orders": [{"key": "1", "status": "new"}]}).to_string();
    let loud = run([
        "--log-json",
        "--log",
        "info",
        "connector",
        "--plugin-dir",
        &dir_arg(&dir),
        "--connector",
        "memory-shop",
        "--config",
        &config,
        "apply",
        "1=packed",
    ]);
    loud.expect_code(0);
    let event: Value = loud
        .stderr
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|e| e["target"] == "orderlink::plugin")
        .unwrap_or_else(|| panic!("no plugin event in the host's log:\n{loud:?}"));
    assert_eq!(event["level"], "INFO", "{event}");
    assert_eq!(event["fields"]["message"], "applied a batch", "{event}");
    assert_eq!(
        event["fields"]["plugin_target"], "orderlink_memory::apply",
        "{event}"
    );
    // The plugin's fields stay JSON, not a string inside JSON.
    assert_eq!(
        event["fields"]["fields"],
        json!({"done": 1, "failed": 0}),
        "{event}"
    );
    // The host's level applies inside the plugin too.
    let quiet = run([
        "--log-json",
        "--log",
        "warn",
        "connector",
        "--plugin-dir",
        &dir_arg(&dir),
        "--connector",
        "memory-shop",
        "--config",
        &config,
        "apply",
        "1=packed",
    ]);
    quiet.expect_code(0);
    assert!(!quiet.stderr.contains("orderlink::plugin"), "{quiet:?}");
}

/// `next-shop`, built against a copy of the ABI as its next minor version (1.3) would be.
fn next_minor_plugin() -> PathBuf {
    fixtures().cdylib("orderlink_fixture_abi_v1_3")
}

#[test]
fn a_plugin_built_against_a_newer_minor_abi_loads_with_its_unknown_capabilities_as_unknown() {
    let dir = good_plugins();
    dir.add(&next_minor_plugin());
    let (listing, json) = plugins_json(&[], &dir);
    listing.expect_code(0);
    assert!(problems(&json).is_empty(), "{listing:?}");
    let next = json["plugins"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["plugin"] == "next"))
        .unwrap_or_else(|| panic!("plugin `next` not listed:\n{listing:?}"));
    assert_eq!(next["abi_version"], "1.3.0", "{listing:?}");
    assert_eq!(
        next["connectors"][0]["capabilities"],
        json!(["changes", "read", "apply", "unknown", "unknown"]),
        "{listing:?}"
    );

    let table = run(["plugins", "--plugin-dir", &dir_arg(&dir)]);
    table.expect_code(0);
    let row = table
        .stdout
        .lines()
        .find(|l| l.contains("next-shop"))
        .unwrap_or_else(|| panic!("no next-shop row:\n{table:?}"));
    assert!(row.contains("1.3.0"), "{table:?}");
    assert!(
        row.contains("changes,read,apply,unknown,unknown"),
        "{table:?}"
    );
    // The plugins built for older ABIs still load beside it.
    for connector in ["memory-shop", "legacy-shop"] {
        assert!(table.stdout.contains(connector), "{table:?}");
    }
}

#[test]
fn a_plugin_built_against_a_newer_minor_abi_syncs_and_its_unknown_outcome_is_retried() {
    let dir = PluginDir::new();
    dir.add(&next_minor_plugin());
    dir.add(&memory_plugin());
    let orders = |status: &str| {
        (1..=3)
            .map(|k| format!("{{ key = \"{k}\", status = \"{status}\" }}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let config = dir.write(
        "orderlink.toml",
        format!(
            "[store]\npath = \"state.sqlite\"\n\n[plugins]\ndirs = [\"{}\"]\n\n\
             [endpoints.shop]\nconnector = \"next-shop\"\n\
             [endpoints.shop.config]\norders = {{ \"1\" = \"new\", \"2\" = \"new\", \"3\" = \"new\" }}\nqueued = [\"3\"]\n\n\
             [endpoints.erp]\nconnector = \"memory-erp\"\n\
             [endpoints.erp.config]\nstatuses = [\"new\", \"packed\", \"sent\"]\norders = [{}]\n\n\
             [links.main]\nshop = \"shop\"\nerp = \"erp\"\ndirection = \"to_shop\"\nscope = \"unfulfilled\"\nmapping = \"mapping.toml\"\n",
            dir_arg(&dir),
            orders("packed")
        )
        .as_bytes(),
    );
    dir.write(
        "mapping.toml",
        b"[to_shop]\nnew = \"new\"\npacked = \"packed\"\nsent = \"sent\"\n\n\
          [to_erp]\nnew = \"new\"\npacked = \"packed\"\nsent = \"sent\"\n",
    );
    let config = config.display().to_string();

    let check = run(["check", "--config", &config]);
    check.expect_code(0);
    assert!(
        check
            .stdout
            .contains("ok: endpoint `shop` (next-shop): next shop with 3 orders"),
        "{check:?}"
    );
    assert!(
        check.stdout.contains(&format!(
            "note: plugin `next` is built for ABI 1.3.0, newer than this host's {ABI_VERSION}"
        )) && check.stdout.contains("`next-shop`: 2 unknown capabilities"),
        "{check:?}"
    );

    let sync = run(["sync", "--once", "--config", &config]);
    sync.expect_code(0);
    for key in ["1", "2"] {
        assert!(
            sync.stdout
                .contains(&format!("set shop order {key}: new -> packed")),
            "{sync:?}"
        );
    }
    // `queued` (ABI 1.3) is an outcome this host does not know: read as unknown, retried.
    assert!(
        sync.stdout
            .contains("3 orders read, 2 changed, 1 retrying, 0 dead letters"),
        "{sync:?}"
    );
    assert!(!sync.stdout.contains("order 3: new -> packed"), "{sync:?}");
}

#[test]
fn a_plugin_declaring_an_abi_version_that_is_not_semver_is_refused_naming_it() {
    let dir = good_plugins();
    let bad = dir.add(&fixtures().cdylib("orderlink_fixture_unreadable_abi_version"));
    assert_reported(
        &dir,
        &bad,
        &[
            "built for orderlink plugin ABI 1.three",
            "ABI version `1.three` is not a semantic version MAJOR.MINOR.PATCH",
            &format!("this host (ABI {ABI_VERSION})"),
            &format!("accepts plugins built for ABI {ABI_MAJOR}.x"),
        ],
    );
}

//! A connector built outside the workspace (`examples/file-shop`) plugs into the `orderlink`
//! binary as it is: no rebuild of the host, one more `.so` in the plugin directory.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use orderlink_e2e::external::file_shop;
use orderlink_e2e::{orderlink, run, PluginDir};
use orderlink_plugin_api::abi::ABI_VERSION;
use orderlink_plugin_api::client::PluginLibrary;
use orderlink_plugin_api::sdk::Connector;
use orderlink_plugin_api::testkit::{self, Subject};
use serde_json::{json, Value};

/// What identifies a build of a file: its contents' hash and its modification time.
fn fingerprint(path: &Path) -> (u64, SystemTime) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let mut hasher = DefaultHasher::new();
    bytes.hash(&mut hasher);
    let modified = std::fs::metadata(path)
        .and_then(|m| m.modified())
        .unwrap_or_else(|e| panic!("stat {}: {e}", path.display()));
    (hasher.finish(), modified)
}

fn write_orders(dir: &Path) -> PathBuf {
    let path = dir.join("orders.json");
    let orders = json!({
        "orders": [
            { "key": "1001", "status": "new", "created_at": "2025-03-01T09:00:00Z" },
            { "key": "1002", "status": "new", "created_at": "2025-03-01T09:05:00Z" },
            { "key": "1003", "status": "finished" }
        ]
    });
    std::fs::write(&path, orders.to_string()).unwrap_or_else(|e| panic!("write orders: {e}"));
    path
}

#[test]
fn a_connector_built_outside_the_workspace_plugs_into_the_unchanged_host() {
    let host = orderlink::binary();
    let before = fingerprint(&host);

    let plugin = file_shop().cdylib("orderlink_file_shop");
    let dir = PluginDir::new();
    dir.add(&plugin);
    let d = dir.path().display().to_string();
    let data = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
    let orders = write_orders(data.path());
    let config = json!({ "path": orders }).to_string();

    let listing = run(["plugins", "--json", "--plugin-dir", &d]);
    listing.expect_code(0);
    let json = listing.json();
    let plugin_entry = &json["plugins"][0];
    assert_eq!(plugin_entry["plugin"], "file-shop", "{listing:?}");
    assert_eq!(plugin_entry["abi_version"], ABI_VERSION, "{listing:?}");
    assert_eq!(
        plugin_entry["connectors"][0]["name"], "file-shop",
        "{listing:?}"
    );
    assert_eq!(plugin_entry["connectors"][0]["role"], "shop", "{listing:?}");

    let call = |args: &[&str]| -> Value {
        let mut all = vec![
            "connector",
            "--plugin-dir",
            &d,
            "--connector",
            "file-shop",
            "--config",
            &config,
        ];
        all.extend_from_slice(args);
        let r = run(&all);
        r.expect_code(0);
        r.json()
    };

    assert_eq!(
        call(&["check"])["details"],
        format!("3 orders in {}", orders.display())
    );
    let start = call(&["changes"]);
    let keys: Vec<Value> = start["orders"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|o| o["key"].clone())
        .collect();
    assert_eq!(keys, [json!("1001"), json!("1002"), json!("1003")]);
    let cursor = start["next_cursor"].as_str().unwrap_or_default().to_owned();
    assert!(call(&["changes", "--cursor", &cursor])["orders"]
        .as_array()
        .is_some_and(Vec::is_empty));

    // Display names resolve to codes; a closed order refuses; a repeat changes nothing.
    let applied = call(&["apply", "1001=Being packed", "1003=new"]);
    assert_eq!(applied["outcomes"][0]["outcome"], "done");
    assert_eq!(applied["outcomes"][0]["changed"], true);
    assert_eq!(applied["outcomes"][1]["outcome"], "failed");
    assert_eq!(applied["outcomes"][1]["code"], "closed");
    let again = call(&["apply", "1001=packed"]);
    assert_eq!(again["outcomes"][0]["outcome"], "done");
    assert_eq!(again["outcomes"][0]["changed"], false);

    // The change is in the file, in a later process's read, and once in the change feed.
    let on_disk: Value = serde_json::from_str(
        &std::fs::read_to_string(&orders).unwrap_or_else(|e| panic!("read orders: {e}")),
    )
    .unwrap_or_else(|e| panic!("orders file is not JSON: {e}"));
    assert_eq!(on_disk["orders"][0]["status"], "packed");
    assert_eq!(call(&["read", "1001"])["orders"][0]["status"], "packed");
    let after = call(&["changes", "--cursor", &cursor]);
    assert_eq!(after["orders"].as_array().map(Vec::len), Some(1));
    assert_eq!(after["orders"][0]["key"], "1001");
    assert_eq!(after["orders"][0]["status"], "packed");
    let end = after["next_cursor"].as_str().unwrap_or_default().to_owned();
    assert!(call(&["changes", "--cursor", &end])["orders"]
        .as_array()
        .is_some_and(Vec::is_empty));

    assert_eq!(
        fingerprint(&host),
        before,
        "the orderlink binary changed while the connector was built and used"
    );
}

#[test]
fn the_file_shop_plugin_passes_the_conformance_testkit() {
    let lib = PluginLibrary::load(&file_shop().cdylib("orderlink_file_shop"))
        .unwrap_or_else(|e| panic!("load file-shop: {e}"));
    let data = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
    let orders = write_orders(data.path());
    let create = |cfg: &Value| {
        lib.create("file-shop", cfg)
            .map(|c| Box::new(c) as Box<dyn Connector>)
    };
    let subject = Subject {
        manifest: lib.manifest(),
        connector: "file-shop",
        create: &create,
        config: json!({ "path": orders }),
        bad_configs: vec![
            json!({}),
            json!({ "path": orders, "statuses": [] }),
            json!({ "path": data.path().join("missing.json") }),
        ],
        key: "1002".into(),
        statuses: ("on_order".into(), "ready".into()),
        panic_probe: true,
    };
    if let Err(failures) = testkit::run(&subject) {
        panic!("{failures}");
    }
}

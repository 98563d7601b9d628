//! Runs the orderlink conformance testkit against the built plugin file, loaded the way the
//! orderlink host loads it.

use std::path::PathBuf;

use orderlink_plugin_api::client::PluginLibrary;
use orderlink_plugin_api::sdk::Connector;
use orderlink_plugin_api::testkit::{self, artifacts, Subject};
use serde_json::json;

fn orders_file(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("file-shop-{name}"));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("orders.json");
    let orders = json!({ "orders": [
        { "key": "1001", "status": "new", "created_at": "2025-03-01T09:00:00Z" },
        { "key": "1002", "status": "packed" }
    ]});
    std::fs::write(&path, orders.to_string()).expect("write orders");
    path
}

#[test]
fn the_plugin_file_passes_the_conformance_testkit() {
    let lib =
        PluginLibrary::load(&artifacts::cdylib("orderlink_file_shop")).expect("load the plugin");
    let path = orders_file("conformance");
    let create = |cfg: &serde_json::Value| {
        lib.create("file-shop", cfg)
            .map(|c| Box::new(c) as Box<dyn Connector>)
    };
    let subject = Subject {
        manifest: lib.manifest(),
        connector: "file-shop",
        create: &create,
        config: json!({ "path": path }),
        bad_configs: vec![
            json!({}),
            json!({ "path": path, "statuses": [] }),
            json!({ "path": path.with_file_name("missing.json") }),
        ],
        key: "1001".into(),
        statuses: ("on_order".into(), "ready".into()),
        panic_probe: true,
    };
    if let Err(failures) = testkit::run(&subject) {
        panic!("{failures}");
    }
}

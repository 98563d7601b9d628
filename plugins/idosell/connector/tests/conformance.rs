//! The plugin API's conformance testkit, through the real plugin file, against the simulator.

mod common;

use common::{config, plugin, sim};
use orderlink_plugin_api::sdk::Connector;
use orderlink_plugin_api::testkit::{self, Subject};
use serde_json::json;

#[test]
fn the_plugin_file_passes_the_conformance_testkit() {
    let sim = sim(&["--orders", "300", "--seed", "11"]);
    let lib = plugin();
    let manifest = lib.manifest();
    assert_eq!(manifest.plugin, "idosell");
    let good = config(&sim, json!({}));
    let subject = Subject {
        manifest,
        connector: "idosell",
        create: &|cfg| {
            lib.create("idosell", cfg)
                .map(|c| Box::new(c) as Box<dyn Connector>)
        },
        config: good,
        bad_configs: vec![
            json!({}),
            json!({ "url": sim.url() }),
            json!({ "url": "not a url", "api_key": "k" }),
            json!({ "url": sim.url(), "api_key": "k", "api_version": 2 }),
            json!({ "url": sim.url(), "api_key": "k", "order_key": "email" }),
            json!({ "url": sim.url(), "api_key": "k", "unknown_field": 1 }),
        ],
        key: "17".into(),
        statuses: ("packed".into(), "on_order".into()),
        panic_probe: true,
    };
    if let Err(failures) = testkit::run(&subject) {
        panic!("{failures}");
    }
    let (status, _) = sim.control().status_of(17).expect("order 17");
    assert_eq!(status, "on_order");
}

//! The conformance testkit, with either kind of order key.

use orderlink_plugin_api::sdk::Connector;
use orderlink_plugin_api::testkit::{self, Subject};
use serde_json::{json, Value};

use crate::support::{config, config_mi, config_with, plugin, with, Sim};

fn bad_configs(sim: &Sim) -> Vec<Value> {
    let mut no_token = config(sim);
    if let Some(o) = no_token.as_object_mut() {
        o.remove("application_token");
    }
    vec![
        json!({}),
        no_token,
        with(config_mi(sim), json!({"password": null})),
        config_with(sim, json!({"transport": "soap"})),
        config_with(sim, json!({"page_size": 501})),
        config_with(sim, json!({"order_key": "NumerObcy"})),
        config_with(sim, json!({"url": "ftp://127.0.0.1/"})),
        config_with(sim, json!({"api_key": "x"})),
    ]
}

fn run(sim: &Sim, config: Value, key: &str, panic_probe: bool) {
    let lib = plugin();
    let create = |cfg: &Value| {
        lib.create("enova365", cfg)
            .map(|c| Box::new(c) as Box<dyn Connector>)
    };
    let subject = Subject {
        manifest: lib.manifest(),
        connector: "enova365",
        create: &create,
        config,
        bad_configs: bad_configs(sim),
        key: key.into(),
        statuses: ("Potwierdzony".into(), "Zaakceptowany".into()),
        panic_probe,
    };
    if let Err(failures) = testkit::run(&subject) {
        panic!("{failures}");
    }
}

#[test]
fn conformance_with_the_obcy_numer_key() {
    let sim = Sim::start(&[]);
    sim.seed(3, 150);
    sim.create(json!({"ObcyNumer": "CONF-1", "Stan": "Bufor"}));
    // The testkit expects its own write in the feed.
    let cfg = config_with(&sim, json!({"skip_own_writes": false}));
    run(&sim, cfg, "CONF-1", true);
    assert_eq!(sim.zo("CONF-1")["Potwierdzenie"], "Zaakceptowany");
}

#[test]
fn conformance_over_method_invoker() {
    let sim = Sim::start(&[]);
    sim.seed(5, 30);
    sim.create(json!({"ObcyNumer": "CONF-2", "Stan": "Bufor"}));
    let cfg = with(config_mi(&sim), json!({"skip_own_writes": false}));
    run(&sim, cfg, "CONF-2", false);
    assert_eq!(sim.zo("CONF-2")["Potwierdzenie"], "Zaakceptowany");
}

#[test]
fn conformance_with_a_cecha_key() {
    let sim = Sim::start(&[]);
    sim.seed(4, 120);
    let created = sim
        .create(json!({"ObcyNumer": "", "Cechy": {"NumerSklepu": "S-77"}, "Stan": "Zatwierdzony"}));
    let cfg = config_with(
        &sim,
        json!({"order_key": "cecha:NumerSklepu", "skip_own_writes": false}),
    );
    run(&sim, cfg, "S-77", false);
    let zo = sim.get(&format!("/_sim/documents/{}", created["ID"]));
    assert_eq!(zo["Cechy"]["NumerSklepu"], "S-77");
    assert_eq!(zo["Potwierdzenie"], "Zaakceptowany");
}

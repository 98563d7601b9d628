//! `Potwierdzenie` writes: per-document outcomes, classified; batches of at most 100.

use orderlink_plugin_api::model::{
    ApplyOutcome, ApplyRequest, OutcomeKind, ReadRequest, StatusUpdate,
};
use orderlink_plugin_api::sdk::Connector;
use serde_json::json;

use crate::support::{config, config_with, connect, Sim};

fn update(key: &str, status: &str, version: Option<&str>) -> StatusUpdate {
    StatusUpdate {
        key: key.into(),
        status: status.into(),
        expected_version: version.map(str::to_owned),
        expected_status: None,
    }
}

fn apply(c: &dyn Connector, updates: Vec<StatusUpdate>) -> Vec<ApplyOutcome> {
    let n = updates.len();
    let out = c
        .apply(&ApplyRequest { updates })
        .unwrap_or_else(|e| panic!("apply: {e}"))
        .outcomes;
    assert_eq!(out.len(), n, "one outcome per update");
    out
}

fn version(c: &dyn Connector, key: &str) -> String {
    c.read(&ReadRequest {
        keys: vec![key.into()],
    })
    .ok()
    .and_then(|r| r.orders.into_iter().next())
    .and_then(|o| o.version)
    .unwrap_or_else(|| panic!("no version for {key}"))
}

fn by_key<'a>(outcomes: &'a [ApplyOutcome], key: &str) -> &'a ApplyOutcome {
    outcomes
        .iter()
        .find(|o| o.key == key)
        .unwrap_or_else(|| panic!("no outcome for {key}"))
}

#[test]
fn every_document_gets_its_own_classified_outcome() {
    let sim = Sim::start(&[]);
    sim.create(json!({"ObcyNumer": "A", "Stan": "Bufor"}));
    sim.create(json!({"ObcyNumer": "B", "Stan": "Zatwierdzony", "Potwierdzenie": "Potwierdzony"}));
    sim.create(json!({"ObcyNumer": "C", "Stan": "Anulowany"}));
    sim.create(json!({"ObcyNumer": "D", "Stan": "Zatwierdzony"}));
    sim.act("D", "lock", json!({}));
    sim.create(json!({"ObcyNumer": "E", "Stan": "Zatwierdzony"}));
    sim.create(json!({"ObcyNumer": "F", "Stan": "Zatwierdzony"}));
    let c = connect(&config(&sim));

    // E is read, then changed by an ERP user: the version the host holds is stale.
    let stale = version(&c, "E");
    sim.act("E", "potwierdzenie", json!({"value": "Odrzucony"}));
    let b_stamp = sim.zo("B")["Stamp"].clone();

    let out = apply(
        &c,
        vec![
            update("A", "Potwierdzony", None),
            update("B", "Potwierdzony", None),
            update("C", "Zaakceptowany", None),
            update("D", "Zaakceptowany", None),
            update("E", "Zaakceptowany", Some(&stale)),
            update("F", "Wysłany", None),
            update("NOPE", "Potwierdzony", None),
            update("A", "Potwierdzony", Some("not-a-stamp")),
        ],
    );
    let kinds: Vec<(&str, OutcomeKind, &str, bool)> = out
        .iter()
        .map(|o| (o.key.as_str(), o.outcome, o.code.as_str(), o.changed))
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("A", OutcomeKind::Done, "ok", true),
            ("B", OutcomeKind::Done, "ok", false),
            ("C", OutcomeKind::Failed, "cancelled", false),
            ("D", OutcomeKind::Failed, "locked", false),
            ("E", OutcomeKind::Retry, "conflict", false),
            ("F", OutcomeKind::Failed, "unknown_status", false),
            ("NOPE", OutcomeKind::Failed, "not_found", false),
            ("A", OutcomeKind::Failed, "bad_version", false),
        ]
    );
    assert_eq!(sim.zo("A")["Potwierdzenie"], "Potwierdzony");
    assert_eq!(
        by_key(&out, "A").version,
        sim.zo("A")["Stamp"].as_u64().map(|s| s.to_string())
    );
    assert_eq!(
        sim.zo("B")["Stamp"],
        b_stamp,
        "the same value writes nothing"
    );
    assert_eq!(sim.zo("C")["Potwierdzenie"], "Niepotwierdzony");
    assert_eq!(sim.zo("E")["Potwierdzenie"], "Odrzucony");
    assert!(
        by_key(&out, "E").message.contains("zmieniony"),
        "{:?}",
        by_key(&out, "E")
    );

    // The conflict is retryable: after a re-read the write goes through.
    let fresh = version(&c, "E");
    let out = apply(&c, vec![update("E", "Zaakceptowany", Some(&fresh))]);
    assert_eq!((out[0].outcome, out[0].changed), (OutcomeKind::Done, true));
    assert_eq!(sim.zo("E")["Potwierdzenie"], "Zaakceptowany");
    // Once more with the version it answered: done, nothing changed.
    let again = out[0].version.clone().unwrap_or_default();
    let out = apply(&c, vec![update("E", "Zaakceptowany", Some(&again))]);
    assert_eq!((out[0].outcome, out[0].changed), (OutcomeKind::Done, false));
}

#[test]
fn large_batches_go_in_requests_of_100() {
    let sim = Sim::start(&[]);
    sim.seed(21, 250);
    let c = connect(&config(&sim));
    let keys: Vec<String> = (1..=250).map(|i| i.to_string()).collect();
    let states = c
        .read(&ReadRequest { keys })
        .unwrap_or_else(|e| panic!("read: {e}"))
        .orders;
    let updates: Vec<StatusUpdate> = states
        .iter()
        .map(|o| {
            let to = if o.status == "Zaakceptowany" {
                "Potwierdzony"
            } else {
                "Zaakceptowany"
            };
            update(&o.key, to, o.version.as_deref())
        })
        .collect();
    sim.post("/_sim/counters/reset", json!({}));
    let out = apply(&c, updates);
    assert_eq!(sim.served("UstawPotwierdzenia"), 3);
    assert_eq!(
        sim.served("PobierzZamowienia"),
        0,
        "versions given: no read needed"
    );
    for o in &out {
        let zo = sim.zo(&o.key);
        match zo["Stan"].as_str() {
            Some("Anulowany") => assert_eq!(o.code, "cancelled", "{o:?}"),
            Some("Zablokowany") => assert_eq!(o.code, "locked", "{o:?}"),
            _ => {
                assert_eq!((o.outcome, o.changed), (OutcomeKind::Done, true), "{o:?}");
                assert_eq!(o.version, zo["Stamp"].as_u64().map(|s| s.to_string()));
            }
        }
    }
    assert!(
        out.iter()
            .filter(|o| o.outcome == OutcomeKind::Done)
            .count()
            > 200
    );
}

#[test]
fn without_versions_one_read_precedes_the_write_and_tells_what_changed() {
    let sim = Sim::start(&[]);
    sim.seed(22, 30);
    let c = connect(&config_with(&sim, json!({"page_size": 10})));
    let before: Vec<String> = (1..=30)
        .map(|i| {
            sim.zo(&i.to_string())["Potwierdzenie"]
                .as_str()
                .unwrap_or("")
                .to_owned()
        })
        .collect();
    let updates = (1..=30)
        .map(|i| update(&i.to_string(), "Odrzucony", None))
        .collect();
    let out = apply(&c, updates);
    // 30 keys at 10 a read, then one write of 30.
    assert_eq!(sim.served("PobierzZamowienia"), 3);
    assert_eq!(sim.served("UstawPotwierdzenia"), 1);
    let mut unchanged = 0;
    for (o, was) in out.iter().zip(&before) {
        if o.outcome != OutcomeKind::Done {
            continue;
        }
        assert_eq!(sim.zo(&o.key)["Potwierdzenie"], "Odrzucony");
        assert_eq!(o.changed, was != "Odrzucony", "{o:?} was {was}");
        unchanged += usize::from(!o.changed);
    }
    assert!(unchanged < 30);
}

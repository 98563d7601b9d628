//! Writes over both transports: one outcome per document, a compare-and-set on the expected
//! status (a conflict when someone else changed it), batches of up to 100, `changed` told apart
//! from a no-op without any read.

use orderlink_plugin_api::model::{
    ApplyOutcome, ApplyRequest, OutcomeKind, ReadRequest, StatusUpdate,
};
use orderlink_plugin_api::sdk::Connector;
use serde_json::json;

use crate::support::{configs, connect, with, Sim};

fn update(key: &str, status: &str, expected: Option<&str>) -> StatusUpdate {
    StatusUpdate {
        key: key.into(),
        status: status.into(),
        expected_version: None,
        expected_status: expected.map(str::to_owned),
    }
}

fn apply(c: &dyn Connector, updates: Vec<StatusUpdate>) -> Vec<ApplyOutcome> {
    c.apply(&ApplyRequest { updates })
        .unwrap_or_else(|e| panic!("apply: {e}"))
        .outcomes
}

#[test]
fn every_document_gets_its_own_classified_outcome() {
    let sim = Sim::start(&[]);
    for (transport, cfg) in configs(&sim) {
        sim.post("/_sim/seed", json!({"count": 0}));
        sim.create(json!({"ObcyNumer": "A", "Stan": "Bufor"}));
        sim.create(
            json!({"ObcyNumer": "B", "Stan": "Zatwierdzony", "Potwierdzenie": "Potwierdzony"}),
        );
        sim.create(json!({"ObcyNumer": "C", "Stan": "Anulowany"}));
        sim.create(json!({"ObcyNumer": "D", "Stan": "Zatwierdzony"}));
        sim.act("D", "lock", json!({}));
        sim.create(json!({"ObcyNumer": "E", "Stan": "Zatwierdzony"}));
        sim.create(json!({"ObcyNumer": "F", "Stan": "Zatwierdzony"}));
        sim.create(
            json!({"ObcyNumer": "G", "Stan": "Zatwierdzony", "Potwierdzenie": "Zaakceptowany"}),
        );
        let c = connect(&cfg);
        // E was read as Niepotwierdzony, then an ERP user changed it.
        sim.act("E", "potwierdzenie", json!({"value": "Odrzucony"}));
        let b_before = sim.zo("B")["Zmieniono"].clone();
        sim.post("/_sim/counters/reset", json!({}));

        let out = apply(
            &c,
            vec![
                update("A", "Potwierdzony", Some("Niepotwierdzony")),
                update("B", "Potwierdzony", None),
                update("C", "Zaakceptowany", None),
                update("D", "Zaakceptowany", None),
                update("E", "Zaakceptowany", Some("Niepotwierdzony")),
                update("F", "Wysłany", None),
                update("NOPE", "Potwierdzony", None),
                update("G", "Zaakceptowany", Some("Potwierdzony")),
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
                ("E", OutcomeKind::Conflict, "conflict", false),
                ("F", OutcomeKind::Failed, "unknown_status", false),
                ("NOPE", OutcomeKind::Failed, "not_found", false),
                ("G", OutcomeKind::Done, "ok", false),
            ],
            "{transport}"
        );
        assert_eq!(
            sim.served("UstawPotwierdzenia"),
            1,
            "{transport}: one request"
        );
        assert_eq!(
            sim.served("PobierzZamowienia"),
            0,
            "{transport}: no read first"
        );
        assert_eq!(sim.zo("A")["Potwierdzenie"], "Potwierdzony");
        assert_eq!(
            sim.zo("B")["Zmieniono"],
            b_before,
            "the same value writes nothing"
        );
        assert_eq!(sim.zo("C")["Potwierdzenie"], "Niepotwierdzony");
        assert_eq!(
            sim.zo("E")["Potwierdzenie"],
            "Odrzucony",
            "{transport}: not overwritten"
        );
        let e = &out[4];
        assert!(e.message.contains("zmieniony przez innego"), "{e:?}");

        // After a re-read the host asks again with what it read: the write goes through.
        let out = apply(&c, vec![update("E", "Zaakceptowany", Some("Odrzucony"))]);
        assert_eq!((out[0].outcome, out[0].changed), (OutcomeKind::Done, true));
        assert_eq!(sim.zo("E")["Potwierdzenie"], "Zaakceptowany");
        let out = apply(&c, vec![update("E", "Zaakceptowany", Some("Odrzucony"))]);
        assert_eq!(
            (out[0].outcome, out[0].changed),
            (OutcomeKind::Done, false),
            "{transport}"
        );
    }
}

#[test]
fn large_batches_go_in_requests_of_100() {
    let sim = Sim::start(&[]);
    sim.seed(21, 250);
    for (transport, cfg) in configs(&sim) {
        let c = connect(&with(cfg, json!({"page_size": 100})));
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
                update(&o.key, to, Some(&o.status))
            })
            .collect();
        sim.post("/_sim/counters/reset", json!({}));
        let out = apply(&c, updates);
        assert_eq!(sim.served("UstawPotwierdzenia"), 3, "{transport}");
        assert_eq!(sim.served("PobierzZamowienia"), 0, "{transport}");
        for o in &out {
            let zo = sim.zo(&o.key);
            match zo["Stan"].as_str() {
                Some("Anulowany") => assert_eq!(o.code, "cancelled", "{o:?}"),
                Some("Zablokowany") => assert_eq!(o.code, "locked", "{o:?}"),
                _ => assert_eq!((o.outcome, o.changed), (OutcomeKind::Done, true), "{o:?}"),
            }
        }
        assert!(
            out.iter()
                .filter(|o| o.outcome == OutcomeKind::Done)
                .count()
                > 200
        );
    }
}

//! Whole-call failures, each classified: injected faults (5xx, dropped connections, malformed
//! bodies, slow answers) are transient; `IsException` answers are auth, config or permanent.

use orderlink_plugin_api::model::{
    ApplyRequest, ChangesRequest, OutcomeKind, ReadRequest, StatusUpdate,
};
use orderlink_plugin_api::sdk::Connector;
use orderlink_plugin_api::{ConnectorError, ErrorKind};
use serde_json::json;

use crate::support::{config, config_with, connect, Sim, WRONG_PASSWORD};

fn changes(c: &dyn Connector) -> Result<usize, ConnectorError> {
    c.changes(&ChangesRequest {
        cursor: None,
        limit: 100,
    })
    .map(|p| p.orders.len())
}

/// Two open documents the apply and read helpers use.
fn open_documents(sim: &Sim) {
    sim.create(json!({"ObcyNumer": "K1", "Stan": "Bufor"}));
    sim.create(json!({"ObcyNumer": "K2", "Stan": "Zatwierdzony"}));
}

fn read(c: &dyn Connector) -> Result<usize, ConnectorError> {
    c.read(&ReadRequest {
        keys: vec!["K1".into(), "K2".into()],
    })
    .map(|r| r.orders.len())
}

fn apply(c: &dyn Connector) -> Result<OutcomeKind, ConnectorError> {
    c.apply(&ApplyRequest {
        updates: vec![StatusUpdate {
            key: "K1".into(),
            status: "Potwierdzony".into(),
            expected_version: None,
            expected_status: None,
        }],
    })
    .map(|r| r.outcomes[0].outcome)
}

fn kind<T: std::fmt::Debug>(r: Result<T, ConnectorError>) -> ErrorKind {
    match r {
        Err(e) => e.kind,
        Ok(v) => panic!("expected an error, got {v:?}"),
    }
}

#[test]
fn every_injected_fault_is_transient_and_passes() {
    let sim = Sim::start(&[]);
    sim.seed(31, 3);
    open_documents(&sim);
    let c = connect(&config(&sim));
    for fault in ["error_rate", "drop_rate", "malformed_rate"] {
        sim.faults(json!({ fault: 1.0 }));
        assert_eq!(kind(changes(&c)), ErrorKind::Transient, "{fault}: changes");
        assert_eq!(kind(read(&c)), ErrorKind::Transient, "{fault}: read");
        assert_eq!(kind(apply(&c)), ErrorKind::Transient, "{fault}: apply");
        assert_eq!(
            kind(c.vocabulary()),
            ErrorKind::Transient,
            "{fault}: vocabulary"
        );
        sim.faults(json!({}));
        assert_eq!(changes(&c).ok(), Some(5), "{fault}: recovered");
        assert_eq!(read(&c).ok(), Some(2), "{fault}: recovered");
    }
    assert_eq!(apply(&c).ok(), Some(OutcomeKind::Done));
}

#[test]
fn a_slow_answer_times_out_as_transient() {
    let sim = Sim::start(&["--slow-rate", "1", "--slow-ms", "4000"]);
    sim.seed(32, 3);
    let c = connect(&config_with(&sim, json!({"timeout_secs": 1})));
    let err = c
        .changes(&ChangesRequest {
            cursor: None,
            limit: 10,
        })
        .err()
        .unwrap_or_else(|| panic!("a slow answer did not time out"));
    assert_eq!(err.kind, ErrorKind::Transient);
    assert!(err.message.contains("within 1 s"), "{err}");
    sim.faults(json!({}));
    assert_eq!(changes(&c).ok(), Some(3));
}

#[test]
fn a_result_sent_as_a_json_string_is_read_alike() {
    let sim = Sim::start(&["--result-as-string"]);
    sim.seed(33, 2);
    open_documents(&sim);
    let c = connect(&config(&sim));
    let vocab = c.vocabulary().unwrap_or_else(|e| panic!("{e}"));
    let codes: Vec<&str> = vocab.statuses.iter().map(|s| s.code.as_str()).collect();
    assert_eq!(
        codes,
        [
            "Niepotwierdzony",
            "Potwierdzony",
            "Zaakceptowany",
            "Odrzucony"
        ]
    );
    assert!(vocab.statuses.iter().all(|s| !s.closed));
    assert_eq!(changes(&c).ok(), Some(4));
    assert_eq!(apply(&c).ok(), Some(OutcomeKind::Done));
    assert_eq!(sim.zo("K1")["Potwierdzenie"], "Potwierdzony");
    // Switched at runtime, back to objects.
    sim.post("/_sim/settings", json!({"result_as_string": false}));
    assert_eq!(read(&c).ok(), Some(2));
}

#[test]
fn exceptions_are_classified() {
    let sim = Sim::start(&["--max-limit", "50"]);
    sim.seed(34, 3);
    open_documents(&sim);
    let wrong_password = connect(&config_with(&sim, json!({"password": WRONG_PASSWORD})));
    assert_eq!(kind(wrong_password.check()), ErrorKind::Auth);
    assert_eq!(kind(changes(&wrong_password)), ErrorKind::Auth);
    assert_eq!(kind(apply(&wrong_password)), ErrorKind::Auth);
    let wrong_db = connect(&config_with(&sim, json!({"database": "InnaFirma"})));
    assert_eq!(kind(wrong_db.check()), ErrorKind::Auth);
    let wrong_service = connect(&config_with(&sim, json!({"service": "Inny.IApi, Inny"})));
    assert_eq!(kind(wrong_service.check()), ErrorKind::Config);
    // This server takes at most 50 a page: a page of 100 is an invalid argument.
    let too_big = connect(&config_with(&sim, json!({"page_size": 100})));
    let e = too_big
        .changes(&ChangesRequest {
            cursor: None,
            limit: 100,
        })
        .err()
        .unwrap_or_else(|| panic!("Limit 100 was accepted"));
    assert_eq!(e.kind, ErrorKind::Permanent, "{e}");
    assert!(e.message.contains("Limit"), "{e}");
    let fits = connect(&config_with(&sim, json!({"page_size": 50})));
    assert_eq!(changes(&fits).ok(), Some(5));
}

#[test]
fn http_level_failures_are_classified() {
    let sim = Sim::start(&[]);
    let wrong_path = connect(&config_with(
        &sim,
        json!({"url": format!("{}/nowhere", sim.url)}),
    ));
    assert_eq!(kind(wrong_path.check()), ErrorKind::Config);
    // Nothing listens on port 1: the connection is refused.
    let gone = connect(&json!({
        "url": "http://127.0.0.1:1",
        "database": "x", "operator": "y", "password": "z"
    }));
    assert_eq!(kind(gone.check()), ErrorKind::Transient);
    let bad_cursor = gone.changes(&ChangesRequest {
        cursor: Some("abc".into()),
        limit: 1,
    });
    assert_eq!(kind(bad_cursor), ErrorKind::Permanent);
}

//! Whole-call failures over both transports, each classified: injected faults (5xx, dropped
//! connections, malformed bodies, slow answers) are transient and retried inside the call;
//! refused tokens and logins are auth, a missing service or switched-off MethodInvoker is
//! config, invalid arguments are permanent; an expired session is renewed without a failure.

use orderlink_plugin_api::model::{
    ApplyRequest, ChangesRequest, OutcomeKind, ReadRequest, StatusUpdate,
};
use orderlink_plugin_api::sdk::Connector;
use orderlink_plugin_api::{ConnectorError, ErrorKind};
use serde_json::json;

use crate::support::{config, config_mi, configs, connect, with, Sim, WRONG_PASSWORD, WRONG_TOKEN};

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

fn apply(c: &dyn Connector, status: &str) -> Result<OutcomeKind, ConnectorError> {
    c.apply(&ApplyRequest {
        updates: vec![StatusUpdate {
            key: "K1".into(),
            status: status.into(),
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
fn every_injected_fault_is_transient_over_both_transports_and_passes() {
    let sim = Sim::start(&[]);
    sim.seed(31, 3);
    open_documents(&sim);
    for (transport, cfg) in configs(&sim) {
        // Its own writes count here: every run reads all five documents.
        let c = connect(&with(cfg, json!({"retries": 1, "skip_own_writes": false})));
        for fault in ["error_rate", "drop_rate", "malformed_rate"] {
            sim.faults(json!({ fault: 1.0 }));
            let before = sim.served_total();
            assert_eq!(
                kind(changes(&c)),
                ErrorKind::Transient,
                "{transport} {fault}: changes"
            );
            assert!(
                sim.served_total() - before >= 2,
                "{transport} {fault}: retried inside the call"
            );
            assert_eq!(
                kind(read(&c)),
                ErrorKind::Transient,
                "{transport} {fault}: read"
            );
            assert_eq!(
                kind(apply(&c, "Potwierdzony")),
                ErrorKind::Transient,
                "{transport} {fault}"
            );
            assert_eq!(
                kind(c.vocabulary()),
                ErrorKind::Transient,
                "{transport} {fault}"
            );
            sim.faults(json!({}));
            assert_eq!(changes(&c).ok(), Some(5), "{transport} {fault}: recovered");
            assert_eq!(read(&c).ok(), Some(2), "{transport} {fault}: recovered");
        }
        assert_eq!(
            apply(&c, "Potwierdzony").ok(),
            Some(OutcomeKind::Done),
            "{transport}"
        );
    }
}

#[test]
fn a_transient_failure_now_and_then_is_retried_inside_the_call() {
    let sim = Sim::start(&["--fault-seed", "7"]);
    sim.seed(35, 40);
    for (transport, cfg) in configs(&sim) {
        let c = connect(&with(cfg, json!({"page_size": 10})));
        sim.faults(json!({"error_rate": 0.3, "drop_rate": 0.1}));
        sim.post("/_sim/counters/reset", json!({}));
        let r = c.read(&ReadRequest {
            keys: (1..=40).map(|i| i.to_string()).collect(),
        });
        sim.faults(json!({}));
        let r = r.unwrap_or_else(|e| panic!("{transport}: {e}"));
        assert_eq!(r.orders.len(), 40, "{transport}");
        assert!(
            sim.served("PobierzZamowienia") > 4,
            "{transport}: some requests were faulted and repeated"
        );
    }
}

#[test]
fn a_slow_answer_times_out_as_transient() {
    let sim = Sim::start(&["--slow-rate", "1", "--slow-ms", "4000"]);
    sim.seed(32, 3);
    sim.post("/_sim/faults", json!({"slow_rate": 1.0, "slow_ms": 1500}));
    for (transport, cfg) in configs(&sim) {
        let c = connect(&with(cfg, json!({"timeout_secs": 1, "retries": 0})));
        let err = c
            .changes(&ChangesRequest {
                cursor: None,
                limit: 10,
            })
            .err()
            .unwrap_or_else(|| panic!("{transport}: a slow answer did not time out"));
        assert_eq!(err.kind, ErrorKind::Transient, "{transport}");
        assert!(err.message.contains("within 1 s"), "{err}");
    }
    sim.faults(json!({}));
    assert_eq!(changes(&connect(&config(&sim))).ok(), Some(3));
}

#[test]
fn a_result_sent_as_a_json_string_is_read_alike() {
    let sim = Sim::start(&["--result-as-string"]);
    sim.seed(33, 2);
    open_documents(&sim);
    let c = connect(&config_mi(&sim));
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
    assert_eq!(apply(&c, "Potwierdzony").ok(), Some(OutcomeKind::Done));
    assert_eq!(sim.zo("K1")["Potwierdzenie"], "Potwierdzony");
    sim.post("/_sim/settings", json!({"result_as_string": false}));
    assert_eq!(read(&c).ok(), Some(2));
}

#[test]
fn an_expired_session_is_renewed_once_and_a_refused_token_is_auth() {
    let sim = Sim::start(&[]);
    sim.seed(36, 3);
    open_documents(&sim);
    let c = connect(&config(&sim));
    assert_eq!(changes(&c).ok(), Some(5));
    assert_eq!(sim.served("LoginApi"), 1);
    // The server drops the session (idle, or restarted): one new login, no failure.
    sim.post("/_sim/sessions/expire", json!({}));
    assert_eq!(read(&c).ok(), Some(2));
    assert_eq!(sim.served("LoginApi"), 2);
    // Idle expiry, played fast.
    sim.post("/_sim/settings", json!({"session_idle_ms": 150}));
    std::thread::sleep(std::time::Duration::from_millis(250));
    assert_eq!(apply(&c, "Zaakceptowany").ok(), Some(OutcomeKind::Done));
    assert_eq!(sim.served("LoginApi"), 3);
    assert_eq!(sim.zo("K1")["Potwierdzenie"], "Zaakceptowany");
    sim.post("/_sim/settings", json!({"session_idle_ms": 300000}));
    // Dropping the connector logs its session out.
    assert_eq!(sim.get("/_sim/sessions")["open"], 1);
    drop(c);
    assert_eq!(sim.get("/_sim/sessions")["open"], 0);
    assert_eq!(sim.served("LogoutApi"), 1);

    let refused = connect(&with(
        config(&sim),
        json!({"application_token": WRONG_TOKEN}),
    ));
    let e = refused
        .check()
        .err()
        .unwrap_or_else(|| panic!("a refused token passed"));
    assert_eq!(e.kind, ErrorKind::Auth);
    assert!(e.message.contains("application token"), "{e}");
    assert_eq!(kind(changes(&refused)), ErrorKind::Auth);
    assert_eq!(kind(apply(&refused, "Potwierdzony")), ErrorKind::Auth);
}

#[test]
fn exceptions_are_classified() {
    let sim = Sim::start(&["--max-limit", "50"]);
    sim.seed(34, 3);
    open_documents(&sim);
    let wrong_password = connect(&with(config_mi(&sim), json!({"password": WRONG_PASSWORD})));
    assert_eq!(kind(wrong_password.check()), ErrorKind::Auth);
    assert_eq!(kind(changes(&wrong_password)), ErrorKind::Auth);
    assert_eq!(
        kind(apply(&wrong_password, "Potwierdzony")),
        ErrorKind::Auth
    );
    let wrong_db = connect(&with(config_mi(&sim), json!({"database": "InnaFirma"})));
    assert_eq!(kind(wrong_db.check()), ErrorKind::Auth);
    let wrong_service = connect(&with(
        config_mi(&sim),
        json!({"service": "Inny.IApi, Inny"}),
    ));
    assert_eq!(kind(wrong_service.check()), ErrorKind::Config);
    // This server takes at most 50 a page: a page of 100 is an invalid argument, either way.
    for (transport, cfg) in configs(&sim) {
        let too_big = connect(&with(cfg.clone(), json!({"page_size": 100})));
        let e = too_big
            .changes(&ChangesRequest {
                cursor: None,
                limit: 100,
            })
            .err()
            .unwrap_or_else(|| panic!("{transport}: Limit 100 was accepted"));
        assert_eq!(e.kind, ErrorKind::Permanent, "{transport}: {e}");
        assert!(e.message.contains("Limit"), "{e}");
        let fits = connect(&with(cfg, json!({"page_size": 50})));
        assert_eq!(changes(&fits).ok(), Some(5), "{transport}");
    }
}

#[test]
fn http_level_failures_are_classified() {
    let sim = Sim::start(&[]);
    for (transport, cfg) in configs(&sim) {
        let wrong_path = connect(&with(cfg, json!({"url": format!("{}/nowhere", sim.url)})));
        assert_eq!(kind(wrong_path.check()), ErrorKind::Config, "{transport}");
    }
    // MethodInvoker switched off, as current servers ship: a config error that says so.
    sim.post("/_sim/settings", json!({"method_invoker": false}));
    let e = connect(&config_mi(&sim))
        .check()
        .err()
        .unwrap_or_else(|| panic!("MethodInvoker answered while off"));
    assert_eq!(e.kind, ErrorKind::Config);
    assert!(e.message.contains("MethodInvoker is off"), "{e}");
    // Nothing listens on port 1: the connection is refused.
    let gone = connect(&json!({"url": "http://127.0.0.1:1", "application_token": "t"}));
    assert_eq!(kind(gone.check()), ErrorKind::Transient);
    let bad_cursor = gone.changes(&ChangesRequest {
        cursor: Some("abc".into()),
        limit: 1,
    });
    assert_eq!(kind(bad_cursor), ErrorKind::Permanent);
}

#[test]
fn check_reports_what_it_found() {
    let sim = Sim::start(&[]);
    let report = connect(&config(&sim))
        .check()
        .unwrap_or_else(|e| panic!("{e}"));
    let found = |name: &str| {
        report
            .findings
            .iter()
            .find(|f| f.name == name)
            .map(|f| f.value.clone())
            .unwrap_or_else(|| panic!("no finding {name}: {report:?}"))
    };
    assert_eq!(found("transport"), "dynamic");
    assert_eq!(found("server_version"), "2510.2.2");
    assert_eq!(found("service"), "answers");
    assert_eq!(found("method_invoker"), "on");
    assert_eq!(found("own_writes_in_feed"), "left_out");
    assert_eq!(found("order_key"), "ObcyNumer");
    sim.post("/_sim/settings", json!({"method_invoker": false}));
    let report = connect(&with(config(&sim), json!({"operator": null})))
        .check()
        .unwrap_or_else(|e| panic!("{e}"));
    let value = |name: &str| {
        report
            .findings
            .iter()
            .find(|f| f.name == name)
            .map(|f| f.value.as_str())
    };
    assert_eq!(value("method_invoker"), Some("off"));
    assert_eq!(value("own_writes_in_feed"), Some("included"));
    sim.post("/_sim/settings", json!({"method_invoker": true}));
    let report = connect(&config_mi(&sim))
        .check()
        .unwrap_or_else(|e| panic!("{e}"));
    let value = |name: &str| {
        report
            .findings
            .iter()
            .find(|f| f.name == name)
            .map(|f| f.value.clone())
    };
    assert_eq!(value("transport").as_deref(), Some("method_invoker"));
    assert_eq!(value("dynamic_login").as_deref(), Some("on"));
}

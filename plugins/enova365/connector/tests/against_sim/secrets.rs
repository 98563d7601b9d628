//! The secrets (application token, session tokens, password, database, operator) never show in
//! errors, `Debug` output or logs.

use orderlink_plugin_api::model::{ApplyRequest, ChangesRequest, ReadRequest, StatusUpdate};
use orderlink_plugin_api::sdk::Connector;
use serde_json::json;

use crate::support::{
    config, config_mi, config_with, connect, logs, plugin, with, Sim, APP_TOKEN, DATABASE,
    PASSWORD, WRONG_PASSWORD, WRONG_TOKEN,
};

const SECRETS: [&str; 5] = [PASSWORD, WRONG_PASSWORD, DATABASE, APP_TOKEN, WRONG_TOKEN];

fn assert_clean(what: &str, text: &str) {
    for s in SECRETS {
        assert!(!text.contains(s), "{what} shows a secret: {text}");
    }
}

fn exercise(c: &dyn Connector, texts: &mut Vec<String>) {
    let mut keep = |r: Result<String, orderlink_plugin_api::ConnectorError>| match r {
        Ok(v) => texts.push(v),
        Err(e) => {
            texts.push(format!("{e}"));
            texts.push(format!("{e:?}"));
        }
    };
    keep(c.check().map(|r| format!("{r:?}")));
    keep(c.vocabulary().map(|r| format!("{r:?}")));
    keep(
        c.changes(&ChangesRequest {
            cursor: None,
            limit: 5,
        })
        .map(|r| format!("{r:?}")),
    );
    keep(
        c.read(&ReadRequest {
            keys: vec!["1".into()],
        })
        .map(|r| format!("{r:?}")),
    );
    let update = StatusUpdate {
        key: "1".into(),
        status: "Nieznany".into(),
        expected_version: None,
        expected_status: None,
    };
    keep(
        c.apply(&ApplyRequest {
            updates: vec![update],
        })
        .map(|r| format!("{r:?}")),
    );
}

#[test]
fn the_login_shows_nowhere() {
    let sim = Sim::start(&[]);
    sim.seed(41, 3);
    let mut texts = Vec::new();
    exercise(&connect(&config(&sim)), &mut texts);
    exercise(&connect(&config_mi(&sim)), &mut texts);
    exercise(
        &connect(&with(config_mi(&sim), json!({"password": WRONG_PASSWORD}))),
        &mut texts,
    );
    exercise(
        &connect(&config_with(
            &sim,
            json!({"application_token": WRONG_TOKEN}),
        )),
        &mut texts,
    );
    for fault in ["error_rate", "drop_rate", "malformed_rate"] {
        sim.faults(json!({ fault: 1.0 }));
        exercise(
            &connect(&config_with(&sim, json!({"retries": 0}))),
            &mut texts,
        );
        exercise(
            &connect(&with(config_mi(&sim), json!({"retries": 0}))),
            &mut texts,
        );
    }
    sim.faults(json!({}));
    // A config refused for a wrongly typed field does not quote the others either.
    let refused = plugin().create(
        "enova365",
        &config_with(&sim, json!({"page_size": "many", "timeout_secs": -1})),
    );
    texts.push(format!("{:?}", refused.err()));
    assert!(texts.iter().any(|t| t.contains("auth error")), "{texts:?}");
    assert!(
        texts.iter().any(|t| t.contains("transient error")),
        "{texts:?}"
    );
    for t in &texts {
        assert_clean("a result or error", t);
    }
    // The plugin's own log events reach this process (so the check below looks at them).
    let log = logs();
    assert!(
        log.contains("enova365 WebAPI call"),
        "no plugin events captured"
    );
    assert!(log.contains("WARN"), "no warnings captured");
    assert_clean("the log", &log);
}

//! The API key never shows in logs (captured at TRACE, from inside the plugin), errors or
//! `Debug` output. Its own test binary: the log capture must be installed before the plugin loads.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::{config, connect, plugin, sim, KEY, READONLY_KEY};
use orderlink_plugin_api::model::{ApplyRequest, ChangesRequest, ReadRequest, StatusUpdate};
use orderlink_plugin_api::sdk::Connector;
use serde_json::json;

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn the_api_key_never_shows() {
    let capture = Capture::default();
    let writer = capture.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();

    const WRONG: &str = "wrong-key-0c41d7e2";
    const NUMERIC: u64 = 8_675_309_123;
    let sim = sim(&["--orders", "120"]);
    let control = sim.control();
    let mut said: Vec<String> = Vec::new();
    said.push(serde_json::to_string(plugin().manifest()).unwrap_or_default());

    let c = connect(&sim, json!({ "initial_lookback_hours": 96 }));
    said.push(format!("{:?}", c.check()));
    said.push(format!(
        "{:?}",
        c.changes(&ChangesRequest {
            cursor: None,
            limit: 100
        })
    ));
    said.push(format!(
        "{:?}",
        c.read(&ReadRequest {
            keys: vec!["1".into(), "x".into()]
        })
    ));
    let update = StatusUpdate {
        key: "2".into(),
        status: "lost".into(),
        expected_version: None,
        expected_status: None,
    };
    said.push(format!(
        "{:?}",
        c.apply(&ApplyRequest {
            updates: vec![update.clone()]
        })
    ));
    for faults in [
        json!({ "drop_rate": 1.0 }),
        json!({ "malformed_rate": 1.0 }),
        json!({ "error_rate": 1.0 }),
    ] {
        control.set_faults(&faults).expect("faults");
        let e = c
            .read(&ReadRequest {
                keys: vec!["3".into()],
            })
            .expect_err("fault");
        said.push(format!("{e} {e:?}"));
    }
    control.clear_faults().expect("clear");

    for key in [WRONG, READONLY_KEY] {
        let other = connect(&sim, json!({ "api_key": key }));
        said.push(format!("{:?}", other.check()));
        said.push(format!(
            "{:?}",
            other.apply(&ApplyRequest {
                updates: vec![update.clone()]
            })
        ));
    }
    let bad = plugin().create("idosell", &json!({ "url": sim.url(), "api_key": NUMERIC }));
    said.push(format!("{:?}", bad.err()));
    let unreachable = plugin()
        .create(
            "idosell",
            &json!({ "url": "http://127.0.0.1:9", "api_key": KEY, "timeout_secs": 1 }),
        )
        .expect("created");
    said.push(format!("{:?}", unreachable.check()));

    let in_process = orderlink_idosell::IdoSellConnector::new(
        orderlink_idosell::IdoSellConfig::parse(&config(&sim, json!({}))).expect("config"),
    )
    .expect("connector");
    said.push(format!("{in_process:?}"));

    let logs =
        String::from_utf8_lossy(&capture.0.lock().unwrap_or_else(|p| p.into_inner())).into_owned();
    assert!(
        logs.contains("IdoSell request"),
        "the plugin's own logs were not captured"
    );
    assert!(logs.contains("retrying"), "no retry was logged");
    assert!(
        logs.contains("hyper"),
        "the HTTP stack's own TRACE events were not captured"
    );
    said.push(logs);
    for text in &said {
        for secret in [KEY, READONLY_KEY, WRONG, &NUMERIC.to_string()] {
            assert!(!text.contains(secret), "a key showed up in:\n{text}");
        }
    }
}

//! Shared by the simulator's tests: start the binary and call its Admin API.

#![allow(dead_code)]

use std::path::Path;
use std::time::Duration;

use idosell_sim::harness::SimProcess;
use serde_json::Value;

pub const KEY: &str = "test-key-rw";
pub const READONLY_KEY: &str = "test-key-ro";

/// Starts the simulator binary with the test keys and extra arguments.
pub fn start(extra: &[&str]) -> SimProcess {
    let mut args = vec!["--api-key", KEY, "--readonly-key", READONLY_KEY];
    args.extend_from_slice(extra);
    SimProcess::spawn(Path::new(env!("CARGO_BIN_EXE_idosell-sim")), &args)
        .unwrap_or_else(|e| panic!("cannot start the simulator: {e}"))
}

/// One API answer.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub retry_after: Option<String>,
    pub x_error: Option<String>,
    pub text: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }
}

/// Calls the Admin API (`path` after `/api/admin/v6`), with an optional key and JSON body.
pub fn call(
    sim: &SimProcess,
    method: &str,
    path: &str,
    key: Option<&str>,
    body: Option<&Value>,
) -> Reply {
    call_version(sim, 6, method, path, key, body)
}

pub fn call_version(
    sim: &SimProcess,
    version: u32,
    method: &str,
    path: &str,
    key: Option<&str>,
    body: Option<&Value>,
) -> Reply {
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(30))
        .build();
    let url = format!("{}/api/admin/v{version}{path}", sim.url());
    let mut req = agent
        .request(method, &url)
        .set("Accept", "application/json");
    if let Some(k) = key {
        req = req.set("X-API-KEY", k);
    }
    let res = match body {
        Some(b) => req.send_json(b.clone()),
        None => req.call(),
    };
    let r = match res {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{method} {path}: transport error: {e}"),
    };
    Reply {
        status: r.status(),
        retry_after: r.header("retry-after").map(str::to_owned),
        x_error: r.header("x-error").map(str::to_owned),
        text: r.into_string().unwrap_or_default(),
    }
}

/// `POST /orders/orders/search` with these params.
pub fn search(sim: &SimProcess, params: Value) -> Reply {
    call(
        sim,
        "POST",
        "/orders/orders/search",
        Some(KEY),
        Some(&serde_json::json!({ "params": params })),
    )
}

/// `PUT /orders/orders` with these orders.
pub fn put(sim: &SimProcess, orders: Value) -> Reply {
    call(
        sim,
        "PUT",
        "/orders/orders",
        Some(KEY),
        Some(&serde_json::json!({ "params": { "orders": orders } })),
    )
}

/// The serial numbers of a search answer.
pub fn serials(reply: &Reply) -> Vec<u64> {
    reply.json()["Results"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|o| o["orderSerialNumber"].as_u64())
                .collect()
        })
        .unwrap_or_default()
}

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

/// One answer of every kind the simulator gives, as `(path, method, reply)`: searches (a page,
/// by serial numbers, empty, refused), gets (found, some unknown by serial number and by
/// orderId), puts (done, partly refused, bad key) and history (known, unknown order).
pub fn sample_replies(sim: &SimProcess) -> Vec<(&'static str, &'static str, Reply)> {
    let c = sim.control();
    c.define_status(45, 3, "Packed by team B")
        .expect("custom status");
    c.set_status_id(7, 45).expect("operator change");
    c.touch(8).expect("edit");
    let search_path = "/orders/orders/search";
    let orders_path = "/orders/orders";
    let get = |q: &str| call(sim, "GET", &format!("/orders/orders?{q}"), Some(KEY), None);
    vec![
        (
            search_path,
            "post",
            search(
                sim,
                serde_json::json!({ "resultsLimit": 100, "resultsPage": 1 }),
            ),
        ),
        (
            search_path,
            "post",
            search(sim, serde_json::json!({ "ordersSerialNumbers": [7, 8] })),
        ),
        (
            search_path,
            "post",
            search(sim, serde_json::json!({ "ordersSerialNumbers": [99999] })),
        ),
        (
            search_path,
            "post",
            search(sim, serde_json::json!({ "resultsLimit": 500 })),
        ),
        (orders_path, "get", get("ordersSerialNumbers=1,2,7")),
        (orders_path, "get", get("ordersSerialNumbers=1,99999")),
        (orders_path, "get", get("ordersIds=shop1-3,shop1-99999")),
        (
            orders_path,
            "put",
            put(
                sim,
                serde_json::json!([{ "orderSerialNumber": 1, "orderStatus": "packed" }]),
            ),
        ),
        (
            orders_path,
            "put",
            put(
                sim,
                serde_json::json!([{ "orderSerialNumber": 2, "orderStatus": "packed" }, { "orderSerialNumber": 3, "orderStatus": "nope" }]),
            ),
        ),
        (
            orders_path,
            "put",
            call(
                sim,
                "PUT",
                orders_path,
                Some("wrong"),
                Some(&serde_json::json!({ "params": {} })),
            ),
        ),
        (
            "/orders/history",
            "get",
            call(
                sim,
                "GET",
                "/orders/history?orderSerialNumber=7",
                Some(KEY),
                None,
            ),
        ),
        (
            "/orders/history",
            "get",
            call(
                sim,
                "GET",
                "/orders/history?orderSerialNumber=99999",
                Some(KEY),
                None,
            ),
        ),
    ]
}

/// Every `(path, method, status)` [`sample_replies`] must cover.
pub const SAMPLE_KINDS: [(&str, &str, u16); 10] = [
    ("/orders/orders/search", "post", 200),
    ("/orders/orders/search", "post", 207),
    ("/orders/orders/search", "post", 422),
    ("/orders/orders", "get", 200),
    ("/orders/orders", "get", 207),
    ("/orders/orders", "put", 200),
    ("/orders/orders", "put", 207),
    ("/orders/orders", "put", 401),
    ("/orders/history", "get", 200),
    ("/orders/history", "get", 207),
];

//! The `enova365-sim` binary over HTTP on loopback: its start line and shutdown, the WebAPI
//! contract, the control API, faults and counters.

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdout, Command, Stdio};

use serde_json::{json, Value};

const SERVICE: &str = "OrderLink.Enova365.IZamowieniaApi, OrderLink.Enova365";
const PASSWORD: &str = "Pw-sim-test-81";

struct Sim {
    child: Child,
    _stdout: BufReader<ChildStdout>,
    url: String,
    http: reqwest::Client,
}

impl Sim {
    fn start(extra: &[&str]) -> Sim {
        let mut child = Command::new(env!("CARGO_BIN_EXE_enova365-sim"))
            .args(["--listen", "127.0.0.1:0", "--password", PASSWORD])
            .args(extra)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start enova365-sim: {e}"));
        let Some(stdout) = child.stdout.take() else {
            panic!("no stdout");
        };
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        reader
            .read_line(&mut line)
            .unwrap_or_else(|e| panic!("no start line: {e}"));
        let url = line
            .strip_suffix('\n')
            .and_then(|l| l.strip_prefix("listening on "))
            .unwrap_or_else(|| panic!("start line {line:?}"))
            .to_owned();
        Sim {
            child,
            _stdout: reader,
            url,
            http: reqwest::Client::new(),
        }
    }

    async fn raw(&self, method: &str, args: Value, password: &str) -> reqwest::Response {
        let body = json!({
            "DatabaseHandle": "Firma", "Operator": "Administrator", "Password": password,
            "ServiceName": SERVICE, "MethodName": method, "MethodArgs": args,
        });
        self.send(body).await
    }

    async fn send(&self, body: Value) -> reqwest::Response {
        self.http
            .post(format!(
                "{}/api/MethodInvoker/InvokeServiceMethod",
                self.url
            ))
            .json(&body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("invoke: {e}"))
    }

    /// Calls a method; returns the whole envelope.
    async fn invoke(&self, method: &str, pars: Value) -> Value {
        let r = self.raw(method, json!({ "pars": pars }), PASSWORD).await;
        assert_eq!(r.status(), 200);
        r.json().await.unwrap_or_else(|e| panic!("envelope: {e}"))
    }

    /// Calls a method that must succeed; returns `ResultInstance`.
    async fn result(&self, method: &str, pars: Value) -> Value {
        let v = self.invoke(method, pars).await;
        assert_eq!(v["IsException"], false, "{v}");
        v["ResultInstance"].clone()
    }

    async fn control(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.url));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap_or_else(|e| panic!("{path}: {e}"));
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        let (status, v) = self.control(reqwest::Method::POST, path, Some(body)).await;
        assert!((200..300).contains(&status), "POST {path}: {status} {v}");
        v
    }

    async fn get(&self, path: &str) -> Value {
        let (status, v) = self.control(reqwest::Method::GET, path, None).await;
        assert_eq!(status, 200, "GET {path}: {v}");
        v
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn stamps(page: &Value) -> Vec<u64> {
    page["Zamowienia"]
        .as_array()
        .map(|a| a.iter().filter_map(|z| z["Stamp"].as_u64()).collect())
        .unwrap_or_default()
}

fn obcy(page: &Value) -> Vec<String> {
    page["Zamowienia"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|z| z["ObcyNumer"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn prints_its_address_and_stops_cleanly_on_sigterm() {
    let mut sim = Sim::start(&["--documents", "5", "--seed", "2"]);
    let port = sim.url.strip_prefix("http://127.0.0.1:");
    assert!(
        port.is_some_and(|p| p.parse::<u16>().is_ok_and(|p| p > 0)),
        "{}",
        sim.url
    );
    let status = Command::new("kill")
        .args(["-TERM", &sim.child.id().to_string()])
        .status()
        .unwrap_or_else(|e| panic!("kill: {e}"));
    assert!(status.success());
    let exit = sim.child.wait().unwrap_or_else(|e| panic!("wait: {e}"));
    assert!(exit.success(), "{exit:?}");
}

#[tokio::test]
async fn the_login_the_service_and_the_arguments_are_checked() {
    let sim = Sim::start(&["--documents", "3"]);
    let exception = |v: &Value| (v["IsException"].clone(), v["ResultInstance"].clone());

    let r = sim
        .raw("PobierzPotwierdzenia", json!({}), "wrong-pw-1")
        .await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap_or_default();
    assert_eq!(exception(&v), (json!(true), Value::Null));
    let msg = v["ExceptionMessage"].as_str().unwrap_or_default();
    assert!(
        msg.contains("operatora lub hasło") && !msg.contains("wrong-pw-1"),
        "{msg}"
    );

    let mut body = json!({"DatabaseHandle": "Inna", "Operator": "Administrator",
        "Password": PASSWORD, "ServiceName": SERVICE, "MethodName": "PobierzPotwierdzenia"});
    let v: Value = sim
        .send(body.clone())
        .await
        .json()
        .await
        .unwrap_or_default();
    assert!(
        v["ExceptionMessage"]
            .as_str()
            .is_some_and(|m| m.contains("baza danych")),
        "{v}"
    );

    body["DatabaseHandle"] = json!("Firma");
    body["ServiceName"] = json!("Inny.IApi, Inny");
    let v: Value = sim
        .send(body.clone())
        .await
        .json()
        .await
        .unwrap_or_default();
    assert!(
        v["ExceptionMessage"]
            .as_str()
            .is_some_and(|m| m.contains("Nie znaleziono usługi")),
        "{v}"
    );

    // The service name tolerates spaces around the comma.
    body["ServiceName"] = json!("OrderLink.Enova365.IZamowieniaApi,OrderLink.Enova365");
    let v: Value = sim
        .send(body.clone())
        .await
        .json()
        .await
        .unwrap_or_default();
    assert_eq!(
        v["ResultInstance"],
        json!([
            "Niepotwierdzony",
            "Potwierdzony",
            "Zaakceptowany",
            "Odrzucony"
        ])
    );

    body["MethodName"] = json!("UsunZamowienia");
    let v: Value = sim.send(body).await.json().await.unwrap_or_default();
    assert!(
        v["ExceptionMessage"]
            .as_str()
            .is_some_and(|m| m.contains("nie ma metody")),
        "{v}"
    );

    let too_many: Vec<Value> = (0..101)
        .map(|i| json!({"ObcyNumer": i.to_string(), "Potwierdzenie": "Potwierdzony"}))
        .collect();
    let invalid = [
        ("PobierzZamowienia", json!({"Limit": 0}), "Limit"),
        ("PobierzZamowienia", json!({"Limit": 501}), "Limit"),
        (
            "PobierzZamowienia",
            json!({"ZmienioneOdStamp": "x"}),
            "ZmienioneOdStamp",
        ),
        (
            "PobierzZamowienia",
            json!({"ObcyNumery": "1"}),
            "ObcyNumery",
        ),
        (
            "PobierzZamowienia",
            json!({"UtworzoneOd": "wczoraj"}),
            "UtworzoneOd",
        ),
        (
            "UstawPotwierdzenia",
            json!({"Zmiany": too_many}),
            "najwyżej 100",
        ),
        (
            "UstawPotwierdzenia",
            json!({"Zmiany": [{"Potwierdzenie": 1}]}),
            "ID albo ObcyNumer",
        ),
        (
            "UstawPotwierdzenia",
            json!({"Zmiany": [{"ID": 1001}]}),
            "Potwierdzenie",
        ),
        ("UstawPotwierdzenia", json!({}), "Zmiany"),
    ];
    for (method, pars, needle) in invalid {
        let v = sim.invoke(method, pars.clone()).await;
        let msg = v["ExceptionMessage"].as_str().unwrap_or_default();
        assert_eq!(v["IsException"], true, "{method} {pars}: {v}");
        assert!(
            msg.contains("argument") && msg.contains(needle),
            "{method} {pars}: {msg}"
        );
    }
    // Nothing was written by the refused calls.
    assert_eq!(sim.get("/_sim/state").await["max_stamp"], 3);
}

#[tokio::test]
async fn documents_page_by_stamp_and_filter() {
    let sim = Sim::start(&[]);
    let seeded = sim
        .post("/_sim/seed", json!({"seed": 5, "count": 10}))
        .await;
    assert_eq!(seeded["documents"], 10);

    let p1 = sim.result("PobierzZamowienia", json!({"Limit": 4})).await;
    assert_eq!(stamps(&p1), vec![1, 2, 3, 4]);
    assert_eq!(
        (p1["MaxStamp"].clone(), p1["CzyJestWiecej"].clone()),
        (json!(4), json!(true))
    );
    let zo = &p1["Zamowienia"][0];
    for field in [
        "ID",
        "Guid",
        "NumerPelny",
        "Data",
        "Stan",
        "Potwierdzenie",
        "ObcyNumer",
        "Cechy",
        "Zrealizowane",
        "DokumentySprzedazy",
        "Stamp",
        "Zmieniono",
    ] {
        assert!(zo.get(field).is_some(), "no {field} in {zo}");
    }
    assert_eq!(zo["Cechy"]["Sklep"], "shop1");

    // A document read on page 1 changes: it comes again after the rest.
    let first = zo["ObcyNumer"].as_str().unwrap_or_default().to_owned();
    let value = if zo["Potwierdzenie"] == "Odrzucony" {
        "Potwierdzony"
    } else {
        "Odrzucony"
    };
    sim.post(
        &format!("/_sim/documents/by-obcy/{first}/potwierdzenie"),
        json!({"value": value}),
    )
    .await;
    let p2 = sim
        .result(
            "PobierzZamowienia",
            json!({"ZmienioneOdStamp": 4, "Limit": 100}),
        )
        .await;
    assert_eq!(stamps(&p2), vec![5, 6, 7, 8, 9, 10, 11]);
    assert_eq!(obcy(&p2).last(), Some(&first));
    assert_eq!(p2["CzyJestWiecej"], false);
    let p3 = sim
        .result("PobierzZamowienia", json!({"ZmienioneOdStamp": 11}))
        .await;
    assert_eq!((stamps(&p3).len(), p3["MaxStamp"].clone()), (0, json!(11)));

    let some = sim
        .result(
            "PobierzZamowienia",
            json!({"ObcyNumery": ["3", "7", "nie-ma"], "Limit": 10}),
        )
        .await;
    assert_eq!(obcy(&some), vec!["3", "7"]);

    let all = sim.result("PobierzZamowienia", json!({"Limit": 500})).await;
    let zos = all["Zamowienia"].as_array().cloned().unwrap_or_default();
    let approved = zos
        .iter()
        .find(|z| z["Stan"] == "Zatwierdzony" && z["Zrealizowane"] == false);
    let Some(approved) = approved.and_then(|z| z["ObcyNumer"].as_str()) else {
        panic!("no approved open document among {all}");
    };
    let invoiced = sim
        .post(
            &format!("/_sim/documents/by-obcy/{approved}/invoice"),
            json!({}),
        )
        .await;
    assert_eq!(invoiced["Zrealizowane"], true);
    assert!(invoiced["DokumentySprzedazy"][0]
        .as_str()
        .is_some_and(|n| n.starts_with("FV/")));
    let open = sim
        .result(
            "PobierzZamowienia",
            json!({"TylkoNiezrealizowane": true, "Limit": 500}),
        )
        .await;
    assert!(!obcy(&open).iter().any(|o| o == approved));
    assert!(open["Zamowienia"]
        .as_array()
        .is_some_and(|a| a.iter().all(|z| z["Zrealizowane"] == false)));

    sim.post(
        "/_sim/documents",
        json!({"ObcyNumer": "OLD", "Data": "2020-01-01"}),
    )
    .await;
    let recent = sim
        .result(
            "PobierzZamowienia",
            json!({"UtworzoneOd": "2021-01-01", "Limit": 500}),
        )
        .await;
    assert!(!obcy(&recent).iter().any(|o| o == "OLD"));
    assert_eq!(obcy(&recent).len(), 10);
}

#[tokio::test]
async fn confirmations_are_set_per_document() {
    let sim = Sim::start(&[]);
    let a = sim
        .post(
            "/_sim/documents",
            json!({"ObcyNumer": "A", "Stan": "Bufor"}),
        )
        .await;
    let b = sim
        .post(
            "/_sim/documents",
            json!({"ObcyNumer": "B", "Stan": "Anulowany"}),
        )
        .await;
    let c = sim
        .post(
            "/_sim/documents",
            json!({"ObcyNumer": "C", "Stan": "Zatwierdzony"}),
        )
        .await;
    sim.post("/_sim/documents/by-obcy/C/lock", json!({})).await;
    assert_eq!(
        b["NumerPelny"].as_str().map(|n| n.ends_with("/BUFOR")),
        Some(false)
    );
    assert_eq!(
        a["NumerPelny"].as_str().map(|n| n.ends_with("/BUFOR")),
        Some(true)
    );
    let a_stamp = a["Stamp"].as_u64().unwrap_or_default();

    let r = sim
        .result(
            "UstawPotwierdzenia",
            json!({"Zmiany": [
                {"ID": a["ID"], "Potwierdzenie": 2, "OczekiwanyStamp": a_stamp},
                {"ObcyNumer": "A", "Potwierdzenie": "Zaakceptowany"},
                {"ObcyNumer": "A", "Potwierdzenie": "Potwierdzony", "OczekiwanyStamp": a_stamp},
                {"ObcyNumer": "B", "Potwierdzenie": "Potwierdzony"},
                {"ID": c["ID"], "Potwierdzenie": "Potwierdzony"},
                {"ObcyNumer": "A", "Potwierdzenie": "Wysłany"},
                {"ObcyNumer": "Z", "Potwierdzenie": "Potwierdzony"},
            ]}),
        )
        .await;
    let w = r["Wyniki"].as_array().cloned().unwrap_or_default();
    assert_eq!(w.len(), 7);
    let ok: Vec<bool> = w.iter().map(|x| x["Success"] == true).collect();
    assert_eq!(ok, vec![true, true, false, false, false, false, false]);
    let new_stamp = w[0]["Stamp"].as_u64().unwrap_or_default();
    assert!(new_stamp > a_stamp);
    assert_eq!(w[0]["Potwierdzenie"], "Zaakceptowany");
    assert_eq!(w[1]["Stamp"], new_stamp, "the same value: no new stamp");
    let why = |i: usize| w[i]["Description"].as_str().unwrap_or_default().to_owned();
    assert!(why(2).contains("zmieniony przez innego"), "{}", why(2));
    assert!(why(3).contains("anulowany"), "{}", why(3));
    assert!(why(4).contains("zablokowany"), "{}", why(4));
    assert!(why(5).contains("Nieznana wartość"), "{}", why(5));
    assert!(why(6).contains("Nie znaleziono"), "{}", why(6));
    assert_eq!(
        (w[6]["ID"].clone(), w[6]["ObcyNumer"].clone()),
        (Value::Null, json!("Z"))
    );
    let a_now = sim.get("/_sim/documents/by-obcy/A").await;
    assert_eq!(
        (a_now["Potwierdzenie"].clone(), a_now["Stamp"].clone()),
        (json!("Zaakceptowany"), json!(new_stamp))
    );
}

#[tokio::test]
async fn faults_counters_and_string_results() {
    let sim = Sim::start(&["--result-as-string"]);
    sim.post("/_sim/seed", json!({"seed": 1, "count": 2})).await;
    let v = sim.result("PobierzPotwierdzenia", json!({})).await;
    let inner: Value = v
        .as_str()
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or_default();
    assert_eq!(inner[3], "Odrzucony");

    sim.post("/_sim/faults", json!({"error_rate": 1.0})).await;
    let r = sim
        .raw("PobierzZamowienia", json!({"pars": {}}), PASSWORD)
        .await;
    assert!(
        [500, 502, 503].contains(&r.status().as_u16()),
        "{}",
        r.status()
    );
    // The control API is never faulted.
    assert_eq!(sim.get("/_sim/faults").await["error_rate"], 1.0);

    sim.post("/_sim/faults", json!({"drop_rate": 1.0})).await;
    let body = json!({"MethodName": "PobierzZamowienia"});
    let dropped = sim
        .http
        .post(format!("{}/api/MethodInvoker/InvokeServiceMethod", sim.url))
        .json(&body)
        .send()
        .await;
    assert!(dropped.is_err(), "{dropped:?}");

    sim.post("/_sim/faults", json!({"malformed_rate": 1.0}))
        .await;
    let r = sim
        .raw(
            "UstawPotwierdzenia",
            json!({"pars": {"Zmiany": [
        {"ObcyNumer": "1", "Potwierdzenie": "Odrzucony"}]}}),
            PASSWORD,
        )
        .await;
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap_or_default();
    assert!(serde_json::from_str::<Value>(&text).is_err(), "{text}");
    // A malformed answer still did the work.
    assert_eq!(
        sim.get("/_sim/documents/by-obcy/1").await["Potwierdzenie"],
        "Odrzucony"
    );

    let (status, v) = sim
        .control(
            reqwest::Method::POST,
            "/_sim/faults",
            Some(json!({"slow_rate": 2.0})),
        )
        .await;
    assert_eq!(status, 400, "{v}");
    sim.post("/_sim/faults", json!({})).await;
    sim.post("/_sim/settings", json!({"result_as_string": false}))
        .await;
    let v = sim.result("PobierzPotwierdzenia", json!({})).await;
    assert!(v.is_array());

    let counters = sim.get("/_sim/counters").await;
    assert_eq!(counters["total"], 5, "{counters}");
    assert_eq!(counters["by_method"]["PobierzZamowienia"], 2);
    assert_eq!(counters["by_method"]["PobierzPotwierdzenia"], 2);
    assert_eq!(counters["by_method"]["UstawPotwierdzenia"], 1);
    sim.post("/_sim/counters/reset", json!({})).await;
    assert_eq!(sim.get("/_sim/counters").await["total"], 0);
}

#[tokio::test]
async fn the_control_api_acts_as_an_erp_user() {
    let sim = Sim::start(&[]);
    let (status, _) = sim
        .control(
            reqwest::Method::POST,
            "/_sim/seed",
            Some(json!({"count": 100_001})),
        )
        .await;
    assert_eq!(status, 400);
    sim.post(
        "/_sim/seed",
        json!({"seed": 9, "count": 3, "link_obcy_numer": false}),
    )
    .await;
    let page = sim.result("PobierzZamowienia", json!({})).await;
    assert!(obcy(&page).iter().all(String::is_empty));

    let zo = sim
        .post("/_sim/documents", json!({"ObcyNumer": "U1"}))
        .await;
    assert_eq!(
        (zo["Stan"].clone(), zo["Potwierdzenie"].clone()),
        (json!("Bufor"), json!("Niepotwierdzony"))
    );
    let (status, _) = sim
        .control(
            reqwest::Method::POST,
            "/_sim/documents",
            Some(json!({"ObcyNumer": "U1"})),
        )
        .await;
    assert_eq!(status, 409, "a foreign number is unique");
    let id = zo["ID"].as_u64().unwrap_or_default();

    let (status, _) = sim
        .control(
            reqwest::Method::POST,
            &format!("/_sim/documents/{id}/invoice"),
            None,
        )
        .await;
    assert_eq!(status, 409, "a draft cannot be invoiced");
    let mut stamp = zo["Stamp"].as_u64().unwrap_or_default();
    for (action, body) in [
        ("potwierdzenie", json!({"value": "Potwierdzony"})),
        ("approve", json!({})),
        ("receipt", json!({})),
    ] {
        let after = sim
            .post(&format!("/_sim/documents/{id}/{action}"), body)
            .await;
        let now = after["Stamp"].as_u64().unwrap_or_default();
        assert!(now > stamp, "{action} must grow the stamp");
        stamp = now;
    }
    let (status, _) = sim
        .control(
            reqwest::Method::POST,
            "/_sim/documents/by-obcy/U1/cancel",
            None,
        )
        .await;
    assert_eq!(status, 409, "a fulfilled order cannot be cancelled");

    let u2 = sim
        .post(
            "/_sim/documents",
            json!({"ObcyNumer": "U2", "Stan": "Zatwierdzony"}),
        )
        .await;
    let cancelled = sim
        .post("/_sim/documents/by-obcy/U2/cancel", json!({}))
        .await;
    assert_eq!(cancelled["Stan"], "Anulowany");
    let (status, _) = sim
        .control(
            reqwest::Method::POST,
            "/_sim/documents/by-obcy/U2/potwierdzenie",
            Some(json!({"value": "Zaakceptowany"})),
        )
        .await;
    assert_eq!(status, 409);
    assert_eq!(
        sim.get(&format!("/_sim/documents/{}", u2["ID"])).await["Potwierdzenie"],
        "Niepotwierdzony"
    );
    let (status, _) = sim
        .control(reqwest::Method::GET, "/_sim/documents/by-obcy/none", None)
        .await;
    assert_eq!(status, 404);
    let (status, _) = sim
        .control(
            reqwest::Method::POST,
            "/_sim/documents/by-obcy/U2/explode",
            None,
        )
        .await;
    assert_eq!(status, 404);
}

//! The `enova365-sim` binary over HTTP on loopback: its start line and shutdown, both WebAPI
//! transports answering every contract example (`plugins/enova365/contract/`) as the add-on does,
//! Dynamic WebAPI sessions, the legacy MethodInvoker switch, the control API, faults and counters.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};

use serde_json::{json, Value};

const SERVICE: &str = "OrderLink.Enova365.IZamowieniaApi, OrderLink.Enova365";
const PASSWORD: &str = "Pw-sim-test-81";
const APP_TOKEN: &str = "App-token-sim-test-77";
/// The operator the contract examples call as.
const OPERATOR: &str = "orderlink";

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
            .args(["--operator", OPERATOR, "--app-token", APP_TOKEN])
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
            "DatabaseHandle": "Firma", "Operator": OPERATOR, "Password": password,
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

    /// Calls a method over MethodInvoker; returns the whole envelope.
    async fn invoke(&self, method: &str, pars: Value) -> Value {
        let r = self.raw(method, json!({ "pars": pars }), PASSWORD).await;
        assert_eq!(r.status(), 200);
        r.json().await.unwrap_or_else(|e| panic!("envelope: {e}"))
    }

    /// Calls a method over MethodInvoker that must succeed; returns `ResultInstance`.
    async fn result(&self, method: &str, pars: Value) -> Value {
        let v = self.invoke(method, pars).await;
        assert_eq!(v["IsException"], false, "{v}");
        v["ResultInstance"].clone()
    }

    /// `POST /api/LoginApi` with a bearer token (or none).
    async fn login(&self, token: Option<&str>) -> (u16, Value) {
        let mut req = self.http.post(format!("{}/api/LoginApi", self.url));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let r = req.send().await.unwrap_or_else(|e| panic!("login: {e}"));
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// A session token from the test's application token.
    async fn session(&self) -> String {
        let (status, v) = self.login(Some(APP_TOKEN)).await;
        assert_eq!(status, 200, "{v}");
        assert_eq!(v["IsSingleDb"], true);
        v["Token"]
            .as_str()
            .unwrap_or_else(|| panic!("no Token in {v}"))
            .to_owned()
    }

    /// `POST {path}` with a session token and a JSON body; the status and the JSON answer.
    async fn dynamic(&self, path: &str, session: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self
            .http
            .post(format!("{}{path}", self.url))
            .bearer_auth(session);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap_or_else(|e| panic!("{path}: {e}"));
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
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

/// Every example of the shared contract folder, answered over both transports.
#[tokio::test]
async fn every_contract_example_is_answered_alike_over_both_transports() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../contract");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 5, "{files:?}");
    let sim = Sim::start(&["--method-invoker"]);
    for file in &files {
        let name = file.display().to_string();
        let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{name}: {e}"));
        let ex: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(ex["operator"], OPERATOR, "{name}");
        let method = ex["method"].as_str().unwrap_or_default();
        for transport in ["dynamic", "method_invoker"] {
            sim.post("/_sim/load", json!({"documents": ex["documents"]}))
                .await;
            sim.post("/_sim/clock", json!({"now": ex["now"]})).await;
            let (ok, got) = if transport == "dynamic" {
                let session = sim.session().await;
                let body = (!ex["request"].is_null()).then(|| ex["request"].clone());
                let (status, v) = sim
                    .dynamic(&format!("/api/ZamowieniaApi/{method}"), &session, body)
                    .await;
                match status {
                    200 => (true, v),
                    400 => (false, v["Message"].clone()),
                    other => panic!("{name} {transport}: HTTP {other} {v}"),
                }
            } else {
                let pars = if ex["request"].is_null() {
                    json!({})
                } else {
                    json!({ "pars": ex["request"] })
                };
                let r = sim.raw(method, pars, PASSWORD).await;
                assert_eq!(r.status(), 200, "{name}");
                let v: Value = r.json().await.unwrap_or_default();
                assert!(v["IsEmpty"].is_boolean(), "{name}: {v}");
                if v["IsException"] == true {
                    (false, v["ExceptionMessage"].clone())
                } else {
                    (true, v["ResultInstance"].clone())
                }
            };
            match ex.get("exception") {
                Some(message) => {
                    assert!(!ok, "{name} {transport}: answered {got}");
                    assert_eq!(&got, message, "{name} {transport}");
                }
                None => {
                    assert!(ok, "{name} {transport}: refused {got}");
                    assert_eq!(got, ex["answer"], "{name} {transport}");
                }
            }
        }
    }
}

#[tokio::test]
async fn dynamic_sessions_come_from_the_application_token_and_expire_when_idle() {
    let sim = Sim::start(&["--session-idle-ms", "60000"]);
    sim.post("/_sim/seed", json!({"seed": 1, "count": 3})).await;
    assert_eq!(sim.login(None).await.0, 401);
    assert_eq!(sim.login(Some("not-the-token")).await.0, 401);
    let version = sim.get("/api/CurrentVersion").await;
    assert_eq!(version, "2510.2.2");

    let session = sim.session().await;
    let (status, page) = sim
        .dynamic(
            "/api/ZamowieniaApi/PobierzZamowienia",
            &session,
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(obcy(&page), ["1", "2", "3"]);
    assert!(page["CzasSerwera"].is_string());
    let (status, v) = sim
        .dynamic("/api/ZamowieniaApi/PobierzPotwierdzenia", &session, None)
        .await;
    assert_eq!((status, v[3].clone()), (200, json!("Odrzucony")));
    let (status, _) = sim
        .dynamic("/api/ZamowieniaApi/Nieznana", &session, Some(json!({})))
        .await;
    assert_eq!(status, 404, "an unknown method");
    let (status, _) = sim
        .dynamic("/api/InnaApi/PobierzZamowienia", &session, Some(json!({})))
        .await;
    assert_eq!(status, 404, "an unknown controller");
    let (status, v) = sim
        .dynamic(
            "/api/ZamowieniaApi/PobierzZamowienia",
            &session,
            Some(json!({"Limit": 0})),
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        v["Message"].as_str().is_some_and(|m| m.contains("'Limit'")),
        "{v}"
    );
    let (status, _) = sim
        .dynamic(
            "/api/ZamowieniaApi/PobierzZamowienia",
            "made-up",
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 401, "a session the server never issued");

    // A session is dropped after the idle time.
    sim.post("/_sim/settings", json!({"session_idle_ms": 200}))
        .await;
    std::thread::sleep(std::time::Duration::from_millis(300));
    let (status, _) = sim
        .dynamic(
            "/api/ZamowieniaApi/PobierzZamowienia",
            &session,
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 401, "an idle session is gone");

    sim.post("/_sim/settings", json!({"session_idle_ms": 60000}))
        .await;
    let session = sim.session().await;
    assert_eq!(sim.get("/_sim/sessions").await["open"], 1);
    let (status, v) = sim.dynamic("/api/LogoutApi", &session, None).await;
    assert_eq!((status, v["LoggedOut"].clone()), (200, json!(true)));
    let (status, _) = sim
        .dynamic("/api/ZamowieniaApi/PobierzPotwierdzenia", &session, None)
        .await;
    assert_eq!(status, 401, "a session after logout");
    let session = sim.session().await;
    sim.post("/_sim/sessions/expire", json!({})).await;
    let (status, _) = sim
        .dynamic("/api/ZamowieniaApi/PobierzPotwierdzenia", &session, None)
        .await;
    assert_eq!(status, 401, "sessions expired by the control API");
    let counters = sim.get("/_sim/counters").await;
    assert_eq!(counters["by_method"]["LoginApi"], 5, "{counters}");
    assert_eq!(counters["by_method"]["LogoutApi"], 1, "{counters}");
}

#[tokio::test]
async fn method_invoker_is_off_unless_switched_on_and_checks_the_login() {
    let sim = Sim::start(&[]);
    sim.post("/_sim/seed", json!({"seed": 1, "count": 2})).await;
    let r = sim.raw("PobierzPotwierdzenia", json!({}), PASSWORD).await;
    assert_eq!(r.status(), 404, "off by default, as current servers");
    sim.post("/_sim/settings", json!({"method_invoker": true}))
        .await;
    let v = sim.invoke("PobierzPotwierdzenia", json!({})).await;
    assert_eq!(
        (v["IsException"].clone(), v["IsEmpty"].clone()),
        (json!(false), json!(false))
    );

    let wrong = sim
        .raw("PobierzZamowienia", json!({"pars": {}}), "wrong")
        .await;
    let v: Value = wrong.json().await.unwrap_or_default();
    assert_eq!(v["IsException"], true);
    let message = v["ExceptionMessage"].as_str().unwrap_or_default();
    assert!(
        message.contains("nieprawidłowa nazwa operatora lub hasło"),
        "{message}"
    );
    assert!(
        !message.contains(PASSWORD) && !message.contains("wrong"),
        "{message}"
    );
    let other_db = sim
        .send(
            json!({"DatabaseHandle": "Inna", "Operator": OPERATOR, "Password": PASSWORD,
            "ServiceName": SERVICE, "MethodName": "PobierzZamowienia", "MethodArgs": {"pars": {}}}),
        )
        .await;
    let v: Value = other_db.json().await.unwrap_or_default();
    assert!(
        v["ExceptionMessage"]
            .as_str()
            .is_some_and(|m| m.contains("DatabaseHandle")),
        "{v}"
    );
    let v: Value = sim
        .send(
            json!({"DatabaseHandle": "Firma", "Operator": OPERATOR, "Password": PASSWORD,
            "ServiceName": "OrderLink.Enova365.IZamowieniaApi ,OrderLink.Enova365",
            "MethodName": "Usun", "MethodArgs": {"pars": {}}}),
        )
        .await
        .json()
        .await
        .unwrap_or_default();
    assert!(
        v["ExceptionMessage"]
            .as_str()
            .is_some_and(|m| m.contains("nie ma metody 'Usun'")),
        "{v}"
    );
    let v = sim.invoke("PobierzZamowienia", json!({"Stamp": 1})).await;
    assert!(
        v["ExceptionMessage"]
            .as_str()
            .is_some_and(|m| m.contains("'Stamp'")),
        "{v}"
    );
    let r = sim
        .http
        .post(format!("{}/api/MethodInvoker/InvokeServiceMethod", sim.url))
        .body("[1]")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn faults_counters_and_string_results() {
    let sim = Sim::start(&["--result-as-string", "--method-invoker"]);
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
    assert!([500, 502, 503].contains(&sim.login(Some(APP_TOKEN)).await.0));
    // The control API is never faulted.
    assert_eq!(sim.get("/_sim/faults").await["error_rate"], 1.0);

    sim.post("/_sim/faults", json!({"drop_rate": 1.0})).await;
    let dropped = sim
        .http
        .post(format!("{}/api/LoginApi", sim.url))
        .bearer_auth(APP_TOKEN)
        .send()
        .await;
    assert!(dropped.is_err(), "{dropped:?}");

    sim.post("/_sim/faults", json!({})).await;
    let session = sim.session().await;
    sim.post("/_sim/faults", json!({"malformed_rate": 1.0}))
        .await;
    let r = sim
        .http
        .post(format!("{}/api/ZamowieniaApi/UstawPotwierdzenia", sim.url))
        .bearer_auth(&session)
        .json(&json!({"Zmiany": [{"ObcyNumer": "1", "Potwierdzenie": "Odrzucony"}]}))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap_or_default();
    assert!(serde_json::from_str::<Value>(&text).is_err(), "{text}");
    // A malformed answer still did the work, as the session's operator.
    let zo = sim.get("/_sim/documents/by-obcy/1").await;
    assert_eq!(zo["Potwierdzenie"], "Odrzucony");

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
    assert_eq!(counters["by_method"]["PobierzZamowienia"], 1, "{counters}");
    assert_eq!(counters["by_method"]["PobierzPotwierdzenia"], 2);
    assert_eq!(counters["by_method"]["UstawPotwierdzenia"], 1);
    assert_eq!(counters["by_method"]["LoginApi"], 3);
    assert_eq!(counters["total"], 7, "{counters}");
    sim.post("/_sim/counters/reset", json!({})).await;
    assert_eq!(sim.get("/_sim/counters").await["total"], 0);
}

#[tokio::test]
async fn the_control_api_acts_as_an_erp_user() {
    let sim = Sim::start(&["--method-invoker"]);
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

    sim.post("/_sim/clock", json!({"now": "2030-01-02T10:00:00+01:00"}))
        .await;
    let zo = sim
        .post("/_sim/documents", json!({"ObcyNumer": "U1"}))
        .await;
    assert_eq!(
        (
            zo["Stan"].clone(),
            zo["Potwierdzenie"].clone(),
            zo["Zmieniono"].clone()
        ),
        (
            json!("Bufor"),
            json!("Niepotwierdzony"),
            json!("2030-01-02T10:00:00+01:00")
        )
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
    for (second, (action, body)) in [
        ("potwierdzenie", json!({"value": "Potwierdzony"})),
        ("approve", json!({})),
        ("receipt", json!({})),
    ]
    .into_iter()
    .enumerate()
    {
        let at = format!("2030-01-02T10:00:0{}+01:00", second + 1);
        sim.post("/_sim/clock", json!({"now": at})).await;
        let after = sim
            .post(&format!("/_sim/documents/{id}/{action}"), body)
            .await;
        assert_eq!(after["Zmieniono"], at.as_str(), "{action} is a change");
    }
    // A user's change is not left out for the service's own operator.
    let feed = sim
        .result(
            "PobierzZamowienia",
            json!({"ZmienioneOd": "2030-01-02T10:00:00+01:00", "PominOperatora": OPERATOR}),
        )
        .await;
    assert_eq!(obcy(&feed), ["U1"]);
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
    let (status, _) = sim
        .control(
            reqwest::Method::POST,
            "/_sim/clock",
            Some(json!({"now": "jutro"})),
        )
        .await;
    assert_eq!(status, 400);
}

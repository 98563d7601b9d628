//! The conformance testkit: checks every connector's tests run against a live system (or its
//! simulator), through the real plugin file or in-process.
//!
//! ```text
//! let lib = PluginLibrary::load(&artifacts::cdylib("orderlink_myshop"))?;
//! testkit::run(&Subject {
//!     manifest: lib.manifest(),
//!     connector: "myshop",
//!     create: &|cfg| lib.create("myshop", cfg).map(|c| Box::new(c) as Box<dyn Connector>),
//!     config: good_config,
//!     bad_configs: vec![json!({})],
//!     key: "17".into(),
//!     statuses: ("packed".into(), "on_order".into()),
//!     panic_probe: true,
//! })
//! .unwrap();
//! ```

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::Value;

use crate::abi::ABI_VERSION;
use crate::compat::compatible;
use crate::error::{ConnectorError, ErrorKind};
use crate::model::{
    ApplyRequest, ChangesPage, ChangesRequest, Manifest, OutcomeKind, ReadRequest, StatusUpdate,
};
use crate::sdk::export::PANIC_PROBE_KEY;
use crate::sdk::Connector;

/// Finds build artifacts (plugin libraries, binaries) next to the running test executable.
pub mod artifacts {
    use std::path::{Path, PathBuf};

    /// The cargo profile directory (`target/debug`): `$ORDERLINK_TARGET_DIR` if set, else the
    /// folder above the test executable's `deps/`.
    pub fn profile_dir() -> PathBuf {
        if let Some(dir) = std::env::var_os("ORDERLINK_TARGET_DIR") {
            return PathBuf::from(dir);
        }
        let exe = std::env::current_exe().unwrap_or_else(|e| panic!("no current exe: {e}"));
        let mut dir = exe.parent().map(Path::to_path_buf).unwrap_or_default();
        if dir.ends_with("deps") {
            dir.pop();
        }
        dir
    }

    fn existing(path: PathBuf) -> PathBuf {
        assert!(
            path.exists(),
            "{} is missing: build the workspace first (`cargo build --workspace`)",
            path.display()
        );
        path
    }

    /// The path of a plugin library built in this workspace, by its lib name
    /// (`orderlink_idosell` → `target/debug/liborderlink_idosell.so`). `cargo test` builds a
    /// library crate's cdylib into `deps/` without copying it up, so of `target/debug/` and
    /// `target/debug/deps/` the most recently built file wins. Panics if missing.
    pub fn cdylib(lib_name: &str) -> PathBuf {
        let file = format!(
            "{}{lib_name}{}",
            std::env::consts::DLL_PREFIX,
            std::env::consts::DLL_SUFFIX
        );
        let dir = profile_dir();
        let built = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
        let (top, deps) = (dir.join(&file), dir.join("deps").join(&file));
        match (built(&top), built(&deps)) {
            (Some(t), Some(d)) if d > t => deps,
            (None, Some(_)) => deps,
            _ => existing(top),
        }
    }

    /// The path of a binary built in this workspace. Panics if missing.
    pub fn binary(name: &str) -> PathBuf {
        existing(profile_dir().join(format!("{name}{}", std::env::consts::EXE_SUFFIX)))
    }
}

/// Creates connector instances from a JSON config.
pub type Factory<'a> = &'a dyn Fn(&Value) -> Result<Box<dyn Connector>, ConnectorError>;

/// What the testkit checks.
pub struct Subject<'a> {
    /// The plugin's manifest.
    pub manifest: &'a Manifest,
    /// The connector under test.
    pub connector: &'a str,
    /// Makes instances (through the plugin file, or in-process).
    pub create: Factory<'a>,
    /// A working config.
    pub config: Value,
    /// Configs that must be refused with a config error.
    pub bad_configs: Vec<Value>,
    /// The key of an existing order whose status the testkit may change.
    pub key: String,
    /// Two different statuses the order may take; the order ends in the second.
    pub statuses: (String, String),
    /// Whether to check the SDK's panic guard (needs a plugin built with the SDK).
    pub panic_probe: bool,
}

/// The conformance failures found.
#[derive(Debug)]
pub struct Failures(pub Vec<String>);

impl std::fmt::Display for Failures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "{} conformance failure(s):", self.0.len())?;
        for failure in &self.0 {
            writeln!(f, "- {failure}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Failures {}

const MAX_PAGES: usize = 10_000;

fn drain(
    c: &dyn Connector,
    mut cursor: Option<String>,
) -> Result<(String, BTreeSet<String>), String> {
    let mut keys = BTreeSet::new();
    for _ in 0..MAX_PAGES {
        let page: ChangesPage = c
            .changes(&ChangesRequest {
                cursor: cursor.clone(),
                limit: 100,
            })
            .map_err(|e| format!("changes failed: {e}"))?;
        if page.next_cursor.is_empty() {
            return Err("changes returned an empty next_cursor".into());
        }
        keys.extend(page.orders.iter().map(|o| o.key.clone()));
        cursor = Some(page.next_cursor);
        if !page.has_more {
            return Ok((cursor.unwrap_or_default(), keys));
        }
    }
    Err(format!(
        "the change feed did not end after {MAX_PAGES} pages"
    ))
}

fn check_manifest(s: &Subject<'_>, fail: &mut Vec<String>) {
    let m = s.manifest;
    if m.plugin.trim().is_empty() {
        fail.push("manifest: empty plugin name".into());
    }
    if let Err(e) = compatible(ABI_VERSION, &m.abi_version) {
        fail.push(format!("manifest: ABI version not accepted: {e}"));
    }
    let mut names = BTreeSet::new();
    for c in &m.connectors {
        if !names.insert(c.name.clone()) {
            fail.push(format!("manifest: connector `{}` listed twice", c.name));
        }
        if c.config_schema.get("type").and_then(Value::as_str) != Some("object")
            || c.config_schema
                .get("properties")
                .and_then(Value::as_object)
                .is_none()
        {
            fail.push(format!(
                "manifest: `{}` config schema is not an object schema with properties",
                c.name
            ));
        }
        if c.capabilities.is_empty() {
            fail.push(format!("manifest: `{}` declares no capabilities", c.name));
        }
    }
    if !names.contains(s.connector) {
        fail.push(format!("manifest: no connector named `{}`", s.connector));
    }
}

fn set_status(c: &dyn Connector, key: &str, status: &str) -> Result<bool, String> {
    let resp = c
        .apply(&ApplyRequest {
            updates: vec![StatusUpdate {
                key: key.to_owned(),
                status: status.to_owned(),
                expected_version: None,
                expected_status: None,
            }],
        })
        .map_err(|e| format!("apply {key} -> {status} failed: {e}"))?;
    let outcome = resp
        .outcomes
        .iter()
        .find(|o| o.key == key)
        .ok_or_else(|| format!("apply {key} -> {status}: no outcome for the order"))?;
    if outcome.outcome != OutcomeKind::Done {
        return Err(format!("apply {key} -> {status}: {outcome:?}"));
    }
    Ok(outcome.changed)
}

fn read_status(c: &dyn Connector, key: &str) -> Result<String, String> {
    let resp = c
        .read(&ReadRequest {
            keys: vec![key.to_owned()],
        })
        .map_err(|e| format!("read {key} failed: {e}"))?;
    resp.orders
        .iter()
        .find(|o| o.key == key)
        .map(|o| o.status.clone())
        .ok_or_else(|| format!("read {key}: order not returned"))
}

fn check_instance(
    s: &Subject<'_>,
    c: &dyn Connector,
    fail: &mut Vec<String>,
) -> Result<(), String> {
    c.check()
        .map_err(|e| format!("check failed with a good config: {e}"))?;
    let vocab = c
        .vocabulary()
        .map_err(|e| format!("vocabulary failed: {e}"))?;
    let codes: BTreeSet<&str> = vocab.statuses.iter().map(|st| st.code.as_str()).collect();
    if vocab.statuses.is_empty() {
        fail.push("vocabulary is empty".into());
    }
    if codes.len() != vocab.statuses.len() {
        fail.push("vocabulary has duplicate codes".into());
    }
    for st in [&s.statuses.0, &s.statuses.1] {
        if vocab.resolve(st).is_none() {
            fail.push(format!("vocabulary does not know `{st}`"));
        }
    }

    // Cursors advance: draining ends; asking again from the end gives nothing new.
    let (first_cursor, _) = {
        let page = c
            .changes(&ChangesRequest {
                cursor: None,
                limit: 100,
            })
            .map_err(|e| format!("changes from the start failed: {e}"))?;
        (page.next_cursor, page.orders.len())
    };
    // Replay: the same cursor gives the same answer.
    let replay_a = c.changes(&ChangesRequest {
        cursor: Some(first_cursor.clone()),
        limit: 100,
    });
    let replay_b = c.changes(&ChangesRequest {
        cursor: Some(first_cursor.clone()),
        limit: 100,
    });
    match (replay_a, replay_b) {
        (Ok(a), Ok(b)) => {
            let ka: Vec<_> = a.orders.iter().map(|o| &o.key).collect();
            let kb: Vec<_> = b.orders.iter().map(|o| &o.key).collect();
            if ka != kb {
                fail.push("replaying the same cursor gave different orders".into());
            }
        }
        (Err(e), _) | (_, Err(e)) => fail.push(format!("replaying a cursor failed: {e}")),
    }
    let (end, _) = drain(c, Some(first_cursor))?;

    // Applying the same update twice is harmless; the change shows in the feed.
    let (a, b) = (&s.statuses.0, &s.statuses.1);
    set_status(c, &s.key, a)?;
    if set_status(c, &s.key, a)? {
        fail.push(format!(
            "applying `{a}` twice reported a change the second time"
        ));
    }
    let now = read_status(c, &s.key)?;
    if vocab.resolve(&now).map(|x| &x.code) != vocab.resolve(a).map(|x| &x.code) {
        fail.push(format!("after applying `{a}`, read says `{now}`"));
    }
    let mut seen = false;
    let mut cursor = end;
    for _ in 0..5 {
        let (next, keys) = drain(c, Some(cursor.clone()))?;
        cursor = next;
        if keys.contains(&s.key) {
            seen = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(1100));
    }
    if !seen {
        fail.push(format!(
            "the change of {} never showed in the change feed",
            s.key
        ));
    }
    let mut settled = false;
    for _ in 0..5 {
        std::thread::sleep(Duration::from_millis(1100));
        let (next, keys) = drain(c, Some(cursor.clone()))?;
        cursor = next;
        if !keys.contains(&s.key) {
            settled = true;
            break;
        }
    }
    if !settled {
        fail.push(format!("the change feed keeps returning {} forever", s.key));
    }
    set_status(c, &s.key, b)?;
    Ok(())
}

fn check_panics(s: &Subject<'_>, fail: &mut Vec<String>) {
    let probe = |entry: &str| {
        let mut cfg = s.config.clone();
        if let Some(o) = cfg.as_object_mut() {
            o.insert(PANIC_PROBE_KEY.into(), Value::String(entry.into()));
        }
        cfg
    };
    match (s.create)(&probe("create")) {
        Err(e) if e.kind == ErrorKind::Internal => {}
        Err(e) => fail.push(format!(
            "a panic in create gave a {} error, not internal",
            e.kind
        )),
        Ok(_) => fail.push("a panic in create was not reported".into()),
    }
    type Call = fn(&dyn Connector) -> Result<(), ConnectorError>;
    let calls: [(&str, Call); 5] = [
        ("check", |c| c.check().map(drop)),
        ("vocabulary", |c| c.vocabulary().map(drop)),
        ("changes", |c| {
            c.changes(&ChangesRequest {
                cursor: None,
                limit: 1,
            })
            .map(drop)
        }),
        ("read", |c| {
            c.read(&ReadRequest {
                keys: vec!["1".into()],
            })
            .map(drop)
        }),
        ("apply", |c| {
            c.apply(&ApplyRequest { updates: vec![] }).map(drop)
        }),
    ];
    for (entry, call) in calls {
        match (s.create)(&probe(entry)) {
            Ok(c) => match call(c.as_ref()) {
                Err(e) if e.kind == ErrorKind::Internal => {}
                other => fail.push(format!(
                    "a panic in {entry} gave {other:?}, not an internal error"
                )),
            },
            Err(e) => fail.push(format!("create with a {entry} probe failed: {e}")),
        }
    }
}

/// Runs every conformance check; returns all failures at once.
pub fn run(s: &Subject<'_>) -> Result<(), Failures> {
    let mut fail = Vec::new();
    check_manifest(s, &mut fail);
    for bad in &s.bad_configs {
        match (s.create)(bad) {
            Err(e) if e.kind == ErrorKind::Config => {}
            Err(e) => fail.push(format!(
                "bad config {bad} gave a {} error, not config",
                e.kind
            )),
            Ok(c) => match c.check() {
                Err(e) if e.kind == ErrorKind::Config => {}
                other => fail.push(format!("bad config {bad} was accepted (check: {other:?})")),
            },
        }
    }
    match (s.create)(&s.config) {
        Ok(c) => {
            if let Err(e) = check_instance(s, c.as_ref(), &mut fail) {
                fail.push(e);
            }
        }
        Err(e) => fail.push(format!("a good config was refused: {e}")),
    }
    if s.panic_probe {
        check_panics(s, &mut fail);
    }
    if fail.is_empty() {
        Ok(())
    } else {
        Err(Failures(fail))
    }
}

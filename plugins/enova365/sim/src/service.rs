//! The order service the add-on publishes (`OrderLink.Enova365.IZamowieniaApi`), the same behind
//! both transports: `PobierzZamowienia`, `UstawPotwierdzenia`, `PobierzPotwierdzenia`, with the
//! add-on's argument checks, compare-and-set rule and refusal texts
//! (`plugins/enova365/contract/` holds the examples the tests check).

use serde_json::{json, Map, Value};

use crate::model::{format_local, parse_local, Potwierdzenie, Stan};
use crate::store::{ActionError, Query};
use crate::AppState;

/// The most documents one `UstawPotwierdzenia` call may change.
pub const MAX_CHANGES: usize = 100;

/// The service's route name under the Dynamic WebAPI (`/api/ZamowieniaApi/{Method}`).
pub const CONTROLLER: &str = "ZamowieniaApi";

/// Why a call failed as a whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallError {
    /// The service has no such method.
    UnknownMethod(String),
    /// The method threw (an invalid argument or an internal failure): its message.
    Exception(String),
}

fn bad_argument(name: &str, reason: &str) -> CallError {
    CallError::Exception(format!("Nieprawidłowy argument '{name}': {reason}."))
}

/// Runs a method as `operator` with its parameter object (`None` or `null`: none given).
pub fn call(
    app: &AppState,
    operator: &str,
    method: &str,
    pars: Option<&Value>,
) -> Result<Value, CallError> {
    let empty = Map::new();
    let pars = match pars {
        None | Some(Value::Null) => &empty,
        Some(Value::Object(o)) => o,
        Some(_) => return Err(bad_argument("pars", "oczekiwano obiektu")),
    };
    match method {
        "PobierzZamowienia" => pobierz_zamowienia(app, pars),
        "UstawPotwierdzenia" => ustaw_potwierdzenia(app, operator, pars),
        "PobierzPotwierdzenia" => Ok(json!(Potwierdzenie::names())),
        other => Err(CallError::UnknownMethod(other.to_owned())),
    }
}

fn as_u64(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A present, non-null field.
fn field<'a>(pars: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    pars.get(name).filter(|v| !v.is_null())
}

const KNOWN_QUERY: [&str; 7] = [
    "ZmienioneOd",
    "PoID",
    "ObcyNumery",
    "UtworzoneOd",
    "TylkoNiezrealizowane",
    "PominOperatora",
    "Limit",
];

fn parse_query(app: &AppState, pars: &Map<String, Value>) -> Result<Query, CallError> {
    if let Some(unknown) = pars.keys().find(|k| !KNOWN_QUERY.contains(&k.as_str())) {
        return Err(bad_argument(unknown, "nieznany parametr"));
    }
    let changed_from = match field(pars, "ZmienioneOd") {
        None => None,
        Some(v) => Some(
            v.as_str()
                .and_then(parse_local)
                .map(crate::store::to_second)
                .ok_or_else(|| {
                    bad_argument(
                        "ZmienioneOd",
                        "oczekiwano czasu ISO 8601, np. 2026-11-30T10:00:00+01:00",
                    )
                })?,
        ),
    };
    let po_id = match field(pars, "PoID") {
        None => 0,
        Some(v) => as_u64(v).ok_or_else(|| bad_argument("PoID", "oczekiwano liczby nieujemnej"))?,
    };
    let obcy = match field(pars, "ObcyNumery") {
        None => None,
        Some(Value::Array(items)) => Some(
            items
                .iter()
                .map(|i| i.as_str().map(|s| s.trim().to_owned()))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| bad_argument("ObcyNumery", "oczekiwano tablicy tekstów"))?,
        ),
        Some(_) => return Err(bad_argument("ObcyNumery", "oczekiwano tablicy tekstów")),
    };
    let created_from = match field(pars, "UtworzoneOd") {
        None => None,
        Some(v) => Some(
            v.as_str()
                .and_then(|s| s.trim().get(..10))
                .and_then(|s| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
                .ok_or_else(|| bad_argument("UtworzoneOd", "oczekiwano daty RRRR-MM-DD"))?,
        ),
    };
    let only_unfulfilled = match field(pars, "TylkoNiezrealizowane") {
        None => false,
        Some(v) => v
            .as_bool()
            .ok_or_else(|| bad_argument("TylkoNiezrealizowane", "oczekiwano true albo false"))?,
    };
    let skip_operator = match field(pars, "PominOperatora") {
        None => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::String(s)) => Some(s.trim().to_owned()),
        Some(_) => return Err(bad_argument("PominOperatora", "oczekiwano tekstu")),
    };
    let max = u64::from(app.options.max_limit);
    let limit = match field(pars, "Limit") {
        None => 100.min(max),
        Some(v) => as_u64(v)
            .filter(|l| (1..=max).contains(l))
            .ok_or_else(|| bad_argument("Limit", &format!("wartość musi być od 1 do {max}")))?,
    };
    Ok(Query {
        changed_from,
        po_id,
        obcy,
        created_from,
        only_unfulfilled,
        skip_operator,
        limit: usize::try_from(limit).unwrap_or(usize::MAX),
    })
}

fn internal() -> CallError {
    CallError::Exception("Błąd wewnętrzny serwera.".into())
}

fn pobierz_zamowienia(app: &AppState, pars: &Map<String, Value>) -> Result<Value, CallError> {
    let query = parse_query(app, pars)?;
    let store = app.store.lock().map_err(|_| internal())?;
    let page = store.page(&query);
    let docs: Vec<_> = page.docs.iter().map(|d| d.view()).collect();
    Ok(json!({
        "Zamowienia": docs,
        "CzyJestWiecej": page.more,
        "CzasSerwera": format_local(store.now()),
    }))
}

enum Target {
    Id(u64),
    Obcy(String),
}

struct Zmiana {
    target: Target,
    value: Value,
    expected: Option<Value>,
}

/// An enum sent as a name or number; the add-on's properties are strings, so a number arrives as
/// its text.
fn enum_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn parse_zmiany(pars: &Map<String, Value>) -> Result<Vec<Zmiana>, CallError> {
    let Some(Value::Array(items)) = field(pars, "Zmiany") else {
        return Err(bad_argument("Zmiany", "oczekiwano tablicy zmian"));
    };
    if items.len() > MAX_CHANGES {
        return Err(bad_argument(
            "Zmiany",
            &format!(
                "najwyżej {MAX_CHANGES} dokumentów w jednym wywołaniu, podano {}",
                items.len()
            ),
        ));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let name = format!("Zmiany[{i}]");
            let item = item
                .as_object()
                .ok_or_else(|| bad_argument(&name, "oczekiwano obiektu"))?;
            let target = match (field(item, "ID"), field(item, "ObcyNumer")) {
                (Some(id), _) => Target::Id(
                    as_u64(id)
                        .ok_or_else(|| bad_argument(&format!("{name}.ID"), "oczekiwano liczby"))?,
                ),
                (None, Some(Value::String(o))) if !o.trim().is_empty() => {
                    Target::Obcy(o.trim().to_owned())
                }
                _ => return Err(bad_argument(&name, "podaj ID albo ObcyNumer dokumentu")),
            };
            let value = field(item, "Potwierdzenie")
                .filter(|v| enum_text(v).is_some_and(|t| !t.is_empty()))
                .cloned()
                .ok_or_else(|| bad_argument(&format!("{name}.Potwierdzenie"), "brak wartości"))?;
            let expected = field(item, "OczekiwanePotwierdzenie")
                .filter(|v| enum_text(v).is_some_and(|t| !t.is_empty()))
                .cloned();
            Ok(Zmiana {
                target,
                value,
                expected,
            })
        })
        .collect()
}

/// The compare-and-set rule (as the add-on's `ZasadaZapisu`): the value the document already
/// has succeeds; then a stale expectation is refused; then a cancelled or locked document.
fn refusal(
    numer: &str,
    stan: Stan,
    current: Potwierdzenie,
    target: &Value,
    expected: Option<&Value>,
) -> Result<Option<Potwierdzenie>, String> {
    let text = |v: &Value| enum_text(v).unwrap_or_else(|| v.to_string());
    let Some(target) = Potwierdzenie::from_value(target) else {
        return Err(format!("Nieznana wartość Potwierdzenie: {}.", text(target)));
    };
    if current == target {
        return Ok(None);
    }
    if let Some(e) = expected {
        let Some(exp) = Potwierdzenie::from_value(e) else {
            return Err(format!(
                "Nieznana wartość OczekiwanePotwierdzenie: {}.",
                text(e)
            ));
        };
        if exp != current {
            return Err(format!(
                "Dokument {numer} został zmieniony przez innego użytkownika (Potwierdzenie {}, oczekiwano {}).",
                current.name(),
                exp.name()
            ));
        }
    }
    match stan {
        Stan::Anulowany => Err(format!(
            "Dokument {numer} jest anulowany: nie można zmienić potwierdzenia."
        )),
        Stan::Zablokowany => Err(format!(
            "Dokument {numer} jest zablokowany: nie można zmienić potwierdzenia."
        )),
        Stan::Bufor | Stan::Zatwierdzony => Ok(Some(target)),
    }
}

fn ustaw_potwierdzenia(
    app: &AppState,
    operator: &str,
    pars: &Map<String, Value>,
) -> Result<Value, CallError> {
    let zmiany = parse_zmiany(pars)?;
    let mut store = app.store.lock().map_err(|_| internal())?;
    let mut wyniki = Vec::with_capacity(zmiany.len());
    for z in zmiany {
        let id = match &z.target {
            Target::Id(id) => store.get(*id).map(|d| d.id),
            Target::Obcy(o) => store.id_by_obcy(o),
        };
        let Some(doc) = id.and_then(|id| store.get(id)).cloned() else {
            let (id, obcy, what) = match z.target {
                Target::Id(id) => (json!(id), Value::Null, format!("o ID {id}")),
                Target::Obcy(o) => (Value::Null, json!(o), format!("o numerze obcym '{o}'")),
            };
            wyniki.push(json!({
                "ID": id, "ObcyNumer": obcy, "Success": false,
                "Description": format!("Nie znaleziono dokumentu ZO {what}."),
                "Potwierdzenie": null, "Zmieniono": null, "Zapisano": false,
            }));
            continue;
        };
        let decided = refusal(
            &doc.numer_pelny(),
            doc.stan,
            doc.potwierdzenie,
            &z.value,
            z.expected.as_ref(),
        );
        let (description, written) = match decided {
            Err(m) => (Some(m), false),
            Ok(None) => (None, false),
            Ok(Some(value)) => match store.set_potwierdzenie(doc.id, value, operator) {
                Ok(changed) => (None, changed),
                Err(ActionError::NotFound(m) | ActionError::Refused(m)) => (Some(m), false),
            },
        };
        let now = store.get(doc.id).map(|d| d.view());
        wyniki.push(json!({
            "ID": doc.id,
            "ObcyNumer": doc.obcy_numer,
            "Success": description.is_none(),
            "Description": description,
            "Potwierdzenie": now.as_ref().map(|v| v.potwierdzenie),
            "Zmieniono": now.as_ref().map(|v| v.zmieniono.clone()),
            "Zapisano": written,
        }));
    }
    Ok(json!({ "Wyniki": wyniki }))
}

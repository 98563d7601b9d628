//! The documents the simulated enova365 database holds: ZO customer orders, their state and
//! confirmation enums, and the JSON shape the service sends for a ZO.

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveDateTime};
use serde::Serialize;
use serde_json::Value;

/// Reads an enum value sent as a name (`"Zatwierdzony"`) or a number (`1`, `"1"`).
fn enum_index(value: &Value, names: &[&str]) -> Option<usize> {
    match value {
        Value::String(s) => {
            let s = s.trim();
            names
                .iter()
                .position(|n| n.eq_ignore_ascii_case(s))
                .or_else(|| s.parse::<usize>().ok().filter(|i| *i < names.len()))
        }
        Value::Number(n) => n
            .as_u64()
            .and_then(|i| usize::try_from(i).ok())
            .filter(|i| *i < names.len()),
        _ => None,
    }
}

/// `Stan`: the state of a trade document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Stan {
    /// A draft (0).
    #[default]
    Bufor,
    /// Approved (1).
    Zatwierdzony,
    /// Locked by the system (2).
    Zablokowany,
    /// Cancelled (3).
    Anulowany,
}

impl Stan {
    /// Every value, in enum order.
    pub const ALL: [Stan; 4] = [
        Stan::Bufor,
        Stan::Zatwierdzony,
        Stan::Zablokowany,
        Stan::Anulowany,
    ];
    const NAMES: [&'static str; 4] = ["Bufor", "Zatwierdzony", "Zablokowany", "Anulowany"];

    /// The enum name enova365 uses.
    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }

    /// Reads a name or a number.
    pub fn from_value(value: &Value) -> Option<Self> {
        enum_index(value, &Self::NAMES).map(|i| Self::ALL[i])
    }
}

/// `Potwierdzenie` (`PotwierdzenieDokumentuHandlowego`): the confirmation of a trade document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Potwierdzenie {
    /// Unconfirmed (0).
    #[default]
    Niepotwierdzony,
    /// Confirmed (1).
    Potwierdzony,
    /// Accepted (2).
    Zaakceptowany,
    /// Rejected (3).
    Odrzucony,
}

impl Potwierdzenie {
    /// Every value, in enum order.
    pub const ALL: [Potwierdzenie; 4] = [
        Potwierdzenie::Niepotwierdzony,
        Potwierdzenie::Potwierdzony,
        Potwierdzenie::Zaakceptowany,
        Potwierdzenie::Odrzucony,
    ];
    const NAMES: [&'static str; 4] = [
        "Niepotwierdzony",
        "Potwierdzony",
        "Zaakceptowany",
        "Odrzucony",
    ];

    /// The enum name enova365 uses.
    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }

    /// Reads a name or a number.
    pub fn from_value(value: &Value) -> Option<Self> {
        enum_index(value, &Self::NAMES).map(|i| Self::ALL[i])
    }

    /// Every name, in enum order (the answer of `PobierzPotwierdzenia`).
    pub fn names() -> Vec<&'static str> {
        Self::NAMES.to_vec()
    }
}

/// The kind of a sales document issued from a ZO.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SalesKind {
    /// An invoice (`FV`).
    Invoice,
    /// A receipt (`PAR`).
    Receipt,
}

impl SalesKind {
    /// The document definition symbol.
    pub fn symbol(self) -> &'static str {
        match self {
            SalesKind::Invoice => "FV",
            SalesKind::Receipt => "PAR",
        }
    }
}

/// One ZO (customer order) document.
#[derive(Debug, Clone, PartialEq)]
pub struct Zo {
    /// The row id.
    pub id: u64,
    /// The row guid.
    pub guid: String,
    /// The sequence part of the number (`ZO/000042/2026` → 42).
    pub numer: u64,
    /// The document date.
    pub data: NaiveDate,
    /// The document state.
    pub stan: Stan,
    /// The confirmation.
    pub potwierdzenie: Potwierdzenie,
    /// The customer's (shop's) order number; may be empty.
    pub obcy_numer: String,
    /// Custom fields.
    pub cechy: BTreeMap<String, String>,
    /// Full numbers of the sales documents issued from this ZO.
    pub sales: Vec<String>,
    /// When it was last changed (server local time, Europe/Warsaw, whole seconds).
    pub zmieniono: NaiveDateTime,
    /// The operator of the last change (what `PominOperatora` compares).
    pub operator: String,
}

/// A ZO as the service and the control API send it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ZoView {
    /// The row id.
    #[serde(rename = "ID")]
    pub id: u64,
    /// The row guid.
    pub guid: String,
    /// The full number, e.g. `ZO/000042/2026` (`/BUFOR` appended for a draft).
    pub numer_pelny: String,
    /// The document date, `YYYY-MM-DD`.
    pub data: String,
    /// The state's name.
    pub stan: &'static str,
    /// The confirmation's name.
    pub potwierdzenie: &'static str,
    /// The foreign number.
    pub obcy_numer: String,
    /// Custom fields.
    pub cechy: BTreeMap<String, String>,
    /// Whether a sales document was issued from it.
    pub zrealizowane: bool,
    /// The sales documents issued from it.
    pub dokumenty_sprzedazy: Vec<String>,
    /// When it was last changed, ISO 8601 with the Warsaw offset.
    pub zmieniono: String,
}

/// A Warsaw local time with its offset, `2026-11-03T08:00:12+01:00`.
pub fn format_local(t: NaiveDateTime) -> String {
    use chrono::TimeZone;
    match chrono_tz::Europe::Warsaw.from_local_datetime(&t).earliest() {
        Some(z) => z.format("%Y-%m-%dT%H:%M:%S%:z").to_string(),
        None => t.format("%Y-%m-%dT%H:%M:%S").to_string(),
    }
}

/// An ISO 8601 time (with an offset, or Warsaw local without) as Warsaw local time.
pub fn parse_local(raw: &str) -> Option<NaiveDateTime> {
    let raw = raw.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(raw) {
        return Some(t.with_timezone(&chrono_tz::Europe::Warsaw).naive_local());
    }
    NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S%.f").ok()
}

impl Zo {
    /// The full number, e.g. `ZO/000042/2026`, or `ZO/000042/2026/BUFOR` for a draft.
    pub fn numer_pelny(&self) -> String {
        let year = chrono::Datelike::year(&self.data);
        let base = format!("ZO/{:06}/{year}", self.numer);
        if self.stan == Stan::Bufor {
            format!("{base}/BUFOR")
        } else {
            base
        }
    }

    /// Fulfilled: a sales document was issued from it.
    pub fn zrealizowane(&self) -> bool {
        !self.sales.is_empty()
    }

    /// The JSON shape of the document.
    pub fn view(&self) -> ZoView {
        ZoView {
            id: self.id,
            guid: self.guid.clone(),
            numer_pelny: self.numer_pelny(),
            data: self.data.format("%Y-%m-%d").to_string(),
            stan: self.stan.name(),
            potwierdzenie: self.potwierdzenie.name(),
            obcy_numer: self.obcy_numer.clone(),
            cechy: self.cechy.clone(),
            zrealizowane: self.zrealizowane(),
            dokumenty_sprzedazy: self.sales.clone(),
            zmieniono: format_local(self.zmieniono),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn enums_read_names_and_numbers() {
        assert_eq!(
            Stan::from_value(&json!("Zatwierdzony")),
            Some(Stan::Zatwierdzony)
        );
        assert_eq!(Stan::from_value(&json!(3)), Some(Stan::Anulowany));
        assert_eq!(Stan::from_value(&json!(4)), None);
        assert_eq!(
            Potwierdzenie::from_value(&json!("zaakceptowany")),
            Some(Potwierdzenie::Zaakceptowany)
        );
        assert_eq!(
            Potwierdzenie::from_value(&json!("3")),
            Some(Potwierdzenie::Odrzucony)
        );
        assert_eq!(Potwierdzenie::from_value(&json!("Wysłany")), None);
        assert_eq!(Potwierdzenie::from_value(&json!(null)), None);
    }

    #[test]
    fn a_draft_shows_bufor_in_its_number() {
        let mut zo = Zo {
            id: 1042,
            guid: String::new(),
            numer: 42,
            data: NaiveDate::from_ymd_opt(2026, 11, 2).unwrap_or_default(),
            stan: Stan::Bufor,
            potwierdzenie: Potwierdzenie::Niepotwierdzony,
            obcy_numer: "17".into(),
            cechy: BTreeMap::new(),
            sales: vec![],
            zmieniono: NaiveDateTime::default(),
            operator: String::new(),
        };
        assert_eq!(zo.numer_pelny(), "ZO/000042/2026/BUFOR");
        zo.stan = Stan::Zatwierdzony;
        assert_eq!(zo.view().numer_pelny, "ZO/000042/2026");
        assert!(!zo.view().zrealizowane);
    }
}

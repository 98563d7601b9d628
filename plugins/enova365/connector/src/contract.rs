//! The order service's contract as the connector reads it: `PobierzZamowienia`,
//! `UstawPotwierdzenia` and `PobierzPotwierdzenia` arguments and results. Reading is lenient
//! (unknown fields ignored, enums as names or numbers).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `PotwierdzenieDokumentuHandlowego` names, in enum order (0..=3).
pub const POTWIERDZENIE: [&str; 4] = [
    "Niepotwierdzony",
    "Potwierdzony",
    "Zaakceptowany",
    "Odrzucony",
];

/// An enum value as sent: a name or a number.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum EnumValue {
    /// A name, e.g. `"Zaakceptowany"`.
    Name(String),
    /// A number, e.g. `2`.
    Number(i64),
}

impl EnumValue {
    /// The name, looking numbers up in `names` (an unknown number stays a number).
    pub fn name(&self, names: &[&str]) -> String {
        match self {
            EnumValue::Name(n) => n.clone(),
            EnumValue::Number(i) => usize::try_from(*i)
                .ok()
                .and_then(|i| names.get(i))
                .map_or_else(|| i.to_string(), |n| (*n).to_owned()),
        }
    }
}

/// A ZO document.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Zo {
    /// The row id.
    #[serde(rename = "ID")]
    pub id: u64,
    /// The document date (`YYYY-MM-DD`, possibly with a time).
    #[serde(default)]
    pub data: Option<String>,
    /// The confirmation.
    pub potwierdzenie: EnumValue,
    /// The foreign number.
    #[serde(default)]
    pub obcy_numer: Option<String>,
    /// Custom fields.
    #[serde(default)]
    pub cechy: BTreeMap<String, Value>,
    /// Whether a sales document was issued from it.
    #[serde(default)]
    pub zrealizowane: bool,
    /// The sales documents issued from it.
    #[serde(default)]
    pub dokumenty_sprzedazy: Vec<String>,
    /// The row version.
    pub stamp: u64,
    /// When it was last written (ISO 8601, server local time unless it has an offset).
    #[serde(default)]
    pub zmieniono: Option<String>,
}

/// `PobierzZamowienia` arguments (`pars`).
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PobierzZamowienia {
    /// Only documents with a greater stamp.
    pub zmienione_od_stamp: u64,
    /// Only these foreign numbers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub obcy_numery: Option<Vec<String>>,
    /// The most documents to return (1 to 500).
    pub limit: u32,
}

/// `PobierzZamowienia` result.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Zamowienia {
    /// The documents, oldest change first.
    pub zamowienia: Vec<Zo>,
    /// The highest stamp returned: the next page asks after it.
    pub max_stamp: u64,
    /// Whether more documents follow.
    pub czy_jest_wiecej: bool,
}

/// One change of `UstawPotwierdzenia`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Zmiana {
    /// The document's row id (when known).
    #[serde(rename = "ID", skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
    /// The document's foreign number (when the id is not known).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub obcy_numer: Option<String>,
    /// The value to set.
    pub potwierdzenie: String,
    /// Refuse if the document's stamp is not this.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oczekiwany_stamp: Option<u64>,
}

/// `UstawPotwierdzenia` arguments (`pars`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UstawPotwierdzenia {
    /// Up to 100 changes.
    pub zmiany: Vec<Zmiana>,
}

/// One per-document result of `UstawPotwierdzenia`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Wynik {
    /// The document's row id.
    #[serde(rename = "ID", default)]
    pub id: Option<u64>,
    /// The document's foreign number.
    #[serde(default)]
    pub obcy_numer: Option<String>,
    /// Whether the change was made (or the document already had the value).
    pub success: bool,
    /// Why it was refused.
    #[serde(default)]
    pub description: Option<String>,
    /// The document's stamp afterwards.
    #[serde(default)]
    pub stamp: Option<u64>,
}

/// `UstawPotwierdzenia` result.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Wyniki {
    /// One result per change.
    pub wyniki: Vec<Wynik>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_the_spec_example_and_numeric_enums() {
        let zo: Zo = serde_json::from_value(json!({
            "ID": 1042, "Guid": "6f9c", "NumerPelny": "ZO/000042/2026", "Data": "2026-11-02",
            "Stan": "Zatwierdzony", "Potwierdzenie": 1, "ObcyNumer": "17",
            "Cechy": { "Sklep": "shop1", "Numer": 7 }, "Zrealizowane": true,
            "DokumentySprzedazy": ["FV/000311/2026"], "Stamp": 123456,
            "Zmieniono": "2026-11-03T08:00:12"
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(zo.id, 1042);
        assert_eq!(zo.potwierdzenie.name(&POTWIERDZENIE), "Potwierdzony");
        assert_eq!(EnumValue::Number(9).name(&POTWIERDZENIE), "9");
        assert_eq!(zo.cechy.get("Numer"), Some(&json!(7)));
    }

    #[test]
    fn writes_pascal_case_arguments() {
        let pars = UstawPotwierdzenia {
            zmiany: vec![Zmiana {
                id: None,
                obcy_numer: Some("17".into()),
                potwierdzenie: "Zaakceptowany".into(),
                oczekiwany_stamp: Some(5),
            }],
        };
        assert_eq!(
            serde_json::to_value(&pars).ok(),
            Some(json!({"Zmiany": [
                {"ObcyNumer": "17", "Potwierdzenie": "Zaakceptowany", "OczekiwanyStamp": 5}
            ]}))
        );
        let q = PobierzZamowienia {
            zmienione_od_stamp: 3,
            obcy_numery: None,
            limit: 100,
        };
        assert_eq!(
            serde_json::to_value(&q).ok(),
            Some(json!({"ZmienioneOdStamp": 3, "Limit": 100}))
        );
    }
}

//! The order service's contract as the connector reads it: `PobierzZamowienia`,
//! `UstawPotwierdzenia` and `PobierzPotwierdzenia` arguments and results. Reading is lenient
//! (unknown fields ignored, enums as names or numbers). The tests check these types against the
//! shared examples in `plugins/enova365/contract/`.

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
    /// The name, looking numbers (also as text) up in `names`; an unknown number stays a number.
    pub fn name(&self, names: &[&str]) -> String {
        let index = match self {
            EnumValue::Name(n) => match n.trim().parse::<usize>() {
                Ok(i) => i,
                Err(_) => return n.clone(),
            },
            EnumValue::Number(i) => match usize::try_from(*i) {
                Ok(i) => i,
                Err(_) => return i.to_string(),
            },
        };
        names
            .get(index)
            .map_or_else(|| index.to_string(), |n| (*n).to_owned())
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
    /// When it was last changed (ISO 8601; server local time unless it has an offset).
    pub zmieniono: String,
}

/// `PobierzZamowienia` arguments (`pars`): the feed (with `zmienione_od`) or a listing.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PobierzZamowienia {
    /// Feed: documents after (this time, `po_id`) by (`Zmieniono`, `ID`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zmienione_od: Option<String>,
    /// The keyset position's id (the listing: `ID` greater than this).
    #[serde(rename = "PoID", skip_serializing_if = "Option::is_none")]
    pub po_id: Option<u64>,
    /// Only these foreign numbers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub obcy_numery: Option<Vec<String>>,
    /// Only documents dated on or after this day (`YYYY-MM-DD`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub utworzone_od: Option<String>,
    /// Only documents without a sales document.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tylko_niezrealizowane: Option<bool>,
    /// Leave out documents this operator changed last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pomin_operatora: Option<String>,
    /// The most documents to return (1 to 500).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// `PobierzZamowienia` result.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Zamowienia {
    /// The documents in the query's order.
    pub zamowienia: Vec<Zo>,
    /// Whether more documents follow.
    pub czy_jest_wiecej: bool,
    /// The server's time when the page was read.
    #[serde(default)]
    pub czas_serwera: Option<String>,
}

/// One change of `UstawPotwierdzenia`.
#[derive(Debug, Clone, PartialEq, Serialize)]
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
    /// Compare-and-set: refuse unless the document has this value (or already the target).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oczekiwane_potwierdzenie: Option<String>,
}

/// `UstawPotwierdzenia` arguments (`pars`).
#[derive(Debug, Clone, PartialEq, Serialize)]
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
    /// Whether the document has the value now.
    pub success: bool,
    /// Why it was refused.
    #[serde(default)]
    pub description: Option<String>,
    /// Whether the document was written (absent from older add-ons: unknown).
    #[serde(default)]
    pub zapisano: Option<bool>,
}

/// `UstawPotwierdzenia` result.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Wyniki {
    /// One result per change, in request order.
    pub wyniki: Vec<Wynik>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A shared contract example (`plugins/enova365/contract/NAME`).
    fn example(name: &str) -> Value {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../contract")
            .join(name);
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    fn ids(page: &Zamowienia) -> Vec<u64> {
        page.zamowienia.iter().map(|z| z.id).collect()
    }

    #[test]
    fn the_feed_request_and_answer_match_the_shared_examples() {
        let ex = example("pobierz_zamowienia_feed.json");
        let pars = PobierzZamowienia {
            zmienione_od: Some("2026-11-30T09:59:50+01:00".into()),
            po_id: Some(1001),
            pomin_operatora: Some("orderlink".into()),
            limit: Some(100),
            ..PobierzZamowienia::default()
        };
        assert_eq!(
            serde_json::to_value(&pars).ok(),
            Some(ex["request"].clone())
        );
        let page: Zamowienia =
            serde_json::from_value(ex["answer"].clone()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(ids(&page), [1002, 1004]);
        assert!(!page.czy_jest_wiecej);
        assert_eq!(
            page.czas_serwera.as_deref(),
            Some("2026-11-30T10:00:00+01:00")
        );
        assert!(page.zamowienia[1].zrealizowane);

        let ex = example("pobierz_zamowienia_feed_strona.json");
        let pars = PobierzZamowienia {
            zmienione_od: Some("2026-11-29T00:00:00+01:00".into()),
            po_id: Some(0),
            limit: Some(3),
            ..PobierzZamowienia::default()
        };
        assert_eq!(
            serde_json::to_value(&pars).ok(),
            Some(ex["request"].clone())
        );
    }

    #[test]
    fn the_listing_requests_match_the_shared_examples() {
        let ex = example("pobierz_zamowienia_lista.json");
        let pars = PobierzZamowienia {
            po_id: Some(1001),
            tylko_niezrealizowane: Some(true),
            utworzone_od: Some("2026-11-28".into()),
            limit: Some(2),
            ..PobierzZamowienia::default()
        };
        assert_eq!(
            serde_json::to_value(&pars).ok(),
            Some(ex["request"].clone())
        );
        let page: Zamowienia =
            serde_json::from_value(ex["answer"].clone()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(ids(&page), [1002, 1003]);
        assert!(page.czy_jest_wiecej);

        let ex = example("pobierz_zamowienia_obce_numery.json");
        let pars = PobierzZamowienia {
            obcy_numery: Some(vec!["18".into(), "20".into(), "99".into()]),
            ..PobierzZamowienia::default()
        };
        assert_eq!(
            serde_json::to_value(&pars).ok(),
            Some(ex["request"].clone())
        );
    }

    #[test]
    fn the_write_request_and_its_results_match_the_shared_example() {
        let ex = example("ustaw_potwierdzenia.json");
        let first = Zmiana {
            id: Some(1001),
            obcy_numer: None,
            potwierdzenie: "Zaakceptowany".into(),
            oczekiwane_potwierdzenie: Some("Potwierdzony".into()),
        };
        let by_obcy = Zmiana {
            id: None,
            obcy_numer: Some("18".into()),
            potwierdzenie: "Potwierdzony".into(),
            oczekiwane_potwierdzenie: Some("Zaakceptowany".into()),
        };
        assert_eq!(
            serde_json::to_value(&first).ok(),
            Some(ex["request"]["Zmiany"][0].clone())
        );
        assert_eq!(
            serde_json::to_value(&by_obcy).ok(),
            Some(ex["request"]["Zmiany"][1].clone())
        );
        let w: Wyniki =
            serde_json::from_value(ex["answer"].clone()).unwrap_or_else(|e| panic!("{e}"));
        let summary: Vec<(bool, Option<bool>)> =
            w.wyniki.iter().map(|w| (w.success, w.zapisano)).collect();
        assert_eq!(
            summary[..3],
            [
                (true, Some(true)),
                (false, Some(false)),
                (true, Some(false))
            ]
        );
        assert_eq!(w.wyniki[5].id, None);
        assert_eq!(w.wyniki[5].obcy_numer.as_deref(), Some("99"));
    }

    #[test]
    fn the_vocabulary_and_enums_as_numbers() {
        let ex = example("pobierz_potwierdzenia.json");
        let names: Vec<EnumValue> =
            serde_json::from_value(ex["answer"].clone()).unwrap_or_else(|e| panic!("{e}"));
        let names: Vec<String> = names.iter().map(|n| n.name(&POTWIERDZENIE)).collect();
        assert_eq!(names, POTWIERDZENIE);
        assert_eq!(EnumValue::Number(1).name(&POTWIERDZENIE), "Potwierdzony");
        assert_eq!(
            EnumValue::Name("3".into()).name(&POTWIERDZENIE),
            "Odrzucony"
        );
        assert_eq!(EnumValue::Number(9).name(&POTWIERDZENIE), "9");
    }
}

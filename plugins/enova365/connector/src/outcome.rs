//! One `UstawPotwierdzenia` result as an orderlink apply outcome: a stale stamp is a retryable
//! conflict, a cancelled or locked document, an unknown value or a missing document is permanent.

use orderlink_plugin_api::model::ApplyOutcome;

use crate::contract::Wynik;

/// The outcome code for a refusal, read from the service's `Description`.
pub fn refusal_code(description: &str) -> &'static str {
    let d = description.to_lowercase();
    if d.contains("zmieniony") || (d.contains("stamp") && d.contains("oczekiw")) {
        "conflict"
    } else if d.contains("anulowany") {
        "cancelled"
    } else if d.contains("zablokowany") {
        "locked"
    } else if d.contains("nieznana wartość") || d.contains("nieznana wartosc") {
        "unknown_status"
    } else if d.contains("nie znaleziono") {
        "not_found"
    } else {
        "refused"
    }
}

/// The outcome for `key` from its result. `baseline` is the stamp the document had before the
/// write, when known: the same stamp afterwards means nothing changed.
pub fn from_result(
    key: &str,
    wynik: &Wynik,
    baseline: Option<u64>,
    scrub: impl Fn(&str) -> String,
) -> ApplyOutcome {
    let version = wynik.stamp.map(|s| s.to_string());
    if wynik.success {
        let changed = match (baseline, wynik.stamp) {
            (Some(before), Some(after)) => before != after,
            _ => true,
        };
        return ApplyOutcome {
            version,
            ..ApplyOutcome::done(key, changed)
        };
    }
    let description = scrub(
        wynik
            .description
            .as_deref()
            .unwrap_or("the service refused the change without a reason"),
    );
    let outcome = match refusal_code(&description) {
        "conflict" => ApplyOutcome::retry(key, None, "conflict", description),
        code => ApplyOutcome::failed(key, code, description),
    };
    ApplyOutcome { version, ..outcome }
}

#[cfg(test)]
mod tests {
    use super::*;
    use orderlink_plugin_api::model::OutcomeKind;
    use serde_json::json;

    fn wynik(v: serde_json::Value) -> Wynik {
        serde_json::from_value(v).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn refusals_are_classified() {
        let cases = [
            ("Dokument ZO/000001/2026 został zmieniony przez innego użytkownika (Stamp 9, oczekiwano 5).", "conflict"),
            ("Dokument ZO/000001/2026 jest anulowany: nie można zmienić potwierdzenia.", "cancelled"),
            ("Dokument ZO/000001/2026 jest zablokowany: nie można zmienić potwierdzenia.", "locked"),
            ("Nieznana wartość Potwierdzenie: \"Wysłany\".", "unknown_status"),
            ("Nie znaleziono dokumentu ZO o numerze obcym '99'.", "not_found"),
            ("Brak uprawnień do dokumentu.", "refused"),
        ];
        for (d, code) in cases {
            assert_eq!(refusal_code(d), code, "{d}");
        }
    }

    #[test]
    fn success_reports_whether_the_stamp_moved() {
        let w =
            wynik(json!({"ID": 1, "Success": true, "Potwierdzenie": "Potwierdzony", "Stamp": 7}));
        let same = from_result("1", &w, Some(7), str::to_owned);
        assert_eq!((same.outcome, same.changed), (OutcomeKind::Done, false));
        assert_eq!(same.version.as_deref(), Some("7"));
        let moved = from_result("1", &w, Some(5), str::to_owned);
        assert!(moved.changed);
        assert!(from_result("1", &w, None, str::to_owned).changed);
    }

    #[test]
    fn a_stale_stamp_is_a_retry_and_a_cancelled_document_a_failure() {
        let stale = wynik(json!({"ID": 1, "Success": false, "Stamp": 9,
            "Description": "Dokument ZO/1 został zmieniony przez innego użytkownika (Stamp 9, oczekiwano 5)."}));
        let o = from_result("1", &stale, Some(5), str::to_owned);
        assert_eq!(o.outcome, OutcomeKind::Retry);
        assert_eq!(
            (o.code.as_str(), o.version.as_deref()),
            ("conflict", Some("9"))
        );
        let cancelled = wynik(json!({"ID": 1, "Success": false,
            "Description": "Dokument ZO/1 jest anulowany: nie można zmienić potwierdzenia."}));
        let o = from_result("1", &cancelled, None, str::to_owned);
        assert_eq!(
            (o.outcome, o.code.as_str()),
            (OutcomeKind::Failed, "cancelled")
        );
        let silent = wynik(json!({"ID": 1, "Success": false}));
        assert_eq!(
            from_result("1", &silent, None, str::to_owned).code,
            "refused"
        );
    }
}

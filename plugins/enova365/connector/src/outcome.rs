//! One `UstawPotwierdzenia` result as an orderlink apply outcome: a failed compare-and-set or an
//! edit conflict is a `conflict` (the host reads again before deciding); a cancelled, locked or
//! read-only document, an unknown value, a missing document or no right to write is permanent.

use orderlink_plugin_api::model::{ApplyOutcome, OutcomeKind};

use crate::contract::Wynik;

/// The outcome code for a refusal, read from the service's `Description`.
pub fn refusal_code(description: &str) -> &'static str {
    let d = description.to_lowercase();
    if d.contains("zmieniony przez innego") || d.contains("konflikt") {
        "conflict"
    } else if d.contains("anulowany") {
        "cancelled"
    } else if d.contains("zablokowany") || d.contains("tylko do odczytu") {
        "locked"
    } else if d.contains("nieznana wartość") || d.contains("nieznana wartosc") {
        "unknown_status"
    } else if d.contains("nie znaleziono") {
        "not_found"
    } else if d.contains("brak prawa") || d.contains("uprawnie") {
        "forbidden"
    } else {
        "refused"
    }
}

/// The outcome for `key` from its result. `assumed_change` says whether a success changed the
/// document when the result does not say (`Zapisano` absent): the caller knows when the expected
/// value differed from the target.
pub fn from_result(
    key: &str,
    wynik: &Wynik,
    assumed_change: bool,
    scrub: impl Fn(&str) -> String,
) -> ApplyOutcome {
    if wynik.success {
        return ApplyOutcome::done(key, wynik.zapisano.unwrap_or(assumed_change));
    }
    let description = scrub(
        wynik
            .description
            .as_deref()
            .unwrap_or("the service refused the change without a reason"),
    );
    match refusal_code(&description) {
        "conflict" => ApplyOutcome {
            outcome: OutcomeKind::Conflict,
            ..ApplyOutcome::retry(key, None, "conflict", description)
        },
        code => ApplyOutcome::failed(key, code, description),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn wynik(v: serde_json::Value) -> Wynik {
        serde_json::from_value(v).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn refusals_are_classified() {
        let cases = [
            ("Dokument ZO/000001/2026 został zmieniony przez innego użytkownika (Potwierdzenie Zaakceptowany, oczekiwano Potwierdzony).", "conflict"),
            ("Dokument ZO/000001/2026 został zmieniony przez innego użytkownika (konflikt zapisu).", "conflict"),
            ("Dokument ZO/000001/2026 jest anulowany: nie można zmienić potwierdzenia.", "cancelled"),
            ("Dokument ZO/000001/2026 jest zablokowany: nie można zmienić potwierdzenia.", "locked"),
            ("Dokument ZO/7 jest tylko do odczytu: nie można zmienić potwierdzenia.", "locked"),
            ("Nieznana wartość Potwierdzenie: Wysłany.", "unknown_status"),
            ("Nie znaleziono dokumentu ZO o numerze obcym '99'.", "not_found"),
            ("Brak prawa zapisu dokumentu ZO/7.", "forbidden"),
            ("Dokument ZO/7: odmowa zapisu (BusException): coś.", "refused"),
        ];
        for (d, code) in cases {
            assert_eq!(refusal_code(d), code, "{d}");
        }
    }

    #[test]
    fn success_says_whether_the_document_was_written() {
        let written = wynik(json!({"ID": 1, "Success": true, "Zapisano": true}));
        let o = from_result("1", &written, false, str::to_owned);
        assert_eq!((o.outcome, o.changed), (OutcomeKind::Done, true));
        let already = wynik(json!({"ID": 1, "Success": true, "Zapisano": false}));
        assert!(!from_result("1", &already, true, str::to_owned).changed);
        let older = wynik(json!({"ID": 1, "Success": true}));
        assert!(from_result("1", &older, true, str::to_owned).changed);
        assert!(!from_result("1", &older, false, str::to_owned).changed);
    }

    #[test]
    fn a_failed_compare_and_set_is_a_conflict_and_a_cancelled_document_a_failure() {
        let stale = wynik(json!({"ID": 1, "Success": false,
            "Description": "Dokument ZO/1 został zmieniony przez innego użytkownika (Potwierdzenie Odrzucony, oczekiwano Potwierdzony)."}));
        let o = from_result("1", &stale, false, str::to_owned);
        assert_eq!(
            (o.outcome, o.code.as_str()),
            (OutcomeKind::Conflict, "conflict")
        );
        let cancelled = wynik(json!({"ID": 1, "Success": false,
            "Description": "Dokument ZO/1 jest anulowany: nie można zmienić potwierdzenia."}));
        let o = from_result("1", &cancelled, false, str::to_owned);
        assert_eq!(
            (o.outcome, o.code.as_str()),
            (OutcomeKind::Failed, "cancelled")
        );
        let silent = wynik(json!({"ID": 1, "Success": false}));
        assert_eq!(
            from_result("1", &silent, false, str::to_owned).code,
            "refused"
        );
    }
}

//! A ZO as orderlink sees it: key from `ObcyNumer` or a *cecha*, status from `Potwierdzenie`,
//! fulfilment from the sales documents, dates from Polish local time to UTC.

use chrono::{DateTime, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Europe::Warsaw;
use orderlink_plugin_api::model::OrderState;
use serde_json::Value;

use crate::config::OrderKey;
use crate::contract::{Zo, POTWIERDZENIE};

/// The order key a ZO carries under `key`, if any (empty values count as none).
pub fn key_of(zo: &Zo, key: &OrderKey) -> Option<String> {
    let raw = match key {
        OrderKey::ObcyNumer => zo.obcy_numer.clone(),
        OrderKey::Cecha(name) => match zo.cechy.get(name) {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        },
    }?;
    let trimmed = raw.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_owned())
}

/// A Polish local time as UTC (an ambiguous time takes the earlier instant; a time in the spring
/// gap is read one hour later).
fn warsaw_to_utc(local: NaiveDateTime) -> Option<DateTime<Utc>> {
    match Warsaw.from_local_datetime(&local) {
        LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(a, _) => Some(a.with_timezone(&Utc)),
        LocalResult::None => Warsaw
            .from_local_datetime(&(local + chrono::Duration::hours(1)))
            .earliest()
            .map(|t| t.with_timezone(&Utc)),
    }
}

/// `Data` (`YYYY-MM-DD`, possibly followed by a time) as midnight in Warsaw, in UTC.
pub fn parse_date(raw: &str) -> Option<DateTime<Utc>> {
    let day = NaiveDate::parse_from_str(raw.trim().get(..10)?, "%Y-%m-%d").ok()?;
    warsaw_to_utc(day.and_time(chrono::NaiveTime::MIN))
}

/// `Zmieniono`: ISO 8601 with an offset, or without one as Warsaw local time.
pub fn parse_time(raw: &str) -> Option<DateTime<Utc>> {
    let raw = raw.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Some(t.with_timezone(&Utc));
    }
    let local = NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(raw, "%Y-%m-%d %H:%M:%S%.f"))
        .ok()?;
    warsaw_to_utc(local)
}

/// The order state of a ZO, or `None` when it carries no key.
pub fn order_state(zo: &Zo, key: &OrderKey) -> Option<OrderState> {
    Some(OrderState {
        key: key_of(zo, key)?,
        id: Some(zo.id.to_string()),
        status: zo.potwierdzenie.name(&POTWIERDZENIE),
        created_at: zo.data.as_deref().and_then(parse_date),
        changed_at: parse_time(&zo.zmieniono),
        fulfilled: Some(zo.zrealizowane || !zo.dokumenty_sprzedazy.is_empty()),
        version: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn zo(extra: Value) -> Zo {
        let mut v = json!({
            "ID": 1042, "NumerPelny": "ZO/000042/2026", "Data": "2026-11-02",
            "Potwierdzenie": "Potwierdzony", "ObcyNumer": " 17 ",
            "Cechy": { "Sklep": "shop1", "Nr": 88 }, "Zrealizowane": false,
            "DokumentySprzedazy": [], "Zmieniono": "2026-07-03T08:00:12"
        });
        if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
            for (k, val) in e {
                o.insert(k.clone(), val.clone());
            }
        }
        serde_json::from_value(v).unwrap_or_else(|e| panic!("{e}"))
    }

    fn utc(s: &str) -> Option<DateTime<Utc>> {
        DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    }

    #[test]
    fn maps_a_zo_to_an_order_state() {
        let s = order_state(&zo(json!({})), &OrderKey::ObcyNumer);
        let s = s.unwrap_or_else(|| panic!("no state"));
        assert_eq!(s.key, "17");
        assert_eq!(s.id.as_deref(), Some("1042"));
        assert_eq!(s.status, "Potwierdzony");
        // November: CET (UTC+1); July: CEST (UTC+2).
        assert_eq!(s.created_at, utc("2026-11-01T23:00:00Z"));
        assert_eq!(s.changed_at, utc("2026-07-03T06:00:12Z"));
        assert_eq!(s.fulfilled, Some(false));
        assert_eq!(s.version, None);
    }

    #[test]
    fn fulfilment_comes_from_sales_documents() {
        let s = order_state(
            &zo(json!({"DokumentySprzedazy": ["FV/000001/2026"]})),
            &OrderKey::ObcyNumer,
        );
        assert_eq!(s.and_then(|s| s.fulfilled), Some(true));
        let s = order_state(&zo(json!({"Zrealizowane": true})), &OrderKey::ObcyNumer);
        assert_eq!(s.and_then(|s| s.fulfilled), Some(true));
    }

    #[test]
    fn keys_come_from_obcy_numer_or_a_cecha_and_empty_ones_are_none() {
        let z = zo(json!({}));
        assert_eq!(
            key_of(&z, &OrderKey::Cecha("Sklep".into())).as_deref(),
            Some("shop1")
        );
        assert_eq!(
            key_of(&z, &OrderKey::Cecha("Nr".into())).as_deref(),
            Some("88")
        );
        assert_eq!(key_of(&z, &OrderKey::Cecha("Brak".into())), None);
        assert_eq!(
            key_of(&zo(json!({"ObcyNumer": "  "})), &OrderKey::ObcyNumer),
            None
        );
        assert_eq!(
            key_of(&zo(json!({"ObcyNumer": null})), &OrderKey::ObcyNumer),
            None
        );
        assert!(order_state(&zo(json!({"ObcyNumer": ""})), &OrderKey::ObcyNumer).is_none());
    }

    #[test]
    fn times_with_offsets_and_odd_local_times() {
        assert_eq!(
            parse_time("2026-11-03T08:00:12+01:00"),
            utc("2026-11-03T07:00:12Z")
        );
        assert_eq!(
            parse_time("2026-11-03 08:00:12.250"),
            utc("2026-11-03T07:00:12.250Z")
        );
        // 2026-10-25 02:30 happens twice in Warsaw: the earlier (CEST) one.
        assert_eq!(
            parse_time("2026-10-25T02:30:00"),
            utc("2026-10-25T00:30:00Z")
        );
        // 2026-03-29 02:30 does not exist in Warsaw.
        assert_eq!(
            parse_time("2026-03-29T02:30:00"),
            utc("2026-03-29T01:30:00Z")
        );
        assert_eq!(
            parse_date("2026-11-02T00:00:00"),
            utc("2026-11-01T23:00:00Z")
        );
        assert_eq!(parse_date("02.11.2026"), None);
        assert_eq!(parse_time("yesterday"), None);
    }
}

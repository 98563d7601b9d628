//! The model's timestamps on the wire: RFC 3339 strings, written and read with chrono's direct
//! RFC 3339 functions rather than its serde implementation, which goes through the generic
//! formatter and the relaxed parser and made up most of what a batch cost to cross the ABI.
//! The text is the same as chrono's serde writes (`AutoSi` fraction, `Z`); anything chrono's
//! serde reads is still read (the relaxed parser is the fallback).

use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use serde::{de::Error, Deserialize, Deserializer, Serializer};

/// Serialises an optional timestamp (`#[serde(with = "crate::timestamp")]`).
pub fn serialize<S: Serializer>(value: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(t) => s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
        None => s.serialize_none(),
    }
}

/// Reads an optional timestamp: strict RFC 3339 first, chrono's relaxed parser for the rest.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    let Some(text) = Option::<String>::deserialize(d)? else {
        return Ok(None);
    };
    let parsed = DateTime::parse_from_rfc3339(&text)
        .or_else(|_| text.parse::<DateTime<FixedOffset>>())
        .map_err(|e| D::Error::custom(format!("`{text}` is not an RFC 3339 timestamp: {e}")))?;
    Ok(Some(parsed.with_timezone(&Utc)))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde::{Deserialize, Serialize};

    use super::*;

    #[derive(Serialize, Deserialize, PartialEq, Debug)]
    struct Fast {
        #[serde(default, with = "super")]
        t: Option<DateTime<Utc>>,
    }

    #[derive(Serialize, Deserialize, PartialEq, Debug)]
    struct Chrono {
        t: Option<DateTime<Utc>>,
    }

    fn moments() -> Vec<DateTime<Utc>> {
        let base = Utc.with_ymd_and_hms(2026, 11, 30, 9, 5, 7).single();
        let base = base.unwrap_or_default();
        [
            0,
            1_000_000,
            120_000_000,
            123_456_000,
            123_456_789,
            999_999_999,
        ]
        .into_iter()
        .map(|ns| base + chrono::Duration::nanoseconds(ns))
        .collect()
    }

    #[test]
    fn writes_the_same_text_as_chronos_serde() {
        for t in moments().into_iter().map(Some).chain([None]) {
            let fast = serde_json::to_string(&Fast { t }).unwrap_or_default();
            let chrono = serde_json::to_string(&Chrono { t }).unwrap_or_default();
            assert_eq!(fast, chrono);
        }
    }

    #[test]
    fn reads_what_chronos_serde_reads() {
        for text in [
            r#"{"t":"2026-11-30T09:05:07Z"}"#,
            r#"{"t":"2026-11-30T09:05:07.123456789Z"}"#,
            r#"{"t":"2026-11-30T10:05:07.5+01:00"}"#,
            r#"{"t":"2026-11-30 09:05:07Z"}"#,
            r#"{"t":"2026-11-30t09:05:07z"}"#,
            r#"{"t":null}"#,
            r#"{}"#,
        ] {
            let fast: Fast = serde_json::from_str(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            let chrono: Chrono =
                serde_json::from_str(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(fast.t, chrono.t, "{text}");
        }
    }

    #[test]
    fn a_bad_timestamp_is_an_error_naming_it() {
        let err = serde_json::from_str::<Fast>(r#"{"t":"yesterday"}"#)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("`yesterday` is not an RFC 3339 timestamp"),
            "{err}"
        );
    }
}

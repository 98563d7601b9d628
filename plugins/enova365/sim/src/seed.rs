//! Deterministic seeding: the same seed and count give the same documents (dates are relative to
//! the day the seeding runs).

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate, NaiveDateTime};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::model::{Potwierdzenie, SalesKind, Stan};
use crate::store::{now_local, NewZo, Store};

/// The most documents one seeding creates.
pub const MAX_DOCUMENTS: usize = 100_000;

/// How to seed (the body of `POST /_sim/seed`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedRequest {
    /// The random seed.
    #[serde(default)]
    pub seed: u64,
    /// How many ZO documents to create (at most [`MAX_DOCUMENTS`]).
    pub count: usize,
    /// Tie ZO number i to the IdoSell simulator's order i: `ObcyNumer` = `"i"` and
    /// `Cechy.Sklep` = `"shop1"`. Without it the documents have no foreign number.
    #[serde(default = "default_link")]
    pub link_obcy_numer: bool,
}

fn default_link() -> bool {
    true
}

/// Why a seeding was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("count must be at most {MAX_DOCUMENTS}, got {0}")]
pub struct TooMany(pub usize);

fn pick_stan(roll: u32) -> Stan {
    match roll {
        0..=54 => Stan::Zatwierdzony,
        55..=94 => Stan::Bufor,
        95..=97 => Stan::Anulowany,
        _ => Stan::Zablokowany,
    }
}

fn pick_potwierdzenie(roll: u32) -> Potwierdzenie {
    match roll {
        0..=49 => Potwierdzenie::Niepotwierdzony,
        50..=79 => Potwierdzenie::Potwierdzony,
        80..=94 => Potwierdzenie::Zaakceptowany,
        _ => Potwierdzenie::Odrzucony,
    }
}

/// Replaces every document with `count` deterministic ZOs dated within the last five days:
/// about 55 % approved, 40 % drafts, 3 % cancelled, 2 % locked; half unconfirmed; about 8 % of
/// the approved ones already invoiced (fulfilled). Returns the number created.
pub fn seed(store: &mut Store, request: &SeedRequest) -> Result<usize, TooMany> {
    if request.count > MAX_DOCUMENTS {
        return Err(TooMany(request.count));
    }
    let now = now_local();
    let today = now.date();
    let mut rng = StdRng::seed_from_u64(request.seed);
    store.clear();
    for i in 1..=request.count {
        let stan = pick_stan(rng.gen_range(0..100));
        let potwierdzenie = pick_potwierdzenie(rng.gen_range(0..100));
        let days_ago: i64 = rng.gen_range(0..5);
        let data = today - Duration::days(days_ago);
        let invoiced = stan == Stan::Zatwierdzony && rng.gen_range(0..100) < 8;
        let sales = match (invoiced, rng.gen_bool(0.7)) {
            (false, _) => vec![],
            (true, true) => vec![SalesKind::Invoice],
            (true, false) => vec![SalesKind::Receipt],
        };
        let guid: u128 = rng.gen();
        let minutes: i64 = rng.gen_range(6 * 60..22 * 60);
        let zmieniono = changed_at(data, minutes, now);
        let (obcy_numer, cechy) = if request.link_obcy_numer {
            (
                i.to_string(),
                BTreeMap::from([("Sklep".to_owned(), "shop1".to_owned())]),
            )
        } else {
            (String::new(), BTreeMap::new())
        };
        let new = NewZo {
            obcy_numer,
            cechy,
            data,
            stan,
            potwierdzenie,
            guid: Some(format_guid(guid)),
            sales,
            zmieniono: Some(zmieniono),
            operator: None,
        };
        // Seeded foreign numbers are distinct and the store was just cleared.
        let _ = store.insert(new);
    }
    Ok(request.count)
}

fn changed_at(data: NaiveDate, minutes: i64, now: NaiveDateTime) -> NaiveDateTime {
    let at = data.and_time(chrono::NaiveTime::MIN) + Duration::minutes(minutes);
    at.min(now)
}

fn format_guid(v: u128) -> String {
    let hex = format!("{v:032x}");
    format!(
        "{}-{}-4{}-8{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Query;

    fn snapshot(store: &Store) -> Vec<(String, String, &'static str, &'static str, bool)> {
        store
            .page(&Query {
                limit: usize::MAX - 1,
                ..Query::default()
            })
            .docs
            .iter()
            .map(|d| {
                (
                    d.obcy_numer.clone(),
                    d.guid.clone(),
                    d.stan.name(),
                    d.potwierdzenie.name(),
                    d.zrealizowane(),
                )
            })
            .collect()
    }

    #[test]
    fn the_same_seed_gives_the_same_documents() {
        let req = SeedRequest {
            seed: 42,
            count: 500,
            link_obcy_numer: true,
        };
        let mut a = Store::new();
        let mut b = Store::new();
        assert_eq!(seed(&mut a, &req), Ok(500));
        assert_eq!(seed(&mut b, &req), Ok(500));
        assert_eq!(snapshot(&a), snapshot(&b));
        let mut c = Store::new();
        assert_eq!(seed(&mut c, &SeedRequest { seed: 43, ..req }), Ok(500));
        assert_ne!(snapshot(&a), snapshot(&c));
    }

    #[test]
    fn seeded_documents_are_linked_and_mostly_open() {
        let mut s = Store::new();
        let req = SeedRequest {
            seed: 7,
            count: 2000,
            link_obcy_numer: true,
        };
        assert_eq!(seed(&mut s, &req), Ok(2000));
        let docs = snapshot(&s);
        assert_eq!(docs.len(), 2000);
        for (i, d) in docs.iter().enumerate() {
            assert_eq!(d.0, (i + 1).to_string());
        }
        let open = docs
            .iter()
            .filter(|d| d.2 == "Bufor" || d.2 == "Zatwierdzony")
            .count();
        let fulfilled = docs.iter().filter(|d| d.4).count();
        assert!(open > 1800, "{open} open documents");
        assert!(fulfilled > 0 && fulfilled < 200, "{fulfilled} fulfilled");
        for p in Potwierdzenie::names() {
            assert!(docs.iter().any(|d| d.3 == p), "no document is {p}");
        }
        let today = crate::store::today_local();
        let id = s.id_by_obcy("1").unwrap_or_default();
        let d = s.get(id).map(|d| d.data).unwrap_or_default();
        assert!(d <= today && d >= today - Duration::days(4));
        assert_eq!(
            s.get(id).and_then(|d| d.cechy.get("Sklep").cloned()),
            Some("shop1".to_owned())
        );
    }

    #[test]
    fn unlinked_documents_have_no_foreign_number_and_the_size_is_capped() {
        let mut s = Store::new();
        let req = SeedRequest {
            seed: 1,
            count: 3,
            link_obcy_numer: false,
        };
        assert_eq!(seed(&mut s, &req), Ok(3));
        assert!(snapshot(&s).iter().all(|d| d.0.is_empty()));
        let too_many = SeedRequest {
            count: MAX_DOCUMENTS + 1,
            ..req
        };
        assert_eq!(seed(&mut s, &too_many), Err(TooMany(MAX_DOCUMENTS + 1)));
        assert_eq!(s.len(), 3);
    }
}

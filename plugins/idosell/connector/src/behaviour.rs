//! What a live shop does with the search features the feed relies on, found out at run time by
//! read-only searches (`crate::connector` runs them), and the pure verdicts drawn from their
//! answers. `check` reports them as findings; the feed picks its [`Strategy`] from them.

use orderlink_plugin_api::model::Finding;

use crate::feed::{DateBounds, Strategy};

/// The `ordersBy` names tried, in order, for a sort by serial number.
pub const SORT_NAMES: [&str; 2] = ["sn", "id"];

/// What is known about one shop.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Behaviour {
    /// The name under which the shop sorts by serial number both ways; `None`: none does.
    /// Unknown (`sort_known` false) with fewer than two orders.
    pub sort: Option<&'static str>,
    /// Whether the sort was decided.
    pub sort_known: bool,
    /// Whether `ordersSerialNumberRange` is honoured (`None`: not known).
    pub serial_range: Option<bool>,
    /// Whether the date-range ends include the second they name.
    pub dates: DateBounds,
    /// What the probes could not decide, or refusals they met, for people.
    pub notes: Vec<String>,
}

/// The verdict on a probe sorted by serial number in one direction: `None` with fewer than two
/// orders (nothing to tell), else whether the serial numbers run strictly that way.
pub fn sort_verdict(serials: &[u64], descending: bool) -> Option<bool> {
    if serials.len() < 2 {
        return None;
    }
    Some(
        serials
            .windows(2)
            .all(|w| if descending { w[0] > w[1] } else { w[0] < w[1] }),
    )
}

/// What a probe for one order (serial number `serial`, change date `d`) by its date and serial
/// number found: `None` when nothing came, else whether only that order came (the serial-number
/// range is honoured).
pub fn range_verdict(found: &[u64], serial: u64) -> Option<bool> {
    if found.is_empty() {
        None
    } else {
        Some(found.iter().all(|s| *s == serial))
    }
}

/// The date-range ends, from which of the windows `[d, d]`, `[d, d+1]` and `[d-1, d+1]` found an
/// order changed at `d` (asked in that order; later ones only when the earlier found nothing).
pub fn bounds_verdict(
    exact: bool,
    wider_end: Option<bool>,
    wider_both: Option<bool>,
) -> DateBounds {
    match (exact, wider_end, wider_both) {
        (true, _, _) => DateBounds {
            begin_inclusive: Some(true),
            end_inclusive: Some(true),
        },
        (false, Some(true), _) => DateBounds {
            begin_inclusive: Some(true),
            end_inclusive: Some(false),
        },
        (false, _, Some(true)) => DateBounds {
            begin_inclusive: Some(false),
            end_inclusive: Some(false),
        },
        // The order changed meanwhile, or the shop finds nothing by date: not known.
        _ => DateBounds::default(),
    }
}

impl Behaviour {
    /// The feed's strategy: keyset pages with a sort the shop honours, else narrowing.
    pub fn strategy(&self) -> Strategy {
        match self.sort {
            Some(name) => Strategy::Sorted(name),
            None => Strategy::Narrowing,
        }
    }

    /// Whether the probes decided everything (else they are run again later).
    pub fn settled(&self) -> bool {
        self.sort_known
            && self.serial_range.is_some()
            && self.dates.begin_inclusive.is_some()
            && self.dates.end_inclusive.is_some()
    }

    /// The findings `check` reports.
    pub fn findings(&self) -> Vec<Finding> {
        let finding = |name: &str, value: String, detail: String| Finding {
            name: name.to_owned(),
            value,
            detail,
        };
        let inclusive = |v: Option<bool>| match v {
            Some(true) => "inclusive",
            Some(false) => "exclusive",
            None => "unknown",
        };
        let mut out = vec![
            finding(
                "orders_sort_by_serial_number",
                match (self.sort_known, self.sort) {
                    (true, Some(name)) => format!("honoured ({name})"),
                    (true, None) => "ignored".to_owned(),
                    (false, _) => "unknown".to_owned(),
                },
                match (self.sort_known, self.sort) {
                    (true, Some(_)) => "the change feed pages by serial number: one search per 100 changes".to_owned(),
                    (true, None) => format!(
                        "no ordersBy name among {} sorts by serial number both ways: the change feed narrows serial-number ranges until every match fits one answer (a few more searches, nothing missed)",
                        SORT_NAMES.join(", ")
                    ),
                    (false, _) => "fewer than two orders to tell; the change feed narrows serial-number ranges (safe either way) and asks again later".to_owned(),
                },
            ),
            finding(
                "orders_serial_number_range",
                match self.serial_range {
                    Some(true) => "honoured",
                    Some(false) => "ignored",
                    None => "unknown",
                }
                .to_owned(),
                match self.serial_range {
                    Some(true) => "ordersSerialNumberRange limits a search: the change feed's keyset works",
                    Some(false) => "ordersSerialNumberRange is ignored: the change feed cannot page safely and refuses to run",
                    None => "no order to tell with; asked again later",
                }
                .to_owned(),
            ),
            finding(
                "orders_date_range_begin",
                inclusive(self.dates.begin_inclusive).to_owned(),
                "ordersDateBegin with ordersDateType modified; unknown or exclusive: the feed asks one second earlier and drops what is before its window".to_owned(),
            ),
            finding(
                "orders_date_range_end",
                inclusive(self.dates.end_inclusive).to_owned(),
                "ordersDateEnd with ordersDateType modified; unknown or exclusive: the feed asks one second later and holds back what is after its window".to_owned(),
            ),
        ];
        out.push(finding(
            "change_feed_strategy",
            match self.strategy() {
                Strategy::Sorted(name) => format!("serial keyset sorted by {name}"),
                Strategy::Narrowing => "serial-range narrowing".to_owned(),
            },
            "closed windows of change dates walked by serial number; a change is handed over once, after its second settles".to_owned(),
        ));
        for note in &self.notes {
            out.push(finding("probe_note", "note".to_owned(), note.clone()));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_verdicts() {
        assert_eq!(sort_verdict(&[], true), None);
        assert_eq!(sort_verdict(&[5], true), None);
        assert_eq!(sort_verdict(&[9, 5, 2], true), Some(true));
        assert_eq!(sort_verdict(&[9, 5, 7], true), Some(false));
        assert_eq!(sort_verdict(&[2, 5, 9], false), Some(true));
        assert_eq!(sort_verdict(&[2, 2], false), Some(false));
    }

    #[test]
    fn range_and_bounds_verdicts() {
        assert_eq!(range_verdict(&[], 4), None);
        assert_eq!(range_verdict(&[4], 4), Some(true));
        assert_eq!(range_verdict(&[4, 1, 9], 4), Some(false));
        let b = bounds_verdict(true, None, None);
        assert_eq!(
            (b.begin_inclusive, b.end_inclusive),
            (Some(true), Some(true))
        );
        let b = bounds_verdict(false, Some(true), None);
        assert_eq!(
            (b.begin_inclusive, b.end_inclusive),
            (Some(true), Some(false))
        );
        let b = bounds_verdict(false, Some(false), Some(true));
        assert_eq!(
            (b.begin_inclusive, b.end_inclusive),
            (Some(false), Some(false))
        );
        assert_eq!(
            bounds_verdict(false, Some(false), Some(false)),
            DateBounds::default()
        );
    }

    #[test]
    fn strategy_and_findings_follow_what_was_found() {
        let mut b = Behaviour::default();
        assert_eq!(b.strategy(), Strategy::Narrowing);
        assert!(!b.settled());
        let f = b.findings();
        assert!(f
            .iter()
            .any(|f| f.name == "orders_sort_by_serial_number" && f.value == "unknown"));
        b.sort = Some("sn");
        b.sort_known = true;
        b.serial_range = Some(true);
        b.dates = bounds_verdict(false, Some(true), None);
        assert!(b.settled());
        assert_eq!(b.strategy(), Strategy::Sorted("sn"));
        let f = b.findings();
        let value = |name: &str| {
            f.iter()
                .find(|f| f.name == name)
                .map(|f| f.value.clone())
                .unwrap_or_default()
        };
        assert_eq!(value("orders_sort_by_serial_number"), "honoured (sn)");
        assert_eq!(value("orders_date_range_end"), "exclusive");
        assert_eq!(value("orders_date_range_begin"), "inclusive");
        assert_eq!(value("change_feed_strategy"), "serial keyset sorted by sn");
    }
}

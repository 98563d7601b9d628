//! The status vocabulary: IdoSell's built-in status codes, the shop's custom statuses (code =
//! the id as a string), and how orders and updates name them.

use orderlink_plugin_api::model::{StatusInfo, Vocabulary};

/// A built-in status: code, English panel name, and whether it is closed (final, or one the
/// panel refuses to change).
struct BuiltIn {
    code: &'static str,
    name: &'static str,
    closed: bool,
}

const fn b(code: &'static str, name: &'static str, closed: bool) -> BuiltIn {
    BuiltIn { code, name, closed }
}

/// IdoSell's built-in statuses (including ones real shops return beyond the documented list).
const BUILT_INS: &[BuiltIn] = &[
    b("new", "Not handled", false),
    b("payment_waiting", "Awaiting payment", false),
    b("delivery_waiting", "Awaiting delivery", false),
    b("on_order", "In progress", false),
    b("packed", "Being picked", false),
    b("packed_fulfillment", "Being picked - fulfilment", false),
    b("packed_ready", "Packed", false),
    b("ready", "Ready", false),
    b("wait_for_dispatch", "Awaiting dispatch date", false),
    b("suspended", "On hold", false),
    b("wait_for_packaging", "Awaiting packaging", false),
    b("wait_for_receive", "Awaiting receipt", false),
    b("returned", "Returned", false),
    b("complained", "Complaint", false),
    b("joined", "Merged", true),
    b("finished", "Completed", true),
    b("finished_ext", "Completed in FA application", true),
    b("missing", "Missing", true),
    b("lost", "Lost", true),
    b("false", "False", true),
    b("canceled", "Canceled by customer", true),
];

/// A custom status from `GET orders/statuses`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomStatus {
    /// Its id.
    pub id: i64,
    /// The id of its built-in parent, if given.
    pub parent_id: Option<i64>,
    /// Its panel name.
    pub name: String,
}

/// Whether `code` is a built-in status code.
pub fn is_built_in(code: &str) -> bool {
    BUILT_INS.iter().any(|s| s.code == code)
}

/// The vocabulary: built-in statuses, then the custom ones.
pub fn vocabulary(custom: &[CustomStatus]) -> Vocabulary {
    let mut statuses: Vec<StatusInfo> = BUILT_INS
        .iter()
        .map(|s| StatusInfo {
            code: s.code.to_owned(),
            name: s.name.to_owned(),
            aliases: Vec::new(),
            closed: s.closed,
            optional: false,
        })
        .collect();
    for c in custom {
        statuses.push(StatusInfo {
            code: c.id.to_string(),
            name: c.name.clone(),
            aliases: vec![format!("id:{}", c.id)],
            closed: false,
            optional: false,
        });
    }
    Vocabulary { statuses }
}

/// The status an order is in: the custom status id (as a string) when `orderStatusId` is a
/// custom status, else the `orderStatus` code as the shop sent it (known or not).
pub fn order_status(code: Option<&str>, status_id: Option<i64>, custom: &[CustomStatus]) -> String {
    if let Some(id) = status_id {
        if custom.iter().any(|c| c.id == id) {
            return id.to_string();
        }
    }
    match (code, status_id) {
        (Some(code), _) if !code.is_empty() => code.to_owned(),
        (_, Some(id)) => id.to_string(),
        _ => String::new(),
    }
}

/// How an update names the status to set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `orderStatus`: a built-in code (or any other string, for the shop to judge).
    Code(String),
    /// `orderStatusId`: a custom status.
    Id(i64),
}

/// Reads a status code from the host: `45` or `id:45` is a custom status id, anything else an
/// `orderStatus` code.
pub fn target(status: &str) -> Option<Target> {
    let s = status.trim();
    if s.is_empty() {
        return None;
    }
    let digits = s.strip_prefix("id:").unwrap_or(s);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return digits.parse().ok().map(Target::Id);
    }
    Some(Target::Code(s.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn custom() -> Vec<CustomStatus> {
        vec![CustomStatus {
            id: 45,
            parent_id: Some(3),
            name: "Packed by team B".into(),
        }]
    }

    #[test]
    fn vocabulary_has_built_ins_custom_statuses_and_closed_ones() {
        let v = vocabulary(&custom());
        for closed in [
            "finished",
            "finished_ext",
            "canceled",
            "lost",
            "false",
            "joined",
            "missing",
        ] {
            assert!(v.resolve(closed).is_some_and(|s| s.closed), "{closed}");
        }
        assert!(v
            .resolve("packed")
            .is_some_and(|s| !s.closed && s.name == "Being picked"));
        let c = v.resolve("id:45").expect("alias");
        assert_eq!(
            (c.code.as_str(), c.name.as_str()),
            ("45", "Packed by team B")
        );
        assert_eq!(
            v.resolve("Packed by team B").map(|s| s.code.as_str()),
            Some("45")
        );
        let mut codes: Vec<&str> = v.statuses.iter().map(|s| s.code.as_str()).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), v.statuses.len());
    }

    #[test]
    fn order_status_prefers_custom_ids_and_carries_unknown_codes() {
        let c = custom();
        assert_eq!(order_status(Some("on_order"), Some(45), &c), "45");
        assert_eq!(order_status(Some("on_order"), Some(3), &c), "on_order");
        assert_eq!(
            order_status(Some("brand_new_status"), None, &c),
            "brand_new_status"
        );
        assert_eq!(order_status(None, Some(77), &c), "77");
        assert!(is_built_in("wait_for_receive") && !is_built_in("45"));
    }

    #[test]
    fn targets() {
        assert_eq!(target("packed"), Some(Target::Code("packed".into())));
        assert_eq!(target("45"), Some(Target::Id(45)));
        assert_eq!(target("id:45"), Some(Target::Id(45)));
        assert_eq!(target(" "), None);
    }
}

//! Order statuses: IdoSell's built-in ones (each with the numeric id orders carry in
//! `orderStatusId`) and the shop's own custom statuses, plus the rules the panel enforces.

use serde::{Deserialize, Serialize};

/// A built-in status.
#[derive(Debug, Clone, Copy)]
pub struct BuiltIn {
    /// The code used on the API (`orderStatus`).
    pub code: &'static str,
    /// The numeric id orders carry in `orderStatusId`.
    pub id: u32,
    /// The English panel name.
    pub name: &'static str,
    /// Whether `PUT orders/orders` may set it.
    pub settable: bool,
}

const fn b(code: &'static str, id: u32, name: &'static str, settable: bool) -> BuiltIn {
    BuiltIn {
        code,
        id,
        name,
        settable,
    }
}

/// Every built-in status the simulator knows.
pub const BUILT_INS: &[BuiltIn] = &[
    b("new", 1, "Not handled", true),
    b("payment_waiting", 2, "Awaiting payment", true),
    b("on_order", 3, "In progress", true),
    b("packed", 4, "Being picked", true),
    b("ready", 5, "Ready", true),
    b("finished", 6, "Completed", true),
    b("canceled", 7, "Canceled by customer", true),
    b("suspended", 8, "On hold", true),
    b("delivery_waiting", 9, "Awaiting delivery", true),
    b("lost", 10, "Lost", true),
    b("false", 11, "False", true),
    b("joined", 12, "Merged", true),
    b("finished_ext", 13, "Completed in FA application", true),
    b("packed_fulfillment", 14, "Being picked - fulfilment", true),
    b("packed_ready", 15, "Packed", true),
    b("wait_for_dispatch", 16, "Awaiting dispatch date", true),
    b("missing", 17, "Missing", true),
    b("wait_for_packaging", 18, "Awaiting packaging", false),
    b("wait_for_receive", 19, "Awaiting receipt", false),
    b("returned", 20, "Returned", false),
    b("complained", 21, "Complaint", false),
];

/// The built-in statuses seeded orders are spread over (none of them closed or final).
pub const OPEN_STATUSES: &[&str] = &[
    "new",
    "payment_waiting",
    "delivery_waiting",
    "on_order",
    "packed",
    "packed_fulfillment",
    "packed_ready",
    "ready",
    "wait_for_dispatch",
    "suspended",
];

/// The highest id a built-in status uses; custom statuses must use higher ids.
pub const MAX_BUILT_IN_ID: u32 = 21;

/// Finds a built-in status by code.
pub fn by_code(code: &str) -> Option<&'static BuiltIn> {
    BUILT_INS.iter().find(|s| s.code == code)
}

/// Finds a built-in status by id.
pub fn by_id(id: u32) -> Option<&'static BuiltIn> {
    BUILT_INS.iter().find(|s| s.id == id)
}

/// A status the shop defined itself, below a built-in parent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomStatus {
    /// Its id (above [`MAX_BUILT_IN_ID`]).
    pub id: u32,
    /// The id of the built-in status it refines.
    pub parent_id: u32,
    /// The name shown in the panel.
    pub panel_name: String,
}

/// Why the panel refuses a status change: an IdoSell `faultCode` and its `faultString`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The `faultCode`.
    pub code: i64,
    /// The `faultString`.
    pub message: String,
}

impl Refusal {
    /// A refusal with the given code and message.
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        Refusal {
            code,
            message: message.into(),
        }
    }
}

/// Checks the panel's rules for moving an order from the built-in status `from` (or a custom
/// status below it) to the built-in status `to`.
pub fn check_transition(from: &str, to: &str, documents_issued: bool) -> Result<(), Refusal> {
    match from {
        "joined" | "false" | "lost" | "canceled" => {
            return Err(Refusal::new(
                2214,
                format!("Order status cannot be changed: the order is {from}"),
            ))
        }
        "finished" | "finished_ext" if !matches!(to, "missing" | "lost") => {
            return Err(Refusal::new(
                2214,
                "Order status cannot be changed: a sent order may only become missing or lost",
            ))
        }
        _ => {}
    }
    if documents_issued && matches!(to, "canceled" | "false") {
        return Err(Refusal::new(
            24,
            "There are sale documents issued to this order. Cancel issued documents and change status next.",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_codes_are_unique_and_on_order_is_three() {
        for (i, a) in BUILT_INS.iter().enumerate() {
            for b in &BUILT_INS[i + 1..] {
                assert_ne!(a.code, b.code);
                assert_ne!(a.id, b.id);
            }
            assert!(a.id <= MAX_BUILT_IN_ID);
        }
        assert_eq!(by_code("on_order").map(|s| s.id), Some(3));
        for code in OPEN_STATUSES {
            assert!(by_code(code).is_some(), "{code}");
        }
    }

    #[test]
    fn panel_rules() {
        assert!(check_transition("on_order", "packed", false).is_ok());
        assert!(check_transition("finished", "lost", false).is_ok());
        assert!(check_transition("finished", "missing", false).is_ok());
        assert_eq!(
            check_transition("finished", "on_order", false).map_err(|r| r.code),
            Err(2214)
        );
        for closed in ["joined", "false", "lost", "canceled"] {
            assert_eq!(
                check_transition(closed, "new", false).map_err(|r| r.code),
                Err(2214)
            );
        }
        assert_eq!(
            check_transition("on_order", "canceled", true).map_err(|r| r.code),
            Err(24)
        );
    }
}

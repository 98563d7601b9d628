//! The JSON shapes of the IdoSell Admin API order endpoints, as `orders-openapi-v6.json`
//! names them. Request parameters the simulator does not implement are refused (HTTP 422 naming
//! them, see [`crate::api`]); answers carry the full order body ([`crate::body`]).

use serde::{Deserialize, Serialize};

use crate::clock;
use crate::shop::{HistoryEvent, Order, Shop};

/// `{"params": {...}}`: every POST and PUT body.
#[derive(Debug, Deserialize)]
pub struct Envelope<T> {
    /// The parameters.
    pub params: Option<T>,
}

/// `POST orders/orders/search` parameters (the ones the simulator understands).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SearchParams {
    /// Status codes.
    pub orders_statuses: Option<Vec<String>>,
    /// Status ids (a simulator extension: v6 has no such filter).
    pub orders_statuses_ids: Option<Vec<u32>>,
    /// Serial numbers.
    pub orders_serial_numbers: Option<Vec<u64>>,
    /// Order ids.
    pub orders_ids: Option<Vec<String>>,
    /// Date and serial-number ranges.
    pub orders_range: Option<OrdersRange>,
    /// Sorting.
    pub orders_by: Option<Vec<OrderBy>>,
    /// 0-based page.
    pub results_page: Option<i64>,
    /// Results per page, 1 to 100.
    pub results_limit: Option<i64>,
}

/// `ordersRange`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct OrdersRange {
    /// `ordersDateRange`.
    pub orders_date_range: Option<DateRange>,
    /// `ordersSerialNumberRange`.
    pub orders_serial_number_range: Option<SerialRange>,
}

/// `ordersDateRange`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DateRange {
    /// `add`, `modified`, `dispatch`, `payment`, `last_payments_operation`, `declared_payments`.
    pub orders_date_type: Option<String>,
    /// The same, as a list (the first entry counts).
    pub orders_dates_types: Option<Vec<DatesType>>,
    /// `YYYY-MM-DD HH:MM:SS`, shop time.
    pub orders_date_begin: Option<String>,
    /// `YYYY-MM-DD HH:MM:SS`, shop time.
    pub orders_date_end: Option<String>,
}

/// One entry of `ordersDatesTypes`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct DatesType {
    /// The date type.
    pub orders_dates_type: Option<String>,
}

/// `ordersSerialNumberRange`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SerialRange {
    /// First serial number.
    pub orders_serial_number_begin: Option<u64>,
    /// Last serial number.
    pub orders_serial_number_end: Option<u64>,
}

/// One entry of `ordersBy`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct OrderBy {
    /// The sort name (see [`crate::api`] for the ones implemented; others are refused).
    pub element_name: String,
    /// `ASC` (default) or `DESC`.
    pub sort_direction: Option<String>,
}

/// `PUT orders/orders` parameters.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PutParams {
    /// The orders to change.
    pub orders: Option<Vec<PutOrder>>,
}

/// One order of a PUT.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PutOrder {
    /// Identifies the order (or `orderSerialNumber`).
    pub order_id: Option<String>,
    /// Identifies the order (or `orderId`).
    pub order_serial_number: Option<u64>,
    /// The new status code.
    pub order_status: Option<String>,
    /// The new status id (custom statuses).
    pub order_status_id: Option<u32>,
    /// A new order note (an edit).
    pub order_note: Option<String>,
    /// Notification settings.
    pub settings: Option<PutSettings>,
}

/// `settings` of a PUT order.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PutSettings {
    /// `y` blocks e-mails.
    pub dont_send_mail: Option<String>,
    /// `y` blocks text messages.
    #[serde(rename = "dontSendSMS")]
    pub dont_send_sms: Option<String>,
}

/// `{"faultCode": n, "faultString": "..."}`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Fault {
    /// The code.
    pub fault_code: i64,
    /// The message.
    pub fault_string: String,
}

impl Fault {
    /// A fault.
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        Fault {
            fault_code: code,
            fault_string: message.into(),
        }
    }
}

/// The `faultString` of an empty search.
pub const EMPTY_RESULT: &str = "Wyszukiwarka zamówień: zwrócono pusty wynik";

/// A body that carries only `errors` (empty searches, refused requests).
#[derive(Debug, Serialize)]
pub struct ErrorsOnly {
    /// The error.
    pub errors: Fault,
}

/// `POST orders/orders/search` answer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchAnswer {
    /// The orders on the page.
    #[serde(rename = "Results")]
    pub results: Vec<OrderResult>,
    /// How many match in all.
    pub results_number_all: u64,
    /// How many pages there are.
    pub results_number_page: u64,
    /// This page.
    pub results_page: u64,
    /// Results per page.
    pub results_limit: u64,
}

/// `GET orders/orders` answer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GetAnswer {
    /// The orders found, and an entry with `errors` for each one not found.
    #[serde(rename = "Results")]
    pub results: Vec<OrderResult>,
    /// How many were found.
    pub results_number_all: u64,
    /// Set when some were not found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Fault>,
}

/// `PUT orders/orders` answer.
#[derive(Debug, Serialize)]
pub struct PutAnswer {
    /// Lower-case here.
    pub results: PutResults,
}

/// `results` of a PUT.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PutResults {
    /// One outcome per order.
    pub orders_results: Vec<PutOutcome>,
}

/// One order's outcome.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PutOutcome {
    /// The order's id, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    /// The order's serial number, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_serial_number: Option<u64>,
    /// The order's status after the call, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_status: Option<String>,
    /// 0 when it worked.
    pub fault_code: i64,
    /// Empty when it worked.
    pub fault_string: String,
}

/// `GET orders/statuses` answer.
#[derive(Debug, Serialize)]
pub struct StatusesAnswer {
    /// The custom statuses.
    pub statuses: Vec<crate::statuses::CustomStatus>,
}

/// `GET orders/history` answer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryAnswer {
    /// Events, oldest first.
    pub history_events: Vec<HistoryEntry>,
    /// Set when the order does not exist.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Fault>,
}

/// One history event.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryEntry {
    /// When.
    pub event_date: String,
    /// Who.
    pub username: String,
    /// What.
    pub event_details: String,
}

impl HistoryEntry {
    /// The wire form of an event.
    pub fn from_event(e: &HistoryEvent) -> Self {
        HistoryEntry {
            event_date: clock::format(e.date),
            username: e.user.clone(),
            event_details: e.details.clone(),
        }
    }
}

/// One order in search and get answers.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderResult {
    /// `orderId`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    /// `orderSerialNumber`; absent on an entry for an order asked for by an unknown `orderId`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_serial_number: Option<u64>,
    /// `orderBridgeNote`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_bridge_note: Option<&'static str>,
    /// `orderType`: `n` (retail, placed in the shop).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_type: Option<&'static str>,
    /// `clientResult` (see [`crate::body`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_result: Option<serde_json::Value>,
    /// `orderDetails` (see [`crate::body`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_details: Option<serde_json::Value>,
    /// Set on a GET entry for an order that was not found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<Fault>>,
}

impl OrderResult {
    /// The wire form of an order: its full body.
    pub fn from_order(shop: &Shop, o: &Order) -> Self {
        OrderResult {
            order_id: Some(o.id.clone()),
            order_serial_number: Some(o.serial),
            order_bridge_note: Some(""),
            order_type: Some("n"),
            client_result: Some(crate::body::client_result(o)),
            order_details: Some(crate::body::order_details(shop, o)),
            errors: None,
        }
    }

    /// A GET entry for an order that does not exist, naming it as it was asked for.
    pub fn not_found(serial: Option<u64>, id: Option<String>) -> Self {
        OrderResult {
            order_id: id,
            order_serial_number: serial,
            order_bridge_note: None,
            order_type: None,
            client_result: None,
            order_details: None,
            errors: Some(vec![Fault::new(2, "Order not found")]),
        }
    }
}

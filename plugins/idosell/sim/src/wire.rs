//! The JSON shapes of the IdoSell Admin API order endpoints, as `orders-openapi-v6.json`
//! names them. Requests are read leniently (unknown fields are ignored, as the real API does);
//! answers carry the fields a client needs plus some of the customer, payment and product data a
//! real shop sends, which clients must tolerate.

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
#[serde(rename_all = "camelCase", default)]
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
#[serde(rename_all = "camelCase", default)]
pub struct OrderBy {
    /// `id` (serial number), `modification_time` or `adding_time`; other names are ignored.
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
    /// `orderSerialNumber`.
    pub order_serial_number: u64,
    /// `orderType`: `n` (retail, placed in the shop).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_type: Option<&'static str>,
    /// Customer data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_result: Option<ClientResult>,
    /// Order details.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_details: Option<OrderDetails>,
    /// Set on a GET entry for an order that was not found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<Fault>>,
}

/// `clientResult` (a small part of it).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientResult {
    /// `clientAccount`.
    pub client_account: ClientAccount,
    /// `clientBillingAddress`.
    pub client_billing_address: ClientAddress,
}

/// `clientAccount`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientAccount {
    /// Client id.
    pub client_id: u64,
    /// Client login.
    pub client_login: String,
    /// E-mail.
    pub client_email: String,
}

/// `clientBillingAddress`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientAddress {
    /// First name.
    pub client_first_name: &'static str,
    /// Last name.
    pub client_last_name: &'static str,
    /// City.
    pub client_city: &'static str,
    /// ISO country code.
    pub client_country_id: &'static str,
}

/// `orderDetails` (the status fields and a little more).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderDetails {
    /// The status code (a custom status reports its parent's code).
    pub order_status: &'static str,
    /// The status id (the custom status id for orders in one).
    pub order_status_id: u32,
    /// `YYYY-MM-DD HH:MM:SS`.
    pub order_add_date: String,
    /// `YYYY-MM-DD HH:MM:SS`.
    pub order_change_date: String,
    /// `none`.
    pub api_flag: &'static str,
    /// The order note.
    pub order_note: String,
    /// Payment data.
    pub payments: Payments,
    /// Products.
    pub products_results: Vec<ProductResult>,
}

/// `payments`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Payments {
    /// Payment type.
    pub order_payment_type: &'static str,
    /// Value in the order's currency.
    pub order_currency: OrderCurrency,
}

/// `orderCurrency`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderCurrency {
    /// `PLN`.
    pub currency_id: &'static str,
    /// Products cost.
    pub order_products_cost: f64,
    /// Shipping cost.
    pub order_delivery_cost: f64,
}

/// One product of an order.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductResult {
    /// Product id.
    pub product_id: u64,
    /// Product name.
    pub product_name: String,
    /// Quantity.
    pub product_quantity: f64,
    /// Gross price in the order's currency.
    pub product_order_price: f64,
}

const FIRST_NAMES: [&str; 6] = ["Anna", "Piotr", "Maria", "Jan", "Katarzyna", "Tomasz"];
const LAST_NAMES: [&str; 6] = [
    "Nowak",
    "Kowalski",
    "Wiśniewska",
    "Wójcik",
    "Kamińska",
    "Lewandowski",
];
const CITIES: [&str; 5] = ["Warszawa", "Kraków", "Poznań", "Gdańsk", "Wrocław"];

impl OrderResult {
    /// The wire form of an order, with made-up customer and product data derived from its
    /// serial number.
    pub fn from_order(shop: &Shop, o: &Order) -> Self {
        let n = o.serial as usize;
        let quantity = (n % 3 + 1) as f64;
        let price = 19.99 + (n % 50) as f64;
        OrderResult {
            order_id: Some(o.id.clone()),
            order_serial_number: o.serial,
            order_type: Some("n"),
            client_result: Some(ClientResult {
                client_account: ClientAccount {
                    client_id: 1000 + o.serial % 977,
                    client_login: format!("client{}", o.serial % 977),
                    client_email: format!("client{}@example.com", o.serial % 977),
                },
                client_billing_address: ClientAddress {
                    client_first_name: FIRST_NAMES[n % FIRST_NAMES.len()],
                    client_last_name: LAST_NAMES[n % LAST_NAMES.len()],
                    client_city: CITIES[n % CITIES.len()],
                    client_country_id: "PL",
                },
            }),
            order_details: Some(OrderDetails {
                order_status: shop.code_of(o.status_id),
                order_status_id: o.status_id,
                order_add_date: clock::format(o.added),
                order_change_date: clock::format(o.changed),
                api_flag: "none",
                order_note: o.note.clone(),
                payments: Payments {
                    order_payment_type: "prepaid",
                    order_currency: OrderCurrency {
                        currency_id: "PLN",
                        order_products_cost: price * quantity,
                        order_delivery_cost: 12.99,
                    },
                },
                products_results: vec![ProductResult {
                    product_id: 100 + (o.serial % 50),
                    product_name: format!("Product {}", o.serial % 50),
                    product_quantity: quantity,
                    product_order_price: price,
                }],
            }),
            errors: None,
        }
    }

    /// A GET entry for an order that does not exist.
    pub fn not_found(serial: Option<u64>, id: Option<String>) -> Self {
        OrderResult {
            order_id: id,
            order_serial_number: serial.unwrap_or(0),
            order_type: None,
            client_result: None,
            order_details: None,
            errors: Some(vec![Fault::new(2, "Order not found")]),
        }
    }
}

//! The parts of IdoSell's JSON answers the connector reads. Everything else (customer,
//! products, payments, fields added later) is ignored; numbers sent as strings are accepted.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// The `faultCode` of an empty search result.
pub const FAULT_EMPTY: i64 = 2;

fn lenient_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    })
}

fn lenient_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(lenient_i64(d)?.and_then(|n| u64::try_from(n).ok()))
}

fn lenient_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::String(s)) => Some(s),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

/// `{"faultCode": n, "faultString": "..."}` (an object, or the first of a list).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fault {
    /// The code.
    pub code: Option<i64>,
    /// The message.
    pub message: String,
}

impl Fault {
    /// Reads a fault from an `errors` value.
    pub fn from_value(v: &Value) -> Option<Fault> {
        let obj = match v {
            Value::Array(a) => a.first()?,
            other => other,
        };
        let code = match obj.get("faultCode")? {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        };
        let message = obj
            .get("faultString")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        Some(Fault { code, message })
    }
}

/// An answer to `POST orders/orders/search` or `GET orders/orders`.
#[derive(Debug, Default, Deserialize)]
pub struct OrdersAnswer {
    /// The orders (capital `R`).
    #[serde(rename = "Results", default)]
    pub results: Vec<OrderEntry>,
    /// How many match in all.
    #[serde(rename = "resultsNumberAll", default, deserialize_with = "lenient_u64")]
    pub total: Option<u64>,
    /// Set on 207 answers.
    #[serde(default)]
    pub errors: Option<Value>,
}

impl OrdersAnswer {
    /// The top-level fault, if any.
    pub fn fault(&self) -> Option<Fault> {
        self.errors.as_ref().and_then(Fault::from_value)
    }
}

/// One order of an answer.
#[derive(Debug, Default, Deserialize)]
pub struct OrderEntry {
    /// `orderId`.
    #[serde(rename = "orderId", default, deserialize_with = "lenient_string")]
    pub order_id: Option<String>,
    /// `orderSerialNumber`.
    #[serde(
        rename = "orderSerialNumber",
        default,
        deserialize_with = "lenient_u64"
    )]
    pub serial: Option<u64>,
    /// `orderDetails`.
    #[serde(rename = "orderDetails", default)]
    pub details: Option<OrderDetails>,
    /// Set on an entry for an order that could not be read.
    #[serde(default)]
    pub errors: Option<Value>,
}

impl OrderEntry {
    /// Whether the entry reports an error instead of an order.
    pub fn is_error(&self) -> bool {
        self.errors
            .as_ref()
            .and_then(Fault::from_value)
            .is_some_and(|f| f.code.is_some_and(|c| c != 0))
    }
}

/// The status fields of `orderDetails`.
#[derive(Debug, Default, Deserialize)]
pub struct OrderDetails {
    /// `orderStatus`.
    #[serde(rename = "orderStatus", default, deserialize_with = "lenient_string")]
    pub status: Option<String>,
    /// `orderStatusId`.
    #[serde(rename = "orderStatusId", default, deserialize_with = "lenient_i64")]
    pub status_id: Option<i64>,
    /// `orderAddDate`.
    #[serde(rename = "orderAddDate", default, deserialize_with = "lenient_string")]
    pub added: Option<String>,
    /// `orderChangeDate`.
    #[serde(
        rename = "orderChangeDate",
        default,
        deserialize_with = "lenient_string"
    )]
    pub changed: Option<String>,
}

/// An answer to `PUT orders/orders`.
#[derive(Debug, Default, Deserialize)]
pub struct PutAnswer {
    /// Lower-case `results`.
    #[serde(default)]
    pub results: Option<PutResults>,
    /// A top-level fault.
    #[serde(default)]
    pub errors: Option<Value>,
}

/// `results` of a PUT.
#[derive(Debug, Default, Deserialize)]
pub struct PutResults {
    /// One outcome per order.
    #[serde(rename = "ordersResults", default)]
    pub orders: Vec<PutOutcome>,
}

/// One order's outcome.
#[derive(Debug, Default, Deserialize)]
pub struct PutOutcome {
    /// `orderId`.
    #[serde(rename = "orderId", default, deserialize_with = "lenient_string")]
    pub order_id: Option<String>,
    /// `orderSerialNumber`.
    #[serde(
        rename = "orderSerialNumber",
        default,
        deserialize_with = "lenient_u64"
    )]
    pub serial: Option<u64>,
    /// `faultCode` (0 = done).
    #[serde(rename = "faultCode", default, deserialize_with = "lenient_i64")]
    pub fault_code: Option<i64>,
    /// `faultString`.
    #[serde(rename = "faultString", default, deserialize_with = "lenient_string")]
    pub fault_string: Option<String>,
}

/// An answer to `GET orders/statuses`.
#[derive(Debug, Default, Deserialize)]
pub struct StatusesAnswer {
    /// The custom statuses.
    #[serde(default)]
    pub statuses: Vec<StatusEntry>,
}

/// One custom status.
#[derive(Debug, Default, Deserialize)]
pub struct StatusEntry {
    /// `id`.
    #[serde(default, deserialize_with = "lenient_i64")]
    pub id: Option<i64>,
    /// `parentId`.
    #[serde(rename = "parentId", default, deserialize_with = "lenient_i64")]
    pub parent_id: Option<i64>,
    /// `panelName`.
    #[serde(rename = "panelName", default, deserialize_with = "lenient_string")]
    pub panel_name: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tolerates_extra_fields_and_stringly_numbers() {
        let a: OrdersAnswer = serde_json::from_value(json!({
            "Results": [{
                "orderId": "shop1-17", "orderSerialNumber": "17", "orderType": "n",
                "clientResult": { "clientAccount": { "clientId": 5 } },
                "orderDetails": { "orderStatus": "on_order", "orderStatusId": 3,
                    "orderAddDate": "2026-11-02 10:15:00", "orderChangeDate": "2026-11-03 08:00:12",
                    "productsResults": [{ "productId": 1 }], "somethingNew": { "x": 1 } }
            }],
            "resultsNumberAll": 1, "resultsNumberPage": 1, "resultsPage": 0, "resultsLimit": 100
        }))
        .expect("parses");
        let o = &a.results[0];
        assert_eq!(o.serial, Some(17));
        let d = o.details.as_ref().expect("details");
        assert_eq!(
            (d.status.as_deref(), d.status_id),
            (Some("on_order"), Some(3))
        );
        assert_eq!(a.total, Some(1));
        assert!(!o.is_error());
    }

    #[test]
    fn faults_as_objects_or_lists() {
        let a: OrdersAnswer = serde_json::from_value(json!({
            "errors": { "faultCode": 2, "faultString": "Wyszukiwarka zamówień: zwrócono pusty wynik" }
        }))
        .expect("parses");
        assert_eq!(a.fault().and_then(|f| f.code), Some(FAULT_EMPTY));
        let e: OrderEntry = serde_json::from_value(json!({
            "orderSerialNumber": 5, "errors": [{ "faultCode": 2, "faultString": "Order not found" }]
        }))
        .expect("parses");
        assert!(e.is_error());
    }
}

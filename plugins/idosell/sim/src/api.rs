//! The Admin API under `/api/admin/v{N}`: `POST orders/orders/search`, `GET orders/orders`,
//! `PUT orders/orders`, `GET orders/statuses` and `GET orders/history`, behind the gate that
//! counts requests, enforces the rate limit, checks `X-API-KEY` and injects faults.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{Query as QueryParams, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::{Deserialize, Serialize};

use crate::clock;
use crate::faults::Draw;
use crate::shop::{DateFilter, DateKind, Notify, Query, SortKey};
use crate::state::{AppState, SimConfig};
use crate::wire::{
    Envelope, ErrorsOnly, Fault, GetAnswer, HistoryAnswer, HistoryEntry, OrderResult, PutAnswer,
    PutOutcome, PutParams, PutResults, SearchAnswer, SearchParams, StatusesAnswer, EMPTY_RESULT,
};

/// The most orders one GET or PUT may name.
pub const MAX_BATCH: usize = 100;

/// The `x-error` a read-only key gets on a write.
pub const WRITE_SCOPE: &str = "Scope: orders, level: rw";

/// The API routes (without the gate).
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/admin/{version}/orders/orders/search", post(search))
        .route(
            "/api/admin/{version}/orders/orders",
            get(get_orders).put(put_orders),
        )
        .route("/api/admin/{version}/orders/statuses", get(statuses))
        .route("/api/admin/{version}/orders/history", get(history))
}

/// A JSON answer.
pub fn json<T: Serialize>(status: StatusCode, body: &T) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => (
            status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            bytes,
        )
            .into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

/// An answer that carries only `errors`.
pub fn fault(status: StatusCode, code: i64, message: impl Into<String>) -> Response {
    json(
        status,
        &ErrorsOnly {
            errors: Fault::new(code, message),
        },
    )
}

/// A request the API refuses as bad data (HTTP 422).
#[derive(Debug)]
pub struct Unprocessable(String);

impl IntoResponse for Unprocessable {
    fn into_response(self) -> Response {
        fault(StatusCode::UNPROCESSABLE_ENTITY, 422, self.0)
    }
}

fn unprocessable(message: impl Into<String>) -> Unprocessable {
    Unprocessable(message.into())
}

/// `(version, endpoint)` of an API path: `/api/admin/v6/orders/orders` → `(6, "/orders/orders")`.
fn split_path(path: &str) -> Option<(Option<u32>, &str)> {
    let rest = path.strip_prefix("/api/admin/")?;
    let (version, endpoint) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    Some((
        version.strip_prefix('v').and_then(|v| v.parse().ok()),
        endpoint,
    ))
}

/// The gate in front of every API request: counts it, then the rate limit (429), the API key
/// (401, or 403 for a write with a read-only key), then the injected faults.
pub async fn gate(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let Some((version, endpoint)) = split_path(&path) else {
        return next.run(req).await;
    };
    let endpoint = endpoint.to_owned();
    state.count(format!("{method} {endpoint}"));

    let response = gated(&state, version, &method, req, next).await;
    tracing::debug!(
        method = %method,
        endpoint = %endpoint,
        status = response.status().as_u16(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "api request"
    );
    response
}

async fn gated(
    state: &AppState,
    version: Option<u32>,
    method: &Method,
    req: Request,
    next: Next,
) -> Response {
    if !version.is_some_and(|v| state.config.versions.contains(&v)) {
        return fault(StatusCode::NOT_FOUND, 404, "No such API version");
    }
    if let Some(wait) = state.rate_check() {
        return too_many(wait);
    }
    let key = req
        .headers()
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let read_only = if !key.is_empty() && key == state.config.api_key {
        false
    } else if !key.is_empty() && state.config.readonly_key.as_deref() == Some(key) {
        true
    } else {
        return fault(StatusCode::UNAUTHORIZED, 401, "Invalid API key");
    };
    if read_only && *method != Method::GET && !req.uri().path().ends_with("/search") {
        let mut r = fault(StatusCode::FORBIDDEN, 403, "Access denied");
        r.headers_mut()
            .insert("x-error", HeaderValue::from_static(WRITE_SCOPE));
        return r;
    }
    let draw = state.faults().draw();
    match draw {
        Draw::TooMany(secs) => too_many(secs),
        Draw::ServerError(status) => fault(
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            status.into(),
            "Internal server error",
        ),
        Draw::Drop => dropped(),
        Draw::Handle { delay, malformed } => {
            if let Some(delay) = delay {
                tokio::time::sleep(delay).await;
            }
            let response = next.run(req).await;
            if malformed {
                garble(response).await
            } else {
                response
            }
        }
    }
}

fn too_many(retry_after: u64) -> Response {
    let mut r = fault(StatusCode::TOO_MANY_REQUESTS, 429, "Too many requests");
    if let Ok(v) = HeaderValue::from_str(&retry_after.to_string()) {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

/// An answer whose connection breaks after the first bytes.
fn dropped() -> Response {
    let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
        Ok(Bytes::from_static(b"{\"Results\": [")),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "simulated dropped connection",
        )),
    ];
    let body = Body::from_stream(futures_util::stream::iter(chunks));
    let mut r = Response::new(body);
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// The same answer with its body cut in half (and so not valid JSON).
async fn garble(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let cut = bytes.len() / 2;
    let mut garbled = bytes.slice(..cut).to_vec();
    garbled.extend_from_slice(b"\x00<html>");
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(garbled))
}

fn parse_body<T: serde::de::DeserializeOwned + Default>(body: &Bytes) -> Result<T, Unprocessable> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice::<Envelope<T>>(body)
        .map(|e| e.params.unwrap_or_default())
        .map_err(|e| unprocessable(format!("Invalid data format: {e}")))
}

/// The search parameters the simulator implements (dotted paths); every other one is refused.
pub const SEARCH_PARAMS: [&str; 15] = [
    "ordersStatuses",
    "ordersStatusesIds",
    "ordersSerialNumbers",
    "ordersIds",
    "ordersRange",
    "ordersRange.ordersDateRange",
    "ordersRange.ordersDateRange.ordersDateType",
    "ordersRange.ordersDateRange.ordersDatesTypes",
    "ordersRange.ordersDateRange.ordersDateBegin",
    "ordersRange.ordersDateRange.ordersDateEnd",
    "ordersRange.ordersSerialNumberRange",
    "ordersRange.ordersSerialNumberRange.ordersSerialNumberBegin",
    "ordersRange.ordersSerialNumberRange.ordersSerialNumberEnd",
    "ordersBy",
    "resultsPage",
];

/// The sort names (`ordersBy[].elementName`) the simulator implements.
pub const SORT_NAMES: [&str; 5] = ["sn", "id", "order_time", "adding_time", "modification_time"];

/// Dotted paths of the object keys in `value` that are not in `allowed` (`prefix` is the path
/// of `value`); arrays and the leaves of allowed keys are not entered.
fn unimplemented_params(value: &serde_json::Value, prefix: &str, allowed: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    if let serde_json::Value::Object(map) = value {
        for (key, child) in map {
            let path = if prefix.is_empty() {
                key.clone()
            } else {
                format!("{prefix}.{key}")
            };
            if allowed.contains(&path.as_str()) {
                out.extend(unimplemented_params(child, &path, allowed));
            } else {
                out.push(path);
            }
        }
    }
    out
}

/// Refuses search parameters the simulator does not implement, naming them (a test that
/// depends on one must not pass by accident).
fn check_search_params(body: &Bytes) -> Result<(), Unprocessable> {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
        return Ok(()); // the typed parse reports it
    };
    let Some(params) = value.get("params") else {
        return Ok(());
    };
    let mut allowed: Vec<&str> = SEARCH_PARAMS.to_vec();
    allowed.push("resultsLimit");
    let bad = unimplemented_params(params, "", &allowed);
    if bad.is_empty() {
        Ok(())
    } else {
        Err(unprocessable(format!(
            "search parameters not implemented by the simulator: {} (implemented: {}, resultsLimit)",
            bad.join(", "),
            SEARCH_PARAMS.join(", ")
        )))
    }
}

fn date_kind(name: &str) -> Result<DateKind, Unprocessable> {
    match name {
        "add" => Ok(DateKind::Added),
        "modified" => Ok(DateKind::Modified),
        "dispatch" | "payment" | "last_payments_operation" | "declared_payments" => {
            Err(unprocessable(format!(
                "ordersDateType {name} is not implemented by the simulator (implemented: add, modified)"
            )))
        }
        other => Err(unprocessable(format!("Unknown ordersDateType: {other}"))),
    }
}

fn to_query(p: SearchParams, config: &SimConfig) -> Result<Query, Unprocessable> {
    let limit = p.results_limit.unwrap_or(100);
    if !(1..=100).contains(&limit) {
        return Err(unprocessable("resultsLimit must be from 1 to 100"));
    }
    let page = p.results_page.unwrap_or(0);
    if page < 0 {
        return Err(unprocessable("resultsPage must not be negative"));
    }
    let mut q = Query {
        statuses: p.orders_statuses,
        status_ids: p.orders_statuses_ids,
        serials: p.orders_serial_numbers,
        ids: p.orders_ids,
        page: page as u64,
        limit: limit as u64,
        ..Query::default()
    };
    if let Some(range) = p.orders_range {
        if let Some(d) = range.orders_date_range {
            let kind_name = d.orders_date_type.or_else(|| {
                d.orders_dates_types
                    .and_then(|v| v.into_iter().find_map(|t| t.orders_dates_type))
            });
            let parse = |s: Option<String>| -> Result<Option<clock::Stamp>, Unprocessable> {
                match s {
                    None => Ok(None),
                    Some(s) if s.trim().is_empty() => Ok(None),
                    Some(s) => clock::parse(&s).map(Some).ok_or_else(|| {
                        unprocessable(format!("Invalid date (YYYY-MM-DD HH:MM:SS): {s}"))
                    }),
                }
            };
            let begin = parse(d.orders_date_begin)?;
            let mut end = parse(d.orders_date_end)?;
            if config.exclusive_date_end {
                // Dates are whole seconds: before `end` is up to the second before it.
                end = end.map(|e| e - 1);
            }
            if begin.is_some() || end.is_some() {
                let Some(kind_name) = kind_name else {
                    return Err(unprocessable(
                        "ordersDateType is required with a date range",
                    ));
                };
                q.dates = Some(DateFilter {
                    kind: date_kind(&kind_name)?,
                    begin,
                    end,
                });
            }
        }
        if let Some(s) = range.orders_serial_number_range {
            q.serial_range = (s.orders_serial_number_begin, s.orders_serial_number_end);
        }
    }
    if config.ignore_sort {
        q.order_by = vec![(SortKey::Scrambled, false)];
        return Ok(q);
    }
    for by in p.orders_by.unwrap_or_default() {
        let key = match by.element_name.as_str() {
            "sn" | "id" => SortKey::Serial,
            "modification_time" => SortKey::Modified,
            "order_time" | "adding_time" => SortKey::Added,
            other => {
                return Err(unprocessable(format!(
                    "ordersBy elementName {other:?} is not implemented by the simulator (implemented: {})",
                    SORT_NAMES.join(", ")
                )))
            }
        };
        let desc = match by
            .sort_direction
            .as_deref()
            .map(str::to_ascii_uppercase)
            .as_deref()
        {
            None | Some("ASC") => false,
            Some("DESC") => true,
            Some(other) => return Err(unprocessable(format!("Unknown sortDirection: {other}"))),
        };
        q.order_by.push((key, desc));
    }
    Ok(q)
}

async fn search(State(state): State<Arc<AppState>>, body: Bytes) -> Response {
    let query = match check_search_params(&body)
        .and_then(|()| parse_body::<SearchParams>(&body))
        .and_then(|p| to_query(p, &state.config))
    {
        Ok(q) => q,
        Err(r) => return r.into_response(),
    };
    let answer = {
        let shop = state.shop();
        let page = shop.search(&query);
        if page.serials.is_empty() {
            None
        } else {
            let results = page
                .serials
                .iter()
                .filter_map(|s| shop.order(*s))
                .map(|o| OrderResult::from_order(&shop, o))
                .collect();
            Some(SearchAnswer {
                results,
                results_number_all: page.total,
                results_number_page: page.total.div_ceil(query.limit),
                results_page: query.page,
                results_limit: query.limit,
            })
        }
    };
    match answer {
        Some(a) => json(StatusCode::OK, &a),
        None => fault(StatusCode::MULTI_STATUS, 2, EMPTY_RESULT),
    }
}

/// `GET orders/orders` query parameters (arrays comma-joined).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct GetParams {
    orders_serial_numbers: Option<String>,
    orders_ids: Option<String>,
}

fn split_list(text: &Option<String>) -> Vec<String> {
    text.as_deref()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

async fn get_orders(
    State(state): State<Arc<AppState>>,
    params: Result<QueryParams<GetParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let params = match params {
        Ok(QueryParams(params)) => params,
        Err(e) => {
            return unprocessable(format!(
                "query parameters not implemented by the simulator ({}; implemented: ordersSerialNumbers, ordersIds)",
                e.body_text()
            ))
            .into_response()
        }
    };
    let serials = split_list(&params.orders_serial_numbers);
    let ids = split_list(&params.orders_ids);
    if serials.is_empty() && ids.is_empty() {
        return unprocessable("Give ordersSerialNumbers or ordersIds").into_response();
    }
    if serials.len() + ids.len() > MAX_BATCH {
        return unprocessable("You can transfer a maximum of 100 items").into_response();
    }
    let mut numbers = Vec::with_capacity(serials.len());
    for s in &serials {
        match s.parse::<u64>() {
            Ok(n) => numbers.push(n),
            Err(_) => return unprocessable(format!("Not a serial number: {s}")).into_response(),
        }
    }
    let shop = state.shop();
    let mut results = Vec::new();
    let mut found = 0u64;
    for n in numbers {
        match shop.order(n) {
            Some(o) => {
                found += 1;
                results.push(OrderResult::from_order(&shop, o));
            }
            None => results.push(OrderResult::not_found(Some(n), None)),
        }
    }
    for id in ids {
        match shop.serial_of(&id).and_then(|s| shop.order(s)) {
            Some(o) => {
                found += 1;
                results.push(OrderResult::from_order(&shop, o));
            }
            None => results.push(OrderResult::not_found(None, Some(id))),
        }
    }
    drop(shop);
    let missing = results.len() as u64 - found;
    let errors = (missing > 0).then(|| {
        if found == 0 {
            Fault::new(2, EMPTY_RESULT)
        } else {
            Fault::new(
                2,
                format!("{missing} of the orders asked for were not found"),
            )
        }
    });
    let status = if errors.is_some() {
        StatusCode::MULTI_STATUS
    } else {
        StatusCode::OK
    };
    json(
        status,
        &GetAnswer {
            results,
            results_number_all: found,
            errors,
        },
    )
}

async fn put_orders(State(state): State<Arc<AppState>>, body: Bytes) -> Response {
    let params = match parse_body::<PutParams>(&body) {
        Ok(p) => p,
        Err(r) => return r.into_response(),
    };
    let orders = params.orders.unwrap_or_default();
    if orders.is_empty() {
        return unprocessable("params.orders must list at least one order").into_response();
    }
    if orders.len() > MAX_BATCH {
        return unprocessable("You can change at most 100 orders in one call").into_response();
    }
    let now = clock::now();
    let mut outcomes = Vec::with_capacity(orders.len());
    let mut shop = state.shop();
    for item in orders {
        let serial = item
            .order_serial_number
            .or_else(|| item.order_id.as_deref().and_then(|id| shop.serial_of(id)));
        let Some(serial) = serial.filter(|s| shop.order(*s).is_some()) else {
            let (code, message) = if item.order_serial_number.is_none() && item.order_id.is_none() {
                (
                    1,
                    "Not specified Id or serial number of the order".to_owned(),
                )
            } else {
                (1, "Order not found".to_owned())
            };
            outcomes.push(PutOutcome {
                order_id: item.order_id,
                order_serial_number: item.order_serial_number,
                order_status: None,
                fault_code: code,
                fault_string: message,
            });
            continue;
        };
        let result = if state.faults().batch_order_fails() {
            Err(crate::statuses::Refusal::new(
                4,
                "An error occurred during attempt to change order status.",
            ))
        } else {
            let target = match (item.order_status_id, item.order_status.as_deref()) {
                (Some(id), _) => shop.resolve_id(id).map(Some),
                (None, Some(code)) => shop.resolve_code(code).map(Some),
                (None, None) => Ok(None),
            };
            let notify = item.settings.as_ref().map_or(
                Notify {
                    mail: true,
                    sms: true,
                },
                |s| Notify {
                    mail: s.dont_send_mail.as_deref() != Some("y"),
                    sms: s.dont_send_sms.as_deref() != Some("y"),
                },
            );
            target.and_then(|t| match t {
                Some(status_id) => shop
                    .set_status(serial, status_id, now, "api", notify, true)
                    .map(drop),
                None => Ok(()),
            })
        };
        if result.is_ok() {
            if let Some(note) = &item.order_note {
                shop.edit_note(serial, note, now, "api");
            }
        }
        let order = shop.order(serial);
        let (code, message) = match result {
            Ok(()) => (0, String::new()),
            Err(r) => (r.code, r.message),
        };
        outcomes.push(PutOutcome {
            order_id: order.map(|o| o.id.clone()),
            order_serial_number: Some(serial),
            order_status: order.map(|o| shop.code_of(o.status_id).to_owned()),
            fault_code: code,
            fault_string: message,
        });
    }
    drop(shop);
    let status = if outcomes.iter().all(|o| o.fault_code == 0) {
        StatusCode::OK
    } else {
        StatusCode::MULTI_STATUS
    };
    json(
        status,
        &PutAnswer {
            results: PutResults {
                orders_results: outcomes,
            },
        },
    )
}

async fn statuses(State(state): State<Arc<AppState>>) -> Response {
    let statuses = state.shop().custom_statuses().cloned().collect();
    json(StatusCode::OK, &StatusesAnswer { statuses })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct HistoryParams {
    order_serial_number: Option<String>,
}

async fn history(
    State(state): State<Arc<AppState>>,
    params: Result<QueryParams<HistoryParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let serial = params
        .ok()
        .and_then(|QueryParams(p)| p.order_serial_number)
        .and_then(|s| s.trim().parse::<u64>().ok());
    let Some(serial) = serial else {
        return unprocessable("orderSerialNumber is required").into_response();
    };
    let shop = state.shop();
    let Some(order) = shop.order(serial) else {
        return json(
            StatusCode::MULTI_STATUS,
            &HistoryAnswer {
                history_events: Vec::new(),
                errors: Some(Fault::new(2, "Order not found")),
            },
        );
    };
    let mut events = vec![HistoryEntry {
        event_date: clock::format(order.added),
        username: "client".into(),
        event_details: "Order placed".into(),
    }];
    events.extend(order.history.iter().map(HistoryEntry::from_event));
    json(
        StatusCode::OK,
        &HistoryAnswer {
            history_events: events,
            errors: None,
        },
    )
}

/// The answer to a path outside both APIs.
pub async fn not_found() -> Result<Response, Infallible> {
    Ok(fault(StatusCode::NOT_FOUND, 404, "Not found"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_paths_split_into_version_and_endpoint() {
        assert_eq!(
            split_path("/api/admin/v6/orders/orders/search"),
            Some((Some(6), "/orders/orders/search"))
        );
        assert_eq!(split_path("/api/admin/vX/orders"), Some((None, "/orders")));
        assert_eq!(split_path("/_sim/counters"), None);
    }
}

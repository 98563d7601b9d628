//! `reconcile --link L [--fix]`: compare every order in the link's scope on both sides (a
//! listing, not the change feed), report the orders whose statuses do not correspond under the
//! mapping and why the feed did not fix them, and with `fix` queue the writes decide asks for
//! through the normal outbox (the next cycle applies them; nothing is written directly).
//!
//! The listing comes from the side that knows the scope: the ERP for `unfulfilled` (no sales
//! document yet), the shop for `recent` (created in the window), through the connector's `list`
//! (ABI 1.2). A connector without [`Capability::List`] falls back to the orders the link has
//! seen, read by key. The request cost is the connectors' API usage before and after.

use std::collections::HashMap;

use orderlink_plugin_api::model::{Capability, ListRequest, OrderState};
use serde::Serialize;

use super::compare::connector_err;
use super::compare::{read_keys, verdict, Held, SourceVerdict};
use super::ServiceError;
use crate::domain::{AuditAction, Scope, Side};
use crate::engine::commit::{audit, decisions_to_commit};
use crate::engine::cycle::{known, pending, CycleReport};
use crate::engine::decide::Decision;
use crate::engine::LinkPlan;
use crate::store::{DeadLetter, StateStore};

/// Pages of a listing read at most (100 orders each).
const MAX_LIST_PAGES: usize = 10_000;

/// One order whose statuses do not correspond.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Drift {
    /// Order key.
    pub key: String,
    /// The shop's status now (None: not in the shop).
    pub shop_status: Option<String>,
    /// The ERP's status now (None: not in the ERP).
    pub erp_status: Option<String>,
    /// The side that should change, if one should.
    pub target: Option<Side>,
    /// The status it should have.
    pub wanted: Option<String>,
    /// Why the feed did not fix it: `protected`, `not mapped`, `out of scope: ...`,
    /// `not in the shop`, `never seen by the feed`, `change not yet read`, `changed outside
    /// orderlink`, `pending write`, `dead letter`, ...
    pub cause: String,
    /// The same, in a sentence.
    pub detail: String,
    /// Whether `--fix` queues a write for it.
    pub fixable: bool,
    /// Whether this run queued that write.
    pub queued: bool,
}

/// Requests one endpoint made during the reconcile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EndpointCost {
    /// The endpoint.
    pub endpoint: String,
    /// Its side.
    pub side: Side,
    /// API requests made.
    pub requests: u64,
}

/// What a reconcile found (and queued).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReconcileReport {
    /// The link.
    pub link: String,
    /// How the orders in scope were found.
    pub listing: String,
    /// Orders compared.
    pub compared: usize,
    /// Orders whose statuses correspond.
    pub in_sync: usize,
    /// The rest, with why.
    pub drift: Vec<Drift>,
    /// Whether writes were queued (`--fix`).
    pub fix: bool,
    /// Writes queued.
    pub queued: usize,
    /// API requests per endpoint (the connectors' own count, before and after).
    pub cost: Vec<EndpointCost>,
}

/// The side that knows the link's scope, and the listing request for it.
fn lister(plan: &LinkPlan) -> (Side, ListRequest) {
    match plan.link.scope {
        Scope::Unfulfilled => (
            Side::Erp,
            ListRequest {
                limit: 100,
                unfulfilled_only: true,
                ..ListRequest::default()
            },
        ),
        Scope::CreatedWithinDays(_) => (
            Side::Shop,
            ListRequest {
                limit: 100,
                created_since: plan.link.scope.window_start(chrono::Utc::now()),
                ..ListRequest::default()
            },
        ),
    }
}

/// The orders in scope on the listing side, and how they were found.
fn list_scope(
    plan: &LinkPlan,
    store: &dyn StateStore,
) -> Result<(Side, Vec<OrderState>, String), ServiceError> {
    let (side, request) = lister(plan);
    let ep = plan.endpoint(side);
    let what = if request.unfulfilled_only {
        "unfulfilled orders"
    } else {
        "orders created in the window"
    };
    if ep.can(Capability::List) {
        let mut orders = Vec::new();
        let mut cursor = None;
        for _ in 0..MAX_LIST_PAGES {
            let page = ep
                .connector
                .list(&ListRequest {
                    cursor: cursor.clone(),
                    ..request.clone()
                })
                .map_err(connector_err(plan, side))?;
            orders.extend(page.orders);
            cursor = page.next_cursor;
            if cursor.is_none() {
                break;
            }
        }
        let how = format!("{} listing of {what}", ep.connector_name);
        return Ok((side, orders, how));
    }
    let keys = store.known_keys(&plan.link.name)?;
    let now = chrono::Utc::now();
    let start = plan.link.scope.window_start(now);
    let mut orders: Vec<OrderState> = read_keys(plan, side, &keys)?
        .into_values()
        .filter(|o| {
            (!request.unfulfilled_only || o.fulfilled != Some(true))
                && start.is_none_or(|s| o.created_at.is_none_or(|c| c >= s))
        })
        .collect();
    orders.sort_by(|a, b| a.key.cmp(&b.key));
    let how = format!(
        "{} cannot list: the {} orders the link has seen, read by key, {what} kept",
        ep.connector_name,
        keys.len()
    );
    Ok((side, orders, how))
}

/// Why the feed left a drifting order alone, for a verdict that would write (`source_name`: the
/// source's connector). Pure: a dead letter, a pending write, an order the feed never
/// reported, a change the feed has not read yet, or a target changed outside orderlink.
pub fn cause_of_write(
    source_name: &str,
    v: &SourceVerdict,
    held: &Held,
    dead: Option<&DeadLetter>,
) -> (String, String) {
    let target = v.target;
    if let Some(d) = dead {
        return (
            "dead letter".into(),
            format!(
                "writing {} to {} failed for good ({}: {}); dead letter {}",
                d.status,
                target.the(),
                d.code,
                d.reason,
                d.id
            ),
        );
    }
    let pending = match target {
        Side::Shop => held.pending_shop.as_ref(),
        Side::Erp => held.pending_erp.as_ref(),
    };
    if let Some(p) = pending {
        return (
            "pending write".into(),
            format!(
                "a write of {} into {} is pending (for source status {})",
                p.status,
                target.the(),
                p.source_status
            ),
        );
    }
    let Some(k) = &held.known else {
        return (
            "never seen by the feed".into(),
            format!("the {source_name} feed has never reported this order to the link"),
        );
    };
    if v.feed_has_change {
        return ("change not yet read".into(), v.feed_note.clone());
    }
    match (k.seen(target), v.target_status.as_deref()) {
        (Some(seen), Some(now)) if seen != now => (
            "changed outside orderlink".into(),
            format!(
                "{} was {seen} when the link last saw it and is {now} now; the link follows only the {source_name} feed",
                target.the(),
            ),
        ),
        _ => (
            "unexplained".into(),
            "the feed saw the current source status and nothing is pending".into(),
        ),
    }
}

/// A skip verdict in a sentence (`source_name`: the source's connector).
fn skip_detail(source_name: &str, v: &SourceVerdict, reason: &str) -> String {
    let target_status = v.target_status.as_deref().unwrap_or("-");
    match reason {
        "not mapped" => format!(
            "{source_name} status {} has no line in the mapping into {}",
            v.source_status,
            v.target.the()
        ),
        "protected" => format!(
            "{} status {target_status} is protected: never overwritten",
            v.target.the()
        ),
        _ => format!(
            "{} status {target_status} is left alone: {reason}",
            v.target.the()
        ),
    }
}

/// Compares every order in scope on both sides; with `fix`, queues the writes decide asks for.
pub fn reconcile(
    plan: &LinkPlan,
    store: &dyn StateStore,
    fix: bool,
) -> Result<ReconcileReport, ServiceError> {
    let link = plan.link.name.clone();
    let before = [Side::Shop, Side::Erp].map(|s| plan.endpoint(s).connector.api_usage().requests);
    let (listed_side, listed, listing) = list_scope(plan, store)?;
    let keys: Vec<String> = listed.iter().map(|o| o.key.clone()).collect();
    let other = read_keys(plan, listed_side.other(), &keys)?;
    let knowns = known(store, &link, &keys)?;
    let mut pend_shop = pending(store, &link, Side::Shop, &keys)?;
    let mut pend_erp = pending(store, &link, Side::Erp, &keys)?;
    let dead: HashMap<String, DeadLetter> = store
        .dead_letters(Some(&link))?
        .into_iter()
        .map(|d| (d.key.clone(), d))
        .collect();
    let now = chrono::Utc::now();
    let sources = plan.link.direction.sources();
    let mut drift = Vec::new();
    let mut in_sync = 0;
    let mut to_queue: Vec<(OrderState, Decision)> = Vec::new();
    for l in &listed {
        let o = other.get(&l.key);
        let (shop, erp) = match listed_side {
            Side::Shop => (Some(l), o),
            Side::Erp => (o, Some(l)),
        };
        if let (Some(s), Some(e)) = (shop, erp) {
            if plan.mapping.in_sync(&s.status, &e.status) {
                in_sync += 1;
                continue;
            }
        }
        let held = Held {
            known: knowns.get(&l.key).cloned(),
            pending_shop: pend_shop.remove(&l.key),
            pending_erp: pend_erp.remove(&l.key),
        };
        // Each source side of the link: what decide says if its feed reported the order now.
        let mut verdicts = Vec::new();
        for source in &sources {
            let (src, tgt) = match source {
                Side::Shop => (shop, erp),
                Side::Erp => (erp, shop),
            };
            if let Some(src) = src {
                if let Some((d, v)) = verdict(plan, *source, src, tgt, &held, now) {
                    verdicts.push((src.clone(), d, v));
                }
            }
        }
        // With both directions, the side with an unread change speaks first, then the winner.
        verdicts.sort_by_key(|(_, _, v)| {
            (
                !(v.writes() && v.feed_has_change),
                v.source != plan.link.conflict_winner,
            )
        });
        let mut item = Drift {
            key: l.key.clone(),
            shop_status: shop.map(|s| s.status.clone()),
            erp_status: erp.map(|e| e.status.clone()),
            target: None,
            wanted: None,
            cause: String::new(),
            detail: String::new(),
            fixable: false,
            queued: false,
        };
        match verdicts.into_iter().next() {
            None => {
                let missing = if shop.is_none() {
                    Side::Shop
                } else {
                    Side::Erp
                };
                item.cause = format!("not in {}", missing.the());
                item.detail = format!(
                    "{} does not know order {}",
                    plan.endpoint(missing).connector_name,
                    l.key
                );
            }
            Some((src, d, v)) => {
                item.target = Some(v.target);
                item.wanted = v.wanted.clone();
                match v.action.as_str() {
                    "write" => {
                        let (cause, detail) = cause_of_write(
                            &plan.endpoint(v.source).connector_name,
                            &v,
                            &held,
                            dead.get(&l.key),
                        );
                        item.cause = cause;
                        item.detail = detail;
                        item.fixable = true;
                        if fix {
                            item.queued = true;
                            to_queue.push((src, d));
                        }
                    }
                    "keep" => {
                        item.cause = "pending write".into();
                        item.detail = format!(
                            "a write of {} into {} is pending; the next cycle flushes it",
                            v.wanted.as_deref().unwrap_or("?"),
                            v.target.the()
                        );
                    }
                    _ => {
                        let reason = v.skip_reason.clone().unwrap_or_default();
                        item.detail =
                            skip_detail(&plan.endpoint(v.source).connector_name, &v, &reason);
                        item.cause = reason;
                    }
                }
            }
        }
        drift.push(item);
    }
    let queued = to_queue.len();
    if !to_queue.is_empty() {
        let orders: Vec<OrderState> = to_queue.iter().map(|(o, _)| o.clone()).collect();
        let decisions: Vec<Decision> = to_queue.into_iter().map(|(_, d)| d).collect();
        let mut scratch = CycleReport::default();
        let none = std::collections::HashMap::new();
        let mut commit = decisions_to_commit(plan, &orders, &decisions, &none, &mut scratch);
        for e in &mut commit.outbox {
            e.reason = format!("reconcile: {}", e.reason);
        }
        // Queued writes are recorded below, as reconcile's.
        let queued_text = AuditAction::Queued.to_string();
        let mut records: Vec<_> = commit
            .audit
            .into_iter()
            .filter(|a| a.action != queued_text)
            .collect();
        for d in &decisions {
            records.push(audit(
                plan,
                d,
                AuditAction::Queued,
                format!(
                    "reconcile: {} status {}",
                    plan.endpoint(d.source).connector_name,
                    d.source_status
                ),
            ));
        }
        let lease = store.lease(&link)?;
        store.queue_writes(&lease, &commit.outbox, &commit.drop_pending, &records)?;
    }
    let cost = [Side::Shop, Side::Erp]
        .into_iter()
        .zip(before)
        .map(|(side, b)| {
            let ep = plan.endpoint(side);
            EndpointCost {
                endpoint: ep.name.clone(),
                side,
                requests: ep.connector.api_usage().requests.saturating_sub(b),
            }
        })
        .collect();
    Ok(ReconcileReport {
        link,
        listing,
        compared: listed.len(),
        in_sync,
        drift,
        fix,
        queued,
        cost,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::decide::{Known, Pending};

    fn write_verdict(feed_has_change: bool) -> SourceVerdict {
        SourceVerdict {
            source: Side::Erp,
            target: Side::Shop,
            source_status: "Potwierdzony".into(),
            target_status: Some("suspended".into()),
            wanted: Some("on_order".into()),
            action: "write".into(),
            skip_reason: None,
            feed_has_change,
            feed_note: "the feed has a change to report".into(),
        }
    }

    fn known(shop: &str) -> Option<Known> {
        Some(Known {
            shop_status: Some(shop.into()),
            erp_status: Some("Potwierdzony".into()),
            ..Known::default()
        })
    }

    fn dead() -> DeadLetter {
        DeadLetter {
            id: 4,
            link: "l".into(),
            target: "shop".into(),
            key: "7".into(),
            status: "on_order".into(),
            source_status: "Potwierdzony".into(),
            code: "permanent".into(),
            reason: "refused".into(),
            attempts: 1,
            at: "2026-11-30T10:00:00Z".into(),
        }
    }

    #[test]
    fn why_the_feed_left_a_fixable_drift_alone() {
        let cases: Vec<(&str, Held, bool, Option<DeadLetter>, &str)> = vec![
            (
                "dead letter first",
                Held {
                    known: known("on_order"),
                    ..Held::default()
                },
                false,
                Some(dead()),
                "dead letter",
            ),
            (
                "pending write",
                Held {
                    known: known("on_order"),
                    pending_shop: Some(Pending {
                        status: "on_order".into(),
                        source_status: "Potwierdzony".into(),
                        from_status: None,
                    }),
                    ..Held::default()
                },
                false,
                None,
                "pending write",
            ),
            (
                "never reported",
                Held::default(),
                true,
                None,
                "never seen by the feed",
            ),
            (
                "unread change",
                Held {
                    known: known("on_order"),
                    ..Held::default()
                },
                true,
                None,
                "change not yet read",
            ),
            (
                "target changed by hand",
                Held {
                    known: known("on_order"),
                    ..Held::default()
                },
                false,
                None,
                "changed outside orderlink",
            ),
            (
                "nothing to blame",
                Held {
                    known: known("suspended"),
                    ..Held::default()
                },
                false,
                None,
                "unexplained",
            ),
        ];
        for (name, held, change, dead, want) in cases {
            let (cause, detail) =
                cause_of_write("enova365", &write_verdict(change), &held, dead.as_ref());
            assert_eq!(cause, want, "{name}: {detail}");
            assert!(!detail.is_empty(), "{name}");
        }
    }
}

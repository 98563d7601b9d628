//! One order's two sides compared under a link's rules: what the engine's decide function says
//! about it for each source side of the link, and whether that side's feed still has a change
//! of it to report. `explain` and `reconcile` both stand on this.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use orderlink_plugin_api::model::{OrderState, ReadRequest};
use orderlink_plugin_api::ConnectorError;
use serde::Serialize;

use crate::domain::{Direction, Side};
use crate::engine::decide::{decide, Action, Decision, Known, Page, Pending};
use crate::engine::LinkPlan;

use super::ServiceError;

/// Maps a connector error of a link's side to a service error naming the endpoint.
pub fn connector_err(plan: &LinkPlan, side: Side) -> impl Fn(ConnectorError) -> ServiceError + '_ {
    move |source| ServiceError::Connector {
        endpoint: plan.endpoint(side).name.clone(),
        source,
    }
}

/// Reads orders of one side by key, in batches of the link's size.
pub fn read_keys(
    plan: &LinkPlan,
    side: Side,
    keys: &[String],
) -> Result<HashMap<String, OrderState>, ServiceError> {
    let ep = plan.endpoint(side);
    let mut out = HashMap::new();
    for chunk in keys.chunks(plan.link.batch_size.max(1) as usize) {
        let resp = ep
            .connector
            .read(&ReadRequest {
                keys: chunk.to_vec(),
            })
            .map_err(connector_err(plan, side))?;
        out.extend(resp.orders.into_iter().map(|o| (o.key.clone(), o)));
    }
    Ok(out)
}

/// What the store and outbox hold about one order, as decisions see it.
#[derive(Debug, Clone, Default)]
pub struct Held {
    /// What the store last saw and wrote.
    pub known: Option<Known>,
    /// The pending write into the shop.
    pub pending_shop: Option<Pending>,
    /// The pending write into the ERP.
    pub pending_erp: Option<Pending>,
}

impl Held {
    fn pending_into(&self, side: Side) -> Option<&Pending> {
        match side {
            Side::Shop => self.pending_shop.as_ref(),
            Side::Erp => self.pending_erp.as_ref(),
        }
    }
}

/// What decide says for an order read from one source side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceVerdict {
    /// The side read.
    pub source: Side,
    /// The side that would be written.
    pub target: Side,
    /// The source's status now.
    pub source_status: String,
    /// The target's status now (None: the target lacks the order).
    pub target_status: Option<String>,
    /// The status the mapping asks the target to have, if it maps the source status.
    pub wanted: Option<String>,
    /// `write`, `keep` (a pending write already asks exactly this) or `skip`.
    pub action: String,
    /// Why it would be left alone, for `skip`.
    pub skip_reason: Option<String>,
    /// Whether the source's feed still has a change of this order to report (the status now
    /// differs from the one the link last saw there, or the link never saw it).
    pub feed_has_change: bool,
    /// One sentence about the feed's view.
    pub feed_note: String,
}

impl SourceVerdict {
    /// Whether decide would queue a write.
    pub fn writes(&self) -> bool {
        self.action == "write"
    }
}

/// Decides, for an order read now from `source`, what the link's rules say. Returns the typed
/// decision (for committing) and its serialisable verdict (None only if decide returned no
/// decision, which it does not: one per order).
pub fn verdict(
    plan: &LinkPlan,
    source: Side,
    source_order: &OrderState,
    target_order: Option<&OrderState>,
    held: &Held,
    now: DateTime<Utc>,
) -> Option<(Decision, SourceVerdict)> {
    let key = source_order.key.clone();
    let target = source.other();
    let rules = plan.rules();
    let known: HashMap<String, Known> = held
        .known
        .clone()
        .map(|k| (key.clone(), k))
        .into_iter()
        .collect();
    let target_map: HashMap<String, OrderState> = target_order
        .cloned()
        .map(|t| (key.clone(), t))
        .into_iter()
        .collect();
    let one = |p: Option<&Pending>| -> HashMap<String, Pending> {
        p.cloned().map(|p| (key.clone(), p)).into_iter().collect()
    };
    let pending = one(held.pending_into(target));
    let opposite = if plan.link.direction == Direction::Both {
        one(held.pending_into(source))
    } else {
        HashMap::new()
    };
    let orders = [source_order.clone()];
    let decision = decide(
        &rules,
        &Page {
            source,
            orders: &orders,
            known: &known,
            target: &target_map,
            pending: &pending,
            opposite: &opposite,
            now,
        },
    )
    .into_iter()
    .next()?;
    let last_seen = held.known.as_ref().and_then(|k| k.seen(source));
    let name = &plan.endpoint(source).connector_name;
    let (feed_has_change, feed_note) = match last_seen {
        None => (
            true,
            format!("the {name} feed has never reported this order to the link"),
        ),
        Some(s) if s != source_order.status => (
            true,
            format!(
                "the {name} feed has a change to report: last seen {s}, now {}",
                source_order.status
            ),
        ),
        Some(s) => (
            false,
            format!("unchanged in {name} since the link last saw it ({s}): its feed will not report it until it changes"),
        ),
    };
    let (action, skip_reason) = match &decision.action {
        Action::Write(_) => ("write", None),
        Action::Keep => ("keep", None),
        Action::Skip(r) => ("skip", Some(r.to_string())),
    };
    let v = SourceVerdict {
        source,
        target,
        source_status: source_order.status.clone(),
        target_status: target_order.map(|t| t.status.clone()),
        wanted: decision.wanted.as_ref().map(ToString::to_string),
        action: action.to_owned(),
        skip_reason,
        feed_has_change,
        feed_note,
    };
    Some((decision, v))
}

//! What happens to a page of orders: one pure function from what was fetched (the source's
//! orders, what the store knows, the target's current state, the pending writes) to typed
//! decisions. No I/O: the cycle, the flush, `explain` and `reconcile` fetch, call it and (some)
//! commit what it says.
//!
//! The rules, in the order they apply to an order read from a source side:
//! 1. **own echo**: the source status is the one the host itself last wrote there;
//! 2. **not mapped**: the mapping has no line for the source status;
//! 3. **out of scope: fulfilled**: into the shop with scope `unfulfilled`, the ERP issued a
//!    sales document;
//! 4. **target missing**: the target does not know the order;
//! 5. **out of scope: older than the window**: into the shop with scope `recent`, the shop order
//!    was created before the window;
//! 6. **in sync**: the two statuses correspond under the mapping (either table maps one to the
//!    other);
//! 7. **protected**: the target's status is protected;
//! 8. **conflict** (direction `both`): a write the other way is pending, or the target changed
//!    since last seen (and not by the host): the configured winner's change goes; the loser's is
//!    dropped (when the source wins) or left alone (when the target wins);
//! 9. otherwise **write** the mapped status, with the target's status as read as the
//!    compare-and-set precondition.
//!
//! A newer source state always supersedes a pending write for the same order and target: the
//! write is replaced by the new decision's write, or dropped when the new decision is to leave
//! the target alone (rules 1-8). A pending write that already asks exactly what the new decision
//! would ask is kept as is (with its retry schedule).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use orderlink_plugin_api::model::OrderState;

use crate::domain::{Direction, Scope, Side, SkipReason, StatusCode};
use crate::mapping::Mapping;

/// The rules of one link that decisions follow.
#[derive(Debug, Clone, Copy)]
pub struct Rules<'a> {
    /// Which way statuses flow.
    pub direction: Direction,
    /// Which orders the direction into the shop may touch.
    pub scope: Scope,
    /// With `both`: whose change wins a conflict.
    pub conflict_winner: Side,
    /// The mapping, resolved to codes.
    pub mapping: &'a Mapping,
    /// Shop status codes never overwritten.
    pub protected_shop: &'a HashSet<String>,
    /// ERP status codes never overwritten.
    pub protected_erp: &'a HashSet<String>,
}

impl Rules<'_> {
    fn protected(&self, side: Side) -> &HashSet<String> {
        match side {
            Side::Shop => self.protected_shop,
            Side::Erp => self.protected_erp,
        }
    }
}

/// What the store knows of one order on a link.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Known {
    /// Last status seen in the shop.
    pub shop_status: Option<String>,
    /// Last status seen in the ERP.
    pub erp_status: Option<String>,
    /// The status the host last wrote to the shop and has not yet seen come back.
    pub shop_written: Option<String>,
    /// The status the host last wrote to the ERP and has not yet seen come back.
    pub erp_written: Option<String>,
}

impl Known {
    /// The last status seen on a side.
    pub fn seen(&self, side: Side) -> Option<&str> {
        match side {
            Side::Shop => self.shop_status.as_deref(),
            Side::Erp => self.erp_status.as_deref(),
        }
    }

    /// The status the host last wrote to a side (not yet seen back).
    pub fn written(&self, side: Side) -> Option<&str> {
        match side {
            Side::Shop => self.shop_written.as_deref(),
            Side::Erp => self.erp_written.as_deref(),
        }
    }
}

/// A write waiting in the outbox, as decisions see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// The status it sets.
    pub status: String,
    /// The source status it came from.
    pub source_status: String,
    /// The target status it expects (the one read when it was decided).
    pub from_status: Option<String>,
}

/// One page of orders from a source side and everything fetched to decide about them.
#[derive(Debug, Clone, Copy)]
pub struct Page<'a> {
    /// The side the orders come from; the other side is the target.
    pub source: Side,
    /// The source's orders (their current state).
    pub orders: &'a [OrderState],
    /// What the store knows, by key.
    pub known: &'a HashMap<String, Known>,
    /// The target's current state, by key: at least every key of [`keys_to_read`]; a key
    /// absent here is an order the target does not know.
    pub target: &'a HashMap<String, OrderState>,
    /// Pending writes into the target, by key.
    pub pending: &'a HashMap<String, Pending>,
    /// Pending writes into the source (the other way), by key; only matters with `both`.
    pub opposite: &'a HashMap<String, Pending>,
    /// Now (for the `recent` window).
    pub now: DateTime<Utc>,
}

/// A status write to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Write {
    /// The status to set.
    pub status: StatusCode,
    /// Compare-and-set: the target's status as read.
    pub expected_status: StatusCode,
    /// The target's version token as read, if it has one.
    pub expected_version: Option<String>,
    /// With `both`: this write won a conflict.
    pub won_conflict: bool,
}

/// What to do about one order's target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Queue this write (replacing any pending one for the order and target).
    Write(Write),
    /// A pending write already asks exactly this: leave it, and its retry schedule, alone.
    Keep,
    /// Leave the target alone (dropping any pending write for it).
    Skip(SkipReason),
}

/// The decision about one order read from a source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Order key.
    pub key: String,
    /// The side the order was read from.
    pub source: Side,
    /// Its status there.
    pub source_status: StatusCode,
    /// The target's status as read (`None` when not read or missing).
    pub target_status: Option<StatusCode>,
    /// The status the mapping asks for, if it maps the source status.
    pub wanted: Option<StatusCode>,
    /// What to do.
    pub action: Action,
    /// The pending write into the target this decision supersedes: replaced by a
    /// [`Action::Write`], dropped by a [`Action::Skip`].
    pub superseded: Option<Pending>,
    /// With `both`, a conflict the source won: the pending write into the source, dropped.
    pub drops_opposite: Option<Pending>,
}

impl Decision {
    /// The side written (or left alone).
    pub fn target(&self) -> Side {
        self.source.other()
    }

    /// Why the target was left alone, if it was.
    pub fn skip_reason(&self) -> Option<SkipReason> {
        match self.action {
            Action::Skip(r) => Some(r),
            _ => None,
        }
    }
}

/// Rules 1-3, which need nothing of the target: the status wanted there, or why not.
fn screen(
    rules: &Rules<'_>,
    source: Side,
    order: &OrderState,
    known: Option<&Known>,
) -> Result<StatusCode, SkipReason> {
    let target = source.other();
    if known.and_then(|k| k.written(source)) == Some(order.status.as_str()) {
        return Err(SkipReason::OwnEcho);
    }
    let Some(wanted) = rules
        .mapping
        .target_for(target == Side::Shop, &order.status)
    else {
        return Err(SkipReason::NotMapped);
    };
    if target == Side::Shop && rules.scope == Scope::Unfulfilled && order.fulfilled == Some(true) {
        return Err(SkipReason::OutOfScopeFulfilled);
    }
    Ok(StatusCode::from(wanted))
}

/// The keys of a page whose target state a decision needs (the rest are decided without it).
pub fn keys_to_read(
    rules: &Rules<'_>,
    source: Side,
    orders: &[OrderState],
    known: &HashMap<String, Known>,
) -> Vec<String> {
    orders
        .iter()
        .filter(|o| screen(rules, source, o, known.get(&o.key)).is_ok())
        .map(|o| o.key.clone())
        .collect()
}

/// Rules 4-9 for an order that passed the screen.
fn against_target(
    rules: &Rules<'_>,
    page: &Page<'_>,
    order: &OrderState,
    wanted: &StatusCode,
    t: &OrderState,
) -> (Action, bool) {
    let source = page.source;
    let target = source.other();
    if let (Side::Shop, Some(start)) = (target, rules.scope.window_start(page.now)) {
        if t.created_at.is_some_and(|c| c < start) {
            return (Action::Skip(SkipReason::OutOfScopeOld), false);
        }
    }
    let (shop, erp) = match source {
        Side::Shop => (order.status.as_str(), t.status.as_str()),
        Side::Erp => (t.status.as_str(), order.status.as_str()),
    };
    if rules.mapping.in_sync(shop, erp) {
        return (Action::Skip(SkipReason::InSync), false);
    }
    if rules.protected(target).contains(&t.status) {
        return (Action::Skip(SkipReason::Protected), false);
    }
    let mut won_conflict = false;
    if rules.direction == Direction::Both {
        let known = page.known.get(&order.key);
        let last_seen = known.and_then(|k| k.seen(target));
        let last_written = known.and_then(|k| k.written(target));
        let target_changed =
            last_seen.is_some_and(|s| s != t.status) && last_written != Some(t.status.as_str());
        if page.opposite.contains_key(&order.key) || target_changed {
            if rules.conflict_winner == source {
                won_conflict = true;
            } else {
                let lost = SkipReason::ConflictLost {
                    winner: rules.conflict_winner,
                };
                return (Action::Skip(lost), false);
            }
        }
    }
    let write = Write {
        status: wanted.clone(),
        expected_status: StatusCode::from(t.status.as_str()),
        expected_version: t.version.clone(),
        won_conflict,
    };
    let unchanged = page.pending.get(&order.key).is_some_and(|p| {
        p.status == write.status.as_str()
            && p.source_status == order.status
            && p.from_status.as_deref() == Some(t.status.as_str())
    });
    if unchanged {
        (Action::Keep, won_conflict)
    } else {
        (Action::Write(write), won_conflict)
    }
}

/// Decides about every order of a page. Pure: the same inputs give the same decisions.
pub fn decide(rules: &Rules<'_>, page: &Page<'_>) -> Vec<Decision> {
    page.orders
        .iter()
        .map(|order| decide_one(rules, page, order))
        .collect()
}

fn decide_one(rules: &Rules<'_>, page: &Page<'_>, order: &OrderState) -> Decision {
    let known = page.known.get(&order.key);
    let t = page.target.get(&order.key);
    let mut target_status = None;
    let mut wanted = None;
    let (action, won) = match screen(rules, page.source, order, known) {
        Err(reason) => (Action::Skip(reason), false),
        Ok(w) => {
            let decided = match t {
                None => (
                    Action::Skip(SkipReason::TargetMissing {
                        target: page.source.other(),
                    }),
                    false,
                ),
                Some(t) => {
                    target_status = Some(StatusCode::from(t.status.as_str()));
                    against_target(rules, page, order, &w, t)
                }
            };
            wanted = Some(w);
            decided
        }
    };
    let superseded = match action {
        Action::Keep => None,
        _ => page.pending.get(&order.key).cloned(),
    };
    let drops_opposite = if won {
        page.opposite.get(&order.key).cloned()
    } else {
        None
    };
    Decision {
        key: order.key.clone(),
        source: page.source,
        source_status: StatusCode::from(order.status.as_str()),
        target_status,
        wanted,
        action,
        superseded,
        drops_opposite,
    }
}

/// Whether a pending write may still be sent, checked right before sending it against the
/// latest source state the store knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BeforeSend {
    /// Send it.
    Send,
    /// The source has moved on since the write was decided: drop it (the newer state is
    /// decided on its own).
    Superseded {
        /// The source's latest known status.
        source_now: String,
    },
}

/// Checks a pending write into `target` against what the store knows of the order right now.
pub fn before_send(target: Side, pending: &Pending, known: Option<&Known>) -> BeforeSend {
    match known.and_then(|k| k.seen(target.other())) {
        Some(now) if now != pending.source_status => BeforeSend::Superseded {
            source_now: now.to_owned(),
        },
        _ => BeforeSend::Send,
    }
}

#[cfg(test)]
mod tests;

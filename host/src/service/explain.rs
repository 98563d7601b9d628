//! `explain --order N`: read both systems now and say what the next cycle would do with the
//! order, and why. Reads only; writes nothing anywhere.

use orderlink_plugin_api::model::OrderState;
use serde::Serialize;

use super::compare::{read_keys, verdict, Held, SourceVerdict};
use super::ServiceError;
use crate::domain::Side;
use crate::engine::cycle::{known, pending};
use crate::engine::LinkPlan;
use crate::store::order_trail::PendingWrite;
use crate::store::{DeadLetter, StateStore};

/// One side's order as read now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SideNow {
    /// The side.
    pub side: Side,
    /// The endpoint.
    pub endpoint: String,
    /// Whether the system knows the order.
    pub found: bool,
    /// Its status code.
    pub status: Option<String>,
    /// Whether a sales document exists, where the system knows.
    pub fulfilled: Option<bool>,
    /// When it was created, where the system knows.
    pub created_at: Option<String>,
}

/// What the next cycle would do with an order, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Explanation {
    /// The link.
    pub link: String,
    /// Order key.
    pub key: String,
    /// The shop's order now.
    pub shop: SideNow,
    /// The ERP's order now.
    pub erp: SideNow,
    /// Whether the two statuses correspond under the mapping.
    pub in_sync: bool,
    /// For each source side of the link: what decide says if that side's feed reports it.
    pub verdicts: Vec<SourceVerdict>,
    /// Writes waiting in the outbox.
    pub pending: Vec<PendingWrite>,
    /// Writes that failed for good.
    pub dead_letters: Vec<DeadLetter>,
    /// What the next cycle would do, one sentence each.
    pub next_cycle: Vec<String>,
}

fn side_now(plan: &LinkPlan, side: Side, o: Option<&OrderState>) -> SideNow {
    SideNow {
        side,
        endpoint: plan.endpoint(side).name.clone(),
        found: o.is_some(),
        status: o.map(|o| o.status.clone()),
        fulfilled: o.and_then(|o| o.fulfilled),
        created_at: o.and_then(|o| o.created_at).map(|t| t.to_rfc3339()),
    }
}

/// What decide's action means, in words.
pub fn action_words(v: &SourceVerdict) -> String {
    let target = v.target.the();
    match v.action.as_str() {
        "write" => format!(
            "sets {target} {} -> {}",
            v.target_status.as_deref().unwrap_or("?"),
            v.wanted.as_deref().unwrap_or("?")
        ),
        "keep" => format!(
            "keeps the pending write into {target} ({})",
            v.wanted.as_deref().unwrap_or("?")
        ),
        _ => format!(
            "leaves {target} alone: {}",
            v.skip_reason.as_deref().unwrap_or("?")
        ),
    }
}

/// Reads both sides of an order now and says what the next cycle would do.
pub fn explain(
    plan: &LinkPlan,
    store: &dyn StateStore,
    key: &str,
) -> Result<Explanation, ServiceError> {
    let link = &plan.link.name;
    let keys = [key.to_owned()];
    let shop = read_keys(plan, Side::Shop, &keys)?.remove(key);
    let erp = read_keys(plan, Side::Erp, &keys)?.remove(key);
    let held = Held {
        known: known(store, link, &keys)?.remove(key),
        pending_shop: pending(store, link, Side::Shop, &keys)?.remove(key),
        pending_erp: pending(store, link, Side::Erp, &keys)?.remove(key),
    };
    let pending_writes = store.outbox_list(Some(link), Some(key))?;
    let dead_letters: Vec<DeadLetter> = store
        .dead_letters(Some(link))?
        .into_iter()
        .filter(|d| d.key == key)
        .collect();
    let in_sync = match (&shop, &erp) {
        (Some(s), Some(e)) => plan.mapping.in_sync(&s.status, &e.status),
        _ => false,
    };
    let now = chrono::Utc::now();
    let mut verdicts = Vec::new();
    let mut next_cycle = Vec::new();
    for p in &pending_writes {
        next_cycle.push(format!(
            "flushes the pending write: sets {} to {} (attempt {}{})",
            p.target.the(),
            p.status,
            p.attempts + 1,
            p.last_error
                .as_deref()
                .map(|e| format!("; last error: {e}"))
                .unwrap_or_default()
        ));
    }
    for source in plan.link.direction.sources() {
        let (src, tgt) = match source {
            Side::Shop => (shop.as_ref(), erp.as_ref()),
            Side::Erp => (erp.as_ref(), shop.as_ref()),
        };
        let name = &plan.endpoint(source).connector_name;
        let Some(src) = src else {
            next_cycle.push(format!(
                "nothing from {}: {name} does not know order {key}",
                source.the()
            ));
            continue;
        };
        let Some((_, v)) = verdict(plan, source, src, tgt, &held, now) else {
            continue;
        };
        let words = action_words(&v);
        next_cycle.push(if v.feed_has_change {
            format!("reads it from the {name} feed and {words} ({})", v.feed_note)
        } else {
            format!(
                "leaves it alone: {}; if it changed, or after `orderlink resync --link {link} --order {key}`, the cycle {words}",
                v.feed_note
            )
        });
        verdicts.push(v);
    }
    for d in &dead_letters {
        next_cycle.push(format!(
            "does not retry dead letter {} ({}: {}); `orderlink dead-letters retry {}` does",
            d.id, d.code, d.reason, d.id
        ));
    }
    Ok(Explanation {
        link: link.clone(),
        key: key.to_owned(),
        shop: side_now(plan, Side::Shop, shop.as_ref()),
        erp: side_now(plan, Side::Erp, erp.as_ref()),
        in_sync,
        verdicts,
        pending: pending_writes,
        dead_letters,
        next_cycle,
    })
}

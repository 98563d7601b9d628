//! One sync cycle of a link: pull each source feed page by page, decide per order, commit the
//! page (order snapshots + outbox + cursor) in one transaction, then flush the outbox.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};

use orderlink_plugin_api::model::{ChangesRequest, OrderState, ReadRequest};
use orderlink_plugin_api::ConnectorError;

use super::plan::LinkPlan;
use crate::config::{Direction, Scope, Side};
use crate::store::{now_text, AuditEntry, OutboxEntry, SeenOrder, Store, StoreError};

/// Pages pulled from one feed in one cycle at most (the rest waits for the next cycle).
pub const MAX_PAGES_PER_CYCLE: usize = 500;

/// A status write the cycle queued (or, in a dry run, would queue).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    /// The side to write.
    pub target: Side,
    /// Order key.
    pub key: String,
    /// The target's status now.
    pub from: Option<String>,
    /// The status to set.
    pub to: String,
    /// Why.
    pub reason: String,
}

/// What a cycle did.
#[derive(Debug, Default)]
pub struct CycleReport {
    /// Orders read from the feeds.
    pub pulled: usize,
    /// Writes queued (or planned in a dry run).
    pub queued: Vec<Planned>,
    /// Writes applied: (target, key, from, to).
    pub applied: Vec<Planned>,
    /// Orders left alone, by reason.
    pub skipped: BTreeMap<String, usize>,
    /// Writes scheduled for a retry.
    pub retried: usize,
    /// Writes that became dead letters.
    pub dead: usize,
    /// The first error that cut the cycle short.
    pub error: Option<String>,
}

/// A failure that stops a cycle early.
#[derive(Debug, thiserror::Error)]
pub enum CycleError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A connector failed.
    #[error("{endpoint}: {source}")]
    Connector {
        /// The endpoint.
        endpoint: String,
        /// The error.
        source: ConnectorError,
    },
}

impl CycleReport {
    /// Counts an order left alone for a reason.
    pub(crate) fn skip(&mut self, why: &str) {
        *self.skipped.entry(why.to_owned()).or_default() += 1;
    }
}

fn side_name(plan: &LinkPlan, side: Side) -> &str {
    &plan.endpoint(side).connector_name
}

/// Runs one cycle. Stops between batches when `stop` is set.
pub fn run_cycle(
    plan: &LinkPlan,
    store: &mut Store,
    stop: &AtomicBool,
    dry_run: bool,
) -> CycleReport {
    let mut report = CycleReport::default();
    let started = std::time::Instant::now();
    let mut sources = Vec::new();
    if plan.link.direction.into_shop() {
        sources.push(Side::Erp);
    }
    if plan.link.direction.into_erp() {
        sources.push(Side::Shop);
    }
    let mut result = Ok(());
    for source in sources {
        result = pull(plan, store, source, stop, dry_run, &mut report);
        if result.is_err() {
            break;
        }
    }
    if result.is_ok() && !dry_run {
        for target in [Side::Shop, Side::Erp] {
            let flows = match target {
                Side::Shop => plan.link.direction.into_shop(),
                Side::Erp => plan.link.direction.into_erp(),
            };
            if flows {
                result = super::flush::flush(plan, store, target, stop, &mut report);
                if result.is_err() {
                    break;
                }
            }
        }
    }
    if let Err(e) = result {
        let endpoint = match &e {
            CycleError::Connector { endpoint, .. } => endpoint.as_str(),
            CycleError::Store(_) => "",
        };
        tracing::warn!(link = %plan.link.name, endpoint, "cycle cut short: {e}");
        report.error = Some(e.to_string());
    }
    if !dry_run {
        let ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        if let Err(e) = store.record_cycle(&plan.link.name, ms, report.error.as_deref()) {
            tracing::warn!(link = %plan.link.name, "cannot record the cycle: {e}");
        }
    }
    report
}

fn pull(
    plan: &LinkPlan,
    store: &mut Store,
    source: Side,
    stop: &AtomicBool,
    dry_run: bool,
    report: &mut CycleReport,
) -> Result<(), CycleError> {
    let link = &plan.link.name;
    let src = plan.endpoint(source);
    let mut cursor = store.cursor(link, source)?;
    for _ in 0..MAX_PAGES_PER_CYCLE {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let page = src
            .connector
            .changes(&ChangesRequest {
                cursor: cursor.clone(),
                limit: 100,
            })
            .map_err(|source| CycleError::Connector {
                endpoint: src.name.clone(),
                source,
            })?;
        report.pulled += page.orders.len();
        let decided = decide_page(plan, store, source, &page.orders, report)?;
        report.queued.extend(decided.outbox.iter().map(|e| Planned {
            target: e.target,
            key: e.key.clone(),
            from: e.from_status.clone(),
            to: e.status.clone(),
            reason: e.reason.clone(),
        }));
        if !dry_run {
            store.commit_page(
                link,
                source,
                &page.next_cursor,
                &decided.seen,
                &decided.outbox,
                &decided.drop_pending,
                &decided.audit,
            )?;
        }
        cursor = Some(page.next_cursor);
        if !page.has_more {
            break;
        }
    }
    Ok(())
}

#[derive(Default)]
struct Decided {
    seen: Vec<SeenOrder>,
    outbox: Vec<OutboxEntry>,
    drop_pending: Vec<(Side, String)>,
    audit: Vec<AuditEntry>,
}

/// Reads the target's current state of some orders, in batches of the link's size.
pub fn read_target(
    plan: &LinkPlan,
    target: Side,
    keys: &[String],
) -> Result<HashMap<String, OrderState>, CycleError> {
    let ep = plan.endpoint(target);
    let mut out = HashMap::new();
    for chunk in keys.chunks(plan.link.batch_size as usize) {
        let resp = ep
            .connector
            .read(&ReadRequest {
                keys: chunk.to_vec(),
            })
            .map_err(|source| CycleError::Connector {
                endpoint: ep.name.clone(),
                source,
            })?;
        out.extend(resp.orders.into_iter().map(|o| (o.key.clone(), o)));
    }
    Ok(out)
}

/// Why a target status may not be overwritten now, if it may not.
pub fn blocked(
    plan: &LinkPlan,
    target: Side,
    shop_status: &str,
    erp_status: &str,
    target_status: &str,
) -> Option<&'static str> {
    if plan.mapping.in_sync(shop_status, erp_status) {
        Some("in sync")
    } else if plan.protected(target).contains(target_status) {
        Some("skipped: protected")
    } else {
        None
    }
}

fn decide_page(
    plan: &LinkPlan,
    store: &Store,
    source: Side,
    orders: &[OrderState],
    report: &mut CycleReport,
) -> Result<Decided, CycleError> {
    let link = &plan.link.name;
    let target = source.other();
    let into_shop = target == Side::Shop;
    let keys: Vec<String> = orders.iter().map(|o| o.key.clone()).collect();
    let known = store.orders(link, &keys)?;
    let mut d = Decided::default();
    let mut candidates: Vec<(&OrderState, String)> = Vec::new();
    for o in orders {
        let row = known.get(&o.key);
        let written = row.and_then(|r| match source {
            Side::Shop => r.shop_written.as_deref(),
            Side::Erp => r.erp_written.as_deref(),
        });
        d.seen.push(SeenOrder {
            key: o.key.clone(),
            id: o.id.clone(),
            status: o.status.clone(),
            created_at: o.created_at.map(|t| t.to_rfc3339()),
            fulfilled: o.fulfilled,
        });
        if written == Some(o.status.as_str()) {
            report.skip("own echo");
            continue;
        }
        let Some(wanted) = plan.mapping.target_for(into_shop, &o.status) else {
            report.skip("not mapped");
            continue;
        };
        if into_shop && plan.link.scope == Scope::Unfulfilled && o.fulfilled == Some(true) {
            report.skip("out of scope: fulfilled");
            continue;
        }
        candidates.push((o, wanted.to_owned()));
    }
    if candidates.is_empty() {
        return Ok(d);
    }
    let cand_keys: Vec<String> = candidates.iter().map(|(o, _)| o.key.clone()).collect();
    let current = read_target(plan, target, &cand_keys)?;
    let both = plan.link.direction == Direction::Both;
    let opposite = if both {
        store.pending_for(link, source, &cand_keys)?
    } else {
        HashMap::new()
    };
    let now = chrono::Utc::now();
    for (o, wanted) in candidates {
        let Some(t) = current.get(&o.key) else {
            report.skip(if into_shop {
                "not in the shop"
            } else {
                "not in the ERP"
            });
            continue;
        };
        if let (true, Scope::CreatedWithinDays(days)) = (into_shop, plan.link.scope) {
            let old = t
                .created_at
                .map(|c| c < now - chrono::Duration::days(i64::from(days)))
                .unwrap_or(false);
            if old {
                report.skip("out of scope: older than the window");
                continue;
            }
        }
        let (shop_status, erp_status) = match source {
            Side::Shop => (o.status.as_str(), t.status.as_str()),
            Side::Erp => (t.status.as_str(), o.status.as_str()),
        };
        if let Some(why) = blocked(plan, target, shop_status, erp_status, &t.status) {
            report.skip(why);
            if why == "skipped: protected" {
                d.audit
                    .push(audit(plan, o, target, &t.status, &wanted, why));
            }
            continue;
        }
        if both {
            let row = known.get(&o.key);
            let (last_seen, last_written) = match target {
                Side::Shop => (
                    row.and_then(|r| r.shop_status.as_deref()),
                    row.and_then(|r| r.shop_written.as_deref()),
                ),
                Side::Erp => (
                    row.and_then(|r| r.erp_status.as_deref()),
                    row.and_then(|r| r.erp_written.as_deref()),
                ),
            };
            let target_changed =
                last_seen.is_some_and(|s| s != t.status) && last_written != Some(t.status.as_str());
            if opposite.contains_key(&o.key) || target_changed {
                if plan.link.conflict_winner == source {
                    d.drop_pending.push((source, o.key.clone()));
                    d.audit.push(audit(
                        plan,
                        o,
                        target,
                        &t.status,
                        &wanted,
                        &format!(
                            "conflict: both sides changed, {} wins",
                            side_name(plan, source)
                        ),
                    ));
                } else {
                    report.skip("conflict: the other side wins");
                    d.audit.push(audit(
                        plan,
                        o,
                        target,
                        &t.status,
                        &wanted,
                        &format!(
                            "skipped: conflict, both sides changed, {} wins",
                            side_name(plan, target)
                        ),
                    ));
                    continue;
                }
            }
        }
        d.outbox.push(OutboxEntry {
            id: 0,
            target,
            key: o.key.clone(),
            status: wanted.clone(),
            from_status: Some(t.status.clone()),
            source_status: o.status.clone(),
            expected_version: t.version.clone(),
            reason: format!(
                "{} status {} -> {}",
                side_name(plan, source),
                o.status,
                wanted
            ),
            attempts: 0,
        });
    }
    Ok(d)
}

fn audit(
    plan: &LinkPlan,
    o: &OrderState,
    target: Side,
    from: &str,
    to: &str,
    action: &str,
) -> AuditEntry {
    AuditEntry {
        at: now_text(),
        link: plan.link.name.clone(),
        key: o.key.clone(),
        target: target.as_str().to_owned(),
        from_status: Some(from.to_owned()),
        to_status: to.to_owned(),
        action: action.to_owned(),
        why: format!("{} status {}", side_name(plan, target.other()), o.status),
    }
}

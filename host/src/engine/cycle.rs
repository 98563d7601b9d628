//! One sync cycle of a link: pull each source feed page by page, decide (`decide.rs`), commit
//! each page (order snapshots + outbox + cursor) in one transaction, then flush the outbox into
//! each target (`flush.rs`).
//!
//! A side that fails rests (per-side backoff, `health.rs`); the other side is still read and
//! still gets its pending writes.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use orderlink_plugin_api::model::{ChangesRequest, OrderState, ReadRequest};
use orderlink_plugin_api::ConnectorError;

use super::commit::{decisions_to_commit, Planned};
use super::decide::{decide, keys_to_read, Known, Page, Pending};
use super::plan::LinkPlan;
use crate::domain::{Side, SkipReason};
use crate::store::{CycleRecord, Lease, PageCommit, StateStore, StoreError};

/// Pages pulled from one feed in one cycle at most (the rest waits for the next cycle).
pub const MAX_PAGES_PER_CYCLE: usize = 500;

/// Orders asked per feed page.
pub const PAGE_SIZE: u32 = 100;

/// What a cycle did.
#[derive(Debug, Default)]
pub struct CycleReport {
    /// Orders read from the feeds.
    pub pulled: usize,
    /// Orders read by sweeps (listings of every order in scope).
    pub swept: usize,
    /// Writes queued (or planned in a dry run).
    pub queued: Vec<Planned>,
    /// Writes applied.
    pub applied: Vec<Planned>,
    /// Orders left alone, by reason.
    pub skipped: BTreeMap<SkipReason, usize>,
    /// Pending writes dropped because a newer source state superseded them.
    pub superseded: usize,
    /// Writes scheduled for a retry.
    pub retried: usize,
    /// Writes that became dead letters.
    pub dead: usize,
    /// Each failing side and its error, in the order they failed.
    pub side_errors: Vec<(Side, String)>,
    /// The first error of the cycle (one of `side_errors`, or the store's).
    pub error: Option<String>,
    /// A feed held changes back: poll again after this long rather than a whole interval.
    pub poll_after: Option<Duration>,
    /// A feed still had changes when the cycle's page budget ran out: the next cycle should
    /// start at once.
    pub more: bool,
    /// This host no longer holds the link's lease (another host took it over, or it ran out
    /// before a batch of remote writes): the link stops here and goes to its next owner.
    pub lease_lost: bool,
}

impl CycleReport {
    /// Counts an order left alone for a reason.
    pub(crate) fn skip(&mut self, why: SkipReason) {
        *self.skipped.entry(why).or_default() += 1;
    }

    /// Whether the cycle read, queued, wrote, dropped, retried or dead-lettered anything.
    pub fn did_work(&self) -> bool {
        self.pulled > 0
            || !self.queued.is_empty()
            || !self.applied.is_empty()
            || self.superseded > 0
            || self.retried > 0
            || self.dead > 0
            || self.skipped.values().any(|n| *n > 0)
    }

    fn fail(&mut self, e: &CycleError) {
        if let CycleError::Connector { side, .. } = e {
            self.side_errors.push((*side, e.to_string()));
        }
        if e.is_lease_lost() {
            self.lease_lost = true;
        }
        if self.error.is_none() {
            self.error = Some(e.to_string());
        }
    }
}

/// A failure that stops part of a cycle.
#[derive(Debug, thiserror::Error)]
pub enum CycleError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A connector failed.
    #[error("{endpoint}: {source}")]
    Connector {
        /// The side whose endpoint failed.
        side: Side,
        /// The endpoint.
        endpoint: String,
        /// The error.
        source: ConnectorError,
    },
    /// The link's lease would not last through a batch of remote writes (with the store's
    /// margin): the batch is not sent.
    #[error("link `{link}`: the lease runs out too soon to send a batch of writes; the link goes to its next owner")]
    LeaseRunningOut {
        /// The link.
        link: String,
    },
}

impl CycleError {
    /// Whether the error means this host no longer holds the link.
    pub fn is_lease_lost(&self) -> bool {
        matches!(
            self,
            CycleError::LeaseRunningOut { .. }
                | CycleError::Store(StoreError::Fenced { .. } | StoreError::NotHeld { .. })
        )
    }
}

/// Runs one cycle. Stops between batches when `stop` is set. Sides resting after failures are
/// not called; a side that fails now starts resting. Writes carry the link's `lease`.
pub fn run_cycle(
    plan: &LinkPlan,
    store: &dyn StateStore,
    lease: &Lease,
    stop: &AtomicBool,
    dry_run: bool,
) -> CycleReport {
    let mut report = CycleReport::default();
    let started = Instant::now();
    // A side still resting after failures is still failing: its last error stands.
    for side in Side::BOTH {
        if let (false, Some(e)) = (plan.due(side), plan.last_error(side)) {
            report.side_errors.push((side, e.clone()));
            report.error.get_or_insert(e);
        }
    }
    for source in plan.link.direction.sources() {
        if !plan.due(source) || !plan.due(source.other()) {
            continue;
        }
        let first_sync = matches!(store.cursor(&plan.link.name, source), Ok(None));
        let pulled = pull(plan, store, lease, source, stop, dry_run, &mut report).and_then(|()| {
            if super::sweep::wanted(plan, source, first_sync) {
                super::sweep::sweep(plan, store, lease, source, stop, dry_run, &mut report)
            } else {
                Ok(())
            }
        });
        match pulled {
            Ok(()) => plan.succeeded(source),
            Err(e) => failed(plan, &e, &mut report),
        }
    }
    if !dry_run {
        for target in plan.link.direction.targets() {
            if !plan.due(target) {
                continue;
            }
            match super::flush::flush(plan, store, lease, target, stop, &mut report) {
                Ok(true) => plan.succeeded(target),
                Ok(false) => {}
                Err(e) => failed(plan, &e, &mut report),
            }
        }
    }
    if !dry_run {
        let ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        let record = CycleRecord {
            ms,
            error: report.error.clone(),
            did_work: report.did_work(),
        };
        if let Err(e) = store.record_cycle(lease, &record) {
            tracing::warn!(link = %plan.link.name, "cannot record the cycle: {e}");
        }
    }
    report
}

fn failed(plan: &LinkPlan, e: &CycleError, report: &mut CycleReport) {
    tracing::warn!(link = %plan.link.name, "{e}");
    if let CycleError::Connector { side, source, .. } = e {
        plan.failed(*side, source.retry_after, e.to_string());
    }
    report.fail(e);
}

fn pull(
    plan: &LinkPlan,
    store: &dyn StateStore,
    lease: &Lease,
    source: Side,
    stop: &AtomicBool,
    dry_run: bool,
    report: &mut CycleReport,
) -> Result<(), CycleError> {
    let link = &plan.link.name;
    let src = plan.endpoint(source);
    let mut cursor = store.cursor(link, source)?;
    let mut progress = plan.resume_progress(source, super::progress::Pull::Feed);
    let mut more = true;
    for _ in 0..MAX_PAGES_PER_CYCLE {
        if stop.load(Ordering::SeqCst) {
            // The cursor is saved with every page: the next start goes on from here.
            progress.stopped("the next start goes on from there");
            return Ok(());
        }
        let page = src
            .connector
            .changes(&ChangesRequest {
                cursor: cursor.clone(),
                limit: PAGE_SIZE,
            })
            .map_err(|e| connector_error(plan, source, e))?;
        report.pulled += page.orders.len();
        progress.page(page.orders.len(), None);
        if let Some(ms) = page.poll_after_ms {
            let after = Duration::from_millis(ms);
            report.poll_after = Some(report.poll_after.map_or(after, |p| p.min(after)));
        }
        let commit = decide_page(plan, store, source, &page.orders, report)?;
        if !dry_run {
            store.commit_page(
                lease,
                &PageCommit {
                    source,
                    next_cursor: &page.next_cursor,
                    seen: &commit.seen,
                    outbox: &commit.outbox,
                    drop_pending: &commit.drop_pending,
                    audit: &commit.audit,
                },
            )?;
        }
        cursor = Some(page.next_cursor);
        if !page.has_more {
            more = false;
            break;
        }
    }
    progress.finish(more);
    if more {
        plan.keep_progress(progress);
    }
    report.more |= more;
    Ok(())
}

/// The connector error of a side, as a cycle error.
pub(crate) fn connector_error(plan: &LinkPlan, side: Side, source: ConnectorError) -> CycleError {
    CycleError::Connector {
        side,
        endpoint: plan.endpoint(side).name.clone(),
        source,
    }
}

/// Reads the target's current state of some orders, in batches of the link's size.
pub fn read_target(
    plan: &LinkPlan,
    target: Side,
    keys: &[String],
) -> Result<HashMap<String, OrderState>, CycleError> {
    let ep = plan.endpoint(target);
    let mut out = HashMap::new();
    for chunk in keys.chunks(plan.link.batch_size.max(1) as usize) {
        let resp = ep
            .connector
            .read(&ReadRequest {
                keys: chunk.to_vec(),
            })
            .map_err(|e| connector_error(plan, target, e))?;
        out.extend(resp.orders.into_iter().map(|o| (o.key.clone(), o)));
    }
    Ok(out)
}

/// What the store knows of some orders, as decisions see it.
pub(crate) fn known(
    store: &dyn StateStore,
    link: &str,
    keys: &[String],
) -> Result<HashMap<String, Known>, StoreError> {
    Ok(store
        .orders(link, keys)?
        .into_iter()
        .map(|(k, r)| {
            (
                k,
                Known {
                    shop_status: r.shop_status,
                    erp_status: r.erp_status,
                    shop_written: r.shop_written,
                    erp_written: r.erp_written,
                },
            )
        })
        .collect())
}

/// Pending writes of a link into one side, as decisions see them.
pub(crate) fn pending(
    store: &dyn StateStore,
    link: &str,
    target: Side,
    keys: &[String],
) -> Result<HashMap<String, Pending>, StoreError> {
    Ok(store
        .pending_into(link, target, keys)?
        .into_iter()
        .map(|(k, e)| {
            (
                k,
                Pending {
                    status: e.status,
                    source_status: e.source_status,
                    from_status: e.from_status,
                },
            )
        })
        .collect())
}

/// Fetches what a page's decisions need, decides, and returns what to commit.
pub(crate) fn decide_page(
    plan: &LinkPlan,
    store: &dyn StateStore,
    source: Side,
    orders: &[OrderState],
    report: &mut CycleReport,
) -> Result<super::commit::Commit, CycleError> {
    let link = &plan.link.name;
    let target = source.other();
    let rules = plan.rules();
    let keys: Vec<String> = orders.iter().map(|o| o.key.clone()).collect();
    let known = known(store, link, &keys)?;
    let to_read = keys_to_read(&rules, source, orders, &known);
    let current = if to_read.is_empty() {
        HashMap::new()
    } else {
        read_target(plan, target, &to_read)?
    };
    let pending_in = pending(store, link, target, &keys)?;
    let opposite = if plan.link.direction == crate::domain::Direction::Both {
        pending(store, link, source, &keys)?
    } else {
        HashMap::new()
    };
    let decisions = decide(
        &rules,
        &Page {
            source,
            orders,
            known: &known,
            target: &current,
            pending: &pending_in,
            opposite: &opposite,
            now: chrono::Utc::now(),
        },
    );
    let last = store.last_decisions(link, target, &keys)?;
    Ok(decisions_to_commit(plan, orders, &decisions, &last, report))
}

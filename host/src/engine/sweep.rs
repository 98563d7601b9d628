//! The sweep: every order in scope listed from a source that can list (`Capability::List`),
//! decided through the same rules as a change-feed page and committed without moving the feed's
//! cursor. It runs on a link's first sync (no cursor yet) and then every `sweep_interval`, and
//! catches whatever a change feed missed; orders already in sync cost only their read.

use std::sync::atomic::{AtomicBool, Ordering};

use orderlink_plugin_api::model::{Capability, ListRequest};

use super::cycle::{
    connector_error, decide_page, CycleError, CycleReport, MAX_PAGES_PER_CYCLE, PAGE_SIZE,
};
use super::plan::LinkPlan;
use super::progress::Pull;
use crate::domain::{Scope, Side};
use crate::store::{Lease, PageCommit, StateStore};

/// Whether a source side is swept now: it can list, and the link has no cursor for it yet
/// (`first_sync`), its sweep is due, or a sweep cut by the last cycle's page budget goes on.
pub fn wanted(plan: &LinkPlan, source: Side, first_sync: bool) -> bool {
    plan.endpoint(source).can(Capability::List)
        && (first_sync || plan.sweep_due(source) || plan.sweep_unfinished(source))
}

/// The listing request for a source: ERP orders not yet fulfilled for scope `unfulfilled`,
/// orders created inside the window for scope `recent`.
pub fn request(plan: &LinkPlan, source: Side, cursor: Option<String>) -> ListRequest {
    let scope = plan.link.scope;
    ListRequest {
        cursor,
        limit: PAGE_SIZE,
        unfulfilled_only: source == Side::Erp && scope == Scope::Unfulfilled,
        created_since: scope.window_start(chrono::Utc::now()),
        keys: Vec::new(),
    }
}

/// Lists, decides and commits every order in scope of one source side, logging its progress
/// (of the listing's total, when the connector gives it). A listing longer than a cycle's page
/// budget is continued by the next cycle (`report.more`: at once) from where it stopped.
pub fn sweep(
    plan: &LinkPlan,
    store: &dyn StateStore,
    lease: &Lease,
    source: Side,
    stop: &AtomicBool,
    dry_run: bool,
    report: &mut CycleReport,
) -> Result<(), CycleError> {
    let mut cursor = plan.take_sweep_cursor(source);
    let mut progress = plan.resume_progress(source, Pull::Listing);
    for _ in 0..MAX_PAGES_PER_CYCLE {
        if stop.load(Ordering::SeqCst) {
            // Stopping: the rest is listed by the next sweep.
            progress.stopped("the rest is listed by the next sweep (`sweep_interval`)");
            return Ok(());
        }
        let page = plan
            .endpoint(source)
            .connector
            .list(&request(plan, source, cursor))
            .map_err(|e| connector_error(plan, source, e))?;
        report.swept += page.orders.len();
        progress.page(page.orders.len(), page.total);
        let commit = decide_page(plan, store, source, &page.orders, report)?;
        if !dry_run {
            store.commit_orders(
                lease,
                &PageCommit {
                    source,
                    next_cursor: "",
                    seen: &commit.seen,
                    outbox: &commit.outbox,
                    drop_pending: &commit.drop_pending,
                    audit: &commit.audit,
                },
            )?;
        }
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    match cursor {
        Some(next) => {
            progress.finish(true);
            plan.keep_progress(progress);
            plan.keep_sweep_cursor(source, next);
            report.more = true;
        }
        None => {
            progress.finish(false);
            plan.swept(source);
        }
    }
    Ok(())
}

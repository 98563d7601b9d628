//! `orderlink sync --once` and `orderlink run`.

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use super::context::{check_mappings, connect_checked, load_config, load_plugins};
use super::leases::SyncLeases;
use super::{BadInput, EXIT_FAILURE, EXIT_OK};
use crate::config::{Config, Link};
use crate::engine::cycle::CycleReport;
use crate::engine::plan::{Endpoints, LinkPlan};
use crate::engine::{plan_link, run_cycle};
use crate::store::open::{exists as store_exists, open_command as open_store};
use crate::store::OpenMode;
use crate::store::{Lease, SqliteStore, StateStore};

/// Adds a later cycle's report to an earlier one's.
fn absorb(total: &mut CycleReport, next: CycleReport) {
    total.pulled += next.pulled;
    total.queued.extend(next.queued);
    total.applied.extend(next.applied);
    for (why, n) in next.skipped {
        *total.skipped.entry(why).or_default() += n;
    }
    total.retried += next.retried;
    total.dead += next.dead;
    total.error = next.error;
    total.more = next.more;
    total.poll_after = next.poll_after;
}

/// A link and its plan, or why it cannot run now.
type PlannedLink = (Link, Result<LinkPlan, String>);

/// Plans the chosen links; bad input anywhere stops everything (exit 2), an unreachable
/// endpoint only its links.
fn plan_all(
    config: &Config,
    endpoints: &Endpoints,
    links: &[&Link],
) -> Result<Vec<PlannedLink>, BadInput> {
    let mut input_errors = Vec::new();
    let mut out = Vec::new();
    for link in links {
        let ep = |name: &str| match endpoints.get(name) {
            Some(Ok(e)) => Ok(e.clone()),
            Some(Err(e)) => Err((e.is_bad_input(), e.to_string())),
            None => Err((true, format!("no endpoint named `{name}`"))),
        };
        let planned = match (ep(&link.shop), ep(&link.erp)) {
            (Ok(shop), Ok(erp)) => plan_link(config, link, shop, erp),
            (Err((bad, e)), _) | (_, Err((bad, e))) => {
                if bad {
                    input_errors.push(format!("link `{}`: {e}", link.name));
                }
                out.push(((*link).clone(), Err(e)));
                continue;
            }
        };
        match planned {
            Ok(p) => out.push(((*link).clone(), Ok(p))),
            Err(e) if e.is_bad_input() => input_errors.push(format!("link `{}`: {e}", link.name)),
            Err(e) => out.push(((*link).clone(), Err(e.to_string()))),
        }
    }
    if input_errors.is_empty() {
        Ok(out)
    } else {
        input_errors.dedup();
        Err(BadInput(input_errors.join("\n")))
    }
}

fn chosen<'a>(config: &'a Config, only: Option<&str>) -> Result<Vec<&'a Link>, BadInput> {
    match only {
        Some(name) => config.links.get(name).map(|l| vec![l]).ok_or_else(|| {
            BadInput(format!(
                "no link named `{name}` (links: {})",
                config.links.keys().cloned().collect::<Vec<_>>().join(", ")
            ))
        }),
        None => Ok(config.links.values().filter(|l| l.enabled).collect()),
    }
}

/// One cycle of each link (or one link); prints what changed, or would change.
pub fn sync_once(config_path: &Path, link: Option<&str>, dry_run: bool) -> anyhow::Result<u8> {
    let config = load_config(config_path)?;
    let links = chosen(&config, link)?;
    check_mappings(links.iter().copied())?;
    // An existing store is judged (and locked) before any network call; a new one is created
    // only once the input is known good. A dry run writes nothing: it reads the store's cursors
    // if there is a store, else starts from an empty one in memory.
    let early = match (dry_run, store_exists(&config)) {
        (false, true) => Some(open_store(&config, OpenMode::Own, "sync")?),
        (false, false) => None,
        (true, true) => Some(open_store(&config, OpenMode::Read, "sync")?),
        (true, false) => Some(Arc::new(SqliteStore::in_memory()?) as Arc<dyn StateStore>),
    };
    let plugins = load_plugins(&config);
    let endpoints = connect_checked(&config, &plugins)?;
    let planned = plan_all(&config, &endpoints, &links)?;
    let store = match early {
        Some(s) => s,
        None => open_store(&config, OpenMode::Own, "sync")?,
    };
    let stop = AtomicBool::new(false);
    let mut code = EXIT_OK;
    if !dry_run {
        // Cheap: one indexed delete of audit records past `[store] audit_retention`.
        if let Err(e) = crate::service::retention::prune(&*store, config.audit_retention) {
            tracing::warn!("audit pruning failed: {e}");
        }
    }
    // On a shared store, the links this run may sync are those whose lease it can take now
    // (a link a running host holds is left to it); they are handed back at the end.
    let leases = if config.shared.is_some() && !dry_run {
        let weights: Vec<(String, u32)> = planned
            .iter()
            .filter(|(l, _)| l.enabled)
            .map(|(l, _)| (l.name.clone(), l.weight))
            .collect();
        Some(SyncLeases::take(&config, store.clone(), weights)?)
    } else {
        None
    };
    let held = leases.as_ref().map(|l| &l.held);
    for (link, plan) in &planned {
        if !link.enabled {
            println!(
                "link `{}`: status sync is off (enabled = false); nothing done",
                link.name
            );
            continue;
        }
        let plan = match plan {
            Ok(p) => p,
            Err(e) => {
                println!("link `{}`: not available: {e}", link.name);
                code = EXIT_FAILURE;
                continue;
            }
        };
        let lease = match (held, dry_run) {
            (Some(held), _) => match held.get(&link.name) {
                Some(l) => l.clone(),
                None => {
                    println!(
                        "link `{}`: leased to another host (see `orderlink status`); nothing done",
                        link.name
                    );
                    continue;
                }
            },
            // A dry run writes nothing, so it needs no lease.
            (None, true) => Lease {
                link: link.name.clone(),
                epoch: 0,
            },
            (None, false) => store.lease(&link.name)?,
        };
        let mut report = run_cycle(plan, &*store, &lease, &stop, dry_run);
        // A first sync larger than one cycle's page budget goes on until the feeds are read
        // (a dry run does not move its cursors: it says that more remain).
        while report.more && report.error.is_none() && !dry_run {
            let next = run_cycle(plan, &*store, &lease, &stop, dry_run);
            absorb(&mut report, next);
        }
        let lines = if dry_run {
            &report.queued
        } else {
            &report.applied
        };
        let verb = if dry_run { "would set" } else { "set" };
        for a in lines {
            println!(
                "link `{}`: {verb} {} order {}: {} -> {} ({})",
                link.name,
                a.target.as_str(),
                a.key,
                a.from.as_deref().unwrap_or("?"),
                a.to,
                a.reason
            );
        }
        let skipped: Vec<String> = report
            .skipped
            .iter()
            .map(|(k, v)| format!("{v} {k}"))
            .collect();
        println!(
            "link `{}`: {} orders read, {} {}, {} retrying, {} dead letters{}{}",
            link.name,
            report.pulled,
            lines.len(),
            if dry_run { "to change" } else { "changed" },
            report.retried,
            report.dead,
            if skipped.is_empty() {
                String::new()
            } else {
                format!(", left alone: {}", skipped.join(", "))
            },
            report
                .error
                .as_ref()
                .map(|e| format!("; error: {e}"))
                .unwrap_or_default()
        );
        if report.more {
            println!(
                "link `{}`: more changes remain beyond one cycle's page budget",
                link.name
            );
        }
        if report.error.is_some() {
            code = EXIT_FAILURE;
        }
    }
    drop(leases);
    Ok(code)
}

//! `orderlink sync --once` and `orderlink run`.

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use super::context::{load_config, load_plugins};
use super::{BadInput, EXIT_FAILURE, EXIT_OK};
use crate::config::{Config, Link};
use crate::engine::live::{LinkLive, LinkState, LiveRegistry};
use crate::engine::plan::{Endpoints, LinkPlan};
use crate::engine::runner::run_link;
use crate::engine::{connect_endpoints, plan_link, run_cycle};
use crate::store::Store;

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
    let plugins = load_plugins(&config);
    let endpoints = connect_endpoints(&config, &plugins);
    let planned = plan_all(&config, &endpoints, &links)?;
    let stop = AtomicBool::new(false);
    let mut code = EXIT_OK;
    // A dry run writes nothing: it reads the store's cursors if there is a store, else starts
    // from an empty one in memory.
    let mut store = if dry_run && !config.store.exists() {
        Store::open(std::path::Path::new(":memory:"))?
    } else {
        Store::open(&config.store)?
    };
    if !dry_run {
        // Cheap: one indexed delete of audit records past `[store] audit_retention`.
        if let Err(e) = crate::service::retention::prune(&store, config.audit_retention) {
            tracing::warn!("audit pruning failed: {e}");
        }
    }
    for (link, plan) in planned {
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
        let report = run_cycle(&plan, &mut store, &stop, dry_run);
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
        if report.error.is_some() {
            code = EXIT_FAILURE;
        }
    }
    Ok(code)
}

/// Runs every enabled link until SIGTERM or Ctrl-C; then finishes the batch in flight and exits 0.
pub fn run_forever(config_path: &Path) -> anyhow::Result<u8> {
    let config = Arc::new(load_config(config_path)?);
    let links = chosen(&config, None)?;
    if links.is_empty() {
        return Err(BadInput("every link has enabled = false: nothing to run".into()).into());
    }
    let plugins = load_plugins(&config);
    let endpoints = connect_endpoints(&config, &plugins);
    let planned = plan_all(&config, &endpoints, &links)?;
    Store::open(&config.store)?;
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        // A second signal while stopping exits at once.
        signal_hook::flag::register_conditional_shutdown(signal, 1, stop.clone())?;
        signal_hook::flag::register(signal, stop.clone())?;
    }
    let live = LiveRegistry::new();
    for ep in endpoints.values().flatten() {
        live.set_endpoint(ep.clone());
    }
    for link in config.links.values() {
        let state = if link.enabled {
            LinkState::Starting
        } else {
            LinkState::Off
        };
        live.insert(LinkLive::new(
            &link.name,
            state,
            link.poll_interval.as_secs_f64(),
        ));
    }
    let admin = match &config.admin {
        Some(a) => Some(
            crate::admin::start(
                a,
                crate::admin::AdminState::new(config.clone(), live.clone()),
                stop.clone(),
            )
            .map_err(|e| anyhow::anyhow!("admin server: cannot listen on {}: {e}", a.listen))?,
        ),
        None => None,
    };
    let mut threads = vec![crate::service::retention::spawn_pruner(
        config.store.clone(),
        config.audit_retention,
        stop.clone(),
    )?];
    for (link, plan) in planned {
        let (Some(Ok(shop)), Some(Ok(erp))) = (endpoints.get(&link.shop), endpoints.get(&link.erp))
        else {
            let why = plan.err().unwrap_or_default();
            tracing::error!(link = %link.name, "link cannot run: {why}");
            live.update(&link.name, |l| {
                l.state = LinkState::Failed;
                l.last_error = Some(why);
            });
            continue;
        };
        let plan = match plan {
            Ok(p) => Some(p),
            Err(e) => {
                tracing::warn!(link = %link.name, "link not ready, will retry: {e}");
                None
            }
        };
        let (config, stop, eps) = (config.clone(), stop.clone(), (shop.clone(), erp.clone()));
        let live = live.clone();
        let name = link.name.clone();
        threads.push(
            std::thread::Builder::new()
                .name(format!("link-{name}"))
                .spawn(move || run_link(config, link, eps, plan, stop, live))?,
        );
    }
    tracing::info!(
        links = threads.len() - 1,
        "orderlink running; Ctrl-C or SIGTERM to stop"
    );
    for t in threads {
        let _ = t.join();
    }
    if let Some(admin) = admin {
        admin.join();
    }
    tracing::info!("stopped");
    Ok(EXIT_OK)
}

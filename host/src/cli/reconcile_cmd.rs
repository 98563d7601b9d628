//! `orderlink reconcile --link L [--fix]`: both systems compared order by order; drift and why
//! the feed left it; with `--fix` the writes are queued in the outbox for the next cycle.

use std::path::Path;

use comfy_table::{presets::UTF8_BORDERS_ONLY, Table};

use super::context::{load_config, load_plugins, service_error};
use super::leases::{hold_link, release_leases};
use super::EXIT_OK;
use crate::service::link;
use crate::service::reconcile::{reconcile, ReconcileReport};
use crate::store::open::{exists as store_exists, open_command as open_store};
use crate::store::OpenMode;
use crate::store::SqliteStore;

/// Runs a reconcile of one link and prints the report.
pub fn run(config_path: &Path, link_name: &str, fix: bool, as_json: bool) -> anyhow::Result<u8> {
    let config = load_config(config_path)?;
    let l = link::find(&config, link_name).map_err(service_error)?;
    // Judged before any network call. Without `--fix` nothing is written (an empty store in
    // memory stands in when there is none yet); `--fix` only queues writes, which the owner
    // (`run`) or the next `sync` sends, so it does not take the owner's lock.
    // On a shared store `--fix` needs the link's lease (refused while a host runs the link).
    let store = if fix {
        let store = open_store(&config, OpenMode::Edit, "reconcile")?;
        hold_link(&config, &*store, l)?;
        store
    } else if store_exists(&config) {
        open_store(&config, OpenMode::Read, "reconcile")?
    } else {
        std::sync::Arc::new(SqliteStore::in_memory()?)
            as std::sync::Arc<dyn crate::store::StateStore>
    };
    let plugins = load_plugins(&config);
    let plan = link::plan(&config, &plugins, l).map_err(service_error)?;
    let r = reconcile(&plan, &*store, fix);
    if fix {
        release_leases(&config, &*store)?;
    }
    let r = r.map_err(service_error)?;
    if as_json {
        println!("{}", serde_json::to_string_pretty(&r)?);
    } else {
        print!("{}", render(&r));
    }
    Ok(EXIT_OK)
}

/// Renders a reconcile report as a person reads it.
pub fn render(r: &ReconcileReport) -> String {
    let mut out = format!(
        "link `{}`: {} orders compared ({}), {} in sync, {} drifting\n",
        r.link,
        r.compared,
        r.listing,
        r.in_sync,
        r.drift.len()
    );
    if !r.drift.is_empty() {
        let mut t = Table::new();
        t.load_preset(UTF8_BORDERS_ONLY).set_header(vec![
            "ORDER",
            "SHOP",
            "ERP",
            "SHOULD BE",
            "WHY NOT",
            "DETAIL",
            "FIX",
        ]);
        for d in &r.drift {
            t.add_row(vec![
                d.key.clone(),
                d.shop_status.clone().unwrap_or_else(|| "-".into()),
                d.erp_status.clone().unwrap_or_else(|| "-".into()),
                match (&d.target, &d.wanted) {
                    (Some(t), Some(w)) => format!("{} {w}", t.as_str()),
                    _ => String::new(),
                },
                d.cause.clone(),
                d.detail.clone(),
                if d.queued {
                    "queued"
                } else if d.fixable {
                    "--fix"
                } else {
                    ""
                }
                .to_owned(),
            ]);
        }
        out.push_str(&format!("{t}\n"));
    }
    let fixable = r.drift.iter().filter(|d| d.fixable).count();
    if r.fix {
        out.push_str(&format!(
            "{} write(s) queued in the outbox; the next cycle applies them (`orderlink sync --once` or a running `orderlink run`)\n",
            r.queued
        ));
    } else if fixable > 0 {
        out.push_str(&format!(
            "{fixable} order(s) can be fixed: `orderlink reconcile --link {} --fix` queues the writes\n",
            r.link
        ));
    }
    let cost: Vec<String> = r
        .cost
        .iter()
        .map(|c| format!("{} `{}`: {}", c.side.as_str(), c.endpoint, c.requests))
        .collect();
    out.push_str(&format!("API requests: {}\n", cost.join(", ")));
    out
}

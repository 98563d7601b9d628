//! `orderlink resync --link L (--since TIME | --order N...)`: re-read changes from a moment, or
//! given orders, through the normal decide path.

use std::path::Path;

use super::context::{load_config, load_plugins, service_error};
use super::leases::{hold_link, release_leases};
use super::{EXIT_FAILURE, EXIT_OK};
use crate::service::link;
use crate::service::resync::{self, ResyncReport};
use crate::store::open::open_command as open_store;
use crate::store::OpenMode;

/// What to re-read.
#[derive(Debug, Clone, clap::Args)]
#[group(required = true, multiple = false)]
pub struct ResyncWhat {
    /// Re-read every change since this moment: RFC 3339, a UTC `YYYY-MM-DD HH:MM`, or a time
    /// back from now (`90m`, `2h`, `1d`).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Re-read these orders now and push them through the decide path (repeatable, or
    /// several after one flag).
    #[arg(long = "order", value_name = "N", num_args = 1..)]
    pub orders: Vec<String>,
}

/// Runs a resync of one link and prints what it did.
pub fn run(
    config_path: &Path,
    link_name: &str,
    what: &ResyncWhat,
    as_json: bool,
) -> anyhow::Result<u8> {
    let config = load_config(config_path)?;
    let l = link::find(&config, link_name).map_err(service_error)?;
    let since = match &what.since {
        Some(t) => Some(resync::parse_since(t, chrono::Utc::now()).map_err(service_error)?),
        None => None,
    };
    // The store is judged and locked before any plugin or network call.
    let store = open_store(&config, OpenMode::Own, "resync")?;
    hold_link(&config, &*store, l)?;
    let plugins = load_plugins(&config);
    let plan = link::plan(&config, &plugins, l).map_err(service_error)?;
    let report = match since {
        Some(at) => resync::since(&plan, &*store, at),
        None => resync::orders(&plan, &*store, &what.orders),
    };
    release_leases(&config, &*store)?;
    let report = report.map_err(service_error)?;
    if as_json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", render(&report));
    }
    Ok(if report.cycle.error.is_some() {
        EXIT_FAILURE
    } else {
        EXIT_OK
    })
}

/// Renders a resync report as a person reads it.
pub fn render(r: &ResyncReport) -> String {
    let mut out = String::new();
    if let Some(s) = &r.since {
        out.push_str(&format!("link `{}`: resync since {s}\n", r.link));
    }
    if !r.orders.is_empty() {
        out.push_str(&format!(
            "link `{}`: resync of order(s) {}\n",
            r.link,
            r.orders.join(", ")
        ));
    }
    for c in &r.cursors {
        out.push_str(&format!("  {} feed: {}\n", c.side.as_str(), c.note));
    }
    for v in &r.verdicts {
        out.push_str(&format!(
            "  order from {} ({}): {}\n",
            v.source.the(),
            v.source_status,
            crate::service::explain::action_words(v)
        ));
    }
    for m in &r.missing {
        out.push_str(&format!("  {m}\n"));
    }
    let c = &r.cycle;
    for line in &c.applied {
        out.push_str(&format!("  set {line}\n"));
    }
    let skipped: Vec<String> = c.skipped.iter().map(|(k, v)| format!("{v} {k}")).collect();
    out.push_str(&format!(
        "  {} orders re-read, {} changed, {} retrying, {} dead letters{}{}\n",
        c.pulled,
        c.applied.len(),
        c.retried,
        c.dead,
        if skipped.is_empty() {
            String::new()
        } else {
            format!(", left alone: {}", skipped.join(", "))
        },
        c.error
            .as_deref()
            .map(|e| format!("; error: {e}"))
            .unwrap_or_default()
    ));
    out
}

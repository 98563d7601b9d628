//! `orderlink history --order N`: every decision recorded about an order, and why. No network.

use std::path::Path;

use comfy_table::{presets::UTF8_BORDERS_ONLY, Table};

use super::context::{load_config, service_error};
use super::EXIT_OK;
use crate::service::history::{order_history, OrderHistory};
use crate::store::open::open as open_store;
use crate::store::OpenMode;

/// Prints the history of one order.
pub fn run(config_path: &Path, key: &str, link: Option<&str>, as_json: bool) -> anyhow::Result<u8> {
    let config = load_config(config_path)?;
    let store = open_store(&config, OpenMode::Read)?;
    let h = order_history(&config, &*store, key, link).map_err(service_error)?;
    if as_json {
        println!("{}", serde_json::to_string_pretty(&h)?);
    } else {
        print!("{}", render(&h));
    }
    Ok(EXIT_OK)
}

/// Renders a history as a person reads it.
pub fn render(h: &OrderHistory) -> String {
    let mut out = format!("{}\n", h.summary);
    for k in &h.known {
        out.push_str(&format!(
            "link `{}` last saw: shop {}, ERP {}{}{} ({})\n",
            k.link,
            k.shop_status.as_deref().unwrap_or("-"),
            k.erp_status.as_deref().unwrap_or("-"),
            match k.fulfilled {
                Some(true) => ", fulfilled",
                _ => "",
            },
            k.created_at
                .as_deref()
                .map(|c| format!(", created {c}"))
                .unwrap_or_default(),
            k.updated_at
        ));
    }
    if !h.decisions.is_empty() {
        let mut t = Table::new();
        t.load_preset(UTF8_BORDERS_ONLY)
            .set_header(vec!["WHEN", "LINK", "SIDE", "FROM", "TO", "WHAT", "WHY"]);
        for d in &h.decisions {
            t.add_row(vec![
                d.at.clone(),
                d.link.clone(),
                d.target.clone(),
                d.from.clone().unwrap_or_default(),
                d.to.clone(),
                d.action.clone(),
                d.why.clone(),
            ]);
        }
        out.push_str(&format!("{t}\n"));
    }
    for p in &h.pending {
        out.push_str(&format!(
            "pending: link `{}` set {} to {} (attempts {}{}): {}\n",
            p.link,
            p.target.as_str(),
            p.status,
            p.attempts,
            p.last_error
                .as_deref()
                .map(|e| format!(", last error: {e}"))
                .unwrap_or_default(),
            p.reason
        ));
    }
    for d in &h.dead_letters {
        out.push_str(&format!(
            "dead letter {}: link `{}` set {} to {} failed ({}: {}) at {}; `orderlink dead-letters retry {}`\n",
            d.id, d.link, d.target, d.status, d.code, d.reason, d.at, d.id
        ));
    }
    out.push_str(&format!(
        "decisions are kept {} ([store] audit_retention)\n",
        h.retention
    ));
    out
}

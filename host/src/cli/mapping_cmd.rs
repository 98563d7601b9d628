//! `orderlink mapping show`: each link's mapping tables side by side, resolved against the live
//! status lists (names to codes, the statuses of each side no rule maps). Without a network the
//! tables are shown as written.

use std::path::Path;

use comfy_table::{presets::UTF8_FULL_CONDENSED, Table};

use super::context::{load_config, load_plugins, service_error};
use super::{BadInput, EXIT_OK};
use crate::engine::connect_endpoints;
use crate::service::mapping::{self, MappingView, RuleView, StatusRef};

/// Prints the mapping of every link (or one).
pub fn show(config_path: &Path, only: Option<&str>, as_json: bool) -> anyhow::Result<u8> {
    let config = load_config(config_path)?;
    let links: Vec<_> = config
        .links
        .values()
        .filter(|l| only.is_none_or(|n| n == l.name))
        .collect();
    if links.is_empty() {
        return Err(BadInput(format!(
            "no link named `{}` (links: {})",
            only.unwrap_or_default(),
            config.links.keys().cloned().collect::<Vec<_>>().join(", ")
        ))
        .into());
    }
    // The mapping files as written first: a broken one is reported before any network call.
    for link in &links {
        crate::mapping::MappingFile::load(&link.mapping).map_err(|e| BadInput(e.to_string()))?;
    }
    let plugins = load_plugins(&config);
    let endpoints = connect_endpoints(&config, &plugins);
    let mut views = Vec::new();
    for link in links {
        let vocabularies = mapping::vocabularies(link, &endpoints);
        views.push(mapping::view(&config, link, vocabularies).map_err(service_error)?);
    }
    if as_json {
        println!("{}", serde_json::to_string_pretty(&views)?);
    } else {
        for v in &views {
            println!("{}", render(v));
        }
    }
    Ok(EXIT_OK)
}

fn cell(name: &str, code: Option<&str>) -> String {
    match code {
        Some(c) if c != name => format!("{name} [{c}]"),
        _ => name.to_owned(),
    }
}

fn statuses(list: &[StatusRef]) -> String {
    list.iter()
        .map(|s| cell(&s.name, Some(&s.code)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Renders one link's mapping as a person reads it.
pub fn render(v: &MappingView) -> String {
    let (shop, erp) = (&v.shop_connector, &v.erp_connector);
    let mut out = format!(
        "link `{}` ({}, {})\nmapping: {}\n\n",
        v.link, v.direction, v.scope, v.file
    );
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED).set_header(vec![
        format!("{erp} status"),
        format!("→ {shop} status"),
        format!("{shop} status"),
        format!("→ {erp} status"),
    ]);
    let empty = Vec::new();
    let left: &Vec<RuleView> = v.to_shop.as_ref().unwrap_or(&empty);
    let right: &Vec<RuleView> = v.to_erp.as_ref().unwrap_or(&empty);
    for i in 0..left.len().max(right.len()) {
        let side = |r: Option<&RuleView>| match r {
            Some(r) => [
                cell(&r.from, r.from_code.as_deref()),
                cell(&r.to, r.to_code.as_deref()),
            ],
            None => [String::new(), String::new()],
        };
        let [a, b] = side(left.get(i));
        let [c, d] = side(right.get(i));
        table.add_row(vec![a, b, c, d]);
    }
    out.push_str("left: into the shop ([to_shop]); right: into the ERP ([to_erp]); [code] where a name differs from its code\n");
    out.push_str(&table.to_string());
    out.push('\n');
    if v.to_shop.is_none() {
        out.push_str("no [to_shop] table: nothing flows into the shop\n");
    }
    if v.to_erp.is_none() {
        out.push_str("no [to_erp] table: nothing flows into the ERP\n");
    }
    match &v.unresolved_reason {
        Some(why) => out.push_str(&format!(
            "names not resolved against the live status lists: {why}\n"
        )),
        None => {
            if v.to_shop.is_some() {
                out.push_str(&format!(
                    "{erp} statuses not mapped into the shop: {}\n",
                    if v.unmapped_erp.is_empty() {
                        "none".to_owned()
                    } else {
                        statuses(&v.unmapped_erp)
                    }
                ));
            }
            if v.to_erp.is_some() {
                out.push_str(&format!(
                    "{shop} statuses not mapped into the ERP (they leave the ERP order alone): {}\n",
                    if v.unmapped_shop.is_empty() {
                        "none".to_owned()
                    } else {
                        statuses(&v.unmapped_shop)
                    }
                ));
            }
        }
    }
    for p in &v.problems {
        out.push_str(&format!("problem: {p}\n"));
    }
    out
}

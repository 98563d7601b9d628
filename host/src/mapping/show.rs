//! `orderlink mapping show`: the tables side by side, as a person reads them.

use comfy_table::{presets::UTF8_FULL_CONDENSED, Table};

use super::MappingFile;

/// Renders both tables of a mapping file next to each other.
pub fn render(file: &MappingFile, shop_name: &str, erp_name: &str) -> String {
    let mut out = String::new();
    out.push_str(&format!("mapping: {}\n\n", file.source.path.display()));
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED).set_header(vec![
        format!("{erp_name} status"),
        format!("→ {shop_name} status"),
        format!("{shop_name} status"),
        format!("→ {erp_name} status"),
    ]);
    let left = file.to_shop.clone().unwrap_or_default();
    let right = file.to_erp.clone().unwrap_or_default();
    for i in 0..left.len().max(right.len()) {
        let l = left.get(i);
        let r = right.get(i);
        table.add_row(vec![
            l.map(|r| r.from.clone()).unwrap_or_default(),
            l.map(|r| r.to.clone()).unwrap_or_default(),
            r.map(|r| r.from.clone()).unwrap_or_default(),
            r.map(|r| r.to.clone()).unwrap_or_default(),
        ]);
    }
    out.push_str("left: into the shop ([to_shop]); right: into the ERP ([to_erp])\n");
    out.push_str(&table.to_string());
    out.push('\n');
    if file.to_shop.is_none() {
        out.push_str("no [to_shop] table: nothing flows into the shop\n");
    }
    if file.to_erp.is_none() {
        out.push_str("no [to_erp] table: nothing flows into the ERP\n");
    } else {
        out.push_str("shop statuses not listed in [to_erp] leave the ERP order alone\n");
    }
    out
}

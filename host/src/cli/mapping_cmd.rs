//! `orderlink mapping show`: each link's mapping tables side by side. No network.

use std::path::Path;

use super::context::load_config;
use super::{BadInput, EXIT_OK};
use crate::mapping::{show, MappingFile};

/// Prints the mapping of every link (or one).
pub fn show(config_path: &Path, only: Option<&str>) -> anyhow::Result<u8> {
    let config = load_config(config_path)?;
    let mut shown = 0;
    for link in config
        .links
        .values()
        .filter(|l| only.is_none_or(|n| n == l.name))
    {
        let file = MappingFile::load(&link.mapping).map_err(|e| BadInput(e.to_string()))?;
        let connector = |name: &str| {
            config
                .endpoints
                .get(name)
                .map(|e| e.connector.clone())
                .unwrap_or_else(|| name.to_owned())
        };
        let (shop, erp) = (connector(&link.shop), connector(&link.erp));
        println!(
            "link `{}` ({}, {})",
            link.name,
            link.direction.as_str(),
            link.scope
        );
        println!("{}", show::render(&file, &shop, &erp));
        shown += 1;
    }
    if shown == 0 {
        return Err(BadInput(format!("no link named `{}`", only.unwrap_or_default())).into());
    }
    Ok(EXIT_OK)
}

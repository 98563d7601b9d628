//! `orderlink plugins`: what plugins and connectors this host can use.

use std::io::Write;

use comfy_table::{presets::UTF8_BORDERS_ONLY, Table};
use serde_json::json;

use super::{PluginArgs, EXIT_BAD_INPUT, EXIT_OK};
use crate::plugins::PluginSet;

/// Loads the plugins the arguments point at (the default directory when none is given).
pub fn load(args: &PluginArgs) -> PluginSet {
    PluginSet::load_or_default(&args.plugin_dirs, &args.plugin_files)
}

/// Prints the plugins as a table or JSON; exit code 2 when any plugin had a problem.
pub fn run(args: &PluginArgs, as_json: bool) -> anyhow::Result<u8> {
    let set = load(args);
    let mut out = std::io::stdout().lock();
    if as_json {
        let plugins: Vec<_> = set
            .plugins
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let m = p.manifest();
                json!({
                    "plugin": m.plugin,
                    "version": m.version,
                    "abi_version": p.abi_version(),
                    "path": p.path(),
                    "connectors": m.connectors.iter().map(|c| json!({
                        "name": c.name,
                        "role": c.role,
                        "description": c.description,
                        "capabilities": c.capabilities,
                        "active": set.is_active(i, &c.name),
                        "config_schema": c.config_schema,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        let problems: Vec<_> = set
            .problems
            .iter()
            .map(|p| json!({"path": p.path, "message": p.message}))
            .collect();
        serde_json::to_writer_pretty(&mut out, &json!({"plugins": plugins, "problems": problems}))?;
        writeln!(out)?;
    } else {
        let mut table = Table::new();
        table.load_preset(UTF8_BORDERS_ONLY).set_header(vec![
            "PLUGIN",
            "VERSION",
            "ABI",
            "CONNECTOR",
            "ROLE",
            "CAPABILITIES",
            "PATH",
        ]);
        for (i, p) in set.plugins.iter().enumerate() {
            let m = p.manifest();
            for c in &m.connectors {
                let caps: Vec<String> = c.capabilities.iter().map(|c| c.to_string()).collect();
                let name = if set.is_active(i, &c.name) {
                    c.name.clone()
                } else {
                    format!("{} (ignored: duplicate)", c.name)
                };
                table.add_row(vec![
                    m.plugin.clone(),
                    m.version.clone(),
                    p.abi_version().to_owned(),
                    name,
                    format!("{:?}", c.role).to_lowercase(),
                    caps.join(","),
                    p.path().display().to_string(),
                ]);
            }
        }
        if set.plugins.is_empty() {
            writeln!(out, "no plugins found")?;
        } else {
            writeln!(out, "{table}")?;
        }
    }
    for p in &set.problems {
        eprintln!("error: {}", p.message);
    }
    Ok(if set.problems.is_empty() {
        EXIT_OK
    } else {
        EXIT_BAD_INPUT
    })
}

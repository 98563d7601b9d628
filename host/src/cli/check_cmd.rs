//! `orderlink check`: config, mapping, plugins and each endpoint's check. Writes nothing.

use std::path::Path;

use orderlink_plugin_api::abi::ABI_VERSION;
use orderlink_plugin_api::compat::AbiFit;
use orderlink_plugin_api::model::Capability;

use super::context::{connect_checked, load_config, load_plugins};
use super::{EXIT_BAD_INPUT, EXIT_FAILURE, EXIT_OK};
use crate::engine::plan_link;
use crate::mapping::MappingFile;
use crate::store::open::{describe as describe_store, exists as store_exists, open_command};
use crate::store::OpenMode;
use crate::store::StoreError;

/// Runs every check and prints one line per endpoint and link.
pub fn run(config_path: &Path) -> anyhow::Result<u8> {
    let config = load_config(config_path)?;
    let mut bad_input = false;
    let mut failed = false;
    for link in config.links.values() {
        match MappingFile::load(&link.mapping) {
            Ok(m) => {
                for e in m.check_tables(link.direction) {
                    println!("error: {e}");
                    bad_input = true;
                }
            }
            Err(e) => {
                println!("error: {e}");
                bad_input = true;
            }
        }
    }
    // The store is judged read-only (never changed) before any network: a store file if there
    // is one; a shared store is reached (an empty database is fine: `run` creates its tables).
    if store_exists(&config) {
        match open_command(&config, OpenMode::Read, "check") {
            Ok(store) if config.shared.is_some() => match store.owners() {
                Ok(owners) => println!(
                    "store: {} answers; {} links leased by live hosts",
                    describe_store(&config),
                    owners.values().filter(|o| o.host.is_some()).count()
                ),
                Err(e) => {
                    println!("error: {e}");
                    failed = true;
                }
            },
            Ok(_) => {}
            Err(StoreError::Missing(_)) if config.shared.is_some() => println!(
                "store: {} answers and holds no state yet (`run` creates it)",
                describe_store(&config)
            ),
            Err(e) => {
                println!("error: {e}");
                if e.is_bad_input() {
                    bad_input = true;
                } else {
                    failed = true;
                }
            }
        }
    }
    if bad_input {
        return Ok(EXIT_BAD_INPUT);
    }
    let plugins = load_plugins(&config);
    for p in &plugins.problems {
        println!("warning: plugin: {}", p.message);
    }
    for p in &plugins.plugins {
        if p.abi_fit() == AbiFit::NewerMinor {
            let unknown: Vec<String> = p
                .manifest()
                .connectors
                .iter()
                .map(|c| {
                    let n = c.capabilities.iter().filter(|&&c| c == Capability::Unknown);
                    format!("`{}`: {} unknown capabilities", c.name, n.count())
                })
                .collect();
            println!(
                "note: plugin `{}` is built for ABI {}, newer than this host's {ABI_VERSION}: \
                 what this host does not know reads as unknown ({})",
                p.manifest().plugin,
                p.abi_version(),
                unknown.join(", ")
            );
        }
    }
    // Config errors first: with any endpoint misconfigured, no endpoint is called.
    let endpoints = match connect_checked(&config, &plugins) {
        Ok(endpoints) => endpoints,
        Err(e) => {
            for line in e.0.lines() {
                println!("error: {line}");
            }
            return Ok(EXIT_BAD_INPUT);
        }
    };
    for (name, ep) in &endpoints {
        match ep {
            Ok(ep) => match ep.connector.check() {
                Ok(r) => {
                    println!(
                        "ok: endpoint `{name}` ({}): {}",
                        ep.connector_name, r.details
                    );
                    for f in &r.findings {
                        println!("  found: {} = {} ({})", f.name, f.value, f.detail);
                    }
                }
                Err(e) => {
                    println!("error: endpoint `{name}` ({}): {e}", ep.connector_name);
                    if e.kind == orderlink_plugin_api::ErrorKind::Config {
                        bad_input = true;
                    } else {
                        failed = true;
                    }
                }
            },
            Err(e) => {
                println!("error: {e}");
                if e.is_bad_input() {
                    bad_input = true;
                } else {
                    failed = true;
                }
            }
        }
    }
    for link in config.links.values() {
        let (Some(Ok(shop)), Some(Ok(erp))) = (endpoints.get(&link.shop), endpoints.get(&link.erp))
        else {
            println!(
                "skipped: link `{}`: an endpoint is not available",
                link.name
            );
            continue;
        };
        match plan_link(&config, link, shop.clone(), erp.clone()) {
            Ok(plan) => println!(
                "ok: link `{}`: {} {}, {}, {} shop / {} ERP statuses mapped{}",
                link.name,
                if link.enabled {
                    "enabled,"
                } else {
                    "disabled,"
                },
                link.direction.as_str(),
                link.scope,
                plan.mapping.to_erp.len(),
                plan.mapping.to_shop.len(),
                if link.enabled {
                    ""
                } else {
                    " (status sync is off)"
                }
            ),
            Err(e) => {
                for line in e.to_string().lines() {
                    println!("error: link `{}`: {line}", link.name);
                }
                if e.is_bad_input() {
                    bad_input = true;
                } else {
                    failed = true;
                }
            }
        }
    }
    Ok(if bad_input {
        EXIT_BAD_INPUT
    } else if failed {
        EXIT_FAILURE
    } else {
        EXIT_OK
    })
}

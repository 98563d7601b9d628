//! `orderlink status` and `orderlink dead-letters`: read (and for dead letters, edit) the state
//! store. No network.

use std::path::Path;

use comfy_table::{presets::UTF8_BORDERS_ONLY, Table};
use serde_json::json;

use super::context::load_config;
use super::{BadInput, EXIT_OK};
use crate::store::open::open as open_store;
use crate::store::{LinkOwner, OpenMode};

fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_BORDERS_ONLY).set_header(header.to_vec());
    t
}

/// Per link: enabled, direction, last cycle, changes applied, pending, dead letters, last error.
pub fn status(config_path: &Path, as_json: bool) -> anyhow::Result<u8> {
    let config = load_config(config_path)?;
    let store = open_store(&config, OpenMode::Read)?;
    let names: Vec<String> = config.links.keys().cloned().collect();
    let mut stats = store.stats(&names)?;
    // Several hosts sharing a store: which one runs each link, under which lease epoch.
    let shared = config.shared.is_some();
    let mut owners = store.owners()?;
    let rows: Vec<_> = config
        .links
        .values()
        .map(|l| {
            (
                l,
                stats.remove(&l.name).unwrap_or_default(),
                owners.remove(&l.name),
            )
        })
        .collect();
    if as_json {
        let v: Vec<_> = rows
            .iter()
            .map(|(l, s, o)| {
                let mut v = json!({
                    "link": l.name, "enabled": l.enabled, "direction": l.direction.as_str(),
                    "scope": l.scope.to_string(), "last_cycle_at": s.last_cycle_at,
                    "last_cycle_ms": s.last_cycle_ms, "applied": s.applied_total,
                    "pending": s.pending, "dead_letters": s.dead_letters, "last_error": s.last_error,
                });
                if shared {
                    v["owner"] = json!(o.as_ref().and_then(|o| o.host.clone()));
                    v["epoch"] = json!(o.as_ref().map(|o| o.epoch));
                    v["lease_expires_at"] = json!(o.as_ref().map(|o| o.expires_at.clone()));
                }
                v
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(EXIT_OK);
    }
    let mut header = vec![
        "LINK",
        "ENABLED",
        "DIRECTION",
        "SCOPE",
        "LAST CYCLE",
        "APPLIED",
        "PENDING",
        "DEAD LETTERS",
        "LAST ERROR",
    ];
    if shared {
        header.insert(1, "OWNER (EPOCH)");
    }
    let mut t = table(&header);
    for (l, s, o) in rows {
        let mut row = vec![
            l.name.clone(),
            if l.enabled { "yes" } else { "no" }.to_owned(),
            l.direction.as_str().to_owned(),
            l.scope.to_string(),
            match (&s.last_cycle_at, s.last_cycle_ms) {
                (Some(at), Some(ms)) => format!("{at} ({ms} ms)"),
                _ => "never".to_owned(),
            },
            s.applied_total.to_string(),
            s.pending.to_string(),
            s.dead_letters.to_string(),
            s.last_error.unwrap_or_default(),
        ];
        if shared {
            row.insert(
                1,
                match o {
                    Some(LinkOwner {
                        host: Some(h),
                        epoch,
                        ..
                    }) => format!("{h} ({epoch})"),
                    Some(o) => format!("nobody ({})", o.epoch),
                    None => "nobody yet".to_owned(),
                },
            );
        }
        t.add_row(row);
    }
    println!("{t}");
    Ok(EXIT_OK)
}

/// What to do with dead letters.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum DeadLetterAction {
    /// List them.
    List {
        /// Only this link's.
        #[arg(long)]
        link: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Put them back into the outbox for another try.
    Retry {
        /// Ids (see `list`).
        ids: Vec<i64>,
        /// Every dead letter (of `--link`, if given).
        #[arg(long, conflicts_with = "ids")]
        all: bool,
        /// With `--all`: only this link's.
        #[arg(long)]
        link: Option<String>,
    },
    /// Delete them.
    Discard {
        /// Ids (see `list`).
        ids: Vec<i64>,
        /// Every dead letter (of `--link`, if given).
        #[arg(long, conflicts_with = "ids")]
        all: bool,
        /// With `--all`: only this link's.
        #[arg(long)]
        link: Option<String>,
    },
}

/// `orderlink dead-letters ...`.
pub fn dead_letters(config_path: &Path, action: &DeadLetterAction) -> anyhow::Result<u8> {
    let config = load_config(config_path)?;
    let mode = if matches!(action, DeadLetterAction::List { .. }) {
        OpenMode::Read
    } else {
        OpenMode::Edit
    };
    let store = open_store(&config, mode)?;
    match action {
        DeadLetterAction::List {
            link,
            json: as_json,
        } => {
            let list = store.dead_letters(link.as_deref())?;
            if *as_json {
                let v: Vec<_> = list
                    .iter()
                    .map(|d| {
                        json!({"id": d.id, "link": d.link, "target": d.target, "key": d.key,
                        "status": d.status, "source_status": d.source_status, "code": d.code,
                        "reason": d.reason, "attempts": d.attempts, "at": d.at})
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else if list.is_empty() {
                println!("no dead letters");
            } else {
                let mut t = table(&[
                    "ID", "LINK", "SIDE", "ORDER", "STATUS", "CODE", "REASON", "ATTEMPTS", "WHEN",
                ]);
                for d in list {
                    t.add_row(vec![
                        d.id.to_string(),
                        d.link,
                        d.target,
                        d.key,
                        d.status,
                        d.code,
                        d.reason,
                        d.attempts.to_string(),
                        d.at,
                    ]);
                }
                println!("{t}");
            }
        }
        DeadLetterAction::Retry { ids, all, link }
        | DeadLetterAction::Discard { ids, all, link } => {
            let retry = matches!(action, DeadLetterAction::Retry { .. });
            let ids: Vec<i64> = if *all {
                store
                    .dead_letters(link.as_deref())?
                    .iter()
                    .map(|d| d.id)
                    .collect()
            } else if ids.is_empty() {
                return Err(BadInput(
                    "name dead letter ids (see `orderlink dead-letters list`) or --all".into(),
                )
                .into());
            } else {
                ids.clone()
            };
            let missing = if retry {
                store.retry_dead_letters(&ids)?
            } else {
                store.discard_dead_letters(&ids)?
            };
            if !missing.is_empty() {
                let missing: Vec<String> = missing.iter().map(i64::to_string).collect();
                return Err(BadInput(format!(
                    "no dead letter with id {} (see `orderlink dead-letters list`); nothing changed",
                    missing.join(", ")
                ))
                .into());
            }
            for id in ids {
                println!(
                    "{} dead letter {id}",
                    if retry { "requeued" } else { "discarded" }
                );
            }
        }
    }
    Ok(EXIT_OK)
}

//! `orderlink explain --order N [--link L]`: reads both systems now and says what the next cycle
//! would do with the order, and why. Writes nothing.

use std::path::Path;

use super::context::{load_config, load_plugins, service_error};
use super::EXIT_OK;
use crate::service::explain::{action_words, explain, Explanation, SideNow};
use crate::service::link;
use crate::store::open::{exists as store_exists, open as open_store};
use crate::store::OpenMode;
use crate::store::SqliteStore;

/// Prints the explanation of one order on one link.
pub fn run(
    config_path: &Path,
    key: &str,
    link_name: Option<&str>,
    as_json: bool,
) -> anyhow::Result<u8> {
    let config = load_config(config_path)?;
    let l = link::one(&config, link_name).map_err(service_error)?;
    // Read only, judged before any network call: an empty store in memory stands in when
    // there is none yet.
    let store = if store_exists(&config) {
        open_store(&config, OpenMode::Read)?
    } else {
        std::sync::Arc::new(SqliteStore::in_memory()?)
            as std::sync::Arc<dyn crate::store::StateStore>
    };
    let plugins = load_plugins(&config);
    let plan = link::plan(&config, &plugins, l).map_err(service_error)?;
    let e = explain(&plan, &*store, key).map_err(service_error)?;
    if as_json {
        println!("{}", serde_json::to_string_pretty(&e)?);
    } else {
        print!("{}", render(&e));
    }
    Ok(EXIT_OK)
}

fn side_line(s: &SideNow) -> String {
    if !s.found {
        return format!("{} (`{}`): no such order", s.side.the(), s.endpoint);
    }
    format!(
        "{} (`{}`): {}{}{}",
        s.side.the(),
        s.endpoint,
        s.status.as_deref().unwrap_or("?"),
        match s.fulfilled {
            Some(true) => ", fulfilled",
            Some(false) => ", not fulfilled",
            None => "",
        },
        s.created_at
            .as_deref()
            .map(|c| format!(", created {c}"))
            .unwrap_or_default()
    )
}

/// Renders an explanation as a person reads it.
pub fn render(e: &Explanation) -> String {
    let mut out = format!("order {} on link `{}`, read now:\n", e.key, e.link);
    out.push_str(&format!(
        "  {}\n  {}\n",
        side_line(&e.shop),
        side_line(&e.erp)
    ));
    out.push_str(if e.in_sync {
        "  in sync under the mapping\n"
    } else {
        "  not in sync under the mapping\n"
    });
    for v in &e.verdicts {
        out.push_str(&format!(
            "  from {} ({}): decide {}\n",
            v.source.the(),
            v.source_status,
            action_words(v)
        ));
    }
    out.push_str("the next cycle:\n");
    if e.next_cycle.is_empty() {
        out.push_str("  does nothing with it\n");
    }
    for line in &e.next_cycle {
        out.push_str(&format!("  {line}\n"));
    }
    out
}

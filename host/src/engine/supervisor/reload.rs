//! What a reload changes: the pure comparison of the running links with a newly read config.
//! A link restarts when anything it is made of changed (its settings, either endpoint's settings,
//! its mapping file's text); the others keep going.

use std::collections::BTreeMap;

use crate::config::{Config, Endpoint, Link};

/// Everything a link is made of, for telling whether a reload changed it.
#[derive(Debug, Clone, PartialEq)]
pub struct Recipe {
    /// The link's settings.
    pub link: Link,
    /// Its shop endpoint's settings.
    pub shop: Option<Endpoint>,
    /// Its ERP endpoint's settings.
    pub erp: Option<Endpoint>,
    /// Its mapping file's text (None when it cannot be read).
    pub mapping: Option<String>,
}

impl Recipe {
    /// The recipe of `link` in `config`, reading its mapping file.
    pub fn of(config: &Config, link: &Link) -> Recipe {
        Recipe {
            link: link.clone(),
            shop: config.endpoints.get(&link.shop).cloned(),
            erp: config.endpoints.get(&link.erp).cloned(),
            mapping: std::fs::read_to_string(&link.mapping).ok(),
        }
    }
}

/// The recipes of every link of a config, by name.
pub fn recipes(config: &Config) -> BTreeMap<String, Recipe> {
    config
        .links
        .values()
        .map(|l| (l.name.clone(), Recipe::of(config, l)))
        .collect()
}

/// What to do with each link.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// New links (or links switched on): start them.
    pub start: Vec<String>,
    /// Links whose recipe changed: stop, then start again.
    pub restart: Vec<String>,
    /// Links removed or switched off: stop them.
    pub stop: Vec<String>,
    /// Links that keep going untouched.
    pub keep: Vec<String>,
}

/// Compares the running recipes with the new ones. A link runs when it is enabled.
pub fn plan(old: &BTreeMap<String, Recipe>, new: &BTreeMap<String, Recipe>) -> Plan {
    let mut p = Plan::default();
    for (name, was) in old {
        match new.get(name) {
            Some(now) if now.link.enabled && was.link.enabled => {
                if now == was {
                    p.keep.push(name.clone());
                } else {
                    p.restart.push(name.clone());
                }
            }
            Some(now) if now.link.enabled => p.start.push(name.clone()),
            _ if was.link.enabled => p.stop.push(name.clone()),
            _ => {}
        }
    }
    for (name, now) in new {
        if now.link.enabled && !old.contains_key(name) {
            p.start.push(name.clone());
        }
    }
    p
}

/// Why a new config cannot replace the running one without a restart of the process, if so.
pub fn refusal(running: &Config, new: &Config) -> Option<String> {
    (running.store != new.store).then(|| {
        format!(
            "the state store changed ({} -> {}): restart orderlink to switch stores",
            running.store.display(),
            new.store.display()
        )
    })
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::time::Duration;

    use super::*;
    use crate::config::{Direction, Scope, Side};

    fn recipe(name: &str, enabled: bool, mapping: &str) -> (String, Recipe) {
        let link = Link {
            name: name.into(),
            shop: "shop".into(),
            erp: "erp".into(),
            enabled,
            direction: Direction::ToShop,
            scope: Scope::Unfulfilled,
            mapping: PathBuf::from("m.toml"),
            poll_interval: Duration::from_secs(5),
            poll_interval_max: Duration::from_secs(30),
            sweep_interval: None,
            protected_shop: None,
            protected_erp: None,
            conflict_winner: Side::Erp,
            batch_size: 100,
            weight: 1,
        };
        (
            name.into(),
            Recipe {
                link,
                shop: None,
                erp: None,
                mapping: Some(mapping.into()),
            },
        )
    }

    #[test]
    fn only_changed_links_restart() {
        let old = BTreeMap::from([
            recipe("same", true, "a"),
            recipe("remapped", true, "a"),
            recipe("removed", true, "a"),
            recipe("switched_off", true, "a"),
            recipe("switched_on", false, "a"),
            recipe("off_stays_off", false, "a"),
        ]);
        let mut new = BTreeMap::from([
            recipe("same", true, "a"),
            recipe("remapped", true, "b"),
            recipe("switched_off", false, "a"),
            recipe("switched_on", true, "a"),
            recipe("off_stays_off", false, "a"),
            recipe("added", true, "a"),
        ]);
        let p = plan(&old, &new);
        assert_eq!(p.keep, ["same"]);
        assert_eq!(p.restart, ["remapped"]);
        assert_eq!(p.stop, ["removed", "switched_off"]);
        assert_eq!(p.start, ["switched_on", "added"]);
        // A changed interval is a changed link too.
        if let Some(r) = new.get_mut("same") {
            r.link.poll_interval = Duration::from_secs(1);
        }
        assert_eq!(plan(&old, &new).restart, ["remapped", "same"]);
    }
}

//! The lease decisions of one host, as a pure function of what the shared store shows: which
//! links to acquire, renew or release so that live hosts share the links evenly (by count, then
//! by weight), links of a host that stopped are picked up once their lease expires, and a host
//! never takes more than its share while others are alive.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};

/// One link's lease as the store holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseRow {
    /// The link.
    pub link: String,
    /// The host holding it, if any.
    pub holder: Option<String>,
    /// The fencing token: incremented on every change of holder.
    pub epoch: i64,
    /// When the lease lapses unless renewed.
    pub expires_at: DateTime<Utc>,
}

impl LeaseRow {
    /// Whether `host` holds the lease at `now`.
    pub fn held_by(&self, host: &str, now: DateTime<Utc>) -> bool {
        self.holder.as_deref() == Some(host) && self.expires_at > now
    }

    /// Whether anybody holds the lease at `now`.
    pub fn is_held(&self, now: DateTime<Utc>) -> bool {
        self.holder.is_some() && self.expires_at > now
    }
}

/// Everything one host's decision depends on.
#[derive(Debug, Clone)]
pub struct LeaseView<'a> {
    /// The time the store reported (one clock for every host: the database's).
    pub now: DateTime<Utc>,
    /// This host's name.
    pub me: &'a str,
    /// Hosts whose heartbeat has not expired (this host included).
    pub live_hosts: &'a [String],
    /// The links configured, with their weights (1 unless configured).
    pub links: &'a [(String, u32)],
    /// The leases the store holds (a link without a row is free).
    pub leases: &'a [LeaseRow],
    /// Whether this host is shutting down (then it releases everything).
    pub stopping: bool,
}

/// One thing to do to the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaseAction {
    /// Take a free or expired lease; the store does it only if the epoch is still `seen_epoch`.
    Acquire {
        /// The link.
        link: String,
        /// The epoch seen (0 when there is no row yet).
        seen_epoch: i64,
    },
    /// Extend a lease this host holds, only if the epoch is still `epoch`.
    Renew {
        /// The link.
        link: String,
        /// The epoch held.
        epoch: i64,
    },
    /// Give a lease up (rebalancing or shutdown), only if the epoch is still `epoch`.
    Release {
        /// The link.
        link: String,
        /// The epoch held.
        epoch: i64,
    },
}

/// The most links one host should hold: an even share of the links among the live hosts,
/// rounded up so that together they can hold every link.
pub fn fair_share(links: usize, live_hosts: usize) -> usize {
    links.div_ceil(live_hosts.max(1))
}

/// What this host should do now.
pub fn plan(view: &LeaseView<'_>) -> Vec<LeaseAction> {
    let configured: BTreeMap<&str, u32> = view
        .links
        .iter()
        .map(|(l, w)| (l.as_str(), (*w).max(1)))
        .collect();
    let rows: BTreeMap<&str, &LeaseRow> =
        view.leases.iter().map(|r| (r.link.as_str(), r)).collect();
    let mut mine: Vec<&LeaseRow> = view
        .leases
        .iter()
        .filter(|r| r.held_by(view.me, view.now))
        .collect();
    if view.stopping {
        return mine
            .into_iter()
            .map(|r| LeaseAction::Release {
                link: r.link.clone(),
                epoch: r.epoch,
            })
            .collect();
    }
    let mut actions = Vec::new();
    // A lease held on a link no longer configured is given back.
    mine.retain(|r| {
        if configured.contains_key(r.link.as_str()) {
            true
        } else {
            actions.push(LeaseAction::Release {
                link: r.link.clone(),
                epoch: r.epoch,
            });
            false
        }
    });
    let mut hosts: BTreeSet<&str> = view.live_hosts.iter().map(String::as_str).collect();
    hosts.insert(view.me);
    let share = fair_share(configured.len(), hosts.len());
    let total_weight: u64 = configured.values().map(|w| u64::from(*w)).sum();
    let weight_share = total_weight.div_ceil(hosts.len() as u64);
    let weight_of = |link: &str| u64::from(configured.get(link).copied().unwrap_or(1));

    // Over the share: release the lightest links first (cheapest to move), keeping the share.
    mine.sort_by(|a, b| {
        weight_of(&b.link)
            .cmp(&weight_of(&a.link))
            .then(a.link.cmp(&b.link))
    });
    while mine.len() > share {
        if let Some(r) = mine.pop() {
            actions.push(LeaseAction::Release {
                link: r.link.clone(),
                epoch: r.epoch,
            });
        }
    }
    let mut my_weight: u64 = mine.iter().map(|r| weight_of(&r.link)).sum();
    for r in &mine {
        actions.push(LeaseAction::Renew {
            link: r.link.clone(),
            epoch: r.epoch,
        });
    }
    // Under the share: take free links, heaviest first while under the weight share, so weights
    // even out; in name order otherwise (every host sees the same order).
    let mut free: Vec<(&str, i64)> = configured
        .keys()
        .filter_map(|link| match rows.get(link) {
            Some(r) if r.is_held(view.now) => None,
            Some(r) => Some((*link, r.epoch)),
            None => Some((*link, 0)),
        })
        .collect();
    free.sort_by(|a, b| weight_of(b.0).cmp(&weight_of(a.0)).then(a.0.cmp(b.0)));
    let mut held = mine.len();
    for (link, seen_epoch) in free {
        if held >= share {
            break;
        }
        let w = weight_of(link);
        if my_weight > 0 && my_weight + w > weight_share && held + 1 < share {
            // Taking this one would put this host over its weight share while it still has room
            // by count: leave it for a lighter host unless nobody else is alive.
            if hosts.len() > 1 {
                continue;
            }
        }
        actions.push(LeaseAction::Acquire {
            link: link.to_owned(),
            seen_epoch,
        });
        my_weight += w;
        held += 1;
    }
    actions
}

/// Whether a lease held until `expires_at` still covers a batch of remote writes started at
/// `now` that may take up to `margin`: a host writes to a shop or ERP only with this margin left.
pub fn covers(expires_at: DateTime<Utc>, now: DateTime<Utc>, margin: Duration) -> bool {
    expires_at - now > margin
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + s, 0).expect("valid")
    }

    fn links(n: usize) -> Vec<(String, u32)> {
        (0..n).map(|i| (format!("l{i:02}"), 1)).collect()
    }

    fn row(link: &str, holder: Option<&str>, epoch: i64, expires: i64) -> LeaseRow {
        LeaseRow {
            link: link.into(),
            holder: holder.map(str::to_owned),
            epoch,
            expires_at: t(expires),
        }
    }

    fn hosts(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    fn count(actions: &[LeaseAction], f: fn(&LeaseAction) -> bool) -> usize {
        actions.iter().filter(|a| f(a)).count()
    }

    #[test]
    fn a_lone_host_takes_every_link() {
        let links = links(5);
        let hosts = hosts(&["a"]);
        let actions = plan(&LeaseView {
            now: t(0),
            me: "a",
            live_hosts: &hosts,
            links: &links,
            leases: &[],
            stopping: false,
        });
        assert_eq!(actions.len(), 5);
        assert!(actions
            .iter()
            .all(|a| matches!(a, LeaseAction::Acquire { seen_epoch: 0, .. })));
    }

    #[test]
    fn three_hosts_take_at_most_their_share() {
        let links = links(30);
        let hosts = hosts(&["a", "b", "c"]);
        let actions = plan(&LeaseView {
            now: t(0),
            me: "b",
            live_hosts: &hosts,
            links: &links,
            leases: &[],
            stopping: false,
        });
        assert_eq!(
            count(&actions, |a| matches!(a, LeaseAction::Acquire { .. })),
            10
        );
    }

    #[test]
    fn expired_leases_of_a_dead_host_are_picked_up_with_their_epoch() {
        let links = links(2);
        let hosts = hosts(&["a"]);
        let leases = vec![
            row("l00", Some("dead"), 7, -1),
            row("l01", Some("a"), 3, 20),
        ];
        let actions = plan(&LeaseView {
            now: t(0),
            me: "a",
            live_hosts: &hosts,
            links: &links,
            leases: &leases,
            stopping: false,
        });
        assert!(actions.contains(&LeaseAction::Acquire {
            link: "l00".into(),
            seen_epoch: 7
        }));
        assert!(actions.contains(&LeaseAction::Renew {
            link: "l01".into(),
            epoch: 3
        }));
    }

    #[test]
    fn a_live_lease_of_another_host_is_never_taken() {
        let links = links(1);
        let hosts = hosts(&["a", "b"]);
        let leases = vec![row("l00", Some("b"), 2, 5)];
        let actions = plan(&LeaseView {
            now: t(0),
            me: "a",
            live_hosts: &hosts,
            links: &links,
            leases: &leases,
            stopping: false,
        });
        assert!(actions.is_empty(), "{actions:?}");
    }

    #[test]
    fn a_host_over_its_share_releases_the_surplus_when_another_joins() {
        let links = links(4);
        let hosts = hosts(&["a", "b"]);
        let leases: Vec<LeaseRow> = (0..4)
            .map(|i| row(&format!("l{i:02}"), Some("a"), 1, 30))
            .collect();
        let actions = plan(&LeaseView {
            now: t(0),
            me: "a",
            live_hosts: &hosts,
            links: &links,
            leases: &leases,
            stopping: false,
        });
        assert_eq!(
            count(&actions, |a| matches!(a, LeaseAction::Release { .. })),
            2
        );
        assert_eq!(
            count(&actions, |a| matches!(a, LeaseAction::Renew { .. })),
            2
        );
    }

    #[test]
    fn stopping_releases_everything_held_and_nothing_else() {
        let links = links(3);
        let hosts = hosts(&["a", "b"]);
        let leases = vec![
            row("l00", Some("a"), 1, 30),
            row("l01", Some("b"), 1, 30),
            row("l02", Some("a"), 4, -5),
        ];
        let actions = plan(&LeaseView {
            now: t(0),
            me: "a",
            live_hosts: &hosts,
            links: &links,
            leases: &leases,
            stopping: true,
        });
        assert_eq!(
            actions,
            vec![LeaseAction::Release {
                link: "l00".into(),
                epoch: 1
            }]
        );
    }

    #[test]
    fn a_lease_on_a_link_no_longer_configured_is_released() {
        let links = links(1);
        let hosts = hosts(&["a"]);
        let leases = vec![row("gone", Some("a"), 9, 30)];
        let actions = plan(&LeaseView {
            now: t(0),
            me: "a",
            live_hosts: &hosts,
            links: &links,
            leases: &leases,
            stopping: false,
        });
        assert!(actions.contains(&LeaseAction::Release {
            link: "gone".into(),
            epoch: 9
        }));
    }

    #[test]
    fn count_comes_first_when_another_host_holds_the_heavy_link() {
        // One heavy link (weight 4) and four light ones: the host that takes the heavy one
        // should not also take more light ones than it needs by count.
        let mut links = links(4);
        links.push(("heavy".into(), 4));
        let hosts = hosts(&["a", "b"]);
        let leases = vec![row("heavy", Some("b"), 1, 30)];
        let actions = plan(&LeaseView {
            now: t(0),
            me: "a",
            live_hosts: &hosts,
            links: &links,
            leases: &leases,
            stopping: false,
        });
        assert_eq!(
            count(&actions, |a| matches!(a, LeaseAction::Acquire { .. })),
            3
        );
    }

    #[test]
    fn all_hosts_together_cover_every_link() {
        for n_links in [1usize, 7, 30, 100] {
            for n_hosts in [1usize, 2, 3, 7] {
                assert!(fair_share(n_links, n_hosts) * n_hosts >= n_links);
            }
        }
    }

    #[test]
    fn remote_writes_need_a_margin_left_on_the_lease() {
        assert!(covers(t(30), t(0), Duration::seconds(10)));
        assert!(!covers(t(10), t(0), Duration::seconds(10)));
        assert!(!covers(t(-1), t(0), Duration::seconds(0)));
    }
}

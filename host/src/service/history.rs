//! `history --order N`: every recorded decision about an order (writes, skips and why, both
//! sides' statuses, dead letters, pending writes), and a distinct answer for an order no link
//! has ever seen versus one seen and left alone.

use serde::Serialize;

use super::retention::describe;
use super::ServiceError;
use crate::config::{Config, Link};
use crate::domain::{Scope, Side};
use crate::store::order_trail::{KnownOrder, PendingWrite};
use crate::store::{AuditEntry, DeadLetter, StateStore};

/// Whether, and how, the links know the order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// No feed has reported it, nothing was decided about it.
    NeverSeen,
    /// A feed reported it, but no decision about it is on record (left alone).
    SeenLeftAlone,
    /// Decisions about it are on record.
    Decided,
}

/// One recorded decision about the order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    /// When (RFC 3339).
    pub at: String,
    /// The link.
    pub link: String,
    /// The side written, or that would have been.
    pub target: String,
    /// The target's status then.
    pub from: Option<String>,
    /// The status set, or asked for.
    pub to: String,
    /// What was done: `applied`, `skipped: protected`, `dead letter`, ...
    pub action: String,
    /// Why.
    pub why: String,
}

impl From<AuditEntry> for Decision {
    fn from(a: AuditEntry) -> Self {
        Decision {
            at: a.at,
            link: a.link,
            target: a.target,
            from: a.from_status,
            to: a.to_status,
            action: a.action,
            why: a.why,
        }
    }
}

/// How far back one link's feed from one side has been followed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FeedWatch {
    /// The link.
    pub link: String,
    /// The side whose changes the feed reports.
    pub side: Side,
    /// The oldest cursor checkpoint kept: followed since then.
    pub followed_since: Option<String>,
    /// When the feed was last read.
    pub last_read: Option<String>,
}

/// The history of one order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrderHistory {
    /// Order key.
    pub key: String,
    /// The link asked about, if one.
    pub link: Option<String>,
    /// Never seen, seen and left alone, or decided.
    pub verdict: Verdict,
    /// One sentence answering "why did (or didn't) it change?".
    pub summary: String,
    /// Every recorded decision, oldest first.
    pub decisions: Vec<Decision>,
    /// What each link last saw of it.
    pub known: Vec<KnownOrder>,
    /// Writes waiting in the outbox.
    pub pending: Vec<PendingWrite>,
    /// Writes that failed for good.
    pub dead_letters: Vec<DeadLetter>,
    /// The feeds that could have reported it.
    pub feeds: Vec<FeedWatch>,
    /// How long decisions are kept (`[store] audit_retention`).
    pub retention: String,
}

/// Why a link leaves an order it saw out of its scope, from what the store knows (no network):
/// fulfilled under scope `unfulfilled`, or created before the window under `recent`.
fn scope_reason(link: &Link, k: &KnownOrder) -> Option<String> {
    if !link.direction.into_shop() {
        return None;
    }
    match link.scope {
        Scope::Unfulfilled if k.fulfilled == Some(true) => Some(
            "out of scope: fulfilled (a sales document exists; the link's scope is unfulfilled orders)"
                .into(),
        ),
        Scope::CreatedWithinDays(days) => {
            let created = k
                .created_at
                .as_deref()
                .and_then(|c| chrono::DateTime::parse_from_rfc3339(c).ok())?;
            let start = link.scope.window_start(chrono::Utc::now())?;
            (created < start).then(|| {
                format!("out of scope: created {created}, before the link's {days}-day window")
            })
        }
        Scope::Unfulfilled => None,
    }
}

/// Collects the history of one order, for every link or one.
pub fn order_history(
    config: &Config,
    store: &dyn StateStore,
    key: &str,
    link: Option<&str>,
) -> Result<OrderHistory, ServiceError> {
    if let Some(l) = link {
        super::link::find(config, l)?;
    }
    let decisions: Vec<Decision> = store
        .history(key, link)?
        .into_iter()
        .map(Decision::from)
        .collect();
    let known = store.known_order(key, link)?;
    let pending = store.outbox_list(link, Some(key))?;
    let dead_letters: Vec<DeadLetter> = store
        .dead_letters(link)?
        .into_iter()
        .filter(|d| d.key == key)
        .collect();
    let mut feeds = Vec::new();
    for l in config
        .links
        .values()
        .filter(|l| link.is_none_or(|n| n == l.name))
    {
        for (flows, side) in [
            (l.direction.into_shop(), Side::Erp),
            (l.direction.into_erp(), Side::Shop),
        ] {
            if flows {
                feeds.push(FeedWatch {
                    link: l.name.clone(),
                    side,
                    followed_since: store.first_checkpoint(&l.name, side)?.map(|c| c.at),
                    last_read: store.cursor_saved_at(&l.name, side)?,
                });
            }
        }
    }
    let retention = describe(config.audit_retention);
    let verdict = if !decisions.is_empty() || !pending.is_empty() || !dead_letters.is_empty() {
        Verdict::Decided
    } else if !known.is_empty() {
        Verdict::SeenLeftAlone
    } else {
        Verdict::NeverSeen
    };
    let scope = link
        .map(|l| format!("link `{l}`"))
        .unwrap_or_else(|| "any link".to_owned());
    let summary = match verdict {
        Verdict::NeverSeen => {
            let since = feeds
                .iter()
                .filter_map(|f| f.followed_since.as_deref())
                .min();
            match since {
                Some(t) => format!(
                    "order {key} was never seen by {scope}; the feeds have not reported it since {t}"
                ),
                None => format!(
                    "order {key} was never seen by {scope}; no feed has been read yet (run `orderlink sync --once`)"
                ),
            }
        }
        Verdict::SeenLeftAlone => {
            let k = &known[0];
            let why = config
                .links
                .get(&k.link)
                .and_then(|l| scope_reason(l, k))
                .unwrap_or_else(|| format!("no decision on record in the last {retention}"));
            format!(
                "order {key} was seen by link `{}` (shop: {}, ERP: {}, last {}) and left alone: {why} (`orderlink explain --order {key}` says what the next cycle would do)",
                k.link,
                k.shop_status.as_deref().unwrap_or("not seen"),
                k.erp_status.as_deref().unwrap_or("not seen"),
                k.updated_at
            )
        }
        Verdict::Decided => {
            let mut parts = Vec::new();
            if let Some(last) = decisions.last() {
                parts.push(format!(
                    "last decision {}: {} {} {} -> {} ({})",
                    last.at,
                    last.action,
                    last.target,
                    last.from.as_deref().unwrap_or("?"),
                    last.to,
                    last.why
                ));
            }
            // Seen again after the last decision and out of scope now: say so.
            for k in &known {
                let newer = decisions.last().is_none_or(|d| k.updated_at > d.at);
                if let (true, Some(why)) = (
                    newer,
                    config.links.get(&k.link).and_then(|l| scope_reason(l, k)),
                ) {
                    parts.push(format!(
                        "seen again at {} and left alone: {why}",
                        k.updated_at
                    ));
                }
            }
            if !pending.is_empty() {
                parts.push(format!("{} write(s) pending", pending.len()));
            }
            if !dead_letters.is_empty() {
                parts.push(format!("{} dead letter(s)", dead_letters.len()));
            }
            format!(
                "order {key}: {} decision(s) on record; {}",
                decisions.len(),
                parts.join("; ")
            )
        }
    };
    Ok(OrderHistory {
        key: key.to_owned(),
        link: link.map(str::to_owned),
        verdict,
        summary,
        decisions,
        known,
        pending,
        dead_letters,
        feeds,
        retention,
    })
}

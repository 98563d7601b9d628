//! `resync --link L (--since TIME | --order N...)`: re-read changes from a moment, or given
//! orders, and let the normal decide path act on them.
//!
//! `--since` moves each source feed's cursor back to the newest checkpoint saved at or before the
//! moment (cursors are opaque; see `store::checkpoints`), then runs one cycle. Changes re-read are
//! decided again: orders already in sync are skipped, so nothing is written twice needlessly.
//! A cursor is only ever moved to a checkpoint saved before the moment asked, never forward.
//!
//! `--order` reads the orders from each source side now and decides about them as a feed page
//! would (the cursor stays), then runs one cycle.

use std::sync::atomic::AtomicBool;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Serialize;

use super::compare::{read_keys, verdict, Held, SourceVerdict};
use super::ServiceError;
use crate::config::parse_duration;
use crate::domain::Side;
use crate::engine::commit::decisions_to_commit;
use crate::engine::cycle::{known, pending};
use crate::engine::{run_cycle, CycleReport, LinkPlan};
use crate::store::{PageCommit, StateStore};

/// Parses a `--since` moment: RFC 3339 (`2026-11-30T09:00:00Z`), a UTC date and time
/// (`2026-11-30 09:00`, `2026-11-30T09:00:00`), or a duration back from now (`90m`, `2h`, `1d`).
pub fn parse_since(text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, ServiceError> {
    let t = text.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(t) {
        return Ok(at.with_timezone(&Utc));
    }
    for format in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(at) = NaiveDateTime::parse_from_str(t, format) {
            return Ok(at.and_utc());
        }
    }
    if let Some(back) = parse_duration(t).and_then(|d| chrono::Duration::from_std(d).ok()) {
        return Ok(now - back);
    }
    Err(ServiceError::BadInput(format!(
        "--since: `{text}` is not a moment; give RFC 3339 (2026-11-30T09:00:00Z), a UTC date and time (2026-11-30 09:00) or a time back from now (90m, 2h, 1d)"
    )))
}

/// Where one source feed's cursor went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CursorMove {
    /// The side whose changes the feed reports.
    pub side: Side,
    /// When the checkpoint moved to was saved; `None` when the feed restarts from the
    /// connector's start point.
    pub checkpoint_at: Option<String>,
    /// What it means.
    pub note: String,
}

/// What a cycle did, in numbers and lines.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CycleSummary {
    /// Orders read from the feeds.
    pub pulled: usize,
    /// Writes queued: `side key: from -> to (why)`.
    pub queued: Vec<String>,
    /// Writes applied, same form.
    pub applied: Vec<String>,
    /// Orders left alone, by reason.
    pub skipped: std::collections::BTreeMap<String, usize>,
    /// Writes scheduled for a retry.
    pub retried: usize,
    /// Writes that became dead letters.
    pub dead: usize,
    /// The error that cut the cycle short, if any.
    pub error: Option<String>,
}

impl From<&CycleReport> for CycleSummary {
    fn from(r: &CycleReport) -> Self {
        let line = |p: &crate::engine::commit::Planned| {
            format!(
                "{} {}: {} -> {} ({})",
                p.target.as_str(),
                p.key,
                p.from.as_deref().unwrap_or("?"),
                p.to,
                p.reason
            )
        };
        CycleSummary {
            pulled: r.pulled,
            queued: r.queued.iter().map(line).collect(),
            applied: r.applied.iter().map(line).collect(),
            skipped: r.skipped.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            retried: r.retried,
            dead: r.dead,
            error: r.error.clone(),
        }
    }
}

/// What a resync did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResyncReport {
    /// The link.
    pub link: String,
    /// The moment asked for (`--since`), RFC 3339.
    pub since: Option<String>,
    /// The orders asked for (`--order`).
    pub orders: Vec<String>,
    /// Where each feed's cursor went (`--since`).
    pub cursors: Vec<CursorMove>,
    /// For each order asked (`--order`) and source side: what decide said.
    pub verdicts: Vec<SourceVerdict>,
    /// Orders asked for that a source side does not know.
    pub missing: Vec<String>,
    /// The cycle run after.
    pub cycle: CycleSummary,
}

/// Moves each source feed's cursor back to the newest checkpoint at or before `since`, then runs
/// one cycle of the link.
pub fn since(
    plan: &LinkPlan,
    store: &dyn StateStore,
    since: DateTime<Utc>,
) -> Result<ResyncReport, ServiceError> {
    let link = &plan.link.name;
    let lease = store.lease(link)?;
    let mut cursors = Vec::new();
    for side in plan.link.direction.sources() {
        let feed = format!("the {} feed", plan.endpoint(side).connector_name);
        let mv = match store.checkpoint_at_or_before(link, side, since.timestamp_millis())? {
            Some(c) => {
                store.set_cursor(&lease, side, Some(&c.cursor))?;
                CursorMove {
                    side,
                    note: format!("{feed} re-reads from its checkpoint of {}", c.at),
                    checkpoint_at: Some(c.at),
                }
            }
            None => {
                let first = store.first_checkpoint(link, side)?;
                store.set_cursor(&lease, side, None)?;
                CursorMove {
                    side,
                    checkpoint_at: None,
                    note: match first {
                        Some(f) => format!(
                            "no checkpoint kept from before then (the oldest is {}): {feed} re-reads from the connector's start point",
                            f.at
                        ),
                        None => format!("{feed} was never read: it starts from the connector's start point"),
                    },
                }
            }
        };
        tracing::info!(link = %link, side = side.as_str(), "resync: {}", mv.note);
        cursors.push(mv);
    }
    let report = run_cycle(plan, store, &lease, &AtomicBool::new(false), false);
    Ok(ResyncReport {
        link: link.clone(),
        since: Some(since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        orders: Vec::new(),
        cursors,
        verdicts: Vec::new(),
        missing: Vec::new(),
        cycle: CycleSummary::from(&report),
    })
}

/// Reads the given orders from each source side now and pushes them through the decide path
/// as if the feed had reported them (skips recorded, writes queued; the cursor stays), then runs
/// one cycle of the link, which applies the writes.
pub fn orders(
    plan: &LinkPlan,
    store: &dyn StateStore,
    keys: &[String],
) -> Result<ResyncReport, ServiceError> {
    let link = plan.link.name.clone();
    let lease = store.lease(&link)?;
    let now = Utc::now();
    let mut verdicts = Vec::new();
    let mut missing = Vec::new();
    for source in plan.link.direction.sources() {
        let target = source.other();
        let src = read_keys(plan, source, keys)?;
        let tgt = read_keys(plan, target, keys)?;
        let knowns = known(store, &link, keys)?;
        let mut pend_shop = pending(store, &link, Side::Shop, keys)?;
        let mut pend_erp = pending(store, &link, Side::Erp, keys)?;
        let mut orders = Vec::new();
        let mut decisions = Vec::new();
        for key in keys {
            let Some(o) = src.get(key) else {
                missing.push(format!("{key}: not in {}", source.the()));
                continue;
            };
            let held = Held {
                known: knowns.get(key).cloned(),
                pending_shop: pend_shop.remove(key),
                pending_erp: pend_erp.remove(key),
            };
            if let Some((d, v)) = verdict(plan, source, o, tgt.get(key), &held, now) {
                orders.push(o.clone());
                decisions.push(d);
                verdicts.push(v);
            }
        }
        let mut scratch = CycleReport::default();
        let keys: Vec<String> = orders.iter().map(|o| o.key.clone()).collect();
        let last = store.last_decisions(&link, source.other(), &keys)?;
        let c = decisions_to_commit(plan, &orders, &decisions, &last, &mut scratch);
        store.commit_orders(
            &lease,
            &PageCommit {
                source,
                next_cursor: "",
                seen: &c.seen,
                outbox: &c.outbox,
                drop_pending: &c.drop_pending,
                audit: &c.audit,
            },
        )?;
    }
    let report = run_cycle(plan, store, &lease, &AtomicBool::new(false), false);
    Ok(ResyncReport {
        link,
        since: None,
        orders: keys.to_vec(),
        cursors: Vec::new(),
        verdicts,
        missing,
        cycle: CycleSummary::from(&report),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_rfc3339_utc_date_times_and_durations_back() {
        let now = DateTime::parse_from_rfc3339("2026-11-30T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let at = |t: &str| parse_since(t, now).unwrap().to_rfc3339();
        assert_eq!(at("2026-11-30T09:00:00+01:00"), "2026-11-30T08:00:00+00:00");
        assert_eq!(at("2026-11-30 09:30"), "2026-11-30T09:30:00+00:00");
        assert_eq!(at("90m"), "2026-11-30T08:30:00+00:00");
        assert_eq!(at("1d"), "2026-11-29T10:00:00+00:00");
        let e = parse_since("yesterday", now).unwrap_err().to_string();
        assert!(
            e.contains("--since: `yesterday`") && e.contains("90m"),
            "{e}"
        );
    }
}

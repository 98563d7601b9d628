//! Link leases on PostgreSQL: the host's heartbeat, the planned acquire/renew/release applied
//! conditionally on the epoch each was planned from, and who owns what.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use postgres::Client;

use crate::lease::{LeaseAction, LeaseRow};
use crate::store::LinkOwner;

/// A lease this host holds, with its local deadline.
#[derive(Debug, Clone)]
pub struct Held {
    /// The fencing epoch.
    pub epoch: i64,
    /// When the lease lapses, on this host's monotonic clock (conservative: counted from the
    /// moment the renewal was sent, not from when the database applied it).
    pub deadline: Instant,
}

/// What a host plans from: the database's time, the live hosts, every lease row.
pub struct Observed {
    /// The database's clock.
    pub now: DateTime<Utc>,
    /// Hosts whose heartbeat has not expired.
    pub live_hosts: Vec<String>,
    /// Every lease row.
    pub leases: Vec<LeaseRow>,
}

/// Reads what a host plans from, renewing the host's heartbeat first (or removing it when
/// stopping); without `heartbeat` (a one-off command) it only reads.
pub fn observe(
    c: &mut Client,
    host: &str,
    lease: Duration,
    stopping: bool,
    heartbeat: bool,
) -> Result<Observed, postgres::Error> {
    let secs = lease.as_secs_f64();
    if !heartbeat {
        // Not among the hosts: nothing to renew or remove.
    } else if stopping {
        c.execute("DELETE FROM hosts WHERE host = $1", &[&host])?;
    } else {
        c.execute(
            "INSERT INTO hosts (host, expires_at) VALUES ($1, now() + make_interval(secs => $2))
             ON CONFLICT (host) DO UPDATE SET expires_at = excluded.expires_at",
            &[&host, &secs],
        )?;
    }
    let now: DateTime<Utc> = c.query_one("SELECT now()", &[])?.get(0);
    let live: Vec<String> = c
        .query(
            "SELECT host FROM hosts WHERE expires_at > now() ORDER BY host",
            &[],
        )?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let rows: Vec<LeaseRow> = c
        .query("SELECT link, holder, epoch, expires_at FROM leases", &[])?
        .iter()
        .map(|r| LeaseRow {
            link: r.get(0),
            holder: r.get(1),
            epoch: r.get(2),
            expires_at: r.get(3),
        })
        .collect();
    Ok(Observed {
        now,
        live_hosts: live,
        leases: rows,
    })
}

/// Applies planned actions in one transaction, each only if the lease is still as planned;
/// returns the leases this host holds afterwards, with local deadlines counted from `sent`.
pub fn apply(
    c: &mut Client,
    host: &str,
    lease: Duration,
    actions: &[LeaseAction],
    sent: Instant,
) -> Result<HashMap<String, Held>, postgres::Error> {
    let secs = lease.as_secs_f64();
    let mut renew: (Vec<&str>, Vec<i64>) = (Vec::new(), Vec::new());
    let mut acquire: (Vec<&str>, Vec<i64>) = (Vec::new(), Vec::new());
    let mut release: (Vec<&str>, Vec<i64>) = (Vec::new(), Vec::new());
    for a in actions {
        let (list, link, epoch) = match a {
            LeaseAction::Renew { link, epoch } => (&mut renew, link, *epoch),
            LeaseAction::Acquire { link, seen_epoch } => (&mut acquire, link, *seen_epoch),
            LeaseAction::Release { link, epoch } => (&mut release, link, *epoch),
        };
        list.0.push(link.as_str());
        list.1.push(epoch);
    }
    let mut tx = c.transaction()?;
    if !release.0.is_empty() {
        tx.execute(
            "UPDATE leases SET holder = NULL, expires_at = now()
             FROM unnest($1::text[], $2::bigint[]) AS u(link, epoch)
             WHERE leases.link = u.link AND leases.epoch = u.epoch AND leases.holder = $3",
            &[&release.0, &release.1, &host],
        )?;
    }
    if !acquire.0.is_empty() {
        tx.execute(
            "INSERT INTO leases (link, holder, epoch, expires_at)
             SELECT u.link, NULL, 0, now() FROM unnest($1::text[]) AS u(link)
             ON CONFLICT (link) DO NOTHING",
            &[&acquire.0],
        )?;
        tx.execute(
            "UPDATE leases SET holder = $3, epoch = leases.epoch + 1,
               expires_at = now() + make_interval(secs => $4), acquired_at = now()
             FROM unnest($1::text[], $2::bigint[]) AS u(link, epoch)
             WHERE leases.link = u.link AND leases.epoch = u.epoch
               AND (leases.holder IS NULL OR leases.expires_at <= now())",
            &[&acquire.0, &acquire.1, &host, &secs],
        )?;
    }
    if !renew.0.is_empty() {
        tx.execute(
            "UPDATE leases SET expires_at = now() + make_interval(secs => $4)
             FROM unnest($1::text[], $2::bigint[]) AS u(link, epoch)
             WHERE leases.link = u.link AND leases.epoch = u.epoch AND leases.holder = $3
               AND leases.expires_at > now()",
            &[&renew.0, &renew.1, &host, &secs],
        )?;
    }
    let rows = tx.query(
        "SELECT link, epoch, EXTRACT(EPOCH FROM (expires_at - now()))::float8
         FROM leases WHERE holder = $1 AND expires_at > now()",
        &[&host],
    )?;
    tx.commit()?;
    Ok(rows
        .iter()
        .map(|r| {
            let left: f64 = r.get(2);
            (
                r.get::<_, String>(0),
                Held {
                    epoch: r.get(1),
                    deadline: sent + Duration::from_secs_f64(left.max(0.0)),
                },
            )
        })
        .collect())
}

/// Who owns each link that ever had a lease.
pub fn owners(c: &mut Client) -> Result<HashMap<String, LinkOwner>, postgres::Error> {
    let rows = c.query(
        "SELECT link, holder, epoch, expires_at, expires_at > now() FROM leases",
        &[],
    )?;
    Ok(rows
        .iter()
        .map(|r| {
            let live: bool = r.get(4);
            (
                r.get::<_, String>(0),
                LinkOwner {
                    host: if live { r.get(1) } else { None },
                    epoch: u64::try_from(r.get::<_, i64>(2)).unwrap_or(0),
                    expires_at: r.get::<_, DateTime<Utc>>(3).to_rfc3339(),
                },
            )
        })
        .collect())
}

//! What the store knows of one order (its snapshot per link, pending writes, dead letters), the
//! orders a link has seen, writes queued outside a feed page (reconcile, resync), and the
//! pruning of the audit trail.

use rusqlite::params;
use serde::Serialize;

use super::{
    insert_audit, now_text, side, upsert_outbox, AuditEntry, OutboxEntry, Store, StoreError,
};
use crate::config::Side;

/// An order as a link last saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KnownOrder {
    /// The link.
    pub link: String,
    /// Order key.
    pub key: String,
    /// Last status seen in the shop.
    pub shop_status: Option<String>,
    /// Last status seen in the ERP.
    pub erp_status: Option<String>,
    /// The status last written to the shop, not yet seen coming back.
    pub shop_written: Option<String>,
    /// The status last written to the ERP, not yet seen coming back.
    pub erp_written: Option<String>,
    /// When the order was created (shop side), if known.
    pub created_at: Option<String>,
    /// Whether a sales document exists (ERP side), if known.
    pub fulfilled: Option<bool>,
    /// When the link last saw or wrote it (RFC 3339).
    pub updated_at: String,
}

/// A write waiting in the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PendingWrite {
    /// The link.
    pub link: String,
    /// The side to write.
    pub target: Side,
    /// Order key.
    pub key: String,
    /// The status to set.
    pub status: String,
    /// The target's status when decided.
    pub from_status: Option<String>,
    /// Why.
    pub reason: String,
    /// Attempts so far.
    pub attempts: u32,
    /// The last attempt's error, if any.
    pub last_error: Option<String>,
    /// When it was queued.
    pub created_at: String,
}

impl Store {
    /// What each link (or one) last saw of an order.
    pub fn known_order(
        &self,
        key: &str,
        link: Option<&str>,
    ) -> Result<Vec<KnownOrder>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT link, key, shop_status, erp_status, shop_written, erp_written, created_at, fulfilled, updated_at
             FROM orders WHERE key = ?1 AND (?2 IS NULL OR link = ?2) ORDER BY link",
        )?;
        let rows = stmt.query_map(params![key, link], |r| {
            Ok(KnownOrder {
                link: r.get(0)?,
                key: r.get(1)?,
                shop_status: r.get(2)?,
                erp_status: r.get(3)?,
                shop_written: r.get(4)?,
                erp_written: r.get(5)?,
                created_at: r.get(6)?,
                fulfilled: r.get(7)?,
                updated_at: r.get(8)?,
            })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// Every order key a link has seen.
    pub fn known_keys(&self, link: &str) -> Result<Vec<String>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT key FROM orders WHERE link = ?1 ORDER BY key")?;
        let rows = stmt.query_map(params![link], |r| r.get(0))?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// Pending writes of one link (every order, `key` None) or of one order (every link, `link`
    /// None), oldest first.
    pub fn outbox_list(
        &self,
        link: Option<&str>,
        key: Option<&str>,
    ) -> Result<Vec<PendingWrite>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT link, target, key, status, from_status, reason, attempts, last_error, created_at FROM outbox
             WHERE (?1 IS NULL OR link = ?1) AND (?2 IS NULL OR key = ?2) ORDER BY id",
        )?;
        let rows = stmt.query_map(params![link, key], |r| {
            Ok(PendingWrite {
                link: r.get(0)?,
                target: side(&r.get::<_, String>(1)?),
                key: r.get(2)?,
                status: r.get(3)?,
                from_status: r.get(4)?,
                reason: r.get(5)?,
                attempts: r.get(6)?,
                last_error: r.get(7)?,
                created_at: r.get(8)?,
            })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// Queues writes through the outbox outside a feed page (reconcile `--fix`, resync of given
    /// orders), with their audit records, in one transaction. The cursor does not move.
    pub fn queue_writes(
        &mut self,
        link: &str,
        outbox: &[OutboxEntry],
        drop_pending: &[(Side, String)],
        audit: &[AuditEntry],
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        upsert_outbox(&tx, link, outbox, &now_text())?;
        {
            let mut del = tx.prepare_cached(
                "DELETE FROM outbox WHERE link = ?1 AND target = ?2 AND key = ?3",
            )?;
            for (target, key) in drop_pending {
                del.execute(params![link, target.as_str(), key])?;
            }
        }
        insert_audit(&tx, audit)?;
        tx.commit()?;
        Ok(())
    }

    /// Records decisions that wrote nothing (audit only), in one transaction.
    pub fn record_audit(&mut self, audit: &[AuditEntry]) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        insert_audit(&tx, audit)?;
        tx.commit()?;
        Ok(())
    }

    /// Deletes audit records and cursor checkpoints older than `before` (RFC 3339), keeping the
    /// newest checkpoint of each link and side. Returns the audit records deleted.
    pub fn prune_audit(&self, before: &str) -> Result<usize, StoreError> {
        let n = self
            .conn
            .execute("DELETE FROM audit WHERE at < ?1", params![before])?;
        self.conn.execute(
            "DELETE FROM cursor_checkpoints WHERE at < ?1 AND id NOT IN
               (SELECT MAX(id) FROM cursor_checkpoints GROUP BY link, side)",
            params![before],
        )?;
        Ok(n)
    }

    /// The oldest audit record kept (RFC 3339), if any.
    pub fn oldest_audit(&self) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT MIN(at) FROM audit", [], |r| r.get(0))?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn audit(at: &str, key: &str) -> AuditEntry {
        AuditEntry {
            at: at.into(),
            link: "l".into(),
            key: key.into(),
            target: "shop".into(),
            from_status: None,
            to_status: "new".into(),
            action: "applied".into(),
            why: "test".into(),
        }
    }

    #[test]
    fn pruning_drops_only_records_older_than_the_horizon() {
        let mut s = Store::open(std::path::Path::new(":memory:")).unwrap();
        s.record_audit(&[
            audit("2020-01-01T00:00:00.000Z", "1"),
            audit("2030-01-01T00:00:00.000Z", "1"),
        ])
        .unwrap();
        assert_eq!(s.prune_audit("2025-01-01T00:00:00.000Z").unwrap(), 1);
        let left = s.history("1", None).unwrap();
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].at, "2030-01-01T00:00:00.000Z");
        assert_eq!(
            s.oldest_audit().unwrap().as_deref(),
            Some("2030-01-01T00:00:00.000Z")
        );
    }

    #[test]
    fn queued_writes_are_pending_and_replace_older_ones() {
        let mut s = Store::open(std::path::Path::new(":memory:")).unwrap();
        let entry = |status: &str| OutboxEntry {
            id: 0,
            target: Side::Shop,
            key: "7".into(),
            status: status.into(),
            from_status: Some("new".into()),
            source_status: "Potwierdzony".into(),
            expected_version: None,
            reason: "reconcile".into(),
            attempts: 0,
        };
        s.queue_writes("l", &[entry("on_order")], &[], &[]).unwrap();
        s.queue_writes("l", &[entry("packed")], &[], &[]).unwrap();
        let p = s.outbox_list(Some("l"), None).unwrap();
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].status, "packed");
        assert_eq!(s.outbox_list(None, Some("8")).unwrap().len(), 0);
    }
}

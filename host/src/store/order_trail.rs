//! What the store knows of one order (its snapshot per link, pending writes), for `history`,
//! reconcile and resync.

use serde::Serialize;

use crate::domain::Side;

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

//! The plain types every part of the host speaks: the sides and direction of a link, the scope of
//! the direction into the shop, status codes, why an order was left alone, what the audit trail
//! records and what happened to a write.
//!
//! Architecture invariant: this module depends on nothing else in the host (config, store,
//! engine and CLI depend on it, never the reverse) and holds no I/O.

mod action;
mod link;
mod status;

pub use action::{AuditAction, SkipReason, WriteOutcome};
pub use link::{Direction, Scope, Side};
pub use status::StatusCode;

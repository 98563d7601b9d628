//! Link leases for several hosts sharing one PostgreSQL store: each link is owned by at most one
//! host at a time, through a lease row with an expiry and a fencing epoch. `plan` holds the pure
//! decisions (what to acquire, renew, release); the store applies them conditionally on the
//! epoch, and every state write of a link carries the epoch its host holds.

pub mod guard;
pub mod plan;

pub use guard::{holds_with_margin, renew_every, write_margin};
pub use plan::{covers, fair_share, plan, LeaseAction, LeaseRow, LeaseView};

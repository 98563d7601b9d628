//! The sync engine: link setup, the sync cycle, the outbox flush, and the supervisor that runs
//! every link for `orderlink run`.

pub mod backoff;
pub mod cycle;
pub mod flush;
pub mod live;
pub mod plan;
pub mod progress;
pub mod supervisor;

pub use cycle::{run_cycle, CycleReport};
pub use plan::{connect_endpoints, plan_link, LinkPlan, SetupError};

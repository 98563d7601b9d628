//! The sync engine: link setup, the sync cycle, the outbox flush, and the long-running runner.

pub mod backoff;
pub mod commit;
pub mod cycle;
pub mod decide;
pub mod flush;
pub mod health;
pub mod live;
pub mod outcome;
pub mod plan;
pub mod runner;

pub use cycle::{run_cycle, CycleReport};
pub use plan::{connect_endpoints, plan_link, LinkPlan, SetupError};

//! The sync engine: link setup, the sync cycle, the outbox flush, and the long-running runner.

pub mod backoff;
pub mod cycle;
pub mod flush;
pub mod instrument;
pub mod live;
pub mod plan;
pub mod runner;

pub use cycle::{run_cycle, CycleReport};
pub use plan::{connect_endpoints, plan_link, LinkPlan, SetupError};

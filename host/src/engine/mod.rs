//! The sync engine: link setup, the sync cycle, the outbox flush, and the supervisor that runs
//! every link for `orderlink run`.

pub mod backoff;
pub mod commit;
pub mod cycle;
pub mod decide;
pub mod flush;
pub mod health;
pub mod instrument;
pub mod live;
pub mod outcome;
pub mod plan;
pub mod progress;
pub mod supervisor;
pub mod sweep;

pub use cycle::{run_cycle, CycleReport};
pub use plan::{connect_endpoints, plan_link, LinkPlan, SetupError};

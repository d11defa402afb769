//! The load engine: closed-loop users or open-loop arrivals on keep-alive connections, spread
//! over one single-threaded runtime per core, each shard recording into its own tally.

mod engine;
mod schedule;
mod wire;

pub use engine::{Load, StepPlan, StepRun, Verdict, run_step};
pub use schedule::Schedule;

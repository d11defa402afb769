//! The load engine: virtual users on keep-alive connections, spread over one single-threaded
//! runtime per core, each shard recording into its own tally, merged once per window.

mod conn;
mod engine;

pub use conn::Connector;
pub use engine::{Load, StepPlan, StepRun, Verdict, run_step};

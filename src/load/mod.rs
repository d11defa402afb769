//! The load engine: closed-loop users or open-loop arrivals on keep-alive connections, spread
//! over one single-threaded runtime per core, each shard recording into its own windows.

mod conn;
mod engine;
mod probe;
mod schedule;
mod shard;
mod slots;
mod stream;
mod users;
mod wire;

pub use engine::{Load, StepPlan, StepRun, Verdict, run_step, run_step_at};
pub use probe::Prober;
pub use schedule::Schedule;
pub use shard::ProcessShard;
pub use stream::NOT_A_STREAM;

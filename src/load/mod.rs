//! The load engine: closed-loop users or open-loop arrivals on keep-alive connections, spread
//! over one single-threaded runtime per core, each shard recording into its own windows.

mod conn;
mod engine;
mod probe;
mod schedule;
mod slots;
mod stream;
mod users;
mod wire;

pub use engine::{Load, StepPlan, StepRun, Verdict, run_step};
pub use probe::Prober;
pub use schedule::Schedule;
pub use stream::NOT_A_STREAM;

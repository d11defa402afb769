//! What the user sees and what scripts read: live progress on stderr, the final table and
//! verdict on stdout, and the results documents (JSON, plus the step-by-step partial log).

mod progress;
mod results;
mod terminal;

pub use progress::Progress;
pub use results::{
    FindResults, FindSettings, LoadInfo, PartialLog, RunResults, SageMakerTarget, TargetInfo,
    now_rfc3339, write_json,
};
pub use terminal::{color_enabled, find_table, find_verdict, run_summary};

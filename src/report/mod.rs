//! What the user sees and what scripts read: live progress on stderr, the final table and
//! verdict on stdout, the results documents (JSON, partial log) and the HTML and CSV reports.

mod comparison;
mod csv;
mod document;
mod export;
mod html;
mod progress;
mod results;
mod simulation;
mod svg;
mod terminal;

pub use comparison::scaling_comparison;
pub use csv::{find_csv, run_csv, simulate_csv};
pub use document::{
    Document, KNOWN_SCHEMAS, SimMinute, SimPolicy, SimSummary, SimulateResults, find_results_from,
};
pub use export::{Exportable, ReportFiles, check_report_files, write_reports};
pub use html::{CONTENT_SECURITY_POLICY, find_html, run_html, simulate_html};
pub use progress::Progress;
pub use results::{
    FindResults, FindSettings, LiveScaling, LoadInfo, PartialLog, ProfileMinute, RunResults,
    SageMakerTarget, TargetInfo, now_rfc3339, write_json, write_text,
};
pub use simulation::{recommendation_report, simulation_report};
pub use terminal::{
    color_enabled, emit, find_table, find_verdict, profile_table, run_report, run_summary,
    simulate_summary,
};

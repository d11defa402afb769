//! What the user sees: live progress on stderr, the final table and verdict on stdout, and
//! the HTML and CSV reports; every renderer takes a `results` document.

mod compare;
mod csv;
mod export;
mod html;
mod live_scaling;
mod progress;
mod simulation;
mod stream;
mod svg;
mod terminal;
mod uncertainty;

pub use compare::compare_report;
pub use csv::{find_csv, run_csv, simulate_csv};
pub use export::{Exportable, ReportFiles, check_report_files, write_reports};
pub use html::{CONTENT_SECURITY_POLICY, find_html, run_html, simulate_html};
pub use live_scaling::scaling_comparison;
pub use progress::Progress;
pub use simulation::{recommendation_report, simulation_report};
pub use stream::run_line as stream_run_line;
pub use terminal::{
    cloudwatch_lines, color_enabled, emit, emit_stderr, find_table, find_verdict, profile_table,
    run_report, run_summary, simulate_summary, stderr_color_enabled,
};

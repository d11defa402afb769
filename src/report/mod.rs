//! What the user sees: live progress on stderr, the final table and verdict on stdout, and
//! the HTML and CSV reports; every renderer takes a `results` document.
//!
//! The map, one axis, by format:
//! - `terminal/` — tables, verdicts and live progress, one file per document
//! - `csv`       — every CSV of every document, each column defined once with its header
//! - `html/`     — the self-contained pages, one per document, from `templates/`
//! - `svg/`      — the charts the pages embed
//! - `export`    — writing a document's HTML and CSV to the files `--html` and `--csv` name
//!
//! Shared by the renderers, so the terminal and the page read alike: `format` (numbers),
//! `cells` (the cells of the tables both show), and the wording of `uncertainty` (MAX_RPS's
//! interval, the fitted curves), `live_scaling` (observed against predicted instances) and
//! `cheapest` (a `compare`'s verdict).

mod cells;
mod cheapest;
mod csv;
mod export;
mod format;
mod html;
mod live_scaling;
mod svg;
mod terminal;
mod uncertainty;

pub use csv::{find_csv, run_csv, simulate_csv};
pub use export::{Exportable, ReportFiles, check_report_files, write_reports};
pub use html::{CONTENT_SECURITY_POLICY, find_html, run_html, simulate_html};
pub use live_scaling::scaling_comparison;
pub use terminal::{
    Progress, cloudwatch_lines, color_enabled, compare_report, emit, emit_stderr, find_table,
    find_verdict, profile_table, recommendation_report, run_report, run_summary, simulate_summary,
    simulation_report, stderr_color_enabled, stream_run_line,
};

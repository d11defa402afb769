//! Measurements: what one stretch of load produced (latency histograms, successes, errors by
//! kind, connections), measurement windows, the figures a step reports and the stability test.

pub mod interchange;
mod tally;
mod window;

pub use tally::{Tally, latency_summary, per_second, percentile_ms, summary_of};
pub use window::{Window, Windows, is_stable, summarize};

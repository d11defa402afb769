//! Measurements: what one stretch of load produced (latency histograms, successes, errors by
//! kind, connections), measurement windows, the figures a step reports, the stability test,
//! and confidence intervals.

pub mod interchange;
mod interval;
mod tally;
mod window;

pub use interval::{
    CONFIDENCE, mean_half_width, rate_interval, real_difference, standard_error, t95, t95_one_sided,
};
pub use tally::{Tally, latency_summary, per_second, percentile_ms, summary_of};
pub use window::{Window, Windows, is_stable, summarize};

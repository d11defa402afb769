//! Measurements: what one stretch of load produced (latency histogram, successes, errors by
//! kind), measurement windows, the figures a step reports and the stability test.

mod window;

pub use window::{Tally, Window, Windows, is_stable, latency_summary, percentile_ms, summarize};

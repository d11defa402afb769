//! Measurements: what one stretch of load produced (latency histogram, successes, errors by
//! kind), measurement windows, the figures a step reports and the stability test.

mod errors;
mod window;

pub use errors::{ErrorCounts, ErrorKind, ErrorSample};
pub use window::{
    LatencySummary, Summary, Tally, Window, Windows, is_stable, percentile_ms, summarize,
};

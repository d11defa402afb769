//! Measurements: what one stretch of load produced (latency histograms, successes, errors by
//! kind, connections), measurement windows, the figures a step reports, the stability test,
//! confidence intervals, and what streaming (LLM) requests add: time to first token,
//! inter-token gaps, tokens.

pub mod interchange;
mod interval;
mod stream;
mod tally;
mod window;

pub use interval::{
    CONFIDENCE, mean_half_width, rate_interval, real_difference, standard_error, t95, t95_one_sided,
};
pub use stream::{
    StreamRecord, StreamTally, is_settled, is_stable_stream, run_stream_figures, stream_figures,
};
pub use tally::{Tally, latency_summary, per_second, percentile_ms, summary_of};
pub use window::{Window, Windows, is_stable, summarize};

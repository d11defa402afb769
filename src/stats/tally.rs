//! What a stretch of load produced: latency in HDR histograms (microseconds, 3 significant
//! digits, so memory stays flat however many requests a run sends), outcomes counted by kind,
//! and the connection figures; and the summary a step or a run reports from it.

use std::time::Duration;

use hdrhistogram::Histogram;

use super::stream::StreamTally;
use crate::results::{
    ErrorCounts, ErrorKind, ErrorSample, LatencySummary, Summary, tally_counters,
};

/// The largest latency a histogram holds: one hour, in microseconds. Longer ones saturate.
pub(super) const MAX_LATENCY_US: u64 = 3_600_000_000;
/// The histograms' precision: values are kept to 3 significant digits (0.1 %).
pub(super) const SIGNIFICANT_DIGITS: u8 = 3;

tally_counters! {
    /// What one stretch of load produced. Each load shard records into its own tally;
    /// tallies of the same window are merged.
    #[derive(Clone, Debug)]
    pub struct Tally {
        /// Latency of every request that got an outcome, failures included (a timeout at the
        /// time it took), in microseconds.
        pub latency: Histogram<u64>,
        /// Latency of the successful requests only.
        pub latency_ok: Histogram<u64>,
    } .. {
        /// Requests still in flight when the drain limit passed after the load stopped:
        /// cut by peakrps, so they have no outcome (not the server's timeouts).
        pub cut: u64,
        pub first_error: Option<ErrorSample>,
        /// Streaming requests only: TTFT, inter-token gaps, tokens.
        pub stream: Option<Box<StreamTally>>,
    }
}

impl Default for Tally {
    fn default() -> Self {
        Self::new()
    }
}

pub(super) fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_LATENCY_US, SIGNIFICANT_DIGITS)
        .unwrap_or_else(|_| unreachable!("constant histogram bounds are valid"))
}

pub(super) fn micros(latency: Duration) -> u64 {
    u64::try_from(latency.as_micros())
        .unwrap_or(u64::MAX)
        .max(1)
}

impl Tally {
    pub fn new() -> Self {
        Tally {
            latency: histogram(),
            latency_ok: histogram(),
            successes: 0,
            answered: 0,
            errors: ErrorCounts::default(),
            open_loop: false,
            scheduled: 0,
            dropped: 0,
            connections: 0,
            reconnects: 0,
            cut: 0,
            first_error: None,
            stream: None,
        }
    }

    pub fn record_success(&mut self, latency: Duration) {
        let us = micros(latency);
        self.latency.saturating_record(us);
        self.latency_ok.saturating_record(us);
        self.successes += 1;
    }

    /// Counts a failure that took `latency`; `sample` is only called for the first failure
    /// of the tally.
    pub fn record_error(
        &mut self,
        kind: ErrorKind,
        latency: Duration,
        sample: impl FnOnce() -> ErrorSample,
    ) {
        self.latency.saturating_record(micros(latency));
        self.errors.add(kind, 1);
        if self.first_error.is_none() {
            self.first_error = Some(sample());
        }
    }

    /// Every request sent and ended: a success, an error, or cut at the drain limit
    /// (`requests = successes + errors + cut`); dropped ones were never sent.
    pub fn requests(&self) -> u64 {
        self.successes + self.errors.total() + self.cut
    }

    /// A request still in flight when the drain limit passed: it counts as sent, with no
    /// outcome and no latency (the server did not end it).
    pub fn record_cut(&mut self) {
        self.cut += 1;
    }

    pub fn merge(&mut self, other: &Tally) {
        // The histograms share the same bounds, so adding cannot fail.
        let _ = self.latency.add(&other.latency);
        let _ = self.latency_ok.add(&other.latency_ok);
        self.successes += other.successes;
        self.answered += other.answered;
        self.errors.merge(&other.errors);
        self.open_loop |= other.open_loop;
        self.scheduled += other.scheduled;
        self.dropped += other.dropped;
        self.connections += other.connections;
        self.reconnects += other.reconnects;
        self.cut += other.cut;
        if self.first_error.is_none() {
            self.first_error.clone_from(&other.first_error);
        }
        if let Some(theirs) = &other.stream {
            self.stream_mut().merge(theirs);
        }
    }

    /// The streaming part, created on first use.
    pub fn stream_mut(&mut self) -> &mut StreamTally {
        self.stream.get_or_insert_with(Box::default)
    }
}

/// The p50, p90, p99 and max of a histogram, in milliseconds.
pub fn latency_summary(h: &Histogram<u64>) -> LatencySummary {
    LatencySummary {
        p50: percentile_ms(h, 50.0),
        p90: percentile_ms(h, 90.0),
        p99: percentile_ms(h, 99.0),
        max: round_ms(h.max()),
    }
}

/// The latency at a percentile (0-100] in milliseconds; 0 when nothing was recorded.
pub fn percentile_ms(h: &Histogram<u64>, percentile: f64) -> f64 {
    if h.is_empty() {
        return 0.0;
    }
    round_ms(h.value_at_percentile(percentile))
}

fn round_ms(us: u64) -> f64 {
    (us as f64 / 10.0).round() / 100.0
}

/// The summary of a tally gathered over `span`.
pub fn summary_of(tally: &Tally, span: Duration) -> Summary {
    let requests = tally.requests();
    let ended = requests - tally.cut;
    let success_ratio = if ended > 0 {
        tally.successes as f64 / ended as f64
    } else {
        0.0
    };
    Summary {
        rps: round2(per_second(tally.answered, span)),
        requests,
        success_ratio: (success_ratio * 10_000.0).round() / 10_000.0,
        errors: tally.errors,
        latency_ms: latency_summary(&tally.latency),
        latency_ms_ok: (tally.successes > 0).then(|| latency_summary(&tally.latency_ok)),
        scheduled: tally.open_loop.then_some(tally.scheduled),
        dropped: tally.dropped,
        connections: Some(tally.connections),
        reconnects: Some(tally.reconnects),
        cut: tally.cut,
        tally: None,
        duration_s: round2(span.as_secs_f64()),
    }
}

/// Events per second over `span`; 0 for an empty span.
pub fn per_second(count: u64, span: Duration) -> f64 {
    let secs = span.as_secs_f64();
    if secs > 0.0 { count as f64 / secs } else { 0.0 }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

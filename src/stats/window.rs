//! Tallies (what a stretch of load produced), measurement windows, step summaries and the
//! stability test. Latency lives in HDR histograms (microseconds, 3 significant digits), so
//! memory stays flat however many requests a run sends.

use std::time::Duration;

use crate::results::{ErrorCounts, ErrorKind, ErrorSample, LatencySummary, Summary};
use hdrhistogram::Histogram;

/// The largest latency a histogram holds: one hour, in microseconds. Longer ones saturate.
const MAX_LATENCY_US: u64 = 3_600_000_000;

/// What one stretch of load produced. Each load shard records into its own tally; tallies
/// of the same window are merged.
#[derive(Clone, Debug)]
pub struct Tally {
    /// Latency of successful requests, in microseconds.
    pub latency: Histogram<u64>,
    pub successes: u64,
    pub errors: ErrorCounts,
    /// Open-loop requests that could not be sent on time.
    pub dropped: u64,
    pub first_error: Option<ErrorSample>,
}

impl Default for Tally {
    fn default() -> Self {
        Self::new()
    }
}

impl Tally {
    pub fn new() -> Self {
        let latency = Histogram::new_with_bounds(1, MAX_LATENCY_US, 3)
            .unwrap_or_else(|_| unreachable!("constant histogram bounds are valid"));
        Tally {
            latency,
            successes: 0,
            errors: ErrorCounts::default(),
            dropped: 0,
            first_error: None,
        }
    }

    pub fn record_success(&mut self, latency: Duration) {
        let us = u64::try_from(latency.as_micros())
            .unwrap_or(u64::MAX)
            .max(1);
        self.latency.saturating_record(us);
        self.successes += 1;
    }

    /// Counts a failure; `sample` is only called for the first failure of the tally.
    pub fn record_error(&mut self, kind: ErrorKind, sample: impl FnOnce() -> ErrorSample) {
        self.errors.add(kind, 1);
        if self.first_error.is_none() {
            self.first_error = Some(sample());
        }
    }

    /// Every request that got an outcome (success or error); dropped ones were never sent.
    pub fn requests(&self) -> u64 {
        self.successes + self.errors.total()
    }

    pub fn merge(&mut self, other: &Tally) {
        // Both histograms share the same bounds, so adding cannot fail.
        let _ = self.latency.add(&other.latency);
        self.successes += other.successes;
        self.errors.merge(&other.errors);
        self.dropped += other.dropped;
        if self.first_error.is_none() {
            self.first_error.clone_from(&other.first_error);
        }
    }
}

/// One measurement window: a tally over a known span of time.
#[derive(Clone, Debug)]
pub struct Window {
    pub index: u32,
    pub duration: Duration,
    pub tally: Tally,
}

impl Window {
    /// Successful responses per second.
    pub fn rps(&self) -> f64 {
        per_second(self.tally.successes, self.duration)
    }
}

fn per_second(count: u64, span: Duration) -> f64 {
    let secs = span.as_secs_f64();
    if secs > 0.0 { count as f64 / secs } else { 0.0 }
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

/// Merges windows into the summary of the time they cover, plus the merged tally (for
/// percentiles other than the summary's and the first error).
pub fn summarize(windows: &[Window]) -> (Summary, Tally) {
    let mut tally = Tally::new();
    let mut span = Duration::ZERO;
    for w in windows {
        tally.merge(&w.tally);
        span += w.duration;
    }
    (summary_of(&tally, span), tally)
}

/// The summary of a tally gathered over `span`.
fn summary_of(tally: &Tally, span: Duration) -> Summary {
    let requests = tally.requests();
    let success_ratio = if requests > 0 {
        tally.successes as f64 / requests as f64
    } else {
        0.0
    };
    Summary {
        rps: round2(per_second(tally.successes, span)),
        requests,
        success_ratio: (success_ratio * 10_000.0).round() / 10_000.0,
        errors: tally.errors,
        latency_ms: latency_summary(&tally.latency),
        dropped: tally.dropped,
        duration_s: round2(span.as_secs_f64()),
    }
}

/// How many of the latest windows [`Windows`] keeps in full: the stability test's three.
const RECENT: usize = 3;

/// The windows of a step as they close: a running total of all of them, and the latest
/// three in full for the stability test. Memory stays flat however long a run lasts.
#[derive(Clone, Debug, Default)]
pub struct Windows {
    total: Tally,
    span: Duration,
    count: u32,
    recent: Vec<Window>,
}

impl Windows {
    pub fn push(&mut self, window: Window) {
        self.total.merge(&window.tally);
        self.span += window.duration;
        self.count += 1;
        if self.recent.len() == RECENT {
            self.recent.remove(0);
        }
        self.recent.push(window);
    }

    /// Adds another step's windows (a later stretch of the same run).
    pub fn absorb(&mut self, other: Windows) {
        self.total.merge(&other.total);
        self.span += other.span;
        self.count += other.count;
        if !other.recent.is_empty() {
            self.recent = other.recent;
        }
    }

    /// How many windows closed.
    pub fn len(&self) -> u32 {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The window that closed last.
    pub fn last(&self) -> Option<&Window> {
        self.recent.last()
    }

    /// Everything the windows counted, merged.
    pub fn total(&self) -> &Tally {
        &self.total
    }

    /// The figures of all the windows together.
    pub fn summary(&self) -> Summary {
        summary_of(&self.total, self.span)
    }

    /// Whether the latest three windows agree within `band` (see [`is_stable`]).
    pub fn is_stable(&self, band: f64) -> bool {
        is_stable(&self.recent, band)
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Whether the last three windows agree within `band` (0.10 = 10 %): their throughput, and
/// their median latency (differences under 1 ms always count as agreement, since sub-ms
/// medians jitter far more than 10 % without meaning anything).
pub fn is_stable(windows: &[Window], band: f64) -> bool {
    let Some(last) = windows.len().checked_sub(3).map(|i| &windows[i..]) else {
        return false;
    };
    let rps: Vec<f64> = last.iter().map(Window::rps).collect();
    let p50: Vec<f64> = last
        .iter()
        .map(|w| percentile_ms(&w.tally.latency, 50.0))
        .collect();
    agree(&rps, band, 0.0) && agree(&p50, band, 1.0)
}

fn agree(values: &[f64], band: f64, absolute_slack: f64) -> bool {
    let max = values.iter().copied().fold(f64::MIN, f64::max);
    let min = values.iter().copied().fold(f64::MAX, f64::min);
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    max - min <= band * mean + absolute_slack
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(successes: u64, latency_ms: u64, secs: u64) -> Window {
        let mut tally = Tally::new();
        for _ in 0..successes {
            tally.record_success(Duration::from_millis(latency_ms));
        }
        Window {
            index: 0,
            duration: Duration::from_secs(secs),
            tally,
        }
    }

    #[test]
    fn summary_counts_rates_and_percentiles() {
        let mut w = window(90, 10, 2);
        for _ in 0..10 {
            w.tally.record_error(ErrorKind::Throttled, || ErrorSample {
                kind: ErrorKind::Throttled,
                status: Some(429),
                detail: "slow down".into(),
            });
        }
        let (s, tally) = summarize(&[w, window(50, 30, 2)]);
        assert_eq!(s.requests, 150);
        assert_eq!(s.rps, 35.0); // 140 successes in 4 s
        assert_eq!(s.success_ratio, 0.9333);
        assert_eq!(s.errors.throttled, 10);
        // HDR keeps 3 significant digits: figures are within 0.1 %.
        assert!(
            (s.latency_ms.p50 - 10.0).abs() <= 0.01,
            "{}",
            s.latency_ms.p50
        );
        assert!(
            (s.latency_ms.p99 - 30.0).abs() <= 0.03,
            "{}",
            s.latency_ms.p99
        );
        assert_eq!(tally.first_error.map(|e| e.status), Some(Some(429)));
    }

    #[test]
    fn stability_needs_three_agreeing_windows() {
        assert!(!is_stable(&[window(100, 10, 1), window(100, 10, 1)], 0.1));
        assert!(is_stable(
            &[
                window(10, 50, 1),
                window(100, 10, 1),
                window(104, 10, 1),
                window(97, 10, 1)
            ],
            0.1
        ));
        // throughput still climbing
        assert!(!is_stable(
            &[window(80, 10, 1), window(100, 10, 1), window(120, 10, 1)],
            0.1
        ));
        // latency still climbing
        assert!(!is_stable(
            &[window(100, 10, 1), window(100, 20, 1), window(100, 30, 1)],
            0.1
        ));
    }

    #[test]
    fn windows_keep_totals_and_only_the_latest_three() {
        let mut ws = Windows::default();
        let all: Vec<Window> = (0..10).map(|i| window(100 + i, 10, 1)).collect();
        for w in all.iter().cloned() {
            ws.push(w);
        }
        assert_eq!(ws.len(), 10);
        assert_eq!(ws.recent.len(), 3);
        assert_eq!(ws.summary(), summarize(&all).0);
        assert_eq!(ws.is_stable(0.1), is_stable(&all, 0.1));
        let mut more = Windows::default();
        more.push(window(50, 20, 2));
        ws.absorb(more);
        assert_eq!(ws.len(), 11);
        assert_eq!(ws.summary().requests, 1045 + 50);
        assert_eq!(ws.last().map(|w| w.tally.successes), Some(50));
    }

    #[test]
    fn empty_tally_has_zero_latency() {
        let (s, _) = summarize(&[]);
        assert_eq!(s.requests, 0);
        assert_eq!(s.rps, 0.0);
        assert_eq!(s.latency_ms, LatencySummary::default());
    }
}

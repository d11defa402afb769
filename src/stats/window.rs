//! Measurement windows: a tally over a known span of time, the windows of a step as they
//! close (a running total and the latest three), and the stability test.

use std::time::Duration;

use super::tally::{Tally, per_second, percentile_ms, summary_of};
use crate::results::Summary;

/// One measurement window: a tally over a known span of time.
#[derive(Clone, Debug)]
pub struct Window {
    pub index: u32,
    pub duration: Duration,
    pub tally: Tally,
}

impl Window {
    /// Successful answers per second.
    pub fn rps(&self) -> f64 {
        per_second(self.tally.answered, self.duration)
    }
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

    /// The time all the windows span.
    pub fn span(&self) -> Duration {
        self.span
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

    /// The latest three windows (fewer when fewer closed), oldest first.
    pub fn latest(&self) -> &[Window] {
        &self.recent
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

/// Whether the last three windows agree within `band` (0.10 = 10 %): their throughput, and
/// their median latency (differences under 1 ms always count as agreement, since sub-ms
/// medians jitter far more than 10 % without meaning anything).
///
/// Throughput also gets the doubt of counting at a window's edges: a request in flight
/// when a window closes is counted in the next one, and a closed loop in lockstep answers in
/// rounds, so two windows of a steady server differ by up to the requests in flight (Little:
/// throughput × mean latency) over the window's duration. Eight users on a 100 ms server
/// answer 72 or 80 times in a 1 s window, depending on where its edges fall between rounds.
pub fn is_stable(windows: &[Window], band: f64) -> bool {
    let Some(last) = windows.len().checked_sub(3).map(|i| &windows[i..]) else {
        return false;
    };
    // Windows with too few answers agree on nothing.
    if !enough_answers(last) {
        return false;
    }
    let rps: Vec<f64> = last.iter().map(Window::rps).collect();
    let p50: Vec<f64> = last
        .iter()
        .map(|w| percentile_ms(&w.tally.latency, 50.0))
        .collect();
    let edges = last.iter().map(in_flight_per_second).fold(0.0, f64::max);
    agree(&rps, band, edges) && agree(&p50, band, 1.0)
}

/// The fewest successful answers a window needs to count toward stability: with fewer,
/// its throughput moves by a whole request's share at its edges.
pub const MIN_ANSWERED: u64 = 4;

/// Whether every window holds at least [`MIN_ANSWERED`] answers.
pub(super) fn enough_answers(windows: &[Window]) -> bool {
    windows.iter().all(|w| w.tally.answered >= MIN_ANSWERED)
}

/// The requests a window had in flight (throughput × mean latency), per second of the window:
/// how far its throughput can move by where its edges fall alone.
fn in_flight_per_second(w: &Window) -> f64 {
    let mean_latency_s = w.tally.latency.mean() / 1e6;
    w.rps() * mean_latency_s / w.duration.as_secs_f64().max(1e-3)
}

pub(super) fn agree(values: &[f64], band: f64, absolute_slack: f64) -> bool {
    let max = values.iter().copied().fold(f64::MIN, f64::max);
    let min = values.iter().copied().fold(f64::MAX, f64::min);
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    max - min <= band * mean + absolute_slack
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::{ErrorKind, ErrorSample, LatencySummary};

    fn window(successes: u64, latency_ms: u64, secs: u64) -> Window {
        let mut tally = Tally::new();
        for _ in 0..successes {
            tally.record_success(Duration::from_millis(latency_ms));
            tally.answered += 1;
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
            w.tally
                .record_error(ErrorKind::Throttled, Duration::from_millis(100), || {
                    ErrorSample {
                        kind: ErrorKind::Throttled,
                        status: Some(429),
                        detail: "slow down".into(),
                    }
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
        assert_eq!(tally.first_error.map(|e| e.status), Some(Some(429)));
        // The 10 throttled answers took 100 ms: they are the slowest 6.7 %, so they are the
        // p99 of every answered request, while the successes' p99 stays at 30 ms.
        assert!(
            (s.latency_ms.p99 - 100.0).abs() <= 0.1,
            "{:?}",
            s.latency_ms
        );
        let ok = s.latency_ms_ok.expect("successes have latencies");
        assert!((ok.p99 - 30.0).abs() <= 0.03, "{ok:?}");
        assert!((ok.max - 30.0).abs() <= 0.03, "{ok:?}");
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
        // Eight users on a 100 ms server, in lockstep: a 1 s window holds 9 or 10 rounds
        // of answers by where its edges fall, so 80, 72, 80 is a steady server...
        assert!(is_stable(
            &[window(80, 100, 1), window(72, 100, 1), window(80, 100, 1)],
            0.1
        ));
        // ...while a round more or less is not enough to hide a fall of a quarter,
        assert!(!is_stable(
            &[window(80, 100, 1), window(60, 100, 1), window(80, 100, 1)],
            0.1
        ));
        // and where 70 against 80 is a round at 100 ms, with 10 ms answers it is a change.
        assert!(is_stable(
            &[window(80, 100, 1), window(70, 100, 1), window(80, 100, 1)],
            0.1
        ));
        assert!(!is_stable(
            &[window(80, 10, 1), window(70, 10, 1), window(80, 10, 1)],
            0.1
        ));
        // nothing answered: three empty windows agree, but not on anything
        assert!(!is_stable(
            &[window(0, 10, 1), window(0, 10, 1), window(0, 10, 1)],
            0.1
        ));
        // Requests of 2.5 s in 2 s windows: 2, 2, 2 answers agree, but on too little.
        assert!(!is_stable(
            &[window(2, 2500, 2), window(2, 2500, 2), window(2, 2500, 2)],
            0.1
        ));
        assert!(is_stable(
            &[window(4, 500, 2), window(4, 500, 2), window(4, 500, 2)],
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

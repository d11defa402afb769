//! Streaming (LLM) measurements: per request, when each token-bearing read arrived; per
//! window, time to first token and inter-token gaps in HDR histograms, tokens counted as they
//! arrive, and the time requests were in flight; and the stability test for streaming steps.

use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use super::tally::{Tally, histogram, latency_summary, micros, percentile_ms};
use super::window::Window;
use crate::results::{RunResults, StreamFigures, TokenSource, stream_counters};

/// What one streamed response delivered, as the load engine read it.
#[derive(Clone, Debug, Default)]
pub struct StreamRecord {
    /// Every read that carried tokens: when it arrived and how many content deltas it held.
    pub reads: Vec<(Instant, u32)>,
    /// The server's own counts (OpenAI `usage`, TGI `details`), when it sent them.
    pub usage_output: Option<u64>,
    pub usage_input: Option<u64>,
}

impl StreamRecord {
    /// Content deltas seen.
    pub fn counted(&self) -> u64 {
        self.reads.iter().map(|(_, n)| u64::from(*n)).sum()
    }

    /// Output tokens: the server's count when it sent one, else the deltas counted.
    pub fn output_tokens(&self) -> u64 {
        self.usage_output.unwrap_or_else(|| self.counted())
    }

    /// How many output tokens one counted delta stands for (1 without usage counts).
    pub fn scale(&self) -> f64 {
        match (self.usage_output, self.counted()) {
            (Some(usage), counted) if counted > 0 => usage as f64 / counted as f64,
            _ => 1.0,
        }
    }
}

stream_counters! {
    /// The streaming part of a tally (one window, one shard, or merged). TTFT and the
    /// request's tokens count in the window the request fell due in; tokens as they arrived
    /// and the gaps between them in the windows they arrived in (a request may outlast
    /// several windows).
    #[derive(Clone, Debug)]
    pub struct StreamTally {
        /// Time to first token, microseconds.
        pub ttft: Histogram<u64>,
        /// Inter-token gaps, microseconds.
        pub itl: Histogram<u64>,
    } .. {
        /// Time requests were in flight, summed.
        pub busy: Duration,
    }
}

impl Default for StreamTally {
    fn default() -> Self {
        StreamTally {
            ttft: histogram(),
            itl: histogram(),
            output_tokens: 0,
            input_tokens: 0,
            tokens_arrived: 0.0,
            with_tokens: 0,
            with_usage: 0,
            without_usage: 0,
            pace_sum: 0.0,
            paces: 0,
            busy: Duration::ZERO,
        }
    }
}

impl StreamTally {
    /// Records one request due at `due` that ended at `end`, whatever its outcome: a stream
    /// that failed after its first token still gives its TTFT and gaps.
    pub fn record(&mut self, due: Instant, end: Instant, record: &StreamRecord) {
        self.busy += end.saturating_duration_since(due);
        let Some(&(first, _)) = record.reads.first() else {
            return;
        };
        self.ttft
            .saturating_record(micros(first.saturating_duration_since(due)));
        let tokens = record.output_tokens();
        self.output_tokens += tokens;
        self.input_tokens += record.usage_input.unwrap_or(0);
        self.with_tokens += 1;
        if record.usage_output.is_some() {
            self.with_usage += 1;
        } else {
            self.without_usage += 1;
        }
        if let (Some(&(last, _)), true) = (record.reads.last(), tokens >= 2) {
            let span = last.saturating_duration_since(first).as_secs_f64();
            if span > 0.0 {
                self.pace_sum += (tokens - 1) as f64 / span;
                self.paces += 1;
            }
        }
    }

    /// Records the gaps before read `i` of `record` (one per token it carried): the gap since
    /// the read before, shared evenly by the tokens that arrived together.
    pub fn record_gaps(&mut self, record: &StreamRecord, i: usize) {
        let before = i.checked_sub(1).and_then(|j| record.reads.get(j));
        let (Some(&(before, _)), Some(&(at, n))) = (before, record.reads.get(i)) else {
            return;
        };
        let n = n.max(1);
        let gap = at.saturating_duration_since(before) / n;
        self.itl.saturating_record_n(micros(gap), u64::from(n));
    }

    pub fn merge(&mut self, other: &StreamTally) {
        // Same bounds everywhere: adding cannot fail.
        let _ = self.ttft.add(&other.ttft);
        let _ = self.itl.add(&other.itl);
        self.output_tokens += other.output_tokens;
        self.input_tokens += other.input_tokens;
        self.tokens_arrived += other.tokens_arrived;
        self.with_tokens += other.with_tokens;
        self.with_usage += other.with_usage;
        self.without_usage += other.without_usage;
        self.pace_sum += other.pace_sum;
        self.paces += other.paces;
        self.busy += other.busy;
    }

    fn source(&self) -> TokenSource {
        match (self.with_usage, self.without_usage) {
            (_, 0) => TokenSource::Usage,
            (0, _) => TokenSource::Counted,
            _ => TokenSource::Mixed,
        }
    }

    /// Output tokens per second as they arrived over `span`.
    pub fn tokens_per_second(&self, span: Duration) -> f64 {
        let secs = span.as_secs_f64();
        if secs > 0.0 {
            self.tokens_arrived / secs
        } else {
            0.0
        }
    }
}

/// The streaming figures of a run or a profile minute counted in `tally` over `span` (TTFT
/// and ITL also at the run's percentile), when it streamed.
pub fn run_stream_figures(tally: &Tally, span: Duration) -> Option<StreamFigures> {
    let stream = tally.stream.as_deref()?;
    Some(stream_figures(stream, span, RunResults::STREAM_PERCENTILE))
}

/// The figures of a streaming tally gathered over `span`, TTFT and ITL also at `percentile`.
pub fn stream_figures(tally: &StreamTally, span: Duration, percentile: f64) -> StreamFigures {
    let round2 = |x: f64| (x * 100.0).round() / 100.0;
    let mean = |sum: f64, n: u64| if n > 0 { sum / n as f64 } else { 0.0 };
    StreamFigures {
        ttft_ms: latency_summary(&tally.ttft),
        itl_ms: latency_summary(&tally.itl),
        ttft_at_percentile_ms: percentile_ms(&tally.ttft, percentile),
        itl_at_percentile_ms: percentile_ms(&tally.itl, percentile),
        output_tokens_per_s: round2(tally.tokens_per_second(span)),
        output_tokens_per_s_per_request: round2(mean(tally.pace_sum, tally.paces)),
        output_tokens: tally.output_tokens,
        input_tokens: tally.input_tokens,
        mean_output_tokens: round2(mean(tally.output_tokens as f64, tally.with_tokens)),
        concurrency: round2(ratio(tally.busy, span)),
        tokens_from: tally.source(),
    }
}

fn ratio(busy: Duration, span: Duration) -> f64 {
    let secs = span.as_secs_f64();
    if secs > 0.0 {
        busy.as_secs_f64() / secs
    } else {
        0.0
    }
}

/// Whether a step's last three windows settled: on tokens for a streaming step (requests last
/// seconds, so a window holds few of them), on requests otherwise.
pub fn is_settled(windows: &[Window], band: f64, streaming: bool) -> bool {
    if streaming {
        is_stable_stream(windows, band)
    } else {
        super::window::is_stable(windows, band)
    }
}

/// Whether the last three windows of a streaming step agree within `band`: their output
/// tokens per second as they arrived, and their median inter-token gap (with 1 ms of slack).
/// Requests last seconds, so a window holds few of them; tokens are many, and settle first.
pub fn is_stable_stream(windows: &[Window], band: f64) -> bool {
    let Some(last) = windows.len().checked_sub(3).map(|i| &windows[i..]) else {
        return false;
    };
    // Tokens settle first, but a window must hold whole requests to say anything.
    if !super::window::enough_answers(last) {
        return false;
    }
    let mut tokens = Vec::new();
    let mut itl = Vec::new();
    for w in last {
        let Some(s) = w.tally.stream.as_deref() else {
            return false;
        };
        if s.tokens_arrived <= 0.0 || s.itl.is_empty() {
            return false;
        }
        tokens.push(s.tokens_per_second(w.duration));
        itl.push(percentile_ms(&s.itl, 50.0));
    }
    super::window::agree(&tokens, band, 0.0) && super::window::agree(&itl, band, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(start: Instant, ms: u64) -> Instant {
        start + Duration::from_millis(ms)
    }

    #[test]
    fn ttft_gaps_and_tokens_of_one_request() {
        let due = Instant::now();
        // First token at 100 ms, then one at 120 ms, then two arriving together at 160 ms.
        let record = StreamRecord {
            reads: vec![(at(due, 100), 1), (at(due, 120), 1), (at(due, 160), 2)],
            usage_output: None,
            usage_input: None,
        };
        let mut t = StreamTally::default();
        t.record(due, at(due, 170), &record);
        for i in 0..4 {
            t.record_gaps(&record, i);
        }
        let f = stream_figures(&t, Duration::from_secs(1), 99.0);
        assert!((f.ttft_ms.p50 - 100.0).abs() < 0.1, "{f:?}");
        // Gaps: 20 ms, then 40 ms shared by two tokens: 20 ms each.
        assert_eq!(t.itl.len(), 3);
        assert!((f.itl_ms.max - 20.0).abs() < 0.1, "{f:?}");
        assert_eq!(f.output_tokens, 4);
        assert_eq!(f.tokens_from, TokenSource::Counted);
        // 3 tokens after the first in 60 ms: 50 tokens/s.
        assert!(
            (f.output_tokens_per_s_per_request - 50.0).abs() < 0.01,
            "{f:?}"
        );
        assert!((f.concurrency - 0.17).abs() < 0.001, "{f:?}");
    }

    #[test]
    fn usage_counts_win_and_the_source_says_so() {
        let due = Instant::now();
        let with_usage = StreamRecord {
            reads: vec![(at(due, 10), 1), (at(due, 20), 1)],
            usage_output: Some(6),
            usage_input: Some(128),
        };
        assert_eq!(with_usage.scale(), 3.0);
        let mut t = StreamTally::default();
        t.record(due, at(due, 30), &with_usage);
        assert_eq!((t.output_tokens, t.input_tokens), (6, 128));
        assert_eq!(
            stream_figures(&t, Duration::from_secs(1), 50.0).tokens_from,
            TokenSource::Usage
        );
        let mut other = StreamTally::default();
        other.record(
            due,
            at(due, 30),
            &StreamRecord {
                reads: vec![(at(due, 10), 1)],
                ..StreamRecord::default()
            },
        );
        t.merge(&other);
        assert_eq!(t.output_tokens, 7);
        assert_eq!(
            stream_figures(&t, Duration::from_secs(1), 50.0).tokens_from,
            TokenSource::Mixed
        );
    }

    #[test]
    fn a_request_without_tokens_adds_only_its_time_in_flight() {
        let due = Instant::now();
        let mut t = StreamTally::default();
        t.record(due, at(due, 500), &StreamRecord::default());
        assert!(t.ttft.is_empty() && t.itl.is_empty());
        assert_eq!((t.with_tokens, t.busy), (0, Duration::from_millis(500)));
    }
}

//! The figures every step, minute and run reports (DESIGN.md "Results JSON"): throughput,
//! requests, success, latency percentiles and errors counted by kind.

use serde::{Deserialize, Serialize};

/// Why a request did not succeed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// HTTP 429, or SageMaker's ThrottlingException (HTTP 400 with `x-amzn-ErrorType`).
    Throttled,
    /// HTTP 5xx, or SageMaker's ModelError (424).
    ServerError,
    /// Any other HTTP 4xx.
    ClientError,
    /// No complete response within `--timeout`.
    Timeout,
    /// Could not connect, or the connection broke (reset, closed early).
    Connect,
    /// Anything else: an unparsable response, a protocol error.
    Other,
    /// The request could not be signed (SigV4): it was not sent.
    Signing,
    /// A stream that had started failed in the model: SageMaker's `ModelStreamError`, or an
    /// error event in an SSE/NDJSON stream.
    ModelStreamError,
    /// A stream that had started failed in SageMaker itself: `InternalStreamFailure`.
    InternalStreamFailure,
}

impl ErrorKind {
    pub const ALL: [ErrorKind; 7] = [
        ErrorKind::Throttled,
        ErrorKind::ServerError,
        ErrorKind::ClientError,
        ErrorKind::Timeout,
        ErrorKind::Connect,
        ErrorKind::Other,
        ErrorKind::Signing,
    ];

    /// The kinds only streaming requests can end with (kept apart from `ALL`, whose order
    /// makes the CSV columns every report has).
    pub const STREAM: [ErrorKind; 2] = [
        ErrorKind::ModelStreamError,
        ErrorKind::InternalStreamFailure,
    ];

    /// Every kind: `ALL`, then `STREAM`.
    pub fn every() -> impl Iterator<Item = ErrorKind> {
        Self::ALL.into_iter().chain(Self::STREAM)
    }

    /// The name used in JSON, CSV and tables.
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Throttled => "throttled",
            ErrorKind::ServerError => "server_error",
            ErrorKind::ClientError => "client_error",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Connect => "connect",
            ErrorKind::Other => "other",
            ErrorKind::Signing => "signing",
            ErrorKind::ModelStreamError => "model_stream_error",
            ErrorKind::InternalStreamFailure => "internal_stream_failure",
        }
    }
}

/// How many requests failed, by kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorCounts {
    pub throttled: u64,
    pub server_error: u64,
    pub client_error: u64,
    pub timeout: u64,
    pub connect: u64,
    pub other: u64,
    /// Added after 0.1: absent (0) in documents older versions wrote.
    #[serde(default)]
    pub signing: u64,
    /// Streaming only: absent when zero, so other documents are as before.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub model_stream_error: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub internal_stream_failure: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl ErrorCounts {
    fn slot(&mut self, kind: ErrorKind) -> &mut u64 {
        match kind {
            ErrorKind::Throttled => &mut self.throttled,
            ErrorKind::ServerError => &mut self.server_error,
            ErrorKind::ClientError => &mut self.client_error,
            ErrorKind::Timeout => &mut self.timeout,
            ErrorKind::Connect => &mut self.connect,
            ErrorKind::Other => &mut self.other,
            ErrorKind::Signing => &mut self.signing,
            ErrorKind::ModelStreamError => &mut self.model_stream_error,
            ErrorKind::InternalStreamFailure => &mut self.internal_stream_failure,
        }
    }

    pub fn get(&self, kind: ErrorKind) -> u64 {
        let mut copy = *self;
        *copy.slot(kind)
    }

    pub fn add(&mut self, kind: ErrorKind, n: u64) {
        *self.slot(kind) += n;
    }

    pub fn merge(&mut self, other: &ErrorCounts) {
        for kind in ErrorKind::every() {
            self.add(kind, other.get(kind));
        }
    }

    pub fn total(&self) -> u64 {
        ErrorKind::every().map(|k| self.get(k)).sum()
    }

    /// A compact text such as `12 throttled, 3 timeout`, or `-` when there is none.
    pub fn describe(&self) -> String {
        let parts: Vec<String> = ErrorKind::every()
            .filter(|k| self.get(*k) > 0)
            .map(|k| format!("{} {}", self.get(k), k.name()))
            .collect();
        if parts.is_empty() {
            "-".to_string()
        } else {
            parts.join(", ")
        }
    }
}

/// The first failure seen in a stretch of load, kept to show the user what went wrong.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorSample {
    pub kind: ErrorKind,
    /// The HTTP status, when a response arrived.
    pub status: Option<u16>,
    /// The start of the response body, or the error's text.
    pub detail: String,
}

/// Latency percentiles in milliseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LatencySummary {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

/// The figures of a step, a minute or a run: what DESIGN.md's results JSON calls a step's
/// fields. Fields added after 0.1 (`latency_ms_ok`, `scheduled`, `connections`,
/// `reconnects`) read as absent from documents older versions wrote.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Successful responses per second over the measured time.
    pub rps: f64,
    /// Requests sent and ended: `requests = successes + errors.total() + cut`.
    pub requests: u64,
    /// Successes over the requests that got an outcome (`requests − cut`).
    pub success_ratio: f64,
    pub errors: ErrorCounts,
    /// Latency of every request that got an outcome, failures included (a timeout at the
    /// time it took), as k6, Locust and wrk2 count it.
    pub latency_ms: LatencySummary,
    /// Latency of the successful requests only; absent when none succeeded.
    #[serde(default)]
    pub latency_ms_ok: Option<LatencySummary>,
    /// Open loop: requests that fell due, each sent or dropped (`scheduled = requests +
    /// dropped`); absent in closed loop.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduled: Option<u64>,
    /// Open-loop requests not sent because `--max-inflight` were outstanding.
    pub dropped: u64,
    /// Connections opened.
    #[serde(default)]
    pub connections: Option<u64>,
    /// Requests sent again on a fresh connection after a reused one failed before any
    /// response byte arrived (the server had closed it while idle); not errors.
    #[serde(default)]
    pub reconnects: Option<u64>,
    /// Requests still in flight when the drain limit (`--drain`) passed after the load
    /// stopped: peakrps cut them, so they have no outcome and are not the server's timeouts.
    /// Absent (0) in documents older versions wrote, which counted them as timeouts.
    #[serde(default)]
    pub cut: u64,
    /// The measured time in seconds.
    pub duration_s: f64,
    /// A shard's document (`--shard`): the counts and histograms behind these figures, for
    /// `peakrps merge`; absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tally: Option<Box<super::TallyRecord>>,
}

impl Summary {
    /// Requests that succeeded: exact, since `requests` counts successes, every error and
    /// the cut ones.
    pub fn successes(&self) -> u64 {
        self.requests
            .saturating_sub(self.errors.total())
            .saturating_sub(self.cut)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_add_merge_and_describe() {
        let mut a = ErrorCounts::default();
        a.add(ErrorKind::Throttled, 2);
        a.add(ErrorKind::Timeout, 1);
        let mut b = ErrorCounts::default();
        b.add(ErrorKind::Throttled, 3);
        b.add(ErrorKind::Other, 4);
        a.merge(&b);
        assert_eq!(a.throttled, 5);
        assert_eq!(a.other, 4);
        assert_eq!(a.total(), 10);
        assert_eq!(a.describe(), "5 throttled, 1 timeout, 4 other");
        assert_eq!(ErrorCounts::default().describe(), "-");
    }
}

//! What a shard's document adds to an ordinary `find` or `run` document (`--shard K/N`):
//! which part of which run it is, and beside each step's, minute's and run's figures the
//! raw counts and HDR histograms they came from (the streaming ones too, with `--stream`),
//! so `peakrps merge` adds shards exactly. Every field here is absent from documents of
//! unsharded runs.

use serde::{Deserialize, Serialize};

use super::LoadInfo;

/// Which part of which sharded run a document holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShardInfo {
    /// Shared by every shard of one run (`--run-id`; by default the common start).
    pub run_id: String,
    /// How many shards the run has.
    pub count: u32,
    /// This shard, 0-based; absent in a merged document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u32>,
    /// The common start every shard waited for (RFC 3339, UTC).
    pub start_at: String,
    /// `run`: the whole run's load as asked of all shards (the document's `load` is this
    /// shard's part of it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load: Option<LoadInfo>,
    /// `find --plan`: the levels of the whole run, in order (concurrencies or req/s); the
    /// document's steps hold this shard's part of each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub plan: Vec<f64>,
    /// `find`: the safety factor asked for (a shard's document has no recommendation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub safety_factor: Option<f64>,
}

impl ShardInfo {
    /// "shard 2 of 4" (1-based, as people count), or "the merged run of 4 shards".
    pub fn label(&self) -> String {
        match self.index {
            Some(k) => format!("shard {k} of {} (0-based)", self.count),
            None => format!("the merged run of {} shards", self.count),
        }
    }
}

/// The counters a tally (`stats::Tally`) and its record share, listed once. A struct written
/// as `tally_counters! { struct T { head… } .. { tail… } }` gets them between its head and
/// tail fields; `tally_counters!(copy from => T { other fields })` builds a `T` with them
/// copied from `from`.
macro_rules! tally_counters {
    ($(#[$meta:meta])* pub struct $name:ident { $($head:tt)* } .. { $($tail:tt)* }) => {
        $(#[$meta])*
        pub struct $name {
            $($head)*
            pub successes: u64,
            /// Successful answers that arrived within the measured time (requests count in
            /// the window they fell due in, but throughput is answers per second as they
            /// arrive).
            pub answered: u64,
            pub errors: $crate::results::ErrorCounts,
            /// Open loop: the load was an arrival schedule, so `scheduled` means something.
            pub open_loop: bool,
            /// Open-loop requests that fell due: each was sent or dropped.
            pub scheduled: u64,
            /// Open-loop requests not sent because `--max-inflight` were outstanding.
            pub dropped: u64,
            /// Connections opened.
            pub connections: u64,
            /// Requests sent again on a fresh connection after a reused one failed before
            /// any response byte arrived (the server had closed it while idle).
            pub reconnects: u64,
            $($tail)*
        }
    };
    (copy $from:ident => $name:ident { $($field:tt)* }) => {
        $name {
            successes: $from.successes,
            answered: $from.answered,
            errors: $from.errors,
            open_loop: $from.open_loop,
            scheduled: $from.scheduled,
            dropped: $from.dropped,
            connections: $from.connections,
            reconnects: $from.reconnects,
            $($field)*
        }
    };
}
pub(crate) use tally_counters;

/// The counters the streaming part of a tally (`stats::StreamTally`) and its record share,
/// listed once; used as `tally_counters!`.
macro_rules! stream_counters {
    ($(#[$meta:meta])* pub struct $name:ident { $($head:tt)* } .. { $($tail:tt)* }) => {
        $(#[$meta])*
        pub struct $name {
            $($head)*
            /// Output tokens of the requests counted here (by due time).
            pub output_tokens: u64,
            pub input_tokens: u64,
            /// Output tokens by the window they arrived in (scaled to the server's counts).
            pub tokens_arrived: f64,
            /// Requests that streamed a token (each has one time to first token).
            pub with_tokens: u64,
            pub with_usage: u64,
            pub without_usage: u64,
            /// Sum and count of per-request decode paces (tokens per second after the
            /// first).
            pub pace_sum: f64,
            pub paces: u64,
            $($tail)*
        }
    };
    (copy $from:ident => $name:ident { $($field:tt)* }) => {
        $name {
            output_tokens: $from.output_tokens,
            input_tokens: $from.input_tokens,
            tokens_arrived: $from.tokens_arrived,
            with_tokens: $from.with_tokens,
            with_usage: $from.with_usage,
            without_usage: $from.without_usage,
            pace_sum: $from.pace_sum,
            paces: $from.paces,
            $($field)*
        }
    };
}
pub(crate) use stream_counters;

tally_counters! {
    /// The counts and histograms a step's, minute's or run's figures were computed from.
    /// Latencies are HdrHistogram's V2 compressed encoding in base64 (`HISTFAAA…`), which
    /// the Java, C, Go and Rust implementations read; values are microseconds.
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    pub struct TallyRecord {
        /// The measured time in seconds, unrounded.
        pub span_s: f64,
    } .. {
        /// Requests cut at the drain limit (see `Summary::cut`); absent (0) in older
        /// documents.
        #[serde(default, skip_serializing_if = "is_zero")]
        pub cut: u64,
        /// Every answered request's latency, failures included.
        pub latency: String,
        /// The successes' latency.
        pub latency_ok: String,
        /// `--stream`: the streaming tally (TTFT, inter-token gaps, tokens); absent
        /// otherwise.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub stream: Option<StreamTallyRecord>,
        /// `find` steps: the last (up to three) measurement windows, since a step's
        /// stability is judged on them, after merging.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub windows: Vec<WindowRecord>,
    }
}

stream_counters! {
    /// The streaming part of a tally: time to first token and inter-token gaps as histograms
    /// (encoded as the latency ones, microseconds) and every counter beside them, so shards
    /// add up to the streaming figures of the whole run.
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    pub struct StreamTallyRecord {
        /// Time to first token of every request that streamed a token.
        pub ttft: String,
        /// Inter-token gaps.
        pub itl: String,
    } .. {
        /// Time requests were in flight, summed, in seconds.
        pub busy_s: f64,
    }
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// One measurement window of a step, by its index in the step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WindowRecord {
    pub index: u32,
    #[serde(flatten)]
    pub tally: TallyRecord,
}

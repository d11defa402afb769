//! What a streaming (LLM) measurement adds to the find and run documents: time to first
//! token, the gaps between tokens, tokens per second and the concurrency in flight, per step
//! and at the peak, and the concurrency target beside the invocations one. Every field here
//! is optional in the documents, so results without `--stream` read and write as before.

use serde::{Deserialize, Serialize};

use super::{LatencySummary, Peak, Step};

/// Where a step's token counts came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenSource {
    /// The server's own `usage` (OpenAI) or `details` (TGI) counts, for every request.
    Usage,
    /// Content deltas counted by peakrps: the server sent no counts.
    Counted,
    /// Some requests had the server's counts and some did not.
    Mixed,
}

impl TokenSource {
    pub fn describe(self) -> &'static str {
        match self {
            TokenSource::Usage => "the server's usage counts",
            TokenSource::Counted => "content deltas counted (the server sent no usage)",
            TokenSource::Mixed => "the server's usage where it sent one, counted deltas elsewhere",
        }
    }
}

/// The streaming figures of a step, a run or the peak.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StreamFigures {
    /// Time to first token: from sending (closed loop) or from the due time (open loop) to
    /// the first token's arrival; requests that failed after their first token count too.
    pub ttft_ms: LatencySummary,
    /// Gaps between tokens (a read carrying k tokens counts k gaps of a k-th of its wait).
    pub itl_ms: LatencySummary,
    /// TTFT and ITL at the percentile steps are judged at (`--percentile`).
    pub ttft_at_percentile_ms: f64,
    pub itl_at_percentile_ms: f64,
    /// Output tokens of every request, per second of the measured time.
    pub output_tokens_per_s: f64,
    /// The pace one user reads at: over requests, the mean of (output tokens − 1) ÷ (time
    /// from the first token to the last).
    pub output_tokens_per_s_per_request: f64,
    pub output_tokens: u64,
    /// Input (prompt) tokens, as the server counted them; 0 when it sent no counts.
    pub input_tokens: u64,
    /// Mean output tokens per request that streamed any.
    pub mean_output_tokens: f64,
    /// Requests in flight on average (time requests were out ÷ measured time).
    pub concurrency: f64,
    pub tokens_from: TokenSource,
}

/// Which synthetic prompts a run sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PromptChoice {
    /// A fresh prompt per request: none repeats, a prompt cache cannot answer.
    Fresh,
    /// A fixed set cycled (`--prompt-set`).
    Set,
}

/// The SLOs and prompts of a `find --stream`, kept in the settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StreamSettings {
    /// `openai-chat`, `openai-completions`, `tgi` or `raw`.
    pub api: String,
    pub max_ttft_ms: f64,
    pub max_itl_ms: f64,
    /// Synthetic prompts: their length in tokens and the output asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_tokens: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_tokens: Option<u32>,
    /// Which synthetic prompts were sent, and their seed (boxed: the find document stays
    /// small).
    #[serde(flatten)]
    pub reuse: Box<PromptReuse>,
}

/// Synthetic prompts: `fresh` (request n of the run gets prompt n, none repeats) or `set`
/// (`prompt_set` prompts cycled, `--prompt-set`), and the leading words (or tokens, with a
/// tokenizer) every prompt shares.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PromptReuse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompts: Option<PromptChoice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_set: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_prefix: Option<u32>,
}

/// The concurrency target of a streaming result: what
/// `SageMakerVariantConcurrentRequestsPerModelHighResolution` should track.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConcurrencyTarget {
    /// The concurrency at the peak (users in the closed loop).
    pub peak_concurrency: u32,
    /// `peak_concurrency × SAFETY_FACTOR`, to two decimals.
    pub concurrent_requests_per_model: f64,
}

impl ConcurrencyTarget {
    pub fn new(peak_concurrency: u32, safety_factor: f64) -> Self {
        ConcurrencyTarget {
            peak_concurrency,
            concurrent_requests_per_model: (f64::from(peak_concurrency) * safety_factor * 100.0)
                .round()
                / 100.0,
        }
    }

    /// The formula with the numbers filled in.
    pub fn formula(&self, safety_factor: f64) -> String {
        format!(
            "SageMakerVariantConcurrentRequestsPerModelHighResolution = PEAK_CONCURRENCY × SAFETY_FACTOR = {} × {} = {}",
            self.peak_concurrency, safety_factor, self.concurrent_requests_per_model
        )
    }
}

impl Step {
    /// What the search maximises: output tokens per second for a streaming step, successful
    /// requests per second otherwise.
    pub fn throughput(&self) -> f64 {
        match &self.stream {
            Some(s) => s.output_tokens_per_s,
            None => self.summary.rps,
        }
    }
}

impl Peak {
    /// Whether the peak came from a streaming search.
    pub fn is_stream(&self) -> bool {
        self.stream.is_some()
    }
}

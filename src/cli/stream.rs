//! The flags of LLM endpoints: `--stream` and its prompts (find and run), the TTFT and ITL
//! limits (find), and the embedded LLM server (`serve --llm`).

use std::time::Duration;

use clap::Args;

use crate::units::{parse_duration, parse_nonzero_duration};

/// The payload format of a streaming target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ApiArg {
    /// OpenAI-compatible (vLLM, TGI's messages API, LMI): `/v1/chat/completions` bodies, or
    /// `/v1/completions` ones when the URL ends so; `stream_options.include_usage` asked for.
    Openai,
    /// Text Generation Inference: `inputs`/`parameters`, chunks with `token.text`.
    Tgi,
    /// Any bytes: the payload goes as it is, and each event (or piece) of the answer is a token.
    Raw,
}

/// What `--stream` changes about the requests (shared by find and run).
#[derive(Debug, Args, Default, Clone)]
#[command(next_help_heading = "LLM endpoints (--stream)")]
pub struct StreamArgs {
    /// Read every answer as a stream of tokens (SSE, NDJSON, or SageMaker's
    /// InvokeEndpointWithResponseStream for sagemaker://) and measure time to first token and
    /// inter-token latency. Without TARGET, an embedded LLM server is started (serve --llm).
    #[arg(long)]
    pub stream: bool,

    /// The payload format [default: openai].
    #[arg(long, value_enum, value_name = "API")]
    pub api: Option<ApiArg>,

    /// Synthetic prompts of about N tokens (words), instead of --payload [default: 256].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1_000_000), value_name = "N", conflicts_with = "payload")]
    pub prompt_tokens: Option<u32>,

    /// Ask for exactly M output tokens (max_tokens, and ignore_eos where the API has it)
    /// [default with synthetic prompts: 128; with --payload: what each record asks].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1_000_000), value_name = "M")]
    pub output_tokens: Option<u32>,

    /// The seed synthetic prompts are drawn with [default: 1]. Request n of a run gets the
    /// prompt drawn from (seed, n): no two requests share a prompt, so a server's prompt
    /// cache cannot answer instead of the model.
    #[arg(long, value_name = "SEED", conflicts_with = "payload")]
    pub seed: Option<u64>,

    /// Every synthetic prompt starts with the same N words (a shared system prompt, which a
    /// server's prefix cache may reuse) [default: 0].
    #[arg(long, value_parser = clap::value_parser!(u32).range(0..=1_000_000), value_name = "N", conflicts_with = "payload")]
    pub shared_prefix: Option<u32>,

    /// Cycle a fixed set of N synthetic prompts instead of a fresh one per request (to
    /// measure a server's prompt cache on purpose: after N requests every prompt repeats).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1_000_000_000), value_name = "N", conflicts_with = "payload")]
    pub prompt_set: Option<u32>,

    /// The `model` field of OpenAI requests (some servers require it).
    #[arg(long, value_name = "NAME")]
    pub model: Option<String>,
}

impl StreamArgs {
    /// A flag given that only means something with --stream.
    pub fn given_without_stream(&self) -> Option<&'static str> {
        if self.stream {
            return None;
        }
        [
            ("--api", self.api.is_some()),
            ("--prompt-tokens", self.prompt_tokens.is_some()),
            ("--output-tokens", self.output_tokens.is_some()),
            ("--seed", self.seed.is_some()),
            ("--shared-prefix", self.shared_prefix.is_some()),
            ("--prompt-set", self.prompt_set.is_some()),
            ("--model", self.model.is_some()),
        ]
        .into_iter()
        .find_map(|(flag, set)| set.then_some(flag))
    }
}

/// The default `--max-ttft`: the p99 limit of MLPerf Inference's Llama 2 70B server scenario.
pub const DEFAULT_MAX_TTFT: Duration = Duration::from_secs(2);
/// The default `--max-itl`: that scenario's p99 time per output token.
pub const DEFAULT_MAX_ITL: Duration = Duration::from_millis(200);

/// The SLOs of `find --stream`.
#[derive(Debug, Args, Default, Clone)]
#[command(next_help_heading = "LLM endpoints (--stream)")]
pub struct StreamSloArgs {
    /// A streaming step fails if its time to first token at --percentile exceeds this
    /// [default: 2s].
    #[arg(long, value_parser = parse_nonzero_duration, value_name = "DURATION")]
    pub max_ttft: Option<Duration>,

    /// A streaming step fails if its inter-token latency at --percentile exceeds this
    /// [default: 200ms].
    #[arg(long, value_parser = parse_nonzero_duration, value_name = "DURATION")]
    pub max_itl: Option<Duration>,
}

/// `serve --llm` and its engine.
#[derive(Debug, Args, Clone)]
#[command(next_help_heading = "LLM server (--llm)")]
pub struct LlmServeArgs {
    /// Serve an LLM instead of the Iris classifier: OpenAI-style SSE on /v1/chat/completions
    /// and /v1/completions, the same on /invocations, from a continuously batched engine whose
    /// step takes decode-step + decode-per-seq × running + prefill-per-token × new prompt tokens.
    #[arg(long)]
    pub llm: bool,

    /// Sequences decoded at once; more requests wait for a free slot [default: 8].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=4096), value_name = "N")]
    pub batch: Option<u32>,

    /// Prefill time per prompt token (a prompt's first step takes it) [default: 100us].
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    pub prefill_per_token: Option<Duration>,

    /// The fixed part of one decode step [default: 10ms].
    #[arg(long, value_parser = parse_nonzero_duration, value_name = "DURATION")]
    pub decode_step: Option<Duration>,

    /// What each running sequence adds to a decode step [default: 1ms].
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    pub decode_per_seq: Option<Duration>,

    /// Output tokens of a request that names no max_tokens [default: 128].
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1_000_000), value_name = "N")]
    pub max_tokens: Option<u64>,
}

impl LlmServeArgs {
    /// A flag given that only means something with --llm.
    pub fn given_without_llm(&self) -> Option<&'static str> {
        if self.llm {
            return None;
        }
        [
            ("--batch", self.batch.is_some()),
            ("--prefill-per-token", self.prefill_per_token.is_some()),
            ("--decode-step", self.decode_step.is_some()),
            ("--decode-per-seq", self.decode_per_seq.is_some()),
            ("--max-tokens", self.max_tokens.is_some()),
        ]
        .into_iter()
        .find_map(|(flag, set)| set.then_some(flag))
    }
}

//! What `--stream` adds to the commands: the embedded LLM server's configuration, the
//! streaming request bodies (synthetic prompts or the user's), the SLOs of `find --stream`,
//! and the error a target that does not stream gets.

use std::time::Duration;

use crate::Error;
use crate::cli::{
    ApiArg, DEFAULT_MAX_ITL, DEFAULT_MAX_TTFT, FindArgs, LlmServeArgs, Mode, StreamArgs,
};
use crate::endpoint::PayloadSet;
use crate::endpoint::llm::{Api, Generation, PromptFeed, PromptSource, StreamSpec, bodies_from};
use crate::load::NOT_A_STREAM;
use crate::results::{PromptChoice, PromptReuse, Step, StreamSettings};
use crate::search::StreamRules;
use crate::server::llm::{EngineConfig, LlmConfig};

/// Synthetic prompts' length when `--prompt-tokens` is not given.
pub const DEFAULT_PROMPT_TOKENS: u32 = 256;
/// Output tokens asked of synthetic prompts when `--output-tokens` is not given.
pub const DEFAULT_OUTPUT_TOKENS: u32 = 128;
/// The seed of synthetic prompts when `--seed` is not given.
pub const DEFAULT_SEED: u64 = 1;

/// The LLM server of `serve --llm` (and of `find --stream` without TARGET, on port 0).
pub fn llm_config(args: &LlmServeArgs, host: &str, port: u16) -> LlmConfig {
    LlmConfig {
        host: host.to_string(),
        port,
        engine: EngineConfig {
            batch: args.batch.unwrap_or(8) as usize,
            prefill_per_token: args.prefill_per_token.unwrap_or(Duration::from_micros(100)),
            decode_step: args.decode_step.unwrap_or(Duration::from_millis(10)),
            decode_per_seq: args.decode_per_seq.unwrap_or(Duration::from_millis(1)),
        },
        max_waiting: 256,
        default_max_tokens: args.max_tokens.unwrap_or(u64::from(DEFAULT_OUTPUT_TOKENS)),
    }
}

/// The embedded LLM server `find --stream` and `run --stream` use without a TARGET.
pub fn demo_llm() -> LlmConfig {
    let defaults = LlmServeArgs {
        llm: true,
        batch: None,
        prefill_per_token: None,
        decode_step: None,
        decode_per_seq: None,
        max_tokens: None,
    };
    llm_config(&defaults, "127.0.0.1", 0)
}

/// Refuses stream flags without `--stream`, and `--stream` where it does not apply.
pub fn check_flags(args: &StreamArgs) -> Result<(), Error> {
    match args.given_without_stream() {
        Some(flag) => Err(Error::Input(format!("{flag} only applies with --stream"))),
        None => Ok(()),
    }
}

/// Refuses `find` flags that need `--stream`, and `--stream` with `--mode rate`.
pub fn check_find_flags(args: &FindArgs) -> Result<(), Error> {
    check_flags(&args.target.stream)?;
    let stream = args.target.stream.stream;
    if !stream {
        for (flag, given) in [
            ("--max-ttft", args.slo.max_ttft.is_some()),
            ("--max-itl", args.slo.max_itl.is_some()),
        ] {
            if given {
                return Err(Error::Input(format!("{flag} only applies with --stream")));
            }
        }
    }
    if stream && args.plan.plan_rates.is_some() {
        return Err(Error::Input(
            "find --stream steps concurrency, so its plan lists concurrencies: use --plan 1,2,4,… instead of --plan-rates".into(),
        ));
    }
    if stream && args.mode == Mode::Rate {
        return Err(Error::Input(
            "find --stream steps concurrency (what LLM endpoints scale on); --mode rate is not supported with it (run --stream --rate measures an open loop)".into(),
        ));
    }
    Ok(())
}

/// The API `--api` names, for a target whose path is `path`.
pub fn api_of(args: &StreamArgs, path: &str) -> Api {
    match args.api.unwrap_or(ApiArg::Openai) {
        ApiArg::Openai => Api::openai_for_path(path),
        ApiArg::Tgi => Api::Tgi,
        ApiArg::Raw => Api::Raw,
    }
}

/// The streaming bodies: the user's payloads rewritten for the API, or synthetic prompts.
pub fn stream_payloads(
    args: &StreamArgs,
    api: Api,
    payloads: Option<PayloadSet>,
) -> Result<(PayloadSet, StreamSpec), Error> {
    match payloads {
        Some(set) => {
            let generation = Generation {
                max_tokens: args.output_tokens,
                model: args.model.clone(),
            };
            let spec = StreamSpec { api, prompts: None };
            Ok((bodies_from(api, &set, &generation)?, spec))
        }
        None => {
            let source = prompt_source(args, api);
            // The set stands for the bodies in reports and size checks; the requests carry
            // the feed's prompts, one made per request.
            let mut sample = PayloadSet::from_bodies(vec![source.body(0)], source.content_type());
            sample.source = source.describe();
            let spec = StreamSpec {
                api,
                prompts: Some(PromptFeed::new(source)),
            };
            Ok((sample, spec))
        }
    }
}

/// The synthetic prompts `--prompt-tokens`, `--output-tokens`, `--seed`, `--shared-prefix`
/// and `--prompt-set` ask for, defaults filled in.
pub fn prompt_source(args: &StreamArgs, api: Api) -> PromptSource {
    PromptSource {
        api,
        generation: Generation {
            max_tokens: Some(args.output_tokens.unwrap_or(DEFAULT_OUTPUT_TOKENS)),
            model: args.model.clone(),
        },
        words: args.prompt_tokens.unwrap_or(DEFAULT_PROMPT_TOKENS),
        seed: args.seed.unwrap_or(DEFAULT_SEED),
        shared_prefix: args.shared_prefix.unwrap_or(0),
        set: args.prompt_set,
    }
}

/// What a `find --stream` records of its flags.
pub fn settings(args: &FindArgs, api: &str) -> Option<StreamSettings> {
    let s = &args.target.stream;
    let synthetic = s.stream && args.target.payload.is_none();
    s.stream.then(|| StreamSettings {
        api: api.to_string(),
        max_ttft_ms: rules(args).max_ttft.as_secs_f64() * 1000.0,
        max_itl_ms: rules(args).max_itl.as_secs_f64() * 1000.0,
        prompt_tokens: synthetic.then(|| s.prompt_tokens.unwrap_or(DEFAULT_PROMPT_TOKENS)),
        output_tokens: s
            .output_tokens
            .or(synthetic.then_some(DEFAULT_OUTPUT_TOKENS)),
        reuse: Box::new(PromptReuse {
            seed: synthetic.then(|| s.seed.unwrap_or(DEFAULT_SEED)),
            prompts: synthetic.then_some(match s.prompt_set {
                Some(_) => PromptChoice::Set,
                None => PromptChoice::Fresh,
            }),
            prompt_set: s.prompt_set.filter(|_| synthetic),
            shared_prefix: s.shared_prefix.filter(|&p| synthetic && p > 0),
        }),
    })
}

/// `--max-ttft` and `--max-itl`, defaults filled in.
pub fn rules(args: &FindArgs) -> StreamRules {
    StreamRules {
        max_ttft: args.slo.max_ttft.unwrap_or(DEFAULT_MAX_TTFT),
        max_itl: args.slo.max_itl.unwrap_or(DEFAULT_MAX_ITL),
    }
}

/// At the first step, every answer was a success that streamed no token: the target does
/// not stream. Says what came back (bad input: exit 2).
pub fn not_a_stream(step: &Step) -> Option<Error> {
    let s = &step.summary;
    let sample = step.first_error.as_ref()?;
    let detail = sample.detail.strip_prefix(NOT_A_STREAM)?;
    (s.requests > 0 && s.errors.other == s.requests).then(|| {
        Error::Input(format!(
            "--stream: the target does not stream: {detail}; point --stream at a streaming endpoint (SSE or NDJSON over chunked HTTP, or sagemaker://), check --api, or drop --stream"
        ))
    })
}

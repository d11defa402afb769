//! LLM endpoints (`--stream`): the request bodies that ask for a stream (from real prompts
//! in a JSONL file, or synthetic ones of a set length with a seed), and reading the streamed
//! answer as it arrives (`decode`), whatever its framing (`framing`) and API (`api`).

mod api;
mod decode;
mod framing;
#[cfg(test)]
mod tests;

pub use api::{Api, Generation, Prompt, Said, body, read_event};
pub use decode::{StreamDecoder, StreamFault};
pub use framing::{Format, Framer};

use bytes::Bytes;
use serde_json::Value;

use super::PayloadSet;
use crate::Error;

/// How the answers of a streaming target are read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamSpec {
    pub api: Api,
}

/// Synthetic prompts: `count` different prompts of `tokens` words each, drawn from common
/// English words with `seed` (one such word is about one token for the usual tokenizers;
/// the server's `usage` says how many it counted).
pub fn synthetic_prompts(tokens: u32, count: usize, seed: u64) -> Vec<Prompt> {
    let mut rng = fastrand::Rng::with_seed(seed);
    (0..count)
        .map(|_| {
            let words: Vec<&str> = (0..tokens)
                .map(|_| WORDS[rng.usize(..WORDS.len())])
                .collect();
            Prompt::Text(words.join(" "))
        })
        .collect()
}

/// How many synthetic prompts are made: enough that no two requests in a row repeat one (a
/// server's prefix cache would make a repeated prompt cheaper than a real one).
pub const SYNTHETIC_PROMPTS: usize = 64;

const WORDS: [&str; 48] = [
    "the", "model", "answer", "question", "time", "people", "water", "light", "house", "world",
    "school", "number", "story", "country", "river", "city", "market", "music", "garden", "window",
    "morning", "friend", "letter", "paper", "table", "street", "money", "animal", "island",
    "forest", "mountain", "summer", "winter", "travel", "kitchen", "engine", "signal", "bridge",
    "planet", "history", "science", "language", "picture", "family", "journey", "harbor",
    "village", "library",
];

/// The prompt a JSON request record holds: `messages` (chat), `prompt`, `inputs` (TGI) or
/// `text`; and the output length it asks for (`max_tokens`, `max_new_tokens`,
/// `parameters.max_new_tokens`), if any.
pub fn prompt_of(record: &Value) -> Option<(Prompt, Option<u32>)> {
    let text = |k: &str| record.get(k).and_then(Value::as_str).map(str::to_string);
    let prompt = match record.get("messages").filter(|m| m.is_array()) {
        Some(messages) => Prompt::Messages(messages.clone()),
        None => Prompt::Text(
            text("prompt")
                .or_else(|| text("inputs"))
                .or_else(|| text("text"))?,
        ),
    };
    let length = ["max_tokens", "max_completion_tokens", "max_new_tokens"]
        .iter()
        .find_map(|k| record.get(*k))
        .or_else(|| record.pointer("/parameters/max_new_tokens"))
        .and_then(Value::as_u64)
        .and_then(|n| u32::try_from(n).ok());
    Some((prompt, length))
}

/// The streaming bodies for the payloads the user gave: each one a JSON record holding a
/// prompt (see `prompt_of`), rewritten for `api`; raw bodies go as they are.
pub fn bodies_from(
    api: Api,
    payloads: &PayloadSet,
    generation: &Generation,
) -> Result<PayloadSet, Error> {
    if api == Api::Raw {
        return Ok(payloads.clone());
    }
    let mut bodies = Vec::with_capacity(payloads.len());
    for i in 0..payloads.len() {
        let raw = payloads.body(i);
        let record: Value = serde_json::from_slice(&raw).map_err(|e| {
            let message = format!(
                "--payload {} (body {}): not JSON ({e}); with --stream --api {} each body is a JSON record holding a prompt (use --api raw to send bytes as they are)",
                payloads.source,
                i + 1,
                api_flag(api)
            );
            Error::invalid(message, e)
        })?;
        let (prompt, length) = prompt_of(&record).ok_or_else(|| {
            Error::Input(format!(
                "--payload {} (body {}): no prompt in it; give \"messages\", \"prompt\", \"inputs\" or \"text\" (or use --api raw)",
                payloads.source,
                i + 1
            ))
        })?;
        let generation = Generation {
            max_tokens: generation.max_tokens.or(length),
            model: generation.model.clone(),
        };
        bodies.push(Bytes::from(body(api, &prompt, &generation).to_string()));
    }
    let mut set = PayloadSet::from_bodies(bodies, "application/json");
    set.source = payloads.source.clone();
    Ok(set)
}

/// The bodies of synthetic prompts.
pub fn synthetic_bodies(
    api: Api,
    prompts: &[Prompt],
    generation: &Generation,
    source: String,
) -> PayloadSet {
    let bodies = prompts
        .iter()
        .map(|p| match body(api, p, generation) {
            Value::String(text) => Bytes::from(text),
            json => Bytes::from(json.to_string()),
        })
        .collect();
    let content_type = if api == Api::Raw {
        "text/plain"
    } else {
        "application/json"
    };
    let mut set = PayloadSet::from_bodies(bodies, content_type);
    set.source = source;
    set
}

/// How the user names an API on the command line.
fn api_flag(api: Api) -> &'static str {
    match api {
        Api::OpenAiChat | Api::OpenAiCompletions => "openai",
        Api::Tgi => "tgi",
        Api::Raw => "raw",
    }
}

//! LLM endpoints (`--stream`): the request bodies that ask for a stream (from real prompts
//! in a JSONL file, or synthetic ones made per request with a seed: `prompts`), and reading the streamed
//! answer as it arrives (`decode`), whatever its framing (`framing`) and API (`api`).

mod api;
mod decode;
mod framing;
mod prompts;
#[cfg(test)]
mod tests;

pub use api::{Api, Generation, Prompt, Said, body, read_event};
pub use decode::{StreamDecoder, StreamFault};
pub use framing::{Format, Framer};
pub use prompts::{PromptFeed, PromptSource};

use std::sync::Arc;

use bytes::Bytes;
use serde_json::Value;

use super::PayloadSet;
use crate::Error;

/// How the requests of a streaming target are made and its answers read.
#[derive(Clone, Debug)]
pub struct StreamSpec {
    pub api: Api,
    /// Synthetic prompts, a fresh body per request; `None` when the bodies are the user's.
    pub prompts: Option<Arc<PromptFeed>>,
}

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

/// How the user names an API on the command line.
fn api_flag(api: Api) -> &'static str {
    match api {
        Api::OpenAiChat | Api::OpenAiCompletions => "openai",
        Api::Tgi => "tgi",
        Api::Raw => "raw",
    }
}

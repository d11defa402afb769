//! The payload formats of LLM servers: how a request body asks for a stream of a given
//! length (OpenAI chat and completions, TGI, raw bytes), and what one streamed event says:
//! content deltas, the server's token counts, the end of the stream, or an error.

use serde_json::{Value, json};

/// `--api`, resolved against the URL (OpenAI's two endpoints take different bodies).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Api {
    /// `/v1/chat/completions`: `messages`, chunks with `choices[].delta.content`.
    OpenAiChat,
    /// `/v1/completions`: `prompt`, chunks with `choices[].text`.
    OpenAiCompletions,
    /// Text Generation Inference: `inputs`/`parameters`, chunks with `token.text`.
    Tgi,
    /// Any bytes: the payload is sent as it is and every event is one token.
    Raw,
}

impl Api {
    /// The name kept in results (`openai-chat`, `openai-completions`, `tgi`, `raw`).
    pub fn name(self) -> &'static str {
        match self {
            Api::OpenAiChat => "openai-chat",
            Api::OpenAiCompletions => "openai-completions",
            Api::Tgi => "tgi",
            Api::Raw => "raw",
        }
    }

    /// `--api openai` speaks completions when the path is OpenAI's `/completions` (not
    /// `/chat/completions`), chat everywhere else (`/invocations` included).
    pub fn openai_for_path(path: &str) -> Api {
        let path = path.split('?').next().unwrap_or(path).trim_end_matches('/');
        if path.ends_with("/completions") && !path.ends_with("/chat/completions") {
            Api::OpenAiCompletions
        } else {
            Api::OpenAiChat
        }
    }
}

/// What the request asks for besides its prompt.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Generation {
    /// `--output-tokens`: `max_tokens` (and `ignore_eos`, where the API has it).
    pub max_tokens: Option<u32>,
    /// `--model`.
    pub model: Option<String>,
}

/// The body for one prompt: a text, or chat messages as the user wrote them.
pub fn body(api: Api, prompt: &Prompt, generation: &Generation) -> Value {
    let mut body = match api {
        Api::OpenAiChat => json!({"messages": prompt.messages()}),
        Api::OpenAiCompletions => json!({"prompt": prompt.text()}),
        Api::Tgi => json!({"inputs": prompt.text(), "parameters": {"details": true}}),
        Api::Raw => return Value::String(prompt.text()),
    };
    body["stream"] = json!(true);
    if matches!(api, Api::OpenAiChat | Api::OpenAiCompletions) {
        body["stream_options"] = json!({"include_usage": true});
        if let Some(model) = &generation.model {
            body["model"] = json!(model);
        }
    }
    if let Some(n) = generation.max_tokens {
        match api {
            Api::Tgi => body["parameters"]["max_new_tokens"] = json!(n),
            _ => {
                body["max_tokens"] = json!(n);
                // vLLM, LMI and the embedded server honour it: the output is exactly n long.
                body["ignore_eos"] = json!(true);
            }
        }
    }
    body
}

/// A prompt: plain text, or OpenAI chat messages.
#[derive(Clone, Debug, PartialEq)]
pub enum Prompt {
    Text(String),
    Messages(Value),
}

impl Prompt {
    pub fn text(&self) -> String {
        match self {
            Prompt::Text(t) => t.clone(),
            Prompt::Messages(m) => m
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|msg| msg.get("content").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join("\n"),
        }
    }

    fn messages(&self) -> Value {
        match self {
            Prompt::Messages(m) => m.clone(),
            Prompt::Text(t) => json!([{"role": "user", "content": t}]),
        }
    }
}

/// What one event of a stream said.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Said {
    /// Content deltas (tokens, for a server that sends one per event).
    pub tokens: u32,
    pub usage_output: Option<u64>,
    pub usage_input: Option<u64>,
    /// `[DONE]`: the stream is over.
    pub done: bool,
    /// An error event, with its message.
    pub error: Option<String>,
}

/// Reads one event (its bytes, as the framer cut them).
pub fn read_event(api: Api, event: &[u8]) -> Said {
    if api == Api::Raw {
        return Said {
            tokens: u32::from(!event.trim_ascii().is_empty()),
            ..Said::default()
        };
    }
    if event.trim_ascii() == b"[DONE]" {
        return Said {
            done: true,
            ..Said::default()
        };
    }
    let Ok(value) = serde_json::from_slice::<Value>(event) else {
        return Said::default();
    };
    let mut said = Said {
        error: error_of(&value),
        ..Said::default()
    };
    match api {
        Api::OpenAiChat | Api::OpenAiCompletions => openai(&value, &mut said),
        Api::Tgi => tgi(&value, &mut said),
        Api::Raw => {}
    }
    said
}

fn count<'a>(values: impl Iterator<Item = Option<&'a Value>>) -> u32 {
    let n = values
        .flatten()
        .filter(|v| v.as_str().is_some_and(|s| !s.is_empty()))
        .count();
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn openai(value: &Value, said: &mut Said) {
    let choices = value.get("choices").and_then(Value::as_array);
    said.tokens = count(choices.into_iter().flatten().flat_map(|c| {
        let delta = c.get("delta");
        [
            delta.and_then(|d| d.get("content")),
            delta.and_then(|d| d.get("reasoning_content")),
            c.get("text"),
        ]
    }));
    if let Some(usage) = value.get("usage").filter(|u| u.is_object()) {
        said.usage_output = usage.get("completion_tokens").and_then(Value::as_u64);
        said.usage_input = usage.get("prompt_tokens").and_then(Value::as_u64);
    }
}

fn tgi(value: &Value, said: &mut Said) {
    let token = value.get("token");
    let special = token
        .and_then(|t| t.get("special"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    said.tokens = if special {
        0
    } else {
        count(std::iter::once(token.and_then(|t| t.get("text"))))
    };
    // Older LMI containers stream `{"outputs": [" text"]}`.
    if let Some(outputs) = value.get("outputs").and_then(Value::as_array) {
        said.tokens += count(outputs.iter().map(Some));
    }
    if let Some(details) = value.get("details").filter(|d| d.is_object()) {
        said.usage_output = details.get("generated_tokens").and_then(Value::as_u64);
        said.usage_input = details.get("prompt_tokens").and_then(Value::as_u64);
    }
}

/// `{"error": "…"}` (TGI) or `{"error": {"message": "…"}}` (OpenAI-compatible servers).
fn error_of(value: &Value) -> Option<String> {
    let error = value.get("error").filter(|e| !e.is_null())?;
    Some(match error {
        Value::String(s) => s.clone(),
        other => other
            .get("message")
            .and_then(Value::as_str)
            .map_or_else(|| other.to_string(), str::to_string),
    })
}

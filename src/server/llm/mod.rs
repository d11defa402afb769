//! `serve --llm`: an LLM server of known capacity, offline and without a model. Prompts are
//! counted in words (one word, one token), the engine (`engine.rs`, continuous batching)
//! "generates" words at the pace of its formula, and answers stream as OpenAI-style SSE on
//! `/v1/chat/completions` and `/v1/completions`, and the same chunks on `/invocations` (TGI
//! chunks when the request speaks TGI: `inputs`/`parameters`).

mod engine;

pub use engine::{Emitted, EngineConfig};

use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::task::{Context, Poll};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use tokio::sync::mpsc::UnboundedReceiver;

use super::{RunningServer, serve_in_background};
use crate::Error;

/// How the LLM server behaves.
#[derive(Clone, Debug)]
pub struct LlmConfig {
    pub host: String,
    pub port: u16,
    pub engine: EngineConfig,
    /// Requests that may wait for a slot; past that the server answers 503.
    pub max_waiting: usize,
    /// The output length of a request that names none.
    pub default_max_tokens: u64,
}

impl LlmConfig {
    /// One line for people: the batch, the costs and what follows from them.
    pub fn describe(&self, prompt_tokens: u64) -> String {
        let e = &self.engine;
        format!(
            "batch {}, step = {} ms + {} ms × running + {} ms × new prompt tokens; for {prompt_tokens}-token prompts TTFT ≈ {:.1} ms idle, ITL ≈ {:.1} ms at batch {}, ≈ {:.0} tokens/s at most",
            e.batch,
            ms(e.decode_step),
            ms(e.decode_per_seq),
            ms(e.prefill_per_token),
            e.idle_ttft(prompt_tokens).as_secs_f64() * 1000.0,
            e.step(e.batch, 0).as_secs_f64() * 1000.0,
            e.batch,
            e.tokens_per_second(e.batch)
        )
    }
}

fn ms(d: std::time::Duration) -> String {
    let v = d.as_secs_f64() * 1000.0;
    let text = format!("{v:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[derive(Clone)]
struct App {
    engine: mpsc::Sender<engine::Sequence>,
    admitted: Arc<AtomicUsize>,
    limit: usize,
    default_max_tokens: u64,
    next_id: Arc<AtomicU64>,
}

/// Starts the LLM server and its engine in the background; returns once it listens.
pub fn start(config: &LlmConfig) -> Result<RunningServer, Error> {
    let (tx, rx) = mpsc::channel();
    let admitted = Arc::new(AtomicUsize::new(0));
    let engine_config = config.engine.clone();
    let counter = Arc::clone(&admitted);
    std::thread::Builder::new()
        .name("peakrps-llm-engine".into())
        .spawn(move || engine::run(&engine_config, &rx, &counter))
        .map_err(|e| Error::setup("cannot start the LLM engine", e))?;
    let app = App {
        engine: tx,
        admitted,
        limit: config.engine.batch.max(1) + config.max_waiting,
        default_max_tokens: config.default_max_tokens,
        next_id: Arc::new(AtomicU64::new(0)),
    };
    let router = Router::new()
        .route("/ping", get(|| async { StatusCode::OK }))
        .route("/health", get(|| async { StatusCode::OK }))
        .route("/v1/chat/completions", post(chat))
        .route("/v1/completions", post(completions))
        .route("/invocations", post(invocations))
        .with_state(app);
    serve_in_background(&config.host, config.port, router, Arc::default())
}

/// The chunk shapes an answer streams.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    Chat,
    Completions,
    Tgi,
}

async fn chat(State(app): State<App>, body: Bytes) -> Response {
    generate(app, body, Shape::Chat).await
}

async fn completions(State(app): State<App>, body: Bytes) -> Response {
    generate(app, body, Shape::Completions).await
}

async fn invocations(State(app): State<App>, body: Bytes) -> Response {
    let tgi = serde_json::from_slice::<Value>(&body)
        .ok()
        .is_some_and(|v| v.get("inputs").is_some());
    let shape = if tgi { Shape::Tgi } else { Shape::Chat };
    generate(app, body, shape).await
}

/// What a request asks for.
struct Ask {
    prompt_tokens: u64,
    max_tokens: Option<u64>,
    stream: bool,
    include_usage: bool,
}

fn read_ask(body: &[u8], shape: Shape) -> Result<Ask, String> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| format!("the body is not JSON: {e}"))?;
    let words = |s: &str| s.split_whitespace().count() as u64;
    let prompt_tokens = if let Some(messages) = v.get("messages").and_then(Value::as_array) {
        messages
            .iter()
            .filter_map(|m| m.get("content").and_then(Value::as_str))
            .map(words)
            .sum()
    } else {
        let text = ["prompt", "inputs"]
            .iter()
            .find_map(|k| v.get(*k).and_then(Value::as_str))
            .ok_or("no prompt: send \"messages\", \"prompt\" or \"inputs\"")?;
        words(text)
    };
    let max_tokens = ["max_tokens", "max_completion_tokens"]
        .iter()
        .find_map(|k| v.get(*k))
        .or_else(|| v.pointer("/parameters/max_new_tokens"))
        .and_then(Value::as_u64);
    let stream = v.get("stream").and_then(Value::as_bool).unwrap_or(false);
    let include_usage = shape == Shape::Tgi
        || v.pointer("/stream_options/include_usage")
            .and_then(Value::as_bool)
            .unwrap_or(false);
    Ok(Ask {
        prompt_tokens,
        max_tokens,
        stream,
        include_usage,
    })
}

async fn generate(app: App, body: Bytes, shape: Shape) -> Response {
    let ask = match read_ask(&body, shape) {
        Ok(ask) => ask,
        Err(why) => {
            return (StatusCode::BAD_REQUEST, json!({"error": why}).to_string()).into_response();
        }
    };
    if app.admitted.fetch_add(1, Ordering::AcqRel) >= app.limit {
        app.admitted.fetch_sub(1, Ordering::AcqRel);
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "the engine's queue is full",
        )
            .into_response();
    }
    let id = app.next_id.fetch_add(1, Ordering::Relaxed);
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let max_tokens = ask.max_tokens.unwrap_or(app.default_max_tokens);
    let seq = engine::Sequence::new(ask.prompt_tokens, max_tokens, tx, id);
    if app.engine.send(seq).is_err() {
        app.admitted.fetch_sub(1, Ordering::AcqRel);
        return (StatusCode::SERVICE_UNAVAILABLE, "the engine is gone").into_response();
    }
    if !ask.stream {
        return whole(rx, shape, id).await;
    }
    let body = TokenBody {
        rx,
        shape,
        id,
        include_usage: ask.include_usage,
        ended: false,
    };
    (
        [(header::CONTENT_TYPE, "text/event-stream")],
        Body::new(body),
    )
        .into_response()
}

/// A request that did not ask for a stream: the whole answer at the end.
async fn whole(mut rx: UnboundedReceiver<Emitted>, shape: Shape, id: u64) -> Response {
    let mut text = String::new();
    let mut usage = (0, 0);
    while let Some(event) = rx.recv().await {
        match event {
            Emitted::Token(t) => text.push_str(&t),
            Emitted::Done {
                prompt_tokens,
                output_tokens,
            } => usage = (prompt_tokens, output_tokens),
        }
    }
    let usage = json!({"prompt_tokens": usage.0, "completion_tokens": usage.1, "total_tokens": usage.0 + usage.1});
    let answer = match shape {
        Shape::Chat => json!({"id": format!("chatcmpl-{id}"), "object": "chat.completion",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "length"}], "usage": usage}),
        Shape::Completions => json!({"id": format!("cmpl-{id}"), "object": "text_completion",
            "choices": [{"index": 0, "text": text, "finish_reason": "length"}], "usage": usage}),
        Shape::Tgi => json!([{"generated_text": text}]),
    };
    (
        [(header::CONTENT_TYPE, "application/json")],
        answer.to_string(),
    )
        .into_response()
}

/// The SSE body of a streamed answer, one event per token as the engine emits it.
struct TokenBody {
    rx: UnboundedReceiver<Emitted>,
    shape: Shape,
    id: u64,
    include_usage: bool,
    ended: bool,
}

impl TokenBody {
    fn event(value: &Value) -> String {
        format!("data: {value}\n\n")
    }

    fn token(&self, text: &str) -> String {
        Self::event(&match self.shape {
            Shape::Chat => {
                json!({"id": format!("chatcmpl-{}", self.id), "object": "chat.completion.chunk",
                "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": null}]})
            }
            Shape::Completions => {
                json!({"id": format!("cmpl-{}", self.id), "object": "text_completion",
                "choices": [{"index": 0, "text": text, "finish_reason": null}]})
            }
            Shape::Tgi => {
                json!({"token": {"id": 0, "text": text, "logprob": 0.0, "special": false},
                "generated_text": null, "details": null})
            }
        })
    }

    fn end(&self, prompt_tokens: u64, output_tokens: u64) -> String {
        if self.shape == Shape::Tgi {
            return Self::event(
                &json!({"token": {"id": 0, "text": "", "logprob": 0.0, "special": true},
                "generated_text": "", "details": {"finish_reason": "length", "generated_tokens": output_tokens, "prompt_tokens": prompt_tokens}}),
            );
        }
        let mut out = String::new();
        if self.include_usage {
            let usage = json!({"prompt_tokens": prompt_tokens, "completion_tokens": output_tokens,
                "total_tokens": prompt_tokens + output_tokens});
            out += &Self::event(&json!({"id": self.id, "choices": [], "usage": usage}));
        }
        out + "data: [DONE]\n\n"
    }
}

impl http_body::Body for TokenBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        if self.ended {
            return Poll::Ready(None);
        }
        let text = match self.rx.poll_recv(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(None) => return Poll::Ready(None),
            Poll::Ready(Some(Emitted::Token(t))) => self.token(&t),
            Poll::Ready(Some(Emitted::Done {
                prompt_tokens,
                output_tokens,
            })) => {
                self.ended = true;
                self.end(prompt_tokens, output_tokens)
            }
        };
        Poll::Ready(Some(Ok(http_body::Frame::data(Bytes::from(text)))))
    }
}

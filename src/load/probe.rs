//! Single requests, one at a time, on one keep-alive connection: how long the target takes
//! when nothing else is sent. Between steps this tells whether a server has worked off the
//! backlog the last step left it (a server keeps working on requests a client gave up on).
//! A streaming probe waits only for the first token (the time a new request waits for the
//! server), then hangs up, so it costs the server one prefill, not a whole generation.

use std::cell::RefCell;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::conn::{Conn, Link, Outcome};
use crate::Error;
use crate::endpoint::{Connector, RequestTemplate};

/// Sends probe requests from the calling thread.
pub struct Prober {
    runtime: tokio::runtime::Runtime,
    link: Link,
    conn: RefCell<Option<Conn>>,
}

impl Prober {
    pub fn new(
        template: &Arc<RequestTemplate>,
        connector: &Connector,
        timeout: Duration,
    ) -> Result<Self, Error> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::setup("cannot start a runtime", e))?;
        Ok(Prober {
            runtime,
            link: Link {
                template: Arc::clone(template),
                connector: connector.clone(),
                timeout,
                until_first_token: template.stream().is_some(),
            },
            conn: RefCell::new(None),
        })
    }

    /// The time one request took (a stream: to its first token), or `None` when it failed.
    pub fn once(&self) -> Option<Duration> {
        let mut conn = self.conn.borrow_mut().take();
        let started = Instant::now();
        if conn.as_mut().is_some_and(|c| c.is_stale(started)) {
            conn = None;
        }
        let mut sent = self.runtime.block_on(self.link.send(conn, 0));
        let took = started.elapsed();
        if let Some(conn) = sent.conn.as_mut() {
            conn.idle_from(started + took);
        }
        *self.conn.borrow_mut() = sent.conn;
        if !matches!(sent.outcome, Outcome::Success) {
            return None;
        }
        match self.link.until_first_token {
            true => sent
                .stream
                .reads
                .first()
                .map(|(at, _)| at.saturating_duration_since(started)),
            false => Some(took),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::endpoint::llm::{Api, StreamSpec};
    use crate::endpoint::{Endpoint, PayloadSet, TlsOptions};
    use crate::server::llm::{EngineConfig, LlmConfig, start};
    use bytes::Bytes;

    /// Against an LLM that takes 20 ms a token for 100 tokens (2 s a generation), a
    /// streaming probe answers with the time to the first token and returns as soon as it
    /// came: the next probe finds the engine free, not still generating the last one.
    #[test]
    fn a_streaming_probe_waits_for_the_first_token_only() {
        let server = start(&LlmConfig {
            host: "127.0.0.1".into(),
            port: 0,
            engine: EngineConfig {
                batch: 1,
                prefill_per_token: Duration::ZERO,
                decode_step: Duration::from_millis(20),
                decode_per_seq: Duration::ZERO,
            },
            max_waiting: 8,
            default_max_tokens: 100,
        })
        .expect("the LLM server starts");
        let endpoint =
            Endpoint::parse(&format!("http://{}/v1/chat/completions", server.addr)).expect("a URL");
        let body = r#"{"messages":[{"role":"user","content":"hello"}],"stream":true}"#;
        let payloads = PayloadSet::from_bodies(vec![Bytes::from(body)], "application/json");
        let template = RequestTemplate::new(endpoint.clone(), payloads, None, None, &[])
            .expect("a template")
            .with_stream(StreamSpec {
                api: Api::OpenAiChat,
                prompts: None,
            });
        let connector = Connector::new(&endpoint, &TlsOptions::default()).expect("a connector");
        let prober = Prober::new(&Arc::new(template), &connector, Duration::from_secs(10))
            .expect("a prober");
        let started = Instant::now();
        for _ in 0..3 {
            let ttft = prober.once().expect("the probe is answered");
            // One engine step, or two when the engine notices at its next token that the
            // last probe hung up; never the 2 s the last probe's whole generation takes.
            assert!(ttft >= Duration::from_millis(20), "{ttft:?}");
            assert!(ttft < Duration::from_millis(60), "{ttft:?}");
        }
        let took = started.elapsed();
        assert!(
            took < Duration::from_millis(500),
            "three probes took {took:?}"
        );
    }
}

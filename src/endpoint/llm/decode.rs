//! One streamed response read as it arrives: the SageMaker event stream unwrapped when there
//! is one, the body cut into events (SSE, NDJSON or raw, from the Content-Type or the first
//! bytes), and each event read for tokens, counts, the end, or an error.

use super::api::{Api, read_event};
use super::framing::{Format, Framer};
use crate::aws::eventstream::{CONTENT_TYPE as EVENTSTREAM, EventDecoder, StreamEvent};

/// Why a stream that had started did not end well.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StreamFault {
    /// The model failed mid-stream (SageMaker's ModelStreamError, or an error event).
    Model(String),
    /// SageMaker's InternalStreamFailure.
    Internal(String),
    /// The bytes are not a valid stream (a broken event stream, e.g. a CRC mismatch).
    Invalid(String),
}

/// Reads one response's stream.
#[derive(Debug)]
pub struct StreamDecoder {
    api: Api,
    /// The SageMaker event stream around the container's bytes, when there is one.
    events: Option<EventDecoder>,
    /// The format the headers named, if any; otherwise the first bytes decide.
    declared: Option<Format>,
    framer: Option<Framer>,
    scratch: Vec<Vec<u8>>,
    /// The server's counts, when it sent them.
    pub usage_output: Option<u64>,
    pub usage_input: Option<u64>,
    /// `[DONE]` arrived.
    pub done: bool,
    /// Events read, tokens or not.
    pub events_read: u64,
    /// Bytes of the body, and the first of them (to say what came back).
    pub bytes: u64,
    pub sample: Vec<u8>,
}

/// How much of a body is kept to show what came back.
const SAMPLE: usize = 200;

impl StreamDecoder {
    /// `content_type` is the response's; `inner` SageMaker's `X-Amzn-SageMaker-Content-Type`.
    pub fn new(api: Api, content_type: Option<&str>, inner: Option<&str>) -> Self {
        let ct = content_type.unwrap_or("");
        let wrapped = ct.to_ascii_lowercase().starts_with(EVENTSTREAM);
        let named = if wrapped { inner.unwrap_or("") } else { ct };
        let declared = match (api, Format::of_content_type(named)) {
            (_, Some(format)) => Some(format),
            // Raw bytes: each piece that arrives (each payload part) is one event.
            (Api::Raw, None) => Some(Format::Raw),
            (_, None) => None,
        };
        StreamDecoder {
            api,
            events: wrapped.then(EventDecoder::new),
            declared,
            framer: None,
            scratch: Vec::new(),
            usage_output: None,
            usage_input: None,
            done: false,
            events_read: 0,
            bytes: 0,
            sample: Vec::new(),
        }
    }

    /// Bytes of the body arrived: the tokens they completed.
    pub fn push(&mut self, bytes: &[u8]) -> Result<u32, StreamFault> {
        let room = SAMPLE.saturating_sub(self.sample.len());
        self.sample
            .extend_from_slice(&bytes[..bytes.len().min(room)]);
        self.bytes += bytes.len() as u64;
        let Some(events) = self.events.as_mut() else {
            return self.frame(bytes);
        };
        events.push(bytes);
        let mut tokens = 0;
        loop {
            let event = self
                .events
                .as_mut()
                .map(EventDecoder::next_event)
                .transpose()
                .map_err(|e| StreamFault::Invalid(e.to_string()))?
                .flatten();
            match event {
                None => return Ok(tokens),
                Some(StreamEvent::PayloadPart(part)) => tokens += self.frame(&part)?,
                Some(StreamEvent::ModelStreamError(m)) => return Err(StreamFault::Model(m)),
                Some(StreamEvent::InternalStreamFailure(m)) => {
                    return Err(StreamFault::Internal(m));
                }
                Some(StreamEvent::Other { kind, detail }) => {
                    return Err(StreamFault::Invalid(format!(
                        "unexpected event-stream message {kind}: {detail}"
                    )));
                }
            }
        }
    }

    /// The body ended: the tokens of a last unfinished event; an event stream cut inside
    /// a message is a fault.
    pub fn finish(&mut self) -> Result<u32, StreamFault> {
        if let Some(pending) = self.events.as_ref().map(EventDecoder::pending)
            && pending > 0
        {
            return Err(StreamFault::Invalid(format!(
                "the event stream ended inside a message ({pending} bytes left over)"
            )));
        }
        let Some(framer) = self.framer.as_mut() else {
            return Ok(0);
        };
        let mut events = std::mem::take(&mut self.scratch);
        framer.finish(&mut events);
        let result = self.read(&mut events);
        self.scratch = events;
        result
    }

    /// The format the body was read as, once bytes arrived.
    pub fn format(&self) -> Option<Format> {
        self.framer.as_ref().map(Framer::format)
    }

    fn frame(&mut self, bytes: &[u8]) -> Result<u32, StreamFault> {
        if bytes.is_empty() {
            return Ok(0);
        }
        let declared = self.declared;
        let framer = self
            .framer
            .get_or_insert_with(|| Framer::new(declared.unwrap_or_else(|| Format::sniff(bytes))));
        let mut events = std::mem::take(&mut self.scratch);
        framer.push(bytes, &mut events);
        let result = self.read(&mut events);
        self.scratch = events;
        result
    }

    fn read(&mut self, events: &mut Vec<Vec<u8>>) -> Result<u32, StreamFault> {
        let mut tokens = 0u32;
        for event in events.drain(..) {
            self.events_read += 1;
            let said = read_event(self.api, &event);
            if let Some(message) = said.error {
                return Err(StreamFault::Model(message));
            }
            tokens = tokens.saturating_add(said.tokens);
            self.usage_output = said.usage_output.or(self.usage_output);
            self.usage_input = said.usage_input.or(self.usage_input);
            self.done |= said.done;
        }
        Ok(tokens)
    }
}

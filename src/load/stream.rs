//! A streamed answer read on the wire as it arrives (`--stream`): beside `wire.rs`, so the
//! non-streaming hot path stays as it is. Each read of the body is time-stamped and fed to
//! the target's stream decoder; the reads that completed tokens make the request's
//! `StreamRecord` (time to first token, inter-token gaps). A stream that fails after it began
//! is a fault of its own kind, and a success that streamed no token says what came back.

use std::time::Instant;

use bytes::{Buf, BytesMut};
use http::HeaderMap;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::wire::{self, Framing, Response, WireError};
use crate::aws::eventstream::INNER_CONTENT_TYPE;
use crate::endpoint::Io;
use crate::endpoint::llm::{Format, StreamDecoder, StreamFault, StreamSpec};
use crate::results::ErrorKind;
use crate::stats::StreamRecord;

/// How a stream that got a 2xx ended badly.
#[derive(Clone, Debug)]
pub struct Fault {
    pub kind: ErrorKind,
    pub detail: String,
}

/// Sends `request` and reads one response; a successful one is read as a stream into
/// `record`. A fault after the stream began goes to `fault` (the connection is then not
/// reused: the rest of the body was not read). With `until_first_token` the read stops at
/// the first token and the connection is dropped (a server stops generating for a client
/// that left): what a probe needs to know that the server is free again.
pub async fn exchange(
    io: &mut dyn Io,
    request: &[u8],
    buf: &mut BytesMut,
    spec: &StreamSpec,
    record: &mut StreamRecord,
    fault: &mut Option<Fault>,
    until_first_token: bool,
) -> Result<Response, WireError> {
    io.write_all(request).await.map_err(WireError::NoResponse)?;
    let mut first_head = true;
    let head = loop {
        let head = match wire::read_head(io, buf, true).await {
            Ok(head) => head,
            Err(WireError::Io(e)) if first_head && buf.is_empty() => {
                return Err(WireError::NoResponse(e));
            }
            Err(e) => return Err(e),
        };
        first_head = false;
        if !head.status.is_informational() {
            break head;
        }
    };
    if !head.status.is_success() {
        return wire::read_whole(io, buf, head, true).await;
    }
    let headers = head.headers.clone().unwrap_or_default();
    let mut decoder = StreamDecoder::new(
        spec.api,
        header(&headers, "content-type"),
        header(&headers, INNER_CONTENT_TYPE),
    );
    let mut reader = Reader {
        decoder: &mut decoder,
        record,
        fault: None,
        until_first_token,
    };
    let complete = reader.body(io, buf, head.framing).await?;
    *fault = reader.fault.take();
    if fault.is_none() {
        *fault = not_a_stream(&decoder, &headers, head.framing, record);
    }
    record.usage_output = decoder.usage_output;
    record.usage_input = decoder.usage_input;
    Ok(Response {
        status: head.status,
        headers: None,
        body_sample: Vec::new(),
        closes: head.closes || head.framing == Framing::UntilClose || !complete,
    })
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Feeds the body's bytes to the decoder as they arrive.
struct Reader<'a> {
    decoder: &'a mut StreamDecoder,
    record: &'a mut StreamRecord,
    fault: Option<Fault>,
    /// Stop reading once a token has arrived.
    until_first_token: bool,
}

impl Reader<'_> {
    /// Reads the body to its end; false when a fault stopped it early.
    async fn body(
        &mut self,
        io: &mut dyn Io,
        buf: &mut BytesMut,
        framing: Framing,
    ) -> Result<bool, WireError> {
        let complete = match framing {
            Framing::Length(n) => self.length(io, buf, n).await?,
            Framing::Chunked => self.chunked(io, buf).await?,
            Framing::UntilClose => self.read_until_close(io, buf).await?,
        };
        if complete {
            let tokens = self.decoder.finish();
            self.take(tokens, Instant::now());
        }
        Ok(complete && self.fault.is_none())
    }

    /// Records what a piece of the body completed; false once the stream has failed (or,
    /// `until_first_token`, has delivered its first token).
    fn feed(&mut self, bytes: &[u8]) -> bool {
        let tokens = self.decoder.push(bytes);
        self.take(tokens, Instant::now())
    }

    fn take(&mut self, tokens: Result<u32, StreamFault>, at: Instant) -> bool {
        match tokens {
            Ok(0) => true,
            Ok(n) => {
                self.record.reads.push((at, n));
                !self.until_first_token
            }
            Err(fault) => {
                self.fault.get_or_insert(fault_of(fault));
                false
            }
        }
    }

    async fn length(
        &mut self,
        io: &mut dyn Io,
        buf: &mut BytesMut,
        mut remaining: usize,
    ) -> Result<bool, WireError> {
        loop {
            let take = remaining.min(buf.len());
            let ok = self.feed(&buf[..take]);
            buf.advance(take);
            remaining -= take;
            if !ok {
                return Ok(false);
            }
            if remaining == 0 {
                return Ok(true);
            }
            wire::fill(io, buf).await?;
        }
    }

    async fn chunked(&mut self, io: &mut dyn Io, buf: &mut BytesMut) -> Result<bool, WireError> {
        loop {
            let size = wire::chunk_size(io, buf).await?;
            if size == 0 {
                wire::read_trailers(io, buf).await?;
                return Ok(true);
            }
            if !self.length(io, buf, size).await? {
                return Ok(false);
            }
            wire::chunk_end(io, buf).await?;
        }
    }

    async fn read_until_close(
        &mut self,
        io: &mut dyn Io,
        buf: &mut BytesMut,
    ) -> Result<bool, WireError> {
        loop {
            let ok = self.feed(buf);
            buf.clear();
            if !ok {
                return Ok(false);
            }
            buf.reserve(8192);
            if io.read_buf(buf).await? == 0 {
                return Ok(true);
            }
        }
    }
}

fn fault_of(fault: StreamFault) -> Fault {
    let (kind, detail) = match fault {
        StreamFault::Model(m) => (
            ErrorKind::ModelStreamError,
            format!("ModelStreamError: {m}"),
        ),
        StreamFault::Internal(m) => (
            ErrorKind::InternalStreamFailure,
            format!("InternalStreamFailure: {m}"),
        ),
        StreamFault::Invalid(m) => (ErrorKind::Other, m),
    };
    Fault { kind, detail }
}

/// A 2xx whose body streamed no token: `--stream` is pointed at something that does not
/// stream (or streams what the API cannot read). Says what came back.
fn not_a_stream(
    decoder: &StreamDecoder,
    headers: &HeaderMap,
    framing: Framing,
    record: &StreamRecord,
) -> Option<Fault> {
    let content_type = header(headers, "content-type").unwrap_or("none");
    // A body of known length that no header calls a stream came back whole, however the
    // API counted it (a raw API counts any bytes as a token).
    let declared = Format::of_content_type(content_type).is_some()
        || content_type.starts_with(crate::aws::eventstream::CONTENT_TYPE);
    let whole = matches!(framing, Framing::Length(_)) && !declared;
    let tokens = !record.reads.is_empty() || decoder.usage_output.is_some_and(|n| n > 0);
    if tokens && !whole {
        return None;
    }
    let how = match framing {
        Framing::Length(n) => format!("a body of {n} bytes with Content-Length"),
        Framing::Chunked => format!("{} bytes in chunks", decoder.bytes),
        Framing::UntilClose => format!("{} bytes until the connection closed", decoder.bytes),
    };
    let sample = String::from_utf8_lossy(&decoder.sample).replace(['\n', '\r'], " ");
    Some(Fault {
        kind: ErrorKind::Other,
        detail: format!(
            "not a stream: the answer (Content-Type {content_type}, {how}, {} events) streamed no token: {}",
            decoder.events_read,
            sample.trim()
        ),
    })
}

/// The prefix of every "not a stream" detail, for the command to recognise it.
pub const NOT_A_STREAM: &str = "not a stream: ";

//! InvokeEndpointWithResponseStream's body (REFERENCE.md §7): `application/vnd.amazon.eventstream`
//! messages decoded with `aws-smithy-eventstream` (framing, both CRCs) into what a load test
//! needs: payload parts, and the two errors a stream can end with. The encoder is here too,
//! for tests and the test stub of SageMaker's runtime.

use aws_smithy_eventstream::frame::{DecodedFrame, MessageFrameDecoder, write_message_to};
use aws_smithy_types::event_stream::{Header, HeaderValue, Message};
use bytes::{Bytes, BytesMut};

/// The content type of an event stream.
pub const CONTENT_TYPE: &str = "application/vnd.amazon.eventstream";

/// The response header carrying the container's own content type.
pub const INNER_CONTENT_TYPE: &str = "x-amzn-sagemaker-content-type";

/// One event of the response stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StreamEvent {
    /// A piece of the container's response (any split of its bytes).
    PayloadPart(Bytes),
    /// `ModelStreamError`: the model failed mid-stream (`ErrorCode`, `Message`).
    ModelStreamError(String),
    /// `InternalStreamFailure`: SageMaker's side of the stream failed.
    InternalStreamFailure(String),
    /// Any other event or exception: named, and otherwise ignored or counted by the caller.
    Other { kind: String, detail: String },
}

/// Why the bytes are not an event stream.
#[derive(Debug, thiserror::Error)]
#[error("invalid event stream: {0}")]
pub struct DecodeError(String);

/// Decodes messages as their bytes arrive, across any split.
#[derive(Debug, Default)]
pub struct EventDecoder {
    frames: MessageFrameDecoder,
    buf: BytesMut,
}

impl EventDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds bytes that arrived.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete event, if the bytes so far hold one.
    pub fn next_event(&mut self) -> Result<Option<StreamEvent>, DecodeError> {
        match self.frames.decode_frame(&mut self.buf) {
            Ok(DecodedFrame::Incomplete) => Ok(None),
            Ok(DecodedFrame::Complete(message)) => Ok(Some(event_of(&message))),
            Err(e) => Err(DecodeError(e.to_string())),
        }
    }

    /// Bytes received that do not make a whole message (at the end: a cut stream).
    pub fn pending(&self) -> usize {
        self.buf.len()
    }
}

fn header<'a>(message: &'a Message, name: &str) -> Option<&'a str> {
    message
        .headers()
        .iter()
        .find(|h| h.name().as_str() == name)
        .and_then(|h| h.value().as_string().ok())
        .map(|s| s.as_str())
}

fn event_of(message: &Message) -> StreamEvent {
    let payload = message.payload();
    let text = || String::from_utf8_lossy(&payload[..payload.len().min(512)]).into_owned();
    match header(message, ":message-type") {
        Some("event") => match header(message, ":event-type") {
            Some("PayloadPart") => StreamEvent::PayloadPart(payload.clone()),
            other => StreamEvent::Other {
                kind: other.unwrap_or("event").to_string(),
                detail: text(),
            },
        },
        Some("exception") => match header(message, ":exception-type") {
            Some("ModelStreamError") => StreamEvent::ModelStreamError(text()),
            Some("InternalStreamFailure") => StreamEvent::InternalStreamFailure(text()),
            other => StreamEvent::Other {
                kind: other.unwrap_or("exception").to_string(),
                detail: text(),
            },
        },
        _ => StreamEvent::Other {
            kind: header(message, ":error-code")
                .unwrap_or("error")
                .to_string(),
            detail: header(message, ":error-message")
                .map(str::to_string)
                .unwrap_or_else(text),
        },
    }
}

fn encode(headers: Vec<Header>, payload: Bytes) -> Bytes {
    let message = Message::new_from_parts(headers, payload);
    let mut out = Vec::new();
    // Only oversized headers or payloads (over 16 MB) fail, which callers never build.
    if write_message_to(&message, &mut out).is_err() {
        out.clear();
    }
    Bytes::from(out)
}

fn string(name: &'static str, value: &'static str) -> Header {
    Header::new(name, HeaderValue::String(value.into()))
}

/// A `PayloadPart` event carrying `bytes`, as SageMaker frames it.
pub fn encode_payload_part(bytes: &[u8]) -> Bytes {
    let headers = vec![
        string(":message-type", "event"),
        string(":event-type", "PayloadPart"),
        string(":content-type", "application/octet-stream"),
    ];
    encode(headers, Bytes::copy_from_slice(bytes))
}

/// A `ModelStreamError` (`model: true`) or `InternalStreamFailure` exception.
pub fn encode_exception(model: bool, message: &str) -> Bytes {
    let (kind, body) = if model {
        (
            "ModelStreamError",
            serde_json::json!({"Message": message, "ErrorCode": "StreamBroken"}),
        )
    } else {
        (
            "InternalStreamFailure",
            serde_json::json!({"Message": message}),
        )
    };
    let headers = vec![
        string(":message-type", "exception"),
        string(":exception-type", kind),
        string(":content-type", "application/json"),
    ];
    encode(headers, Bytes::from(body.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(bytes: &[u8], piece: usize) -> Result<Vec<StreamEvent>, DecodeError> {
        let mut d = EventDecoder::new();
        let mut events = Vec::new();
        for chunk in bytes.chunks(piece.max(1)) {
            d.push(chunk);
            while let Some(e) = d.next_event()? {
                events.push(e);
            }
        }
        Ok(events)
    }

    #[test]
    fn parts_and_errors_decode_across_every_split() {
        let mut stream = Vec::new();
        stream.extend_from_slice(&encode_payload_part(b"data: {\"a\":1}\n"));
        stream.extend_from_slice(&encode_payload_part(b"\n"));
        stream.extend_from_slice(&encode_exception(true, "the model stopped"));
        let expected = decode_all(&stream, stream.len()).unwrap();
        assert_eq!(expected.len(), 3);
        assert_eq!(
            expected[0],
            StreamEvent::PayloadPart(Bytes::from_static(b"data: {\"a\":1}\n"))
        );
        assert!(
            matches!(&expected[2], StreamEvent::ModelStreamError(m) if m.contains("the model stopped")),
            "{expected:?}"
        );
        for piece in 1..stream.len() {
            assert_eq!(
                decode_all(&stream, piece).unwrap(),
                expected,
                "pieces of {piece}"
            );
        }
        let failure = decode_all(&encode_exception(false, "oops"), 5).unwrap();
        assert!(matches!(&failure[0], StreamEvent::InternalStreamFailure(m) if m.contains("oops")));
    }

    #[test]
    fn a_corrupted_message_is_a_clear_error() {
        let mut bytes = encode_payload_part(b"hello").to_vec();
        let last = bytes.len() - 6;
        bytes[last] ^= 0xff; // a payload byte: the message CRC no longer matches
        let e = decode_all(&bytes, 3).unwrap_err().to_string();
        assert!(
            e.starts_with("invalid event stream:") && e.contains("checksum"),
            "{e}"
        );
        let mut bytes = encode_payload_part(b"hello").to_vec();
        bytes[9] ^= 0x01; // the prelude's CRC
        let e = decode_all(&bytes, 64).unwrap_err().to_string();
        assert!(e.contains("checksum"), "{e}");
    }
}

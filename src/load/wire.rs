//! HTTP/1.1 on the wire for the hot path: a request goes out as bytes prepared in advance,
//! and the response is framed (Content-Length, chunked, or until close) and parsed with
//! httparse into just what a load test needs: the status, and headers and body only when the
//! request failed. No per-request allocation on success.
//!
//! Written by hand rather than through hyper's client: the profile showed 70 % of the
//! client's instructions in hyper's per-request dispatch (channels, header maps), which
//! left peakrps at 0.8x wrk's requests per CPU-second (bench/vs-peers.sh).

use bytes::{Buf, BytesMut};
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::endpoint::Io;

/// The most response-head bytes accepted; more is not HTTP a model server sends.
const MAX_HEAD: usize = 64 * 1024;
/// The most headers parsed in one response.
const MAX_HEADERS: usize = 64;
/// How much of a failed response's body is kept to show the user.
const SAMPLE: usize = 512;

/// What came back.
#[derive(Debug)]
pub struct Response {
    pub status: StatusCode,
    /// Headers, only for a response that is not a success (to classify it).
    pub headers: Option<HeaderMap>,
    /// The start of the body, only for a response that is not a success.
    pub body_sample: Vec<u8>,
    /// The server will close the connection after this response.
    pub closes: bool,
}

/// Why an exchange failed below HTTP.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    /// The connection failed before a single byte of the response arrived (the write failed,
    /// or the peer closed or reset it first): on a reused connection, the server most likely
    /// closed it while idle, and the request can go again on a fresh one.
    #[error("{0}")]
    NoResponse(std::io::Error),
    /// The connection broke or closed early (reset, EOF mid-response).
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The peer sent something that is not HTTP/1.x.
    #[error("invalid HTTP response: {0}")]
    Protocol(String),
}

/// Sends `request` and reads one whole response, using `buf` as the read buffer (kept
/// between requests so nothing is allocated per request).
pub async fn exchange(
    io: &mut dyn Io,
    request: &[u8],
    buf: &mut BytesMut,
) -> Result<Response, WireError> {
    io.write_all(request).await.map_err(WireError::NoResponse)?;
    let mut first_head = true;
    loop {
        let head = match read_head(io, buf, false).await {
            Ok(head) => head,
            Err(WireError::Io(e)) if first_head && buf.is_empty() => {
                return Err(WireError::NoResponse(e));
            }
            Err(e) => return Err(e),
        };
        first_head = false;
        // 1xx responses (100 Continue) precede the real one.
        if head.status.is_informational() {
            continue;
        }
        let sample_wanted = !head.status.is_success();
        return read_whole(io, buf, head, sample_wanted).await;
    }
}

/// Reads the body after `head` and makes the response (keeping the start of the body when
/// `sample_wanted`).
pub(super) async fn read_whole(
    io: &mut dyn Io,
    buf: &mut BytesMut,
    head: Head,
    sample_wanted: bool,
) -> Result<Response, WireError> {
    let mut body_sample = Vec::new();
    let sample = sample_wanted.then_some(&mut body_sample);
    match head.framing {
        Framing::Length(n) => read_length(io, buf, n, sample).await?,
        Framing::Chunked => read_chunked(io, buf, sample).await?,
        Framing::UntilClose => read_to_close(io, buf, sample).await?,
    }
    Ok(Response {
        status: head.status,
        headers: head.headers,
        body_sample,
        closes: head.closes || head.framing == Framing::UntilClose,
    })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Framing {
    Length(usize),
    Chunked,
    UntilClose,
}

pub(super) struct Head {
    pub status: StatusCode,
    pub framing: Framing,
    pub closes: bool,
    /// Kept for a response that is not a success, or when asked for.
    pub headers: Option<HeaderMap>,
}

pub(super) async fn fill(io: &mut dyn Io, buf: &mut BytesMut) -> Result<(), WireError> {
    if buf.capacity() - buf.len() < 4096 {
        buf.reserve(8192);
    }
    match io.read_buf(buf).await? {
        0 => Err(WireError::Io(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "connection closed before the response was complete",
        ))),
        _ => Ok(()),
    }
}

/// Reads a response head; its headers are kept when it is not a success or `keep_headers`.
pub(super) async fn read_head(
    io: &mut dyn Io,
    buf: &mut BytesMut,
    keep_headers: bool,
) -> Result<Head, WireError> {
    loop {
        if let Some(head) = parse_head(buf, keep_headers)? {
            return Ok(head);
        }
        if buf.len() > MAX_HEAD {
            return Err(WireError::Protocol(
                "response head larger than 64 KiB".into(),
            ));
        }
        fill(io, buf).await?;
    }
}

/// Parses a complete head at the start of `buf` and consumes it; `None` when more bytes
/// are needed.
fn parse_head(buf: &mut BytesMut, keep_headers: bool) -> Result<Option<Head>, WireError> {
    if buf.is_empty() {
        return Ok(None);
    }
    // Uninitialised slots: httparse fills only those it parses, so a response does not pay
    // for writing all 64 first (about 250 instructions, a twentieth of a request's cost).
    let mut slots = [const { std::mem::MaybeUninit::<httparse::Header>::uninit() }; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut []);
    let parsed = httparse::ParserConfig::default().parse_response_with_uninit_headers(
        &mut response,
        buf,
        &mut slots,
    );
    let consumed = match parsed {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(WireError::Protocol(e.to_string())),
    };
    let code = response.code.unwrap_or(0);
    let status = StatusCode::from_u16(code)
        .map_err(|_| WireError::Protocol(format!("status code {code}")))?;
    let mut framing = Framing::UntilClose;
    let mut closes = response.version == Some(0);
    for h in response.headers.iter() {
        if named(h.name, b"content-length") && framing != Framing::Chunked {
            let n = content_length(h.value)
                .ok_or_else(|| WireError::Protocol("invalid Content-Length".into()))?;
            framing = Framing::Length(n);
        } else if named(h.name, b"transfer-encoding") {
            let last = h.value.trim_ascii_end();
            if last.len() >= 7 && last[last.len() - 7..].eq_ignore_ascii_case(b"chunked") {
                framing = Framing::Chunked;
            }
        } else if named(h.name, b"connection") {
            let v = h.value.trim_ascii();
            closes |= v.eq_ignore_ascii_case(b"close");
            closes &= !(v.eq_ignore_ascii_case(b"keep-alive") && response.version == Some(0));
        }
    }
    if status == StatusCode::NO_CONTENT || status == StatusCode::NOT_MODIFIED {
        framing = Framing::Length(0);
    }
    let headers = (keep_headers || !status.is_success()).then(|| header_map(response.headers));
    buf.advance(consumed);
    Ok(Some(Head {
        status,
        framing,
        closes,
        headers,
    }))
}

/// Whether a header's name is `lower` (lowercase letters and `-`) in any case, without a
/// per-byte case table: setting bit 0x20 lowercases a letter and keeps `-`; the only other
/// byte it maps onto one of them is `\r` (onto `-`), which no parsed name holds.
fn named(name: &str, lower: &[u8]) -> bool {
    let name = name.as_bytes();
    name.len() == lower.len() && name.iter().zip(lower).all(|(a, b)| a | 0x20 == *b)
}

/// A Content-Length value: decimal digits, with optional whitespace around them.
fn content_length(value: &[u8]) -> Option<usize> {
    let digits = value.trim_ascii();
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0usize, |n, &d| {
        d.is_ascii_digit()
            .then(|| n.checked_mul(10)?.checked_add(usize::from(d - b'0')))
            .flatten()
    })
}

fn header_map(parsed: &[httparse::Header]) -> HeaderMap {
    parsed
        .iter()
        .filter_map(|h| {
            let name = HeaderName::from_bytes(h.name.as_bytes()).ok()?;
            let value = HeaderValue::from_bytes(h.value).ok()?;
            Some((name, value))
        })
        .collect()
}

fn keep(sample: &mut Option<&mut Vec<u8>>, bytes: &[u8]) {
    if let Some(s) = sample {
        let room = SAMPLE.saturating_sub(s.len());
        s.extend_from_slice(&bytes[..bytes.len().min(room)]);
    }
}

pub(super) async fn read_length(
    io: &mut dyn Io,
    buf: &mut BytesMut,
    mut remaining: usize,
    mut sample: Option<&mut Vec<u8>>,
) -> Result<(), WireError> {
    loop {
        let take = remaining.min(buf.len());
        keep(&mut sample, &buf[..take]);
        buf.advance(take);
        remaining -= take;
        if remaining == 0 {
            return Ok(());
        }
        fill(io, buf).await?;
    }
}

async fn read_chunked(
    io: &mut dyn Io,
    buf: &mut BytesMut,
    mut sample: Option<&mut Vec<u8>>,
) -> Result<(), WireError> {
    loop {
        let size = chunk_size(io, buf).await?;
        if size == 0 {
            // Trailers (usually none), then the final CRLF.
            return read_trailers(io, buf).await;
        }
        read_length(io, buf, size, sample.as_deref_mut()).await?;
        chunk_end(io, buf).await?;
    }
}

/// Reads and consumes a chunk's size line.
pub(super) async fn chunk_size(io: &mut dyn Io, buf: &mut BytesMut) -> Result<usize, WireError> {
    loop {
        match httparse::parse_chunk_size(buf) {
            Ok(httparse::Status::Complete((used, size))) => {
                buf.advance(used);
                return usize::try_from(size)
                    .map_err(|_| WireError::Protocol("chunk too large".into()));
            }
            Ok(httparse::Status::Partial) => fill(io, buf).await?,
            Err(_) => return Err(WireError::Protocol("invalid chunk size".into())),
        }
    }
}

/// Reads and consumes the CRLF that ends a chunk's data.
pub(super) async fn chunk_end(io: &mut dyn Io, buf: &mut BytesMut) -> Result<(), WireError> {
    while buf.len() < 2 {
        fill(io, buf).await?;
    }
    if &buf[..2] != b"\r\n" {
        return Err(WireError::Protocol("chunk not followed by CRLF".into()));
    }
    buf.advance(2);
    Ok(())
}

pub(super) async fn read_trailers(io: &mut dyn Io, buf: &mut BytesMut) -> Result<(), WireError> {
    loop {
        if let Some(end) = buf.windows(2).position(|w| w == b"\r\n") {
            buf.advance(end + 2);
            if end == 0 {
                return Ok(());
            }
            continue; // a trailer line
        }
        if buf.len() > MAX_HEAD {
            return Err(WireError::Protocol("trailers larger than 64 KiB".into()));
        }
        fill(io, buf).await?;
    }
}

async fn read_to_close(
    io: &mut dyn Io,
    buf: &mut BytesMut,
    mut sample: Option<&mut Vec<u8>>,
) -> Result<(), WireError> {
    loop {
        keep(&mut sample, buf);
        buf.clear();
        buf.reserve(8192);
        if io.read_buf(buf).await? == 0 {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn one(response: &'static [u8]) -> Result<(Response, usize), WireError> {
        let (mut client, mut server) = tokio::io::duplex(1 << 16);
        tokio::spawn(async move {
            let mut req = [0u8; 64];
            let _ = server.read(&mut req).await;
            // Send in small pieces to exercise partial reads.
            for piece in response.chunks(7) {
                let _ = server.write_all(piece).await;
            }
        });
        let mut buf = BytesMut::new();
        let r = exchange(&mut client, b"POST / HTTP/1.1\r\n\r\n", &mut buf).await?;
        Ok((r, buf.len()))
    }

    fn run<T>(f: impl std::future::Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn frames_by_length_chunks_and_close() {
        run(async {
            let (r, left) = one(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
                .await
                .unwrap();
            assert_eq!((r.status, left, r.closes), (StatusCode::OK, 0, false));
            assert!(r.headers.is_none() && r.body_sample.is_empty());

            let chunked = b"HTTP/1.1 503 Busy\r\nTransfer-Encoding: chunked\r\nx-amzn-ErrorType: ServiceUnavailable\r\n\r\n4\r\nbusy\r\n7\r\n, sorry\r\n0\r\n\r\n";
            let (r, left) = one(chunked).await.unwrap();
            assert_eq!((r.status.as_u16(), left), (503, 0));
            assert_eq!(r.body_sample, b"busy, sorry");
            assert_eq!(r.headers.unwrap()["x-amzn-errortype"], "ServiceUnavailable");

            let (r, _) = one(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 500 X\r\n\r\nall of it")
                .await
                .unwrap();
            assert_eq!((r.status.as_u16(), r.closes), (500, true));
            assert_eq!(r.body_sample, b"all of it");
        });
    }

    #[test]
    fn garbage_and_early_close_are_errors() {
        run(async {
            assert!(matches!(
                one(b"this is not HTTP\r\n\r\n").await,
                Err(WireError::Protocol(_))
            ));
            assert!(matches!(
                one(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc").await,
                Err(WireError::Io(_))
            ));
            // Closed before the first byte of the response: the one failure worth a retry.
            assert!(matches!(one(b"").await, Err(WireError::NoResponse(_))));
            assert!(matches!(one(b"HTTP/1.1 2").await, Err(WireError::Io(_))));
            assert!(matches!(
                one(b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n").await,
                Err(WireError::Protocol(_))
            ));
        });
    }

    /// The framing headers in any case, with the values servers send.
    #[test]
    fn framing_headers_are_read_in_any_case() {
        run(async {
            let (r, left) =
                one(b"HTTP/1.1 200 OK\r\nCONTENT-length:  3 \r\nConnection: Close\r\n\r\nabc")
                    .await
                    .unwrap();
            assert_eq!((left, r.closes), (0, true));
            let chunked =
                b"HTTP/1.1 200 OK\r\ntransfer-ENCODING: gzip, Chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
            let (r, left) = one(chunked).await.unwrap();
            assert_eq!((left, r.closes), (0, false));
            let (r, _) =
                one(b"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n")
                    .await
                    .unwrap();
            assert!(!r.closes, "HTTP/1.0 with keep-alive stays open");
        });
        assert!(named("Content-Length", b"content-length"));
        assert!(!named("Content-Lengtz", b"content-length"));
        assert!(!named("Content-Lengths", b"content-length"));
        assert_eq!(content_length(b" 42 "), Some(42));
        assert_eq!(content_length(b""), None);
        assert_eq!(content_length(b"4 2"), None);
        assert_eq!(content_length(b"-1"), None);
        assert_eq!(content_length(b"99999999999999999999999"), None);
    }
}

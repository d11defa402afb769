//! Keep-alive connections as a real client keeps them: a warm one is reused, one the server
//! closed while idle is noticed and replaced (not blamed on the server), and a request that
//! fails on a reused connection before any response byte arrived goes once more on a fresh
//! one, as hyper, Envoy and browsers do (REFERENCE.md §7).

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Waker};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use tokio::io::ReadBuf;

use super::stream::{self, Fault};
use super::wire::{self, WireError};
use crate::endpoint::{Connector, Io, RequestTemplate, classify_response, error_detail};
use crate::results::{ErrorKind, ErrorSample};
use crate::stats::StreamRecord;

/// A connection idle for less than this is not checked for a close before reuse: servers
/// close idle connections after seconds, and a race is caught by the one retry.
const CHECK_IDLE_AFTER: Duration = Duration::from_millis(200);

/// An open connection and its read buffer (kept across requests: nothing is allocated per
/// request on the hot path).
pub struct Conn {
    stream: Box<dyn Io>,
    buf: BytesMut,
    /// It has carried a request already: a failure before any response byte may be the
    /// server having closed it while idle.
    used: bool,
    /// When its last answer ended.
    idle_since: Option<Instant>,
}

impl Conn {
    fn new(stream: Box<dyn Io>) -> Self {
        Conn {
            stream,
            buf: BytesMut::with_capacity(8192),
            used: false,
            idle_since: None,
        }
    }

    /// Its last answer ended at `at`.
    pub fn idle_from(&mut self, at: Instant) {
        self.idle_since = Some(at);
    }

    /// Whether the peer has closed this connection, idle since its last answer (or sent
    /// bytes nobody asked for): a read that completes at once means end of stream, an error
    /// or stray data; a read that would wait means the connection is alive and quiet.
    /// Connections idle for under `CHECK_IDLE_AFTER` are taken as alive.
    pub fn is_stale(&mut self, now: Instant) -> bool {
        if !self.buf.is_empty() {
            return true;
        }
        let idle = self
            .idle_since
            .map_or(Duration::MAX, |since| now.saturating_duration_since(since));
        if idle < CHECK_IDLE_AFTER {
            return false;
        }
        let mut cx = Context::from_waker(Waker::noop());
        let mut byte = [0u8; 1];
        let mut probe = ReadBuf::new(&mut byte);
        Pin::new(&mut *self.stream)
            .poll_read(&mut cx, &mut probe)
            .is_ready()
    }
}

/// How one request ended.
pub enum Outcome {
    Success,
    Failure(ErrorKind, ErrorSample),
}

/// What sending one request did besides its outcome.
pub struct Sent {
    pub outcome: Outcome,
    /// The connection, when it may carry another request.
    pub conn: Option<Conn>,
    /// Connections opened for this request (0, 1, or 2 after a retry).
    pub opened: u32,
    /// The request went again on a fresh connection after a reused one failed first.
    pub retried: bool,
    /// `--stream`: when the tokens arrived (kept when the stream failed or timed out).
    pub stream: StreamRecord,
    /// `--stream`: how a stream that got a 2xx failed.
    fault: Option<Fault>,
}

/// Everything needed to send requests to the target.
#[derive(Clone)]
pub struct Link {
    pub template: Arc<RequestTemplate>,
    pub connector: Connector,
    pub timeout: Duration,
    /// `--stream` probes: read a stream only to its first token, then drop the connection.
    pub until_first_token: bool,
}

impl Link {
    /// Sends request `index` on `conn` (a warm connection) or on a new one, within the
    /// timeout, retrying once on a fresh connection when a reused one failed before any
    /// response byte arrived.
    pub async fn send(&self, conn: Option<Conn>, index: usize) -> Sent {
        let mut sent = Sent {
            outcome: Outcome::Success,
            conn: None,
            opened: 0,
            retried: false,
            stream: StreamRecord::default(),
            fault: None,
        };
        let exchange = self.exchange(conn, index, &mut sent);
        match tokio::time::timeout(self.timeout, exchange).await {
            Ok(outcome) => {
                sent.outcome = match (outcome, sent.fault.take()) {
                    (Outcome::Success, Some(f)) => failure(f.kind, None, f.detail),
                    (outcome, _) => outcome,
                };
            }
            Err(_) => {
                // The answer may still arrive on the connection: never reuse it.
                sent.conn = None;
                let detail = format!("no response within {:?}", self.timeout);
                sent.outcome = failure(ErrorKind::Timeout, None, detail);
            }
        }
        sent
    }

    async fn exchange(&self, conn: Option<Conn>, index: usize, sent: &mut Sent) -> Outcome {
        let request = match self.template.wire(index) {
            Ok(bytes) => bytes,
            Err(e) => return failure(ErrorKind::Signing, None, e.to_string()),
        };
        let conn = match conn {
            Some(conn) => conn,
            None => match self.open(sent).await {
                Ok(conn) => conn,
                Err(outcome) => return outcome,
            },
        };
        let reused = conn.used;
        match self.attempt(conn, &request, sent).await {
            Err(WireError::NoResponse(_)) if reused => {
                sent.retried = true;
                match self.open(sent).await {
                    Ok(fresh) => settle(self.attempt(fresh, &request, sent).await),
                    Err(outcome) => outcome,
                }
            }
            result => settle(result),
        }
    }

    async fn open(&self, sent: &mut Sent) -> Result<Conn, Outcome> {
        sent.opened += 1;
        match self.connector.connect().await {
            Ok(stream) => Ok(Conn::new(stream)),
            Err(e) => Err(failure(ErrorKind::Connect, None, e.to_string())),
        }
    }

    /// One attempt on `conn`; the connection goes back into `sent` when it can be reused.
    async fn attempt(
        &self,
        mut conn: Conn,
        request: &Bytes,
        sent: &mut Sent,
    ) -> Result<wire::Response, WireError> {
        conn.used = true;
        let io = conn.stream.as_mut();
        let response = match self.template.stream() {
            Some(spec) => {
                let (record, fault) = (&mut sent.stream, &mut sent.fault);
                let until_first_token = self.until_first_token;
                stream::exchange(
                    io,
                    request,
                    &mut conn.buf,
                    spec,
                    record,
                    fault,
                    until_first_token,
                )
                .await?
            }
            None => wire::exchange(io, request, &mut conn.buf).await?,
        };
        if !response.closes {
            sent.conn = Some(conn);
        }
        Ok(response)
    }
}

/// The outcome of an attempt that will not be retried.
fn settle(result: Result<wire::Response, WireError>) -> Outcome {
    match result {
        Ok(response) => outcome(response),
        Err(e) => {
            let kind = match e {
                WireError::Io(_) | WireError::NoResponse(_) => ErrorKind::Connect,
                WireError::Protocol(_) => ErrorKind::Other,
            };
            failure(kind, None, e.to_string())
        }
    }
}

/// Classifies a complete response.
fn outcome(response: wire::Response) -> Outcome {
    let headers = response.headers.unwrap_or_default();
    match classify_response(response.status, &headers) {
        None => Outcome::Success,
        Some(kind) => {
            let text = error_detail(&headers, &response.body_sample);
            failure(kind, Some(response.status.as_u16()), text)
        }
    }
}

pub fn failure(kind: ErrorKind, status: Option<u16>, detail: String) -> Outcome {
    Outcome::Failure(
        kind,
        ErrorSample {
            kind,
            status,
            detail,
        },
    )
}

/// A shard's idle keep-alive connections for open-loop load, the most recently used on
/// top: the warm set stays as small as the load needs, and stays warm.
#[derive(Default)]
pub struct Pool {
    idle: Vec<Conn>,
}

impl Pool {
    /// The most recently used idle connection the server has not closed; stale ones are
    /// dropped on the way.
    pub fn take(&mut self, now: Instant) -> Option<Conn> {
        while let Some(mut conn) = self.idle.pop() {
            if !conn.is_stale(now) {
                return Some(conn);
            }
        }
        None
    }

    pub fn put(&mut self, conn: Conn) {
        self.idle.push(conn);
    }
}

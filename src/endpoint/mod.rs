//! What requests are sent to and what they carry: the endpoint parsed from TARGET, the
//! connection to it (TCP or TLS), the request template every virtual user sends (signed for
//! `sagemaker://` targets), and how a response is classified.

mod classify;
mod conn;
pub mod llm;
mod payload;
pub mod sagemaker;
mod tls;
mod url;

use std::sync::Arc;

pub use classify::{classify_response, error_detail};
pub use conn::{Connector, Io};
pub use payload::{PayloadSet, SAGEMAKER_PAYLOAD_LIMIT, content_type_for};
pub use tls::TlsOptions;
pub use url::{Endpoint, Scheme};

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Request, header};
use http_body_util::Full;

use crate::Error;
use crate::aws::runtime::InvokeSigner;

/// The request a virtual user sends: always `POST` to the endpoint's path, with fixed
/// headers and one body from the payload set in turn.
#[derive(Clone, Debug)]
pub struct RequestTemplate {
    pub endpoint: Endpoint,
    headers: HeaderMap,
    pub payloads: PayloadSet,
    /// Signs each request (SigV4) for `sagemaker://` targets.
    signer: Option<Arc<InvokeSigner>>,
    /// Unsigned requests as HTTP/1.1 bytes, one per body, prepared once.
    wires: Vec<Bytes>,
    /// `--stream`: the answers are streams, read token by token.
    stream: Option<llm::StreamSpec>,
}

impl RequestTemplate {
    /// Builds the template. `headers` are `Name: value` strings from `-H`; `content_type`
    /// and `accept` override what the payload implies.
    pub fn new(
        endpoint: Endpoint,
        payloads: PayloadSet,
        content_type: Option<&str>,
        accept: Option<&str>,
        extra_headers: &[String],
    ) -> Result<Self, Error> {
        let mut headers = HeaderMap::new();
        let host = HeaderValue::from_str(&endpoint.authority())
            .map_err(|_| Error::Input(format!("host '{}' is not valid", endpoint.host)))?;
        headers.insert(header::HOST, host);
        let content_type = content_type.unwrap_or(payloads.content_type.as_str());
        headers.insert(
            header::CONTENT_TYPE,
            header_value("--content-type", content_type)?,
        );
        if let Some(accept) = accept {
            headers.insert(header::ACCEPT, header_value("--accept", accept)?);
        }
        headers.insert(
            header::USER_AGENT,
            HeaderValue::from_static(concat!("peakrps/", env!("CARGO_PKG_VERSION"))),
        );
        for raw in extra_headers {
            let (name, value) = parse_header(raw)?;
            headers.append(name, value);
        }
        let wires = (0..payloads.len())
            .map(|i| encode(&endpoint.path, &headers, &payloads.body(i)))
            .collect();
        Ok(RequestTemplate {
            endpoint,
            headers,
            payloads,
            signer: None,
            wires,
            stream: None,
        })
    }

    /// Every request will be signed by `signer` (built for this template's payloads).
    pub fn with_signer(mut self, signer: Arc<InvokeSigner>) -> Self {
        self.signer = Some(signer);
        self.wires.clear();
        self
    }

    /// Every answer will be read as a stream (`--stream`).
    pub fn with_stream(mut self, spec: llm::StreamSpec) -> Self {
        self.stream = Some(spec);
        self
    }

    /// How answers are read as streams, when they are.
    pub fn stream(&self) -> Option<&llm::StreamSpec> {
        self.stream.as_ref()
    }

    /// Request number `i` as HTTP/1.1 bytes: prepared once per body, or built and signed
    /// afresh for SageMaker targets (each signature carries its own time). With synthetic
    /// prompts (`--stream` without `--payload`) the body is the next prompt of the run, made
    /// now. Fails only when a SageMaker request cannot be signed; it is then not sent.
    pub fn wire(&self, i: usize) -> Result<Bytes, Error> {
        if let Some(feed) = self.stream.as_ref().and_then(|s| s.prompts.as_ref()) {
            let body = feed.next_body();
            let request = self.request_with(i, body.clone(), true)?;
            return Ok(encode(request.uri(), request.headers(), &body));
        }
        match self.wires.get(i % self.wires.len().max(1)) {
            Some(bytes) => Ok(bytes.clone()),
            None => {
                let request = self.request(i)?;
                Ok(encode(
                    request.uri(),
                    request.headers(),
                    &self.payloads.body(i),
                ))
            }
        }
    }

    /// The request carrying body number `i` (modulo the payload count), signed for
    /// SageMaker targets.
    pub fn request(&self, i: usize) -> Result<Request<Full<Bytes>>, Error> {
        self.request_with(i, self.payloads.body(i), false)
    }

    /// The request carrying `body` (body number `i`, or one made for this request when
    /// `made`), signed for SageMaker targets.
    fn request_with(
        &self,
        i: usize,
        body: Bytes,
        made: bool,
    ) -> Result<Request<Full<Bytes>>, Error> {
        let signed = made.then(|| body.clone());
        let mut req = Request::new(Full::new(body));
        *req.method_mut() = http::Method::POST;
        *req.uri_mut() = self.endpoint.path.clone();
        *req.headers_mut() = self.headers.clone();
        match (&self.signer, signed) {
            (Some(signer), Some(body)) => signer.sign_body(&mut req, &body)?,
            (Some(signer), None) => signer.sign(&mut req, i)?,
            (None, _) => {}
        }
        Ok(req)
    }
}

/// `POST path HTTP/1.1`, the headers, Content-Length, and the body.
fn encode(path: &http::Uri, headers: &HeaderMap, body: &Bytes) -> Bytes {
    let mut out = Vec::with_capacity(256 + body.len());
    out.extend_from_slice(b"POST ");
    out.extend_from_slice(path.to_string().as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\n");
    for (name, value) in headers {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("content-length: {}\r\n\r\n", body.len()).as_bytes());
    out.extend_from_slice(body);
    Bytes::from(out)
}

fn header_value(flag: &str, value: &str) -> Result<HeaderValue, Error> {
    HeaderValue::from_str(value)
        .map_err(|_| Error::Input(format!("{flag} '{value}' is not a valid header value")))
}

/// Parses `-H 'Name: value'`.
pub fn parse_header(raw: &str) -> Result<(HeaderName, HeaderValue), Error> {
    let bad = |why: &str| {
        Error::Input(format!(
            "header '{raw}' {why}: write it as -H 'Name: value'"
        ))
    };
    let (name, value) = raw.split_once(':').ok_or_else(|| bad("has no ':'"))?;
    let name =
        HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| bad("has an invalid name"))?;
    let value = HeaderValue::from_str(value.trim()).map_err(|_| bad("has an invalid value"))?;
    Ok((name, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_parse_or_say_why_not() {
        let (n, v) = parse_header("X-Amzn-SageMaker-Custom-Attributes: a=b").unwrap();
        assert_eq!(n.as_str(), "x-amzn-sagemaker-custom-attributes");
        assert_eq!(v, "a=b");
        assert!(
            parse_header("NoColon")
                .unwrap_err()
                .to_string()
                .contains("has no ':'")
        );
        assert!(
            parse_header("Bad Name: x")
                .unwrap_err()
                .to_string()
                .contains("invalid name")
        );
    }

    #[test]
    fn request_carries_bodies_in_turn_and_headers() {
        let endpoint = Endpoint::parse("http://127.0.0.1:8080/invocations").unwrap();
        let payloads =
            PayloadSet::from_bodies(vec![Bytes::from("a"), Bytes::from("b")], "text/csv");
        let t = RequestTemplate::new(
            endpoint,
            payloads,
            None,
            Some("application/json"),
            &["X-Test: 1".into()],
        )
        .unwrap();
        let r0 = t.request(0).unwrap();
        let r3 = t.request(3).unwrap();
        assert_eq!(r0.uri(), "/invocations");
        assert_eq!(r0.headers()["host"], "127.0.0.1:8080");
        assert_eq!(r0.headers()["content-type"], "text/csv");
        assert_eq!(r0.headers()["accept"], "application/json");
        assert_eq!(r0.headers()["x-test"], "1");
        use http_body_util::BodyExt;
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let b0 = rt.block_on(r0.into_body().collect()).unwrap().to_bytes();
        let b3 = rt.block_on(r3.into_body().collect()).unwrap().to_bytes();
        assert_eq!((&b0[..], &b3[..]), (&b"a"[..], &b"b"[..]));
    }
}

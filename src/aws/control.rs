//! SageMaker's control plane: DescribeEndpoint, the instance counts of an endpoint's
//! variants. One awsJson1_1 POST signed with our SigV4 signer and sent over a small hyper
//! client: aws-sdk-sagemaker would cost minutes of build and gigabytes for this one call
//! (REFERENCE.md §6).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::Request;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::Deserialize;

use super::service_url;
use super::sigv4::{Signer, body_hash};
use crate::Error;
use crate::error::Cause;

/// The awsJson1_1 operation header.
const TARGET: &str = "SageMaker.DescribeEndpoint";
/// The operation, as errors name it.
const OPERATION: &str = "DescribeEndpoint";
const CONTENT_TYPE: &str = "application/x-amz-json-1.1";
/// No DescribeEndpoint answer is near this; more is not SageMaker.
const MAX_BODY: usize = 1 << 20;

/// The control plane's base URL: AWS_ENDPOINT_URL_SAGEMAKER, then AWS_ENDPOINT_URL (or a
/// profile's `endpoint_url`, which `configured` carries), then AWS's regional endpoint.
pub fn control_url(service_env: Option<&str>, configured: Option<&str>, region: &str) -> String {
    service_url(&[service_env, configured], "api.sagemaker", region)
}

/// One variant's instance counts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VariantCounts {
    pub name: String,
    /// Instances in service; absent while the endpoint is being created.
    pub current: Option<u32>,
    /// What the variant is moving to (differs from `current` while it scales).
    pub desired: Option<u32>,
}

/// The parts of DescribeEndpoint's answer peakrps reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndpointState {
    /// `InService`, `Updating`, `Creating`, …
    pub status: String,
    pub variants: Vec<VariantCounts>,
}

impl EndpointState {
    pub fn variant(&self, name: &str) -> Option<&VariantCounts> {
        self.variants.iter().find(|v| v.name == name)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Answer {
    #[serde(default)]
    endpoint_status: String,
    #[serde(default)]
    production_variants: Vec<Variant>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Variant {
    variant_name: String,
    current_instance_count: Option<u32>,
    desired_instance_count: Option<u32>,
}

/// Reads a 200 answer.
pub fn parse_answer(body: &[u8]) -> Result<EndpointState, Error> {
    let answer: Answer = serde_json::from_slice(body).map_err(|e| Error::Aws {
        operation: OPERATION,
        message: format!("DescribeEndpoint answered something that is not its JSON ({e})"),
        source: Box::new(e),
    })?;
    Ok(EndpointState {
        status: answer.endpoint_status,
        variants: answer
            .production_variants
            .into_iter()
            .map(|v| VariantCounts {
                name: v.variant_name,
                current: v.current_instance_count,
                desired: v.desired_instance_count,
            })
            .collect(),
    })
}

/// An error answer as one line: `DescribeEndpoint failed: Code: message` (awsJson1_1 puts
/// the code in `__type`, sometimes after a `namespace#`, or in `x-amzn-ErrorType`).
pub fn parse_failure(status: u16, error_type: Option<&str>, body: &[u8]) -> Error {
    let json: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let field = |k: &str| json.get(k).and_then(|v| v.as_str()).map(str::to_string);
    let code = error_type
        .map(str::to_string)
        .or_else(|| field("__type"))
        .map(|c| {
            let c = c.split(':').next().unwrap_or_default();
            c.rsplit('#').next().unwrap_or_default().to_string()
        })
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| format!("HTTP {status}"));
    let message = field("message")
        .or_else(|| field("Message"))
        .unwrap_or_else(|| {
            String::from_utf8_lossy(&body[..body.len().min(200)])
                .trim()
                .to_string()
        });
    Error::Run(format!("DescribeEndpoint failed: {code}: {message}"))
}

/// DescribeEndpoint for one endpoint.
pub struct DescribeEndpoint {
    url: String,
    body: Bytes,
    body_hash: String,
    signer: Signer,
    client: Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>,
    timeout: Duration,
}

impl DescribeEndpoint {
    /// `base` is the control plane's URL (see `control_url`); `name` the endpoint.
    pub fn new(base: &str, name: &str, signer: Signer) -> Result<Self, Error> {
        let url = format!("{base}/");
        url.parse::<http::Uri>()
            .ok()
            .filter(|u| u.host().is_some())
            .ok_or_else(|| Error::Input(format!("the SageMaker API URL {url} is not usable")))?;
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(provider)
            .map_err(|e| Error::setup("cannot set up TLS for the SageMaker API", e))?
            .https_or_http()
            .enable_http1()
            .build();
        let body = Bytes::from(serde_json::json!({ "EndpointName": name }).to_string());
        Ok(DescribeEndpoint {
            url,
            body_hash: body_hash(&body),
            body,
            signer,
            client: Client::builder(TokioExecutor::new()).build(https),
            timeout: Duration::from_secs(10),
        })
    }

    /// The request, unsigned: POST to the API's root with the operation in `x-amz-target`.
    fn unsigned(&self) -> Result<Request<Full<Bytes>>, Error> {
        let mut request = Request::post(&self.url)
            .header(http::header::CONTENT_TYPE, CONTENT_TYPE)
            .header("x-amz-target", TARGET)
            .body(Full::new(self.body.clone()))
            .map_err(|e| Error::setup("cannot build the DescribeEndpoint request", e))?;
        // Signed, so set here rather than left to the client.
        if let Some(authority) = request.uri().authority() {
            let host = http::HeaderValue::from_str(authority.as_str()).map_err(|e| {
                Error::invalid(format!("the SageMaker API URL {}: {e}", self.url), e)
            })?;
            request.headers_mut().insert(http::header::HOST, host);
        }
        Ok(request)
    }

    /// The request signed now with the current credentials.
    pub fn request(&self) -> Result<Request<Full<Bytes>>, Error> {
        let mut request = self.unsigned()?;
        self.signer.sign(&mut request, &self.url, &self.body_hash)?;
        Ok(request)
    }

    /// Calls DescribeEndpoint once, within 10 s.
    pub async fn call(&self) -> Result<EndpointState, Error> {
        match tokio::time::timeout(self.timeout, self.exchange()).await {
            Ok(result) => result,
            Err(_) => Err(Error::Run(format!(
                "DescribeEndpoint failed: no answer from {} within {} s",
                self.url,
                self.timeout.as_secs()
            ))),
        }
    }

    async fn exchange(&self) -> Result<EndpointState, Error> {
        let fail = |source: Cause| Error::Aws {
            operation: OPERATION,
            message: format!("{OPERATION} failed: {} ({source})", self.url),
            source,
        };
        let request = self.request()?;
        let response = self
            .client
            .request(request)
            .await
            .map_err(|e| fail(e.into()))?;
        let status = response.status();
        let error_type = response
            .headers()
            .get("x-amzn-errortype")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = Limited::new(response.into_body(), MAX_BODY)
            .collect()
            .await
            .map_err(fail)?
            .to_bytes();
        if status.is_success() {
            parse_answer(&body)
        } else {
            Err(parse_failure(status.as_u16(), error_type.as_deref(), &body))
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use super::*;
    use crate::aws::credentials::{LiveCredentials, example_credentials};
    use crate::aws::runtime::SIGNING_NAME;

    #[test]
    fn control_url_precedence() {
        assert_eq!(
            control_url(None, None, "eu-west-1"),
            "https://api.sagemaker.eu-west-1.amazonaws.com"
        );
        assert_eq!(
            control_url(None, None, "cn-north-1"),
            "https://api.sagemaker.cn-north-1.amazonaws.com.cn"
        );
        assert_eq!(
            control_url(None, Some("http://127.0.0.1:5000/"), "x"),
            "http://127.0.0.1:5000"
        );
        assert_eq!(
            control_url(Some("http://svc"), Some("http://all"), "x"),
            "http://svc"
        );
        assert_eq!(
            control_url(Some(" "), None, "x"),
            "https://api.sagemaker.x.amazonaws.com"
        );
    }

    /// The expected signature was computed once with botocore 1.43 (`SigV4Auth(creds,
    /// "sagemaker", "us-east-1")` on the same request, frozen at 2015-08-30T12:36:00Z), with
    /// the key pair of AWS's published SigV4 examples.
    #[test]
    fn signature_matches_botocore() {
        let creds = example_credentials();
        let signer = Signer::new(
            SIGNING_NAME,
            "us-east-1",
            LiveCredentials::fixed(creds.clone().into()),
        );
        let describe = DescribeEndpoint::new(
            "https://api.sagemaker.us-east-1.amazonaws.com",
            "my-endpoint",
            signer.clone(),
        )
        .unwrap();
        let time = SystemTime::UNIX_EPOCH + Duration::from_secs(1_440_938_160);
        let mut request = describe.unsigned().unwrap();
        signer
            .sign_at(
                &mut request,
                &describe.url,
                &describe.body_hash,
                &creds.into(),
                time,
            )
            .unwrap();
        assert_eq!(request.uri().path(), "/");
        assert_eq!(
            request.headers()["x-amz-target"],
            "SageMaker.DescribeEndpoint"
        );
        assert_eq!(request.headers()["x-amz-date"], "20150830T123600Z");
        assert_eq!(
            request.headers()["authorization"],
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/sagemaker/aws4_request, \
             SignedHeaders=content-type;host;x-amz-date;x-amz-target, \
             Signature=ff52b7dd8aa405977e106f9b4c8eb10e06867404b8182d3d6fd9ec69e049fbc2"
        );
    }

    #[test]
    fn answer_gives_each_variants_counts() {
        let body = br#"{"EndpointName":"ep","EndpointStatus":"Updating","ProductionVariants":[
            {"VariantName":"AllTraffic","CurrentInstanceCount":2,"DesiredInstanceCount":4,"CurrentWeight":1.0},
            {"VariantName":"Canary"}]}"#;
        let state = parse_answer(body).unwrap();
        assert_eq!(state.status, "Updating");
        assert_eq!(
            state.variant("AllTraffic"),
            Some(&VariantCounts {
                name: "AllTraffic".into(),
                current: Some(2),
                desired: Some(4)
            })
        );
        assert_eq!(state.variant("Canary").unwrap().current, None);
        assert!(state.variant("Other").is_none());
        assert!(parse_answer(b"<html>").is_err());
    }

    #[test]
    fn failures_name_the_code_and_message() {
        let e = parse_failure(
            400,
            None,
            br#"{"__type":"com.amazonaws.sagemaker#ValidationException","message":"Could not find endpoint \"nope\"."}"#,
        );
        assert_eq!(
            e.to_string(),
            "DescribeEndpoint failed: ValidationException: Could not find endpoint \"nope\"."
        );
        let e = parse_failure(
            403,
            Some("AccessDeniedException:http://internal.amazon.com/"),
            br#"{"Message":"User is not authorized to perform: sagemaker:DescribeEndpoint"}"#,
        );
        assert_eq!(
            e.to_string(),
            "DescribeEndpoint failed: AccessDeniedException: User is not authorized to perform: sagemaker:DescribeEndpoint"
        );
        let e = parse_failure(502, None, b"Bad Gateway");
        assert_eq!(
            e.to_string(),
            "DescribeEndpoint failed: HTTP 502: Bad Gateway"
        );
    }
}

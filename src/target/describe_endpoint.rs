//! DescribeEndpoint on the SageMaker control plane: the instance counts of an endpoint's
//! variants, for `run --profile` to put beside the simulator's prediction. One awsJson1_1
//! POST signed with aws-sigv4 and sent with hyper: aws-sdk-sagemaker would cost minutes of
//! build and gigabytes for this one call (REFERENCE.md §6).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::Request;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::Endpoint;
use super::sagemaker::{Signer, Signing, service_url, sign_request};
use crate::Error;
use crate::load::{Connector, TlsOptions};

/// The awsJson1_1 operation header.
const TARGET: &str = "SageMaker.DescribeEndpoint";
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
    let answer: Answer = serde_json::from_slice(body).map_err(|e| {
        Error::Run(format!(
            "DescribeEndpoint answered something that is not its JSON ({e})"
        ))
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

/// DescribeEndpoint for one endpoint, signed with the credentials of the load's signer.
pub struct DescribeEndpoint {
    endpoint: Endpoint,
    body: Bytes,
    body_hash: String,
    signer: Arc<Signer>,
    timeout: Duration,
}

impl DescribeEndpoint {
    /// `base` is the control plane's URL (see `control_url`); `name` the endpoint.
    pub fn new(base: &str, name: &str, signer: Arc<Signer>) -> Result<Self, Error> {
        let url = format!("{base}/");
        let endpoint = Endpoint::parse(&url)
            .map_err(|e| Error::Input(format!("the SageMaker API URL {url} is not usable: {e}")))?;
        let body = Bytes::from(serde_json::json!({ "EndpointName": name }).to_string());
        let body_hash = hex::encode(Sha256::digest(&body));
        Ok(DescribeEndpoint {
            endpoint,
            body,
            body_hash,
            signer,
            timeout: Duration::from_secs(10),
        })
    }

    /// The signed request at `time`.
    pub fn request(&self, time: SystemTime) -> Result<Request<Full<Bytes>>, Error> {
        let mut request = Request::post(self.endpoint.path.clone())
            .header(http::header::HOST, self.endpoint.authority())
            .header(http::header::CONTENT_TYPE, CONTENT_TYPE)
            .header("x-amz-target", TARGET)
            .body(Full::new(self.body.clone()))
            .map_err(|e| Error::Run(format!("cannot build the DescribeEndpoint request: {e}")))?;
        let identity = self.signer.identity();
        let signing = Signing {
            region: self.signer.region(),
            identity: &identity,
            time,
            settings: &Default::default(),
        };
        sign_request(
            &mut request,
            &self.endpoint.url(),
            self.body_hash.clone(),
            &signing,
        )?;
        Ok(request)
    }

    /// Calls DescribeEndpoint once (on a fresh connection, within 10 s).
    pub async fn call(&self) -> Result<EndpointState, Error> {
        match tokio::time::timeout(self.timeout, self.exchange()).await {
            Ok(result) => result,
            Err(_) => Err(Error::Run(format!(
                "DescribeEndpoint failed: no answer from {} within {} s",
                self.endpoint.authority(),
                self.timeout.as_secs()
            ))),
        }
    }

    async fn exchange(&self) -> Result<EndpointState, Error> {
        let fail = |e: &dyn std::fmt::Display| {
            Error::Run(format!(
                "DescribeEndpoint failed: {} ({e})",
                self.endpoint.authority()
            ))
        };
        let request = self.request(SystemTime::now())?;
        // Resolved on every call (once a minute): the API's addresses may change in a long run.
        let endpoint = self.endpoint.clone();
        let connector =
            tokio::task::spawn_blocking(move || Connector::new(&endpoint, &TlsOptions::default()))
                .await
                .map_err(|e| fail(&e))??;
        let io = connector.connect().await.map_err(|e| fail(&e))?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(io))
            .await
            .map_err(|e| fail(&e))?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        let response = sender.send_request(request).await.map_err(|e| fail(&e))?;
        let status = response.status();
        let error_type = response
            .headers()
            .get("x-amzn-errortype")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = Limited::new(response.into_body(), MAX_BODY)
            .collect()
            .await
            .map_err(|e| fail(&e))?
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
    use super::*;
    use crate::target::PayloadSet;

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
        let creds = crate::target::sagemaker::example_credentials();
        let payloads = PayloadSet::from_bodies(vec![Bytes::from_static(b"x")], "text/csv");
        let signer = Arc::new(Signer::new(
            "us-east-1",
            "https://runtime.sagemaker.us-east-1.amazonaws.com/endpoints/my-endpoint/invocations",
            &payloads,
            creds.into(),
        ));
        let describe = DescribeEndpoint::new(
            "https://api.sagemaker.us-east-1.amazonaws.com",
            "my-endpoint",
            signer,
        )
        .unwrap();
        let time = SystemTime::UNIX_EPOCH + Duration::from_secs(1_440_938_160);
        let request = describe.request(time).unwrap();
        assert_eq!(request.uri(), "/");
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

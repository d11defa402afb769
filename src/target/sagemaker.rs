//! `sagemaker://ENDPOINT` targets: InvokeEndpoint requests signed with SigV4 (signing name
//! `sagemaker`), credentials kept fresh in the background, and SageMaker's errors explained.

use std::fmt;
use std::sync::{Arc, RwLock, Weak};
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use bytes::Bytes;
use http::Request;
use http_body_util::Full;
use sha2::{Digest, Sha256};

use super::{Endpoint, PayloadSet};
use crate::Error;
use crate::aws::Aws;
use crate::results::ErrorSample;

/// The SigV4 signing name of the SageMaker runtime.
pub const SIGNING_NAME: &str = "sagemaker";

/// What prefixes a SageMaker target.
pub const SCHEME: &str = "sagemaker://";

/// The one-line warning every SageMaker run prints on stderr.
pub const PRODUCTION_WARNING: &str = "warning: this load goes to a real SageMaker endpoint; if it serves production, real users share its capacity and will see the throttling and latency this test causes";

/// The InvokeEndpoint options a `sagemaker://` target takes from the command line.
#[derive(Clone, Debug, Default)]
pub struct InvokeOptions {
    pub target_model: Option<String>,
    pub target_variant: Option<String>,
    pub target_container_hostname: Option<String>,
    pub inference_component: Option<String>,
    pub custom_attributes: Option<String>,
    pub inference_id: Option<String>,
}

impl InvokeOptions {
    pub fn is_empty(&self) -> bool {
        self.headers_unchecked().is_empty()
    }

    fn headers_unchecked(&self) -> Vec<(&'static str, &str)> {
        [
            ("X-Amzn-SageMaker-Target-Model", &self.target_model),
            ("X-Amzn-SageMaker-Target-Variant", &self.target_variant),
            (
                "X-Amzn-SageMaker-Target-Container-Hostname",
                &self.target_container_hostname,
            ),
            (
                "X-Amzn-SageMaker-Inference-Component",
                &self.inference_component,
            ),
            (
                "X-Amzn-SageMaker-Custom-Attributes",
                &self.custom_attributes,
            ),
            ("X-Amzn-SageMaker-Inference-Id", &self.inference_id),
        ]
        .into_iter()
        .filter_map(|(name, value)| value.as_deref().map(|v| (name, v)))
        .collect()
    }

    /// The request headers (as `-H` would write them), after checking each value against
    /// InvokeEndpoint's limits.
    pub fn headers(&self) -> Result<Vec<String>, Error> {
        if let Some(v) = &self.target_variant {
            validate_name("--target-variant", v)?;
        }
        if let Some(v) = &self.target_container_hostname {
            validate_name("--target-container-hostname", v)?;
        }
        if let Some(v) = &self.inference_component {
            validate_name("--inference-component", v)?;
        }
        check_text("--target-model", self.target_model.as_deref(), 1024)?;
        check_text(
            "--custom-attributes",
            self.custom_attributes.as_deref(),
            1024,
        )?;
        check_text("--inference-id", self.inference_id.as_deref(), 64)?;
        Ok(self
            .headers_unchecked()
            .into_iter()
            .map(|(n, v)| format!("{n}: {v}"))
            .collect())
    }
}

fn check_text(flag: &str, value: Option<&str>, max: usize) -> Result<(), Error> {
    let Some(value) = value else { return Ok(()) };
    if value.is_empty() || value.chars().count() > max {
        return Err(Error::Input(format!(
            "{flag} must be 1 to {max} characters long (it has {})",
            value.chars().count()
        )));
    }
    if !value.chars().all(|c| c.is_ascii() && !c.is_ascii_control()) {
        return Err(Error::Input(format!(
            "{flag} may only hold printable ASCII characters"
        )));
    }
    Ok(())
}

/// Endpoint, variant, container and inference-component names: `^[a-zA-Z0-9](-*[a-zA-Z0-9])*$`,
/// at most 63 characters.
pub fn validate_name(what: &str, name: &str) -> Result<(), Error> {
    let bad = |why: &str| Error::Input(format!("{what} '{name}' {why}"));
    if name.is_empty() {
        return Err(bad("is empty"));
    }
    if name.len() > 63 {
        return Err(bad(&format!(
            "is {} characters long; SageMaker allows at most 63",
            name.len()
        )));
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(bad("may only hold letters, digits and hyphens"));
    }
    if name.starts_with('-') || name.ends_with('-') {
        return Err(bad("must start and end with a letter or digit"));
    }
    Ok(())
}

/// The endpoint name in `sagemaker://NAME`, checked; `None` when `raw` is not a SageMaker target.
pub fn parse_target(raw: &str) -> Option<Result<String, Error>> {
    let name = raw.strip_prefix(SCHEME)?;
    let name = name.strip_suffix('/').unwrap_or(name);
    Some(validate_name("SageMaker endpoint name", name).map(|()| name.to_string()))
}

/// The base URL requests go to: `--endpoint-url`, then AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME,
/// then AWS_ENDPOINT_URL (or a profile's `endpoint_url`, which `configured` carries), then
/// AWS's regional endpoint.
pub fn base_url(
    flag: Option<&str>,
    service_env: Option<&str>,
    configured: Option<&str>,
    region: &str,
) -> String {
    service_url(
        &[flag, service_env, configured],
        "runtime.sagemaker",
        region,
    )
}

/// The first URL given in `overrides` (trimmed, without a trailing slash), else AWS's
/// regional endpoint `https://HOST.REGION.amazonaws.com` (`.com.cn` in China).
pub fn service_url(overrides: &[Option<&str>], host: &str, region: &str) -> String {
    let chosen = overrides.iter().flatten().find(|s| !s.trim().is_empty());
    match chosen {
        Some(url) => url.trim().trim_end_matches('/').to_string(),
        None if region.starts_with("cn-") => format!("https://{host}.{region}.amazonaws.com.cn"),
        None => format!("https://{host}.{region}.amazonaws.com"),
    }
}

/// `BASE/endpoints/NAME/invocations`, as an endpoint the load engine can connect to.
pub fn invocation_endpoint(base: &str, name: &str) -> Result<Endpoint, Error> {
    let url = format!("{base}/endpoints/{name}/invocations");
    Endpoint::parse(&url).map_err(|e| {
        Error::Input(format!(
            "the SageMaker runtime URL {url} is not usable: {e}"
        ))
    })
}

/// Signs every request afresh (x-amz-date changes) with the current credentials. The payload
/// hashes are computed once per body; credentials are swapped in by a background refresh, so
/// signing never waits on the network.
pub struct Signer {
    region: String,
    url: String,
    body_hashes: Vec<String>,
    identity: RwLock<Arc<Identity>>,
    settings: SigningSettings,
}

impl fmt::Debug for Signer {
    // Credentials stay out of every Debug output.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("region", &self.region)
            .field("url", &self.url)
            .field("bodies", &self.body_hashes.len())
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// `url` is the full invocation URL; `identity` the credentials to start with.
    pub fn new(region: &str, url: &str, payloads: &PayloadSet, identity: Identity) -> Self {
        let body_hashes = (0..payloads.len())
            .map(|i| hex::encode(Sha256::digest(payloads.body(i))))
            .collect();
        Signer {
            region: region.to_string(),
            url: url.to_string(),
            body_hashes,
            identity: RwLock::new(Arc::new(identity)),
            settings: SigningSettings::default(),
        }
    }

    fn current(&self) -> Arc<Identity> {
        match self.identity.read() {
            Ok(guard) => Arc::clone(&guard),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    fn replace(&self, identity: Identity) {
        let fresh = Arc::new(identity);
        match self.identity.write() {
            Ok(mut guard) => *guard = fresh,
            Err(poisoned) => *poisoned.into_inner() = fresh,
        }
    }

    /// Signs request `i` (its body is body `i` modulo the payload count). A request that
    /// cannot be signed goes out unsigned, and SageMaker's 403 counts it as a client error.
    pub fn sign(&self, request: &mut Request<Full<Bytes>>, i: usize) {
        let identity = self.current();
        let _ = self.sign_at(request, i, &identity, SystemTime::now());
    }

    /// Signs at a given time with given credentials (the test of the signature uses it).
    pub fn sign_at(
        &self,
        request: &mut Request<Full<Bytes>>,
        i: usize,
        identity: &Identity,
        time: SystemTime,
    ) -> Result<(), Error> {
        let hash = match self.body_hashes.len() {
            0 => {
                return Err(Error::Run(
                    "cannot sign the request: no request body".into(),
                ));
            }
            n => self.body_hashes[i % n].clone(),
        };
        let signing = Signing {
            region: &self.region,
            identity,
            time,
            settings: &self.settings,
        };
        sign_request(request, &self.url, hash, &signing)
    }

    /// The credentials signing uses now (kept fresh by `keep_fresh`).
    pub fn identity(&self) -> Arc<Identity> {
        self.current()
    }

    pub fn region(&self) -> &str {
        &self.region
    }
}

/// Who signs, where and when.
pub struct Signing<'a> {
    pub region: &'a str,
    pub identity: &'a Identity,
    pub time: SystemTime,
    pub settings: &'a SigningSettings,
}

/// Signs a POST to `url` whose body hashes (SHA-256, hex) to `body_hash` with SigV4 under
/// the signing name `sagemaker`, which the runtime and the control plane share.
pub fn sign_request<B>(
    request: &mut Request<B>,
    url: &str,
    body_hash: String,
    signing: &Signing,
) -> Result<(), Error> {
    let fail = |e: &dyn fmt::Display| Error::Run(format!("cannot sign the request: {e}"));
    let params = v4::SigningParams::builder()
        .identity(signing.identity)
        .region(signing.region)
        .name(SIGNING_NAME)
        .time(signing.time)
        .settings(signing.settings.clone())
        .build()
        .map_err(|e| fail(&e))?
        .into();
    let headers = request
        .headers()
        .iter()
        .filter_map(|(k, v)| Some((k.as_str(), v.to_str().ok()?)));
    let signable = SignableRequest::new("POST", url, headers, SignableBody::Precomputed(body_hash))
        .map_err(|e| fail(&e))?;
    let (instructions, _signature) = sign(signable, &params).map_err(|e| fail(&e))?.into_parts();
    instructions.apply_to_request_http1x(request);
    Ok(())
}

/// Fetches credentials once (failing clearly when there are none), then keeps the signer's
/// copy fresh from a background task: a few minutes before they expire, and every 15
/// minutes for credentials without an expiry.
pub fn credentials(aws: &Aws) -> Result<(SharedCredentialsProvider, Identity), Error> {
    let provider = aws.config.credentials_provider().ok_or_else(|| {
        Error::Input(
            "no AWS credentials provider is configured; set AWS_PROFILE or AWS_ACCESS_KEY_ID"
                .into(),
        )
    })?;
    let credentials = aws.block_on(provider.provide_credentials()).map_err(|e| {
        Error::Input(format!(
            "no usable AWS credentials ({}); configure them as for the AWS CLI (aws configure, AWS_PROFILE, SSO login)",
            aws_smithy_types::error::display::DisplayErrorContext(e)
        ))
    })?;
    Ok((provider, Identity::from(credentials)))
}

/// Starts the background refresh of `signer`'s credentials; it ends when the signer is dropped.
pub fn keep_fresh(aws: &Aws, signer: &Arc<Signer>, provider: SharedCredentialsProvider) {
    let weak: Weak<Signer> = Arc::downgrade(signer);
    let first = signer.current().expiration();
    aws.spawn(async move {
        let mut expiry = first;
        loop {
            tokio::time::sleep(refresh_delay(expiry, SystemTime::now())).await;
            let Some(signer) = weak.upgrade() else { return };
            match provider.provide_credentials().await {
                Ok(credentials) => {
                    let identity = Identity::from(credentials);
                    expiry = identity.expiration();
                    signer.replace(identity);
                }
                Err(e) => {
                    eprintln!(
                        "warning: cannot refresh AWS credentials ({}); retrying in 30 s",
                        aws_smithy_types::error::display::DisplayErrorContext(e)
                    );
                    expiry = Some(SystemTime::now() + Duration::from_secs(330));
                }
            }
        }
    });
}

/// How long to wait before refreshing credentials that expire at `expiry`.
fn refresh_delay(expiry: Option<SystemTime>, now: SystemTime) -> Duration {
    match expiry {
        None => Duration::from_secs(15 * 60),
        Some(at) => at
            .duration_since(now)
            .unwrap_or_default()
            .saturating_sub(Duration::from_secs(300))
            .clamp(Duration::from_secs(10), Duration::from_secs(3600)),
    }
}

/// The parts of a SageMaker error response.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AwsError {
    /// `ValidationError`, `ModelError`, `ThrottlingException`, … (from `x-amzn-ErrorType`).
    pub code: String,
    pub message: String,
    /// ModelError only: what the container answered.
    pub original_status: Option<u16>,
    pub original_message: Option<String>,
}

/// Reads an error sample the engine kept (`Type: body`, see `classify::error_detail`).
pub fn parse_error(sample: &ErrorSample) -> Option<AwsError> {
    let (code, body) = sample.detail.split_once(": ")?;
    if code.is_empty() || !code.chars().all(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    let json: serde_json::Value = serde_json::from_str(body.trim()).unwrap_or_default();
    let text = |keys: &[&str]| {
        keys.iter()
            .find_map(|k| json.get(*k).and_then(|v| v.as_str()).map(str::to_string))
    };
    Some(AwsError {
        code: code.to_string(),
        message: text(&["message", "Message"]).unwrap_or_else(|| body.trim().to_string()),
        original_status: json
            .get("OriginalStatusCode")
            .and_then(|v| v.as_u64())
            .and_then(|v| u16::try_from(v).ok()),
        original_message: text(&["OriginalMessage"]),
    })
}

/// A SageMaker error as one line for the user.
pub fn describe_error(sample: &ErrorSample) -> Option<String> {
    let e = parse_error(sample)?;
    Some(match (&e.original_status, &e.original_message) {
        (_, Some(original)) if e.code == "ModelError" => format!(
            "ModelError: the model container answered {}: {original}",
            e.original_status
                .map_or("an error".to_string(), |s| format!("HTTP {s}"))
        ),
        _ => format!("{}: {}", e.code, e.message),
    })
}

/// The key pair of AWS's published SigV4 examples, for signatures checked against botocore.
#[cfg(test)]
pub fn example_credentials() -> aws_credential_types::Credentials {
    aws_credential_types::Credentials::new(
        "AKIDEXAMPLE",
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        None,
        None,
        "test",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::ErrorKind;
    use aws_credential_types::Credentials;

    #[test]
    fn endpoint_names_follow_sagemaker_rules() {
        assert!(validate_name("endpoint", "my-endpoint-1").is_ok());
        assert!(validate_name("endpoint", "a--b").is_ok());
        assert!(validate_name("endpoint", &"a".repeat(63)).is_ok());
        let msg = |n: &str| validate_name("endpoint", n).unwrap_err().to_string();
        assert!(msg(&"a".repeat(64)).contains("at most 63"));
        assert!(msg("-a").contains("start and end"));
        assert!(msg("a-").contains("start and end"));
        assert!(msg("my_endpoint").contains("letters, digits and hyphens"));
        assert!(msg("").contains("empty"));
        assert_eq!(parse_target("sagemaker://ep-1").unwrap().unwrap(), "ep-1");
        assert!(parse_target("sagemaker://bad.name").unwrap().is_err());
        assert!(parse_target("http://x").is_none());
        assert!(matches!(
            parse_target("sagemaker://a_b"),
            Some(Err(Error::Input(_)))
        ));
    }

    #[test]
    fn base_url_precedence() {
        assert_eq!(
            base_url(None, None, None, "eu-west-1"),
            "https://runtime.sagemaker.eu-west-1.amazonaws.com"
        );
        assert_eq!(
            base_url(None, None, None, "cn-north-1"),
            "https://runtime.sagemaker.cn-north-1.amazonaws.com.cn"
        );
        assert_eq!(
            base_url(None, None, Some("http://127.0.0.1:5000/"), "x"),
            "http://127.0.0.1:5000"
        );
        assert_eq!(
            base_url(None, Some("http://svc"), Some("http://all"), "x"),
            "http://svc"
        );
        assert_eq!(
            base_url(
                Some("http://flag"),
                Some("http://svc"),
                Some("http://all"),
                "x"
            ),
            "http://flag"
        );
        let e = invocation_endpoint("http://127.0.0.1:5000", "ep").unwrap();
        assert_eq!(e.url(), "http://127.0.0.1:5000/endpoints/ep/invocations");
    }

    #[test]
    fn invoke_options_become_headers_within_limits() {
        let o = InvokeOptions {
            target_variant: Some("AllTraffic".into()),
            custom_attributes: Some("trace=1".into()),
            ..Default::default()
        };
        assert_eq!(
            o.headers().unwrap(),
            vec![
                "X-Amzn-SageMaker-Target-Variant: AllTraffic",
                "X-Amzn-SageMaker-Custom-Attributes: trace=1"
            ]
        );
        let long = InvokeOptions {
            custom_attributes: Some("a".repeat(1025)),
            ..Default::default()
        };
        assert!(
            long.headers()
                .unwrap_err()
                .to_string()
                .contains("1 to 1024")
        );
        let bad = InvokeOptions {
            target_variant: Some("a b".into()),
            ..Default::default()
        };
        assert!(bad.headers().is_err());
    }

    /// The expected signature was computed once with botocore 1.43 (`SigV4Auth(creds,
    /// "sagemaker", "us-east-1")` on the same request, frozen at 2015-08-30T12:36:00Z), with
    /// the key pair of AWS's published SigV4 examples.
    #[test]
    fn signature_matches_botocore() {
        let body = Bytes::from_static(b"{\"instances\": [[5.1, 3.5, 1.4, 0.2]]}");
        let payloads = PayloadSet::from_bodies(vec![body.clone()], "application/json");
        let url =
            "https://runtime.sagemaker.us-east-1.amazonaws.com/endpoints/my-endpoint/invocations";
        let creds = example_credentials();
        let signer = Signer::new("us-east-1", url, &payloads, creds.clone().into());
        let mut req = Request::builder()
            .method("POST")
            .uri("/endpoints/my-endpoint/invocations")
            .header("host", "runtime.sagemaker.us-east-1.amazonaws.com")
            .header("content-type", "application/json")
            .header("accept", "application/json")
            .header("x-amzn-sagemaker-target-variant", "AllTraffic")
            .body(Full::new(body))
            .unwrap();
        let time = SystemTime::UNIX_EPOCH + Duration::from_secs(1_440_938_160); // 2015-08-30T12:36:00Z
        signer.sign_at(&mut req, 0, &creds.into(), time).unwrap();
        let auth = req.headers()["authorization"].to_str().unwrap();
        assert_eq!(req.headers()["x-amz-date"], "20150830T123600Z");
        assert_eq!(
            auth,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/sagemaker/aws4_request, \
             SignedHeaders=accept;content-type;host;x-amz-date;x-amzn-sagemaker-target-variant, \
             Signature=233c8f6b613b63b97c34d2ca341d980e8910bf5923d91d63567f77454b04e60f"
        );
    }

    #[test]
    fn debug_output_hides_credentials() {
        let payloads = PayloadSet::from_bodies(vec![Bytes::from_static(b"x")], "text/csv");
        let creds = Credentials::new(
            "AKIDEXAMPLE",
            "super-secret-key",
            Some("session-token".into()),
            None,
            "t",
        );
        let signer = Signer::new(
            "us-east-1",
            "https://h/endpoints/e/invocations",
            &payloads,
            creds.into(),
        );
        let text = format!("{signer:?}");
        assert!(
            !text.contains("super-secret-key") && !text.contains("session-token"),
            "{text}"
        );
    }

    #[test]
    fn errors_are_explained() {
        let sample = |detail: &str, status| ErrorSample {
            kind: ErrorKind::ClientError,
            status: Some(status),
            detail: detail.into(),
        };
        let v = sample(
            r#"ValidationError: {"message":"Endpoint nope of account 1 not found."}"#,
            400,
        );
        assert_eq!(
            describe_error(&v).unwrap(),
            "ValidationError: Endpoint nope of account 1 not found."
        );
        let m = sample(
            r#"ModelError: {"ErrorCode":"CLIENT_ERROR_FROM_MODEL","Message":"Received client error","OriginalMessage":"bad input shape","OriginalStatusCode":400}"#,
            424,
        );
        assert_eq!(
            describe_error(&m).unwrap(),
            "ModelError: the model container answered HTTP 400: bad input shape"
        );
        assert!(describe_error(&sample("not json", 400)).is_none());
        assert_eq!(
            refresh_delay(None, SystemTime::UNIX_EPOCH),
            Duration::from_secs(900)
        );
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1000);
        assert_eq!(
            refresh_delay(Some(now + Duration::from_secs(3600)), now),
            Duration::from_secs(3300)
        );
        assert_eq!(refresh_delay(Some(now), now), Duration::from_secs(10));
    }
}

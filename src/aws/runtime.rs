//! SageMaker runtime (InvokeEndpoint, REFERENCE.md §3): where requests go, the headers it
//! takes and their limits, how each request is signed, and what its error answers mean.

use std::fmt;

use http::Request;

use super::service_url;
use super::sigv4::{Signer, body_hash};
use crate::Error;
use crate::results::ErrorSample;

/// The SigV4 signing name of SageMaker's runtime and control plane.
pub const SIGNING_NAME: &str = "sagemaker";

/// The runtime's base URL: `--endpoint-url`, then AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME, then
/// AWS_ENDPOINT_URL (or a profile's `endpoint_url`, which `configured` carries), then AWS's
/// regional endpoint.
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

/// `BASE/endpoints/NAME/invocations`.
pub fn invocation_url(base: &str, name: &str) -> String {
    format!("{base}/endpoints/{name}/invocations")
}

/// `BASE/endpoints/NAME/invocations-response-stream` (InvokeEndpointWithResponseStream).
pub fn stream_invocation_url(base: &str, name: &str) -> String {
    format!("{base}/endpoints/{name}/invocations-response-stream")
}

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
        let names = [
            ("--target-variant", &self.target_variant),
            (
                "--target-container-hostname",
                &self.target_container_hostname,
            ),
            ("--inference-component", &self.inference_component),
        ];
        for (flag, value) in names {
            if let Some(v) = value {
                validate_name(flag, v)?;
            }
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

/// Signs InvokeEndpoint requests: every request afresh (x-amz-date changes), with each
/// body's hash computed once.
pub struct InvokeSigner {
    signer: Signer,
    url: String,
    body_hashes: Vec<String>,
}

impl fmt::Debug for InvokeSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InvokeSigner")
            .field("signer", &self.signer)
            .field("url", &self.url)
            .field("bodies", &self.body_hashes.len())
            .finish()
    }
}

impl InvokeSigner {
    /// `url` is the full invocation URL; `bodies` the request bodies, sent in turn.
    pub fn new<'a>(signer: Signer, url: &str, bodies: impl IntoIterator<Item = &'a [u8]>) -> Self {
        InvokeSigner {
            signer,
            url: url.to_string(),
            body_hashes: bodies.into_iter().map(body_hash).collect(),
        }
    }

    /// Signs request `i` (its body is body `i` modulo the body count).
    pub fn sign<B>(&self, request: &mut Request<B>, i: usize) -> Result<(), Error> {
        self.signer.sign(request, &self.url, self.hash(i)?)
    }

    /// Signs a request whose body was made for it (synthetic prompts), hashing that body.
    pub fn sign_body<B>(&self, request: &mut Request<B>, body: &[u8]) -> Result<(), Error> {
        self.signer.sign(request, &self.url, &body_hash(body))
    }

    /// Signs request `i` at a given time with given credentials (the signature test uses it).
    pub fn sign_at<B>(
        &self,
        request: &mut Request<B>,
        i: usize,
        identity: &aws_smithy_runtime_api::client::identity::Identity,
        time: std::time::SystemTime,
    ) -> Result<(), Error> {
        self.signer
            .sign_at(request, &self.url, self.hash(i)?, identity, time)
    }

    fn hash(&self, i: usize) -> Result<&str, Error> {
        match self.body_hashes.len() {
            0 => Err(Error::Run(
                "cannot sign the request: no request body".into(),
            )),
            n => Ok(&self.body_hashes[i % n]),
        }
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

/// Reads an error sample the engine kept (`Type: body`, see `endpoint::error_detail`).
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

#[cfg(test)]
mod tests;

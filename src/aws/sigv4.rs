//! AWS Signature Version 4, the one place a request is signed: any service, any method, a
//! body given by its SHA-256 (hashed once by the caller when the same body is sent again).

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use http::Request;
use sha2::{Digest, Sha256};

use super::credentials::LiveCredentials;
use crate::Error;
use crate::error::Cause;

/// The hex SHA-256 of a body, as SigV4 wants it.
pub fn body_hash(body: &[u8]) -> String {
    hex::encode(Sha256::digest(body))
}

/// Signs requests to one service in one region with the current credentials.
#[derive(Clone)]
pub struct Signer {
    service: &'static str,
    region: String,
    credentials: Arc<LiveCredentials>,
}

impl fmt::Debug for Signer {
    // Credentials stay out of every Debug output.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("service", &self.service)
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// `service` is the signing name (`sagemaker` for both SageMaker APIs).
    pub fn new(service: &'static str, region: &str, credentials: Arc<LiveCredentials>) -> Self {
        Signer {
            service,
            region: region.to_string(),
            credentials,
        }
    }

    pub fn region(&self) -> &str {
        &self.region
    }

    /// Signs `request` (its headers, method and `url`) now, with the current credentials.
    pub fn sign<B>(
        &self,
        request: &mut Request<B>,
        url: &str,
        body_hash: &str,
    ) -> Result<(), Error> {
        let identity = self.credentials.current();
        self.sign_at(request, url, body_hash, &identity, SystemTime::now())
    }

    /// Signs at a given time with given credentials (the signature tests use it).
    pub fn sign_at<B>(
        &self,
        request: &mut Request<B>,
        url: &str,
        body_hash: &str,
        identity: &Identity,
        time: SystemTime,
    ) -> Result<(), Error> {
        let fail = |e: Cause| Error::setup("cannot sign the request", e);
        let params = v4::SigningParams::builder()
            .identity(identity)
            .region(&self.region)
            .name(self.service)
            .time(time)
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| fail(e.into()))?
            .into();
        let headers = request
            .headers()
            .iter()
            .filter_map(|(k, v)| Some((k.as_str(), v.to_str().ok()?)));
        let signable = SignableRequest::new(
            request.method().as_str(),
            url,
            headers,
            SignableBody::Precomputed(body_hash.to_string()),
        )
        .map_err(|e| fail(e.into()))?;
        let (instructions, _signature) = sign(signable, &params)
            .map_err(|e| fail(e.into()))?
            .into_parts();
        instructions.apply_to_request_http1x(request);
        Ok(())
    }
}

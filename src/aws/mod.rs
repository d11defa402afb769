//! Everything that talks to AWS, in one place: the configuration chain (region, credentials,
//! endpoint URLs) on one background runtime with SDK retries off, and the services peakrps calls.
//!
//! - `credentials`: the standard credential chain, kept fresh in the background
//! - `sigv4`: one Signature Version 4 signer for any service and body
//! - `runtime`: SageMaker runtime (InvokeEndpoint): URLs, headers, error answers
//! - `eventstream`: InvokeEndpointWithResponseStream's event stream, decoded and encoded
//! - `control`: SageMaker control plane (DescribeEndpoint), one signed awsJson1_1 call
//! - `cloudwatch`: ModelLatency and OverheadLatency for a test's span
//! - `autoscaling`: Application Auto Scaling (register, put, describe a variant's policy)

use std::fmt;
use std::sync::Arc;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_runtime_api::client::result::SdkError;
use aws_types::region::Region;

use crate::Error;

pub mod autoscaling;
pub mod cloudwatch;
pub mod control;
pub mod credentials;
pub mod eventstream;
pub mod runtime;
pub mod sigv4;

/// Where the AWS configuration comes from: `--region` and `--profile` override the chain
/// (AWS_REGION, AWS_PROFILE, ~/.aws/config, SSO, web identity, ECS, IMDS).
#[derive(Clone, Debug, Default)]
pub struct AwsOptions {
    pub region: Option<String>,
    pub profile: Option<String>,
}

/// A loaded AWS configuration and the runtime its clients and credential refreshes run on.
/// The runtime has one worker thread of its own, so background work (credential refresh)
/// goes on while the caller's thread is busy or blocked.
#[derive(Clone)]
pub struct Aws {
    runtime: Arc<tokio::runtime::Runtime>,
    pub config: SdkConfig,
}

impl fmt::Debug for Aws {
    // SdkConfig holds the credentials provider: never print it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Aws")
            .field("region", &self.config.region())
            .finish_non_exhaustive()
    }
}

impl Aws {
    /// Loads the standard chain. Fails (exit 2) when no region can be found.
    pub fn load(options: &AwsOptions) -> Result<Self, Error> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("peakrps-aws")
            .enable_all()
            .build()
            .map_err(|e| Error::setup("cannot start the AWS runtime", e))?;
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            // Measurements and applied settings must be what they say: never retry behind
            // the user's back.
            .retry_config(RetryConfig::disabled());
        if let Some(region) = &options.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some(profile) = &options.profile {
            loader = loader.profile_name(profile);
        }
        let config = runtime.block_on(loader.load());
        if config.region().is_none() {
            return Err(Error::Input(
                "no AWS region: pass --region, set AWS_REGION or give the profile a region".into(),
            ));
        }
        Ok(Aws {
            runtime: Arc::new(runtime),
            config,
        })
    }

    pub fn region(&self) -> String {
        self.config
            .region()
            .map(|r| r.as_ref().to_string())
            .unwrap_or_default()
    }

    /// Runs a future on the AWS runtime and waits for it (never call from inside a runtime).
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// Spawns background work on the AWS runtime.
    pub fn spawn<F>(&self, future: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.runtime.spawn(future);
    }
}

/// A failed AWS call, in one line: `Operation failed: Code: message`, or the transport
/// problem; the SDK's error is kept as the cause.
pub fn sdk_error<E, R>(operation: &'static str, err: SdkError<E, R>) -> Error
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata
        + std::error::Error
        + Send
        + Sync
        + 'static,
    R: fmt::Debug + Send + Sync + 'static,
{
    let message = match &err {
        SdkError::ServiceError(service) => {
            let e = service.err();
            format!(
                "{operation} failed: {}: {}",
                e.code().unwrap_or("UnknownError"),
                e.message().unwrap_or("(no message)")
            )
        }
        other => format!(
            "{operation} failed: {}",
            aws_smithy_types::error::display::DisplayErrorContext(other)
        ),
    };
    Error::Aws {
        operation,
        message,
        source: Box::new(err),
    }
}

/// A service's base URL: the first of `overrides` given (trimmed, without a trailing slash),
/// else AWS's regional endpoint `https://HOST.REGION.amazonaws.com` (`.com.cn` in China).
pub fn service_url(overrides: &[Option<&str>], host: &str, region: &str) -> String {
    let chosen = overrides.iter().flatten().find(|s| !s.trim().is_empty());
    match chosen {
        Some(url) => url.trim().trim_end_matches('/').to_string(),
        None if region.starts_with("cn-") => format!("https://{host}.{region}.amazonaws.com.cn"),
        None => format!("https://{host}.{region}.amazonaws.com"),
    }
}

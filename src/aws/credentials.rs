//! AWS credentials from the standard chain (environment, profile, SSO, web identity, ECS,
//! IMDS): fetched once before the load, then kept fresh by a background task so signing never waits.

use std::fmt;
use std::sync::{Arc, RwLock, Weak};
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::ProvideCredentials;
use aws_smithy_runtime_api::client::identity::Identity;

use super::Aws;
use crate::Error;

/// The credentials signing uses now; a background refresh swaps in new ones.
pub struct LiveCredentials {
    identity: RwLock<Arc<Identity>>,
}

impl fmt::Debug for LiveCredentials {
    // Credentials stay out of every Debug output.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LiveCredentials").finish_non_exhaustive()
    }
}

impl LiveCredentials {
    /// Credentials that are never refreshed (tests, and the start of `load`).
    pub fn fixed(identity: Identity) -> Arc<Self> {
        Arc::new(LiveCredentials {
            identity: RwLock::new(Arc::new(identity)),
        })
    }

    /// The credentials to sign with now.
    pub fn current(&self) -> Arc<Identity> {
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
}

/// Fetches credentials once (failing clearly when there are none), then keeps them fresh from
/// a background task on the AWS runtime: a few minutes before they expire, and every 15
/// minutes for credentials without an expiry. The task ends when the credentials are dropped.
pub fn load(aws: &Aws) -> Result<Arc<LiveCredentials>, Error> {
    let provider = aws.config.credentials_provider().ok_or_else(|| {
        Error::Input(
            "no AWS credentials provider is configured; set AWS_PROFILE or AWS_ACCESS_KEY_ID"
                .into(),
        )
    })?;
    let first = aws
        .block_on(provider.provide_credentials())
        .map_err(|source| Error::Credentials { source })?;
    let credentials = LiveCredentials::fixed(Identity::from(first));
    let weak: Weak<LiveCredentials> = Arc::downgrade(&credentials);
    let mut expiry = credentials.current().expiration();
    aws.spawn(async move {
        loop {
            tokio::time::sleep(refresh_delay(expiry, SystemTime::now())).await;
            let Some(live) = weak.upgrade() else { return };
            match provider.provide_credentials().await {
                Ok(fresh) => {
                    let identity = Identity::from(fresh);
                    expiry = identity.expiration();
                    live.replace(identity);
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
    Ok(credentials)
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

    #[test]
    fn refresh_comes_before_expiry() {
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

    #[test]
    fn debug_output_hides_credentials() {
        let creds = aws_credential_types::Credentials::new(
            "AKIDEXAMPLE",
            "super-secret-key",
            Some("session-token".into()),
            None,
            "t",
        );
        let live = LiveCredentials::fixed(creds.into());
        let text = format!("{live:?}");
        assert!(
            !text.contains("super-secret-key") && !text.contains("session-token"),
            "{text}"
        );
    }
}

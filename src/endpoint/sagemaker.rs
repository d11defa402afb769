//! `sagemaker://ENDPOINT` targets: the endpoint name checked, and turned into the
//! InvokeEndpoint URL the load engine connects to. Signing and the API's rules live in
//! `aws::runtime`; this is the thin adapter between a TARGET and them.

use super::Endpoint;
use crate::Error;
use crate::aws::runtime::{invocation_url, stream_invocation_url, validate_name};

/// What prefixes a SageMaker target.
pub const SCHEME: &str = "sagemaker://";

/// The one-line warning every SageMaker run prints on stderr.
pub const PRODUCTION_WARNING: &str = "warning: this load goes to a real SageMaker endpoint; if it serves production, real users share its capacity and will see the throttling and latency this test causes";

/// The endpoint name in `sagemaker://NAME`, checked; `None` when `raw` is not a SageMaker target.
pub fn parse_target(raw: &str) -> Option<Result<String, Error>> {
    let name = raw.strip_prefix(SCHEME)?;
    let name = name.strip_suffix('/').unwrap_or(name);
    Some(validate_name("SageMaker endpoint name", name).map(|()| name.to_string()))
}

/// `BASE/endpoints/NAME/invocations` (or `…/invocations-response-stream` when `stream`), as
/// an endpoint the load engine can connect to.
pub fn invocation_endpoint(base: &str, name: &str, stream: bool) -> Result<Endpoint, Error> {
    let url = if stream {
        stream_invocation_url(base, name)
    } else {
        invocation_url(base, name)
    };
    Endpoint::parse(&url).map_err(|e| {
        Error::invalid(
            format!("the SageMaker runtime URL {url} is not usable: {e}"),
            e,
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_name_a_valid_endpoint() {
        assert_eq!(parse_target("sagemaker://ep-1").unwrap().unwrap(), "ep-1");
        assert_eq!(parse_target("sagemaker://ep-1/").unwrap().unwrap(), "ep-1");
        assert!(parse_target("sagemaker://bad.name").unwrap().is_err());
        assert!(parse_target("http://x").is_none());
        assert!(matches!(
            parse_target("sagemaker://a_b"),
            Some(Err(Error::Input(_)))
        ));
        let e = invocation_endpoint("http://127.0.0.1:5000", "ep", false).unwrap();
        assert_eq!(e.url(), "http://127.0.0.1:5000/endpoints/ep/invocations");
        let e = invocation_endpoint("http://127.0.0.1:5000", "ep", true).unwrap();
        assert_eq!(
            e.url(),
            "http://127.0.0.1:5000/endpoints/ep/invocations-response-stream"
        );
    }
}

//! A target that rejects every request (each answer a 4xx): a wrong URL, payload or content
//! type, not a load limit. Both `find` and `run` stop after the first answers that show it,
//! and say what the server answered.

use crate::Error;
use crate::aws::runtime::describe_error;
use crate::results::{ErrorKind, ErrorSample};
use crate::stats::Tally;

/// How many answers, all rejected with 4xx, stop a command: enough not to stop on a few
/// stray rejections, few enough that a wrong request costs the server little.
pub const FIRST_ANSWERS: u64 = 20;

/// Every answer in `tally` (at least one) was a 4xx rejection.
pub fn all_rejected(tally: &Tally) -> bool {
    tally.requests() > 0 && tally.errors.get(ErrorKind::ClientError) == tally.requests()
}

/// The error that stops the command: `which` says whose requests were rejected ("every
/// request at the first step"), then what the server answered and what to check.
pub fn rejected_error(which: &str, sample: Option<&ErrorSample>, url: &str) -> Error {
    if let Some(text) = sample.and_then(describe_error) {
        return Error::Run(format!("{which} was rejected: {text}"));
    }
    let status = sample
        .and_then(|e| e.status)
        .map_or("4xx".to_string(), |s| s.to_string());
    let body = sample
        .map(|e| e.detail.trim().replace('\n', " "))
        .unwrap_or_default();
    let hint = if url.ends_with('/') || !url.contains("/invocations") && status == "404" {
        " (SageMaker containers serve POST /invocations)"
    } else {
        ""
    };
    Error::Run(format!(
        "{which} was rejected with HTTP {status}: \"{body}\"; check the URL{hint}, --payload and --content-type"
    ))
}

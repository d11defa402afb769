//! How a response is classified (DESIGN.md "Measuring honestly",
//! REFERENCE.md §3): SageMaker's ThrottlingException arrives as HTTP 400 with an
//! `x-amzn-ErrorType` header and is throttling, not a client error; ModelError (424) is the
//! container failing, so a server error.

use http::{HeaderMap, StatusCode};

use crate::results::ErrorKind;

/// `None` for a success (2xx), otherwise the kind of failure.
pub fn classify_response(status: StatusCode, headers: &HeaderMap) -> Option<ErrorKind> {
    if status.is_success() {
        return None;
    }
    let error_type = aws_error_type(headers).unwrap_or("");
    Some(match (status.as_u16(), error_type) {
        (_, "ThrottlingException") | (429, _) => ErrorKind::Throttled,
        (424, _) | (500..=599, _) => ErrorKind::ServerError,
        (400..=499, _) => ErrorKind::ClientError,
        _ => ErrorKind::Other,
    })
}

/// The AWS error type of a response (`x-amzn-ErrorType`, without its `:namespace` suffix).
fn aws_error_type(headers: &HeaderMap) -> Option<&str> {
    headers
        .get("x-amzn-errortype")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(':').next().unwrap_or(v))
        .filter(|v| !v.is_empty())
}

/// What an error sample keeps of a failed response: the start of its body, prefixed with
/// the AWS error type when there is one (`ValidationError: {"message":…}`), so SageMaker's
/// errors can be explained later (`sagemaker::describe_error`).
pub fn error_detail(headers: &HeaderMap, body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(512)]);
    match aws_error_type(headers) {
        Some(kind) => format!("{kind}: {text}"),
        None => text.into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(status: u16, error_type: Option<&str>) -> Option<ErrorKind> {
        let mut h = HeaderMap::new();
        if let Some(t) = error_type {
            h.insert("x-amzn-ErrorType", t.parse().unwrap());
        }
        classify_response(StatusCode::from_u16(status).unwrap(), &h)
    }

    #[test]
    fn classifies_http_and_sagemaker_errors() {
        assert_eq!(kind(200, None), None);
        assert_eq!(kind(204, None), None);
        assert_eq!(kind(429, None), Some(ErrorKind::Throttled));
        assert_eq!(
            kind(
                400,
                Some("ThrottlingException:http://internal.amazon.com/coral/")
            ),
            Some(ErrorKind::Throttled)
        );
        assert_eq!(
            kind(400, Some("ValidationError")),
            Some(ErrorKind::ClientError)
        );
        assert_eq!(kind(400, None), Some(ErrorKind::ClientError));
        assert_eq!(kind(404, None), Some(ErrorKind::ClientError));
        assert_eq!(kind(424, Some("ModelError")), Some(ErrorKind::ServerError));
        assert_eq!(kind(503, None), Some(ErrorKind::ServerError));
        assert_eq!(kind(530, None), Some(ErrorKind::ServerError));
        assert_eq!(kind(302, None), Some(ErrorKind::Other));
    }
}

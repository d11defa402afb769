use std::time::{Duration, SystemTime};

use super::*;
use crate::aws::credentials::{LiveCredentials, example_credentials};
use crate::results::ErrorKind;

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
    assert_eq!(
        invocation_url("http://127.0.0.1:5000", "ep"),
        "http://127.0.0.1:5000/endpoints/ep/invocations"
    );
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
    let body = b"{\"instances\": [[5.1, 3.5, 1.4, 0.2]]}";
    let url = "https://runtime.sagemaker.us-east-1.amazonaws.com/endpoints/my-endpoint/invocations";
    let creds = example_credentials();
    let signer = Signer::new(
        SIGNING_NAME,
        "us-east-1",
        LiveCredentials::fixed(creds.clone().into()),
    );
    let invoke = InvokeSigner::new(signer, url, [&body[..]]);
    let mut req = Request::builder()
        .method("POST")
        .uri("/endpoints/my-endpoint/invocations")
        .header("host", "runtime.sagemaker.us-east-1.amazonaws.com")
        .header("content-type", "application/json")
        .header("accept", "application/json")
        .header("x-amzn-sagemaker-target-variant", "AllTraffic")
        .body(())
        .unwrap();
    let time = SystemTime::UNIX_EPOCH + Duration::from_secs(1_440_938_160); // 2015-08-30T12:36:00Z
    invoke.sign_at(&mut req, 0, &creds.into(), time).unwrap();
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
fn a_signer_without_a_body_says_so() {
    let signer = Signer::new(
        SIGNING_NAME,
        "us-east-1",
        LiveCredentials::fixed(example_credentials().into()),
    );
    let invoke = InvokeSigner::new(signer, "https://h/endpoints/e/invocations", []);
    let mut req = Request::builder().body(()).unwrap();
    let e = invoke.sign(&mut req, 0).unwrap_err().to_string();
    assert!(e.contains("no request body"), "{e}");
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
}

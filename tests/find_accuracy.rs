//! `peakrps find` against servers of known capacity: W workers each taking S per request
//! serve W/S requests per second; the reported peak must be within 5 % of it. S is 20-25 ms
//! so that the client's own round trip (a fraction of a millisecond on a busy machine) stays
//! small beside it.

mod common;

use std::time::Duration;

use common::{exclusive, find, model_server, url};
use peakrps::server::WhenFull;
use serde_json::Value;

fn peak_rps(doc: &Value) -> f64 {
    doc["peak"]["rps"].as_f64().expect("a peak")
}

fn assert_within(measured: f64, capacity: f64, tolerance: f64) {
    let error = (measured - capacity).abs() / capacity;
    eprintln!(
        "peak {measured:.1} req/s vs capacity {capacity:.1} req/s ({:+.1}%)",
        (measured / capacity - 1.0) * 100.0
    );
    assert!(
        error <= tolerance,
        "peak {measured:.1} req/s is {:.1}% off the capacity {capacity:.1}",
        error * 100.0
    );
}

fn failed_steps(doc: &Value) -> Vec<&Value> {
    let steps = doc["steps"].as_array().expect("steps");
    steps.iter().filter(|s| s["passed"] == false).collect()
}

/// No passing step may have a success ratio under the default --min-success (0.99).
fn assert_passing_steps_succeed(doc: &Value) {
    for step in doc["steps"].as_array().expect("steps") {
        if step["passed"].as_bool() == Some(true) {
            let ratio = step["success_ratio"].as_f64().unwrap_or(0.0);
            assert!(
                ratio >= 0.99,
                "passing step with success ratio {ratio}: {step}"
            );
        }
    }
}

#[test]
fn peak_of_a_queueing_server_is_its_capacity() {
    let _guard = exclusive();
    let server = model_server(4, Duration::from_millis(25), 64, WhenFull::Unavailable);
    let (code, stdout, stderr, doc) = find(&url(&server), &["--max-concurrency", "128"]);
    assert_eq!(code, 0, "{stderr}");
    assert_within(peak_rps(&doc), 160.0, 0.05);
    assert_passing_steps_succeed(&doc);
    // Past 4 users the queue only adds latency: the search must have said so.
    let reason = doc["peak"]["reason"].as_str().unwrap_or("");
    assert!(reason.starts_with("latency rose"), "{reason}");
    assert!(stdout.contains("◀ peak"), "{stdout}");
    let target = doc["recommendation"]["invocations_per_instance"]
        .as_f64()
        .unwrap();
    assert!((target - peak_rps(&doc) * 0.5 * 60.0).abs() < 0.1);
}

#[test]
fn peak_of_a_wider_faster_server_is_its_capacity() {
    let _guard = exclusive();
    let server = model_server(16, Duration::from_millis(25), 256, WhenFull::Unavailable);
    let (code, _, stderr, doc) = find(&url(&server), &["--max-concurrency", "256"]);
    assert_eq!(code, 0, "{stderr}");
    assert_within(peak_rps(&doc), 640.0, 0.05);
    assert_passing_steps_succeed(&doc);
}

#[test]
fn a_server_that_answers_503_past_capacity() {
    let _guard = exclusive();
    // 8 workers and room for 2 waiting requests; any more are refused at once.
    let server = model_server(8, Duration::from_millis(25), 2, WhenFull::Unavailable);
    let (code, _, stderr, doc) = find(&url(&server), &["--max-concurrency", "128"]);
    assert_eq!(code, 0, "{stderr}");
    assert_within(peak_rps(&doc), 320.0, 0.05);
    assert_passing_steps_succeed(&doc);
    let failed = failed_steps(&doc);
    assert!(
        failed
            .iter()
            .any(|s| s["errors"]["server_error"].as_u64() > Some(0)),
        "{failed:?}"
    );
}

#[test]
fn a_server_that_throttles_past_capacity() {
    let _guard = exclusive();
    let server = model_server(8, Duration::from_millis(25), 2, WhenFull::Throttle);
    let (code, _, stderr, doc) = find(&url(&server), &["--max-concurrency", "128"]);
    assert_eq!(code, 0, "{stderr}");
    assert_within(peak_rps(&doc), 320.0, 0.05);
    assert_passing_steps_succeed(&doc);
    let failed = failed_steps(&doc);
    assert!(
        failed.iter().all(|s| s["errors"]["client_error"] == 0),
        "ThrottlingException must count as throttled, not client_error: {failed:?}"
    );
    assert!(
        failed
            .iter()
            .any(|s| s["errors"]["throttled"].as_u64() > Some(0)),
        "{failed:?}"
    );
    // Past capacity plus the queue, throttling is what fails the steps.
    assert!(
        failed.iter().any(|s| s["failure"]
            .as_str()
            .is_some_and(|f| f.contains("success ratio fell"))),
        "{failed:?}"
    );
}

//! `peakrps find` against servers of known capacity: W workers each taking S per request
//! serve W/S requests per second; the reported peak must be within 5 % of it. S is 20-25 ms
//! so that the client's own round trip (a fraction of a millisecond on a busy machine) stays
//! small beside it. At three capacities the guided search (the default) and `--search
//! doubling` both run: the guided one must get there in fewer steps.

mod common;

use std::time::{Duration, Instant};

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

fn steps(doc: &Value) -> usize {
    doc["steps"].as_array().map_or(0, Vec::len)
}

/// `find --search doubling` against the same server as a guided `find` did: both land
/// within 5 % of `capacity`, and the guided one took fewer steps. Prints the steps and the
/// wall time of each (`-- --nocapture`).
fn fewer_steps_than_doubling(
    name: &str,
    url: &str,
    extra: &[&str],
    capacity: f64,
    guided: (&Value, Duration),
) {
    let started = Instant::now();
    let mut args = extra.to_vec();
    args.extend(["--search", "doubling"]);
    let (code, _, stderr, doubling) = find(url, &args);
    let wall = started.elapsed();
    assert_eq!(code, 0, "{stderr}");
    eprintln!(
        "{name}: doubling {} steps in {:.1} s, peak {}; guided {} steps in {:.1} s, peak {} (model: {})",
        steps(&doubling),
        wall.as_secs_f64(),
        peak_rps(&doubling),
        steps(guided.0),
        guided.1.as_secs_f64(),
        peak_rps(guided.0),
        guided.0["model"]["guide"]
    );
    assert_within(peak_rps(&doubling), capacity, 0.05);
    assert!(
        steps(guided.0) < steps(&doubling),
        "{name}: guided {} steps, doubling {}",
        guided.0["steps"],
        doubling["steps"]
    );
}

/// `find URL FAST… extra…` and how long it took; it must succeed.
fn timed_find(url: &str, extra: &[&str]) -> (String, Value, Duration) {
    let started = Instant::now();
    let (code, stdout, stderr, doc) = find(url, extra);
    assert_eq!(code, 0, "{stderr}");
    (stdout, doc, started.elapsed())
}

#[test]
fn peak_of_a_queueing_server_is_its_capacity() {
    let _guard = exclusive();
    let server = model_server(4, Duration::from_millis(25), 64, WhenFull::Unavailable);
    let extra = ["--max-concurrency", "128"];
    let (stdout, doc, wall) = timed_find(&url(&server), &extra);
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
    fewer_steps_than_doubling("4 workers", &url(&server), &extra, 160.0, (&doc, wall));
}

#[test]
fn peak_of_a_wider_faster_server_is_its_capacity() {
    let _guard = exclusive();
    // 16 workers × 50 ms: 320 req/s. (At 25 ms, 640 answers a second on the two cores the
    // client shares with the server cost each request a millisecond or more of scheduling
    // and timer: the server itself, saturated, served 577-627 in three runs.)
    let server = model_server(16, Duration::from_millis(50), 256, WhenFull::Unavailable);
    let extra = ["--max-concurrency", "256"];
    let (_, doc, wall) = timed_find(&url(&server), &extra);
    assert_within(peak_rps(&doc), 320.0, 0.05);
    assert_passing_steps_succeed(&doc);
    fewer_steps_than_doubling("16 workers", &url(&server), &extra, 320.0, (&doc, wall));
}

#[test]
fn a_server_that_answers_503_past_capacity() {
    let _guard = exclusive();
    // 8 workers and room for 2 waiting requests; any more are refused at once.
    let server = model_server(8, Duration::from_millis(25), 2, WhenFull::Unavailable);
    let extra = ["--max-concurrency", "128"];
    let (_, doc, wall) = timed_find(&url(&server), &extra);
    assert_within(peak_rps(&doc), 320.0, 0.05);
    assert_passing_steps_succeed(&doc);
    let failed = failed_steps(&doc);
    assert!(
        failed
            .iter()
            .any(|s| s["errors"]["server_error"].as_u64() > Some(0)),
        "{failed:?}"
    );
    fewer_steps_than_doubling(
        "8 workers, 503 past 2 queued",
        &url(&server),
        &extra,
        320.0,
        (&doc, wall),
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

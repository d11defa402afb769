//! Faults on the far side (resets, stalls, garbage, slow bodies, error statuses) are counted
//! and classified, never hang the run, and the figures add up. Interruption keeps what was
//! measured: SIGINT writes the results and exits 130; after SIGKILL the partial log holds
//! every finished step.

mod common;

use std::time::{Duration, Instant};

use common::{
    FAST, Fault, exclusive, fault_server, model_server, peakrps, run_json, url, with_json,
};
use peakrps::server::WhenFull;
use serde_json::Value;

#[test]
fn every_fault_is_classified_and_the_figures_add_up() {
    let _guard = exclusive();
    let plan = vec![
        Fault::Ok,
        Fault::Reset,
        Fault::Ok,
        Fault::Stall(Duration::from_secs(3)),
        Fault::Ok,
        Fault::Garbage,
        Fault::Status(500),
        Fault::Status(429),
        Fault::Status(404),
        Fault::SlowBody,
    ];
    let addr = fault_server(plan);
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("run.json");
    let started = Instant::now();
    let out = peakrps()
        .args([
            "run",
            &format!("http://{addr}/invocations"),
            "-c",
            "4",
            "-n",
            "200",
        ])
        .args(["--timeout", "500ms", "--quiet", "--json"])
        .arg(&json)
        .output()
        .unwrap();
    let elapsed = started.elapsed();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // 20 stalls and 20 slow bodies, each cut at 0.5 s, over 4 users: about 5 s, not 60 s.
    assert!(elapsed < Duration::from_secs(20), "took {elapsed:?}");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let s = &doc["summary"];
    let e = &s["errors"];
    let count = |k: &str| e[k].as_u64().unwrap();
    assert_eq!(s["requests"], 200, "{s}");
    // Each kind of fault came 20 times (one in every 10 requests).
    assert_eq!(count("connect"), 20, "resets: {e}");
    assert_eq!(count("timeout"), 40, "stalls and slow bodies: {e}");
    assert_eq!(count("other"), 20, "garbage: {e}");
    assert_eq!(count("server_error"), 20, "{e}");
    assert_eq!(count("throttled"), 20, "{e}");
    assert_eq!(count("client_error"), 20, "{e}");
    let successes = (s["success_ratio"].as_f64().unwrap() * 200.0).round() as u64;
    assert_eq!(
        successes, 60,
        "users reconnected after every reset and kept going: {s}"
    );
    let errors: u64 = e
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(successes + errors, 200);
}

/// A request that fails on a reused connection before any byte of its answer (the server
/// closed or reset the connection under it) goes once more on a fresh connection, is
/// counted in `reconnects` and not as an error; on a fresh connection the same failure is
/// the server's (a connect error).
#[test]
fn a_reused_connection_that_fails_unanswered_is_retried_once() {
    let _guard = exclusive();
    // One user: request 1 is answered on connection A; request 2 on A is reset unanswered,
    // goes again on B and is answered; request 3 on B is reset, goes again on C, and so on.
    let addr = fault_server(vec![Fault::Ok, Fault::ResetUnanswered]);
    let doc = run_json(&[&format!("http://{addr}/invocations"), "-c", "1", "-n", "10"]);
    let s = &doc["summary"];
    assert_eq!(s["requests"], 10, "{s}");
    assert_eq!(s["success_ratio"], 1.0, "{s}");
    assert_eq!(s["reconnects"], 9, "{s}");
    assert_eq!(s["connections"], 10, "{s}");
    // Every request unanswered on a fresh connection: the server's failure, not retried.
    let addr = fault_server(vec![Fault::ResetUnanswered]);
    let url = format!("http://{addr}/invocations");
    let out = with_json(&["run", &url, "-c", "1", "-n", "5", "--quiet"]);
    assert_eq!(out.code, 1, "no request succeeded: {}", out.stderr);
    let s = &out.doc["summary"];
    assert_eq!(s["errors"]["connect"], 5, "{s}");
    assert_eq!(s["reconnects"], 0, "{s}");
}

#[test]
fn a_target_that_fails_everything_stops_the_search() {
    let _guard = exclusive();
    // Succeeds for the first 300 requests, then answers 500 to everything.
    let mut plan = vec![Fault::Ok; 300];
    plan.extend(std::iter::repeat_n(Fault::Status(500), 1_000_000));
    let addr = fault_server(plan);
    let target = format!("http://{addr}/invocations");
    let mut args = vec!["find", target.as_str()];
    args.extend_from_slice(FAST);
    let out = common::with_json(&args);
    assert_eq!(out.code, 1);
    assert!(
        out.stdout.contains("the target failed outright"),
        "{}",
        out.stdout
    );
    // The run failed (exit 1), and its document still says what was measured and why.
    let error = out.doc["error"].as_str().unwrap_or_default();
    assert!(error.starts_with("no load level passed"), "{}", out.doc);
    assert!(!out.doc["steps"].as_array().unwrap().is_empty());
}

/// A server that collapses under overload, as one behind a circuit breaker does: it holds
/// each request 20 ms, and while more than `limit` are in flight (or were, within the last
/// 300 ms) it answers every request 503. Its peak is a concurrency of exactly `limit`.
fn collapsing_server(limit: usize) -> std::net::SocketAddr {
    use axum::http::StatusCode;
    use axum::routing::post;
    use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
    use std::sync::{Arc, OnceLock};
    let in_flight = Arc::new(AtomicUsize::new(0));
    // Milliseconds since `start` until which the server stays collapsed.
    let collapsed_until = Arc::new(AtomicU64::new(0));
    let start = Arc::new(OnceLock::<Instant>::new());
    common::serve_in_background(move |listener| async move {
        let app = axum::Router::new().route(
            "/invocations",
            post(move || {
                let (in_flight, collapsed_until, start) = (
                    Arc::clone(&in_flight),
                    Arc::clone(&collapsed_until),
                    Arc::clone(&start),
                );
                async move {
                    let now = || start.get_or_init(Instant::now).elapsed().as_millis() as u64;
                    if in_flight.fetch_add(1, Ordering::SeqCst) + 1 > limit {
                        collapsed_until.fetch_max(now() + 300, Ordering::SeqCst);
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    in_flight.fetch_sub(1, Ordering::SeqCst);
                    if now() < collapsed_until.load(Ordering::SeqCst) {
                        (StatusCode::SERVICE_UNAVAILABLE, "overloaded")
                    } else {
                        (StatusCode::OK, "ok")
                    }
                }
            }),
        );
        let _ = axum::serve(listener, app).await;
    })
}

/// A level where every request fails is a failing step like any other: the search bisects
/// below it instead of ending there. (It used to end at the first such step, reporting
/// concurrency 8 for a server whose peak is 12.)
#[test]
fn a_level_where_everything_fails_is_bisected_below() {
    let _guard = exclusive();
    let addr = collapsing_server(12);
    let target = format!("http://{addr}/invocations");
    let (code, stdout, _, doc) = common::find(&target, &["--precision", "0.05"]);
    assert_eq!(code, 0, "{stdout}");
    let levels: Vec<u64> = doc["steps"]
        .as_array()
        .map(|steps| {
            steps
                .iter()
                .filter_map(|s| s["concurrency"].as_u64())
                .collect()
        })
        .unwrap_or_default();
    assert!(levels.contains(&16), "doubling reached 16: {levels:?}");
    assert_eq!(doc["peak"]["concurrency"], 12, "{levels:?}\n{stdout}");
}

/// A request that cannot be signed is never sent unsigned: it is a `signing` error, and the
/// run says what failed. (An invalid session token makes the canonical request fail.)
#[test]
fn a_request_that_cannot_be_signed_is_a_signing_error_not_sent() {
    let _guard = exclusive();
    let server = model_server(4, Duration::from_millis(1), 4, WhenFull::Unavailable);
    let out = peakrps()
        .args([
            "run",
            "sagemaker://my-endpoint",
            "-c",
            "1",
            "-n",
            "5",
            "--quiet",
        ])
        .env("AWS_ENDPOINT_URL", format!("http://{}", server.addr))
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_SESSION_TOKEN", "bad\u{1}token")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stderr.contains("no request succeeded (5 signing)"),
        "{stderr}"
    );
    assert!(stdout.contains("cannot sign the request"), "{stdout}");
}

fn wait_for_lines(path: &std::path::Path, lines: usize, limit: Duration) -> bool {
    let started = Instant::now();
    while started.elapsed() < limit {
        let n = std::fs::read_to_string(path).map_or(0, |t| t.lines().count());
        if n >= lines {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

fn spawn_find(target: &str, json: &std::path::Path) -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_peakrps"))
        .args([
            "find",
            target,
            "--window",
            "300ms",
            "--warmup",
            "100ms",
            "--step-duration",
            "2s",
        ])
        .args(["--max-concurrency", "4096", "--quiet", "--json"])
        .arg(json)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn sigint_saves_the_finished_steps_and_exits_130() {
    let _guard = exclusive();
    // Wide enough that the search is still climbing when it is interrupted.
    let server = model_server(512, Duration::from_millis(50), 64, WhenFull::Unavailable);
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("find.json");
    let partial = dir.path().join("find.json.partial.jsonl");
    let child = spawn_find(&url(&server), &json);
    assert!(
        wait_for_lines(&partial, 2, Duration::from_secs(30)),
        "two steps finished"
    );
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(doc["interrupted"], true);
    let steps = doc["steps"].as_array().unwrap();
    assert!(steps.len() >= 2, "{doc}");
    assert!(
        steps[..2].iter().all(|s| s.get("partial").is_none()),
        "finished steps are whole"
    );
    let last = steps.last().unwrap();
    assert_eq!(
        last["partial"], true,
        "the interrupted step is marked partial: {last}"
    );
    assert_eq!(last["passed"], false);
    assert!(String::from_utf8_lossy(&out.stdout).contains("Interrupted"));
}

#[test]
fn after_sigkill_the_partial_log_holds_every_finished_step() {
    let _guard = exclusive();
    let server = model_server(512, Duration::from_millis(50), 64, WhenFull::Unavailable);
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("find.json");
    let partial = dir.path().join("find.json.partial.jsonl");
    let mut child = spawn_find(&url(&server), &json);
    assert!(
        wait_for_lines(&partial, 3, Duration::from_secs(30)),
        "three steps finished"
    );
    child.kill().unwrap(); // SIGKILL: no chance to clean up
    let _ = child.wait();
    let text = std::fs::read_to_string(&partial).unwrap();
    let steps: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(steps.len() >= 3);
    let levels: Vec<u64> = steps
        .iter()
        .map(|s| s["concurrency"].as_u64().unwrap())
        .collect();
    assert_eq!(&levels[..3], &[1, 2, 4]);
    assert!(steps.iter().all(|s| s["requests"].as_u64().unwrap() > 0));
    assert!(
        !json.exists(),
        "no complete results file pretends the run finished"
    );
}

/// A long `run` killed with SIGKILL keeps every finished one-second window in
/// `FILE.partial.jsonl`, each with its exact counts.
#[test]
fn after_sigkill_a_runs_partial_log_holds_every_finished_window() {
    let _guard = exclusive();
    let server = model_server(8, Duration::from_millis(5), 64, WhenFull::Unavailable);
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("run.json");
    let partial = dir.path().join("run.json.partial.jsonl");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_peakrps"))
        .args(["run", &url(&server), "--rate", "50", "--duration", "60s"])
        .args(["--warmup", "0s", "--quiet", "--json"])
        .arg(&json)
        .spawn()
        .unwrap();
    let finished = wait_for_lines(&partial, 3, Duration::from_secs(30));
    child.kill().unwrap(); // SIGKILL: no chance to clean up
    let _ = child.wait();
    assert!(finished, "three windows finished");
    let text = std::fs::read_to_string(&partial).unwrap();
    let windows: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(windows.len() >= 3);
    for (i, w) in windows.iter().enumerate() {
        assert_eq!(w["window"], i as u64, "{w}");
        assert_eq!(w["requests"], w["scheduled"], "{w}");
        // 50 req/s over one second; the first window may start a little late.
        let requests = w["requests"].as_u64().unwrap();
        assert!((40..=60).contains(&requests), "{w}");
        assert_eq!(w["success_ratio"], 1.0, "{w}");
    }
    assert!(
        !json.exists(),
        "no complete results file pretends the run finished"
    );
}

/// A server that answers and then closes every connection (gunicorn's sync workers do) is
/// a server that answers: a user opens the next connection at once, without the pause kept
/// for a peer that refuses connections. (That pause used to cost each request 20 ms, so
/// one user could not pass 50 req/s.)
#[test]
fn a_server_closing_after_each_answer_is_not_waited_for() {
    use axum::routing::post;
    let _guard = exclusive();
    let addr = common::serve_in_background(|listener| async move {
        let app = axum::Router::new().route(
            "/invocations",
            post(|| async { ([(axum::http::header::CONNECTION, "close")], "ok") }),
        );
        let _ = axum::serve(listener, app).await;
    });
    let doc = run_json(&[
        &format!("http://{addr}/invocations"),
        "-c",
        "1",
        "-n",
        "100",
    ]);
    let s = &doc["summary"];
    assert_eq!(s["success_ratio"], 1.0, "{s}");
    assert_eq!(s["connections"], 100, "one connection per answer: {s}");
    let rps = s["rps"].as_f64().unwrap_or(0.0);
    assert!(rps > 100.0, "one user waited between answers: {s}");
}

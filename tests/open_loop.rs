//! Open-loop load (`--rate`): the offered rate is held, and latency counts from each
//! request's due time, so a server that stalls cannot hide it (no coordinated omission).

mod common;

use std::time::Duration;

use common::{exclusive, find, freezing_server, model_server, run_json, url};
use peakrps::server::WhenFull;

#[test]
fn a_freezing_server_shows_in_p99_at_a_fixed_rate_but_not_in_p50() {
    let _guard = exclusive();
    // Frozen for 1 s at the start of every 4 s: a quarter of the requests fall due during a
    // freeze and wait up to a second.
    let addr = freezing_server(Duration::from_secs(4), Duration::from_secs(1));
    let target = format!("http://{addr}/invocations");
    let open = run_json(&[&target, "--rate", "200", "--duration", "8s"]);
    let p50 = open["summary"]["latency_ms"]["p50"].as_f64().unwrap();
    let p99 = open["summary"]["latency_ms"]["p99"].as_f64().unwrap();
    eprintln!("open loop: p50 {p50} ms, p99 {p99} ms");
    assert!(
        p99 > 800.0 && p99 < 1100.0,
        "p99 {p99} ms should be close to the 1 s freeze"
    );
    assert!(p50 < 50.0, "p50 {p50} ms should stay small");
    assert_eq!(open["summary"]["dropped"], 0);

    // The same server under a closed loop hides the freeze: its few users simply wait, and
    // only their handful of requests record the stall.
    let closed = run_json(&[&target, "--concurrency", "2", "--duration", "8s"]);
    let closed_p99 = closed["summary"]["latency_ms"]["p99"].as_f64().unwrap();
    eprintln!("closed loop: p99 {closed_p99} ms");
    assert!(
        closed_p99 < p99 / 4.0,
        "closed-loop p99 {closed_p99} ms vs open-loop {p99} ms"
    );
}

#[test]
fn the_offered_rate_is_held() {
    let _guard = exclusive();
    let server = model_server(8, Duration::from_millis(2), 64, WhenFull::Unavailable);
    for arrival in ["constant", "poisson"] {
        let doc = run_json(&[
            &url(&server),
            "--rate",
            "1000",
            "--duration",
            "4s",
            "--arrival",
            arrival,
        ]);
        let s = &doc["summary"];
        let rps = s["rps"].as_f64().unwrap();
        eprintln!("{arrival}: offered 1000 req/s, achieved {rps}");
        let tolerance = if arrival == "constant" { 0.01 } else { 0.04 };
        assert!(
            (rps - 1000.0).abs() <= 1000.0 * tolerance,
            "{arrival}: achieved {rps} req/s"
        );
        assert_eq!(s["dropped"], 0, "{arrival}: {s}");
        assert_eq!(doc["load"]["mode"], "rate");
    }
}

#[test]
fn requests_beyond_max_inflight_are_dropped_not_delayed() {
    let _guard = exclusive();
    // 20 ms per request and at most 2 outstanding: 100 req/s can go out, 400 are due.
    let server = model_server(8, Duration::from_millis(20), 64, WhenFull::Unavailable);
    let doc = run_json(&[
        &url(&server),
        "--rate",
        "400",
        "--duration",
        "2s",
        "--max-inflight",
        "2",
    ]);
    let s = &doc["summary"];
    let sent = s["requests"].as_u64().unwrap();
    let dropped = s["dropped"].as_u64().unwrap();
    assert!(dropped > 400, "{s}");
    assert!(
        sent + dropped >= 790 && sent + dropped <= 801,
        "every due request is sent or dropped: {s}"
    );
    // Those that went out were not queued behind the busy connections.
    assert!(s["latency_ms"]["p99"].as_f64().unwrap() < 60.0, "{s}");
}

#[test]
fn find_in_rate_mode_finds_the_capacity() {
    let _guard = exclusive();
    let server = model_server(8, Duration::from_millis(10), 64, WhenFull::Unavailable);
    let before = server.work_done();
    let (code, _, stderr, doc) = find(
        &url(&server),
        &["--mode", "rate", "--start-rate", "100", "--max-rps", "5000"],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(doc["mode"], "rate");
    let peak = doc["peak"]["rps"].as_f64().unwrap();
    // What the 8 workers really served at, as the server measured it (800 nominal).
    let capacity = server.work_done().since(before).capacity().unwrap();
    eprintln!("rate mode: peak {peak} req/s vs capacity {capacity:.1} (800 nominal)");
    assert!(
        (capacity * 0.85..=capacity * 1.02).contains(&peak),
        "peak {peak}"
    );
    assert!(doc["peak"]["offered_rps"].as_f64().is_some());
    for step in doc["steps"].as_array().unwrap() {
        if step["passed"] == true {
            let offered = step["offered_rps"].as_f64().unwrap();
            assert!(step["rps"].as_f64().unwrap() >= offered * 0.98, "{step}");
            assert_eq!(step["dropped"], 0);
        }
    }
}

#[test]
fn run_profile_follows_the_profile_minute_by_minute() {
    let _guard = exclusive();
    let server = model_server(8, Duration::from_millis(5), 64, WhenFull::Unavailable);
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("profile.csv");
    std::fs::write(&profile, "minute,rps\n0,100\n1,400\n2,250\n3,20\n").unwrap();
    // At 30x a minute lasts 2 s; each keeps its request rate. At 20 req/s the last request
    // is due 50 ms before the minute ends: the rate counts the whole minute, not up to the
    // last answer.
    let doc = run_json(&[
        &url(&server),
        "--profile",
        profile.to_str().unwrap(),
        "--speed",
        "30",
    ]);
    assert_eq!(doc["load"]["mode"], "profile");
    let minutes = doc["minutes"].as_array().unwrap();
    assert_eq!(minutes.len(), 4);
    for (m, offered) in minutes.iter().zip([100.0, 400.0, 250.0, 20.0]) {
        let achieved = m["rps"].as_f64().unwrap();
        eprintln!(
            "minute {}: offered {offered}, achieved {achieved}",
            m["minute"]
        );
        assert_eq!(m["offered_rps"].as_f64().unwrap(), offered);
        // Every request due in the minute counts in it, wherever its answer lands.
        assert_eq!(m["requests"].as_f64().unwrap(), offered * 2.0, "{m}");
        assert_eq!(m["scheduled"], m["requests"], "{m}");
        // Answers per second as they arrive: within 2 %, or one answer of the minute
        // before arriving in this one.
        assert!(
            (achieved - offered).abs() <= (offered * 0.02).max(0.5),
            "minute {}: achieved {achieved} of {offered}",
            m["minute"]
        );
        assert_eq!(m["dropped"], 0, "{m}");
    }
}

/// `requests = successes + errors + cut`, the accounting every summary keeps.
fn accounted(s: &serde_json::Value) -> bool {
    let errors: u64 = s["errors"].as_object().map_or(0, |e| {
        e.values().filter_map(serde_json::Value::as_u64).sum()
    });
    let cut = s["cut"].as_u64().unwrap_or(0);
    let ended = s["requests"].as_u64().unwrap_or(0) - cut;
    let successes = (s["success_ratio"].as_f64().unwrap_or(0.0) * ended as f64).round() as u64;
    s["requests"].as_u64() == Some(successes + errors + cut)
}

/// Requests of 1.5 s, still out when a 1 s run ends, cut by `--drain 200ms`: peakrps cut
/// them, the server timed nothing out, so they count as `cut`, never as timeouts.
#[test]
fn a_request_cut_at_the_drain_counts_as_cut_not_as_a_timeout() {
    let _guard = exclusive();
    let server = model_server(2, Duration::from_millis(1500), 8, WhenFull::Unavailable);
    let target = url(&server);
    let out = common::with_json(&[
        "run",
        &target,
        "--concurrency",
        "2",
        "--duration",
        "1s",
        "--drain",
        "200ms",
        "--quiet",
    ]);
    assert!(
        out.stderr.contains("2 cut at the --drain limit"),
        "{}",
        out.stderr
    );
    let s = &out.doc["summary"];
    assert_eq!(s["errors"]["timeout"], 0, "{s}");
    assert_eq!(s["cut"], 2, "both users' requests were cut: {s}");
    assert!(accounted(s), "{s}");
}

/// A request longer than the old 5 s drain, sent in a run's last moment, is waited for
/// (up to --timeout) by default: every request sent is a whole request.
#[test]
fn every_request_sent_is_waited_for_by_default() {
    let _guard = exclusive();
    let server = model_server(1, Duration::from_millis(5500), 8, WhenFull::Unavailable);
    let doc = run_json(&[&url(&server), "--concurrency", "1", "--duration", "300ms"]);
    let s = &doc["summary"];
    assert_eq!(
        (s["requests"].as_u64(), s["cut"].as_u64()),
        (Some(1), Some(0)),
        "{s}"
    );
    assert_eq!(s["success_ratio"], 1.0, "{s}");
}

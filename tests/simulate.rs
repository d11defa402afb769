//! `peakrps simulate` end to end: a hand-computed timeline through the CLI, `--recommend`
//! picking the boundary factor, the JSON document of DESIGN.md, and one clear line with
//! exit 2 for every bad input.

use std::path::{Path, PathBuf};

use serde_json::Value;

fn peakrps() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("peakrps").unwrap();
    cmd.env("NO_COLOR", "1")
        .timeout(std::time::Duration::from_secs(120));
    cmd
}

fn example(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name)
        .display()
        .to_string()
}

/// Runs `simulate ARGS --json FILE` successfully and returns the document.
fn simulate_json(args: &[&str], dir: &Path, name: &str) -> Value {
    simulate_json_and_text(args, dir, name).0
}

/// `simulate ARGS --json DIR/NAME`: the document and what it printed.
fn simulate_json_and_text(args: &[&str], dir: &Path, name: &str) -> (Value, String) {
    let json: PathBuf = dir.join(name);
    let json_arg = json.display().to_string();
    let out = peakrps()
        .arg("simulate")
        .args(args)
        .args(["--json", &json_arg])
        .assert()
        .success();
    let text = std::fs::read_to_string(&json).unwrap();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    (serde_json::from_str(&text).unwrap(), stdout)
}

/// The terminal timeline's column `index` (0 = the minute) on the rows of single minutes.
fn timeline_column(stdout: &str, index: usize) -> Vec<String> {
    stdout
        .lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>())
        .filter(|cells| cells.len() > index && cells[0].parse::<u32>().is_ok())
        .map(|cells| cells[index].to_string())
        .collect()
}

fn column(doc: &Value, field: &str) -> Vec<u64> {
    doc["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m[field].as_u64().unwrap())
        .collect()
}

/// A traffic CSV of `minutes` minutes: `low` req/s for the first three, then `high`.
/// Returns its path.
fn step_traffic(dir: &std::path::Path, minutes: u32, low: u32, high: u32) -> String {
    let csv = dir.join("traffic.csv");
    let rows: String = (0..minutes)
        .map(|m| format!("{m},{}\n", if m < 3 { low } else { high }))
        .collect();
    std::fs::write(&csv, format!("minute,rps\n{rows}")).unwrap();
    csv.display().to_string()
}

/// The step of the controller's unit test, through the CLI: MAX_RPS 100, factor 1.0 (target
/// 6000/min), 50 req/s for 3 minutes then 250 req/s, metric delay 0, provisioning 2 min.
/// Minutes 3-5 are high → 3 instances desired at the end of minute 5 (ceil(15000 / 6000)),
/// serving from minute 8. Minutes 3-7 are overloaded (250 req/s on one instance).
#[test]
fn a_hand_computed_step_through_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let csv = step_traffic(dir.path(), 12, 50, 250);
    let args = [
        "--max-rps",
        "100",
        "--traffic",
        &csv,
        "--safety-factor",
        "1",
        "--metric-delay",
        "0s",
        "--provisioning",
        "2m",
    ];
    let (doc, stdout) = simulate_json_and_text(&args, dir.path(), "step.json");
    assert_eq!(
        column(&doc, "instances"),
        vec![1, 1, 1, 1, 1, 1, 1, 1, 3, 3, 3, 3]
    );
    // The tracked datapoint per row: 50 × 60, then 250 × 60 on one instance, then on three.
    let per_instance = timeline_column(&stdout, 4);
    assert_eq!(
        per_instance[..4],
        ["3,000", "3,000", "3,000", "15,000"],
        "{stdout}"
    );
    assert_eq!(per_instance[8..], ["5,000"; 4], "{stdout}");
    assert_eq!(
        column(&doc, "desired"),
        vec![1, 1, 1, 1, 1, 3, 3, 3, 3, 3, 3, 3]
    );
    let overloaded: Vec<u64> = doc["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["overloaded"] == true)
        .map(|m| m["minute"].as_u64().unwrap())
        .collect();
    assert_eq!(overloaded, vec![3, 4, 5, 6, 7]);
    assert_eq!(doc["summary"]["overloaded_minutes"], 5);
    assert_eq!(doc["summary"]["requests_at_risk"], 5 * 15000);
    assert_eq!(doc["summary"]["scale_out_events"], 1);
}

/// The document has DESIGN.md's fields, one timeline entry per minute of the profile.
#[test]
fn json_document_has_the_design_fields() {
    let dir = tempfile::tempdir().unwrap();
    let from = example("find-results.json");
    let traffic = example("traffic-rise-fall.toml");
    let doc = simulate_json(
        &[
            "--from",
            &from,
            "--traffic",
            &traffic,
            "--instance-price",
            "1.21",
        ],
        dir.path(),
        "s.json",
    );
    assert_eq!(doc["schema"], "peakrps.simulate/v1");
    let policy = &doc["policy"];
    assert_eq!(policy["metric"], "SageMakerVariantInvocationsPerInstance");
    for field in [
        "target_value",
        "min_capacity",
        "max_capacity",
        "scale_in_cooldown_s",
        "scale_out_cooldown_s",
    ] {
        assert!(policy[field].is_number(), "policy.{field}");
    }
    // The factor defaults to the one in RESULTS (0.5): 314.67 × 0.5 × 60.
    assert_eq!(policy["target_value"], 9440.1);
    let timeline = doc["timeline"].as_array().unwrap();
    assert_eq!(timeline.len(), 180);
    for field in [
        "minute",
        "offered_rps",
        "instances",
        "desired",
        "invocations_per_instance",
        "failed",
    ] {
        assert!(timeline[0][field].is_number(), "timeline[0].{field}");
    }
    assert!(timeline[0]["overloaded"].is_boolean());
    assert!(
        timeline[0]["p99_ms"].is_number(),
        "the latency curve of RESULTS predicts p99"
    );
    let summary = &doc["summary"];
    for field in [
        "max_instances",
        "overloaded_minutes",
        "requests_at_risk",
        "instance_minutes",
        "scale_out_events",
        "scale_in_events",
        "cost",
    ] {
        assert!(summary[field].is_number(), "summary.{field}");
    }
}

/// `--recommend` picks a factor that has no overloaded minute when simulated again on its
/// own, while the next factor up (0.01 more) does overload: the pick is the boundary.
#[test]
fn recommend_picks_the_boundary_factor() {
    let dir = tempfile::tempdir().unwrap();
    let from = example("find-results.json");
    let traffic = example("traffic-rise-fall.toml");
    let base = ["--from", from.as_str(), "--traffic", traffic.as_str()];
    let mut args = base.to_vec();
    args.push("--recommend");
    let doc = simulate_json(&args, dir.path(), "recommend.json");
    let pick = doc["recommendation"]["pick"]["safety_factor"]
        .as_f64()
        .unwrap();
    assert_eq!(doc["capacity"]["safety_factor"].as_f64(), Some(pick));
    assert_eq!(doc["summary"]["overloaded_minutes"], 0);

    let again = format!("{pick:.2}");
    let mut args = base.to_vec();
    args.extend(["--safety-factor", &again]);
    let at_pick = simulate_json(&args, dir.path(), "pick.json");
    assert_eq!(
        at_pick["summary"]["overloaded_minutes"], 0,
        "the pick {again} re-simulated"
    );

    let above = format!("{:.2}", pick + 0.01);
    let mut args = base.to_vec();
    args.extend(["--safety-factor", &above]);
    let over = simulate_json(&args, dir.path(), "above.json");
    assert!(
        over["summary"]["overloaded_minutes"].as_u64().unwrap() > 0,
        "{above} must overload"
    );
}

/// The printed report: the trade-off table, the pick, and the simulation of the pick.
#[test]
fn recommend_prints_the_trade_off_and_the_pick() {
    let from = example("find-results.json");
    let traffic = example("traffic-rise-fall.toml");
    let out = peakrps()
        .args([
            "simulate",
            "--from",
            &from,
            "--traffic",
            &traffic,
            "--recommend",
            "--instance-price",
            "1.21",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for piece in [
        "safety factor",
        "◀ pick",
        "Pick: safety factor",
        "would overload",
        "Simulating the pick",
        "Verdict",
    ] {
        assert!(text.contains(piece), "missing {piece:?} in:\n{text}");
    }
}

/// Each bad input: the arguments, and a piece of the one line it must print on stderr.
#[test]
fn bad_input_gets_one_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    };
    let csv = write("bad.csv", "minute,rps\n0,100\n1,100\n2,lots\n");
    let toml = write(
        "bad.toml",
        "[[stage]]\nduration = \"10m\"\nrps = 5\n\n[[stage]]\nduration = \"ten\"\nrps = 5\n",
    );
    let run = write("run.json", r#"{"schema": "peakrps.run/v1", "summary": {}}"#);
    let no_peak = write("nopeak.json", &no_peak_results());
    let open_loop = write("rate.json", &open_loop_results());
    let good = example("traffic-rise-fall.toml");
    let cases: Vec<(Vec<&str>, String)> = vec![
        (
            vec!["--max-rps", "100", "--traffic", &csv],
            format!("{csv}:4:3: rps 'lots' is not a number"),
        ),
        (
            vec!["--max-rps", "100", "--traffic", &toml],
            format!("{toml}:6:12: stage 2:"),
        ),
        (
            vec!["--from", &run, "--traffic", &good],
            "is a peakrps.run/v1 document; simulate needs peakrps.find/v1".into(),
        ),
        (
            vec!["--from", &no_peak, "--traffic", &good],
            "has no peak".into(),
        ),
        (
            vec![
                "--max-rps",
                "100",
                "--metric",
                "concurrency",
                "--traffic",
                &good,
            ],
            "needs --max-concurrency N too".into(),
        ),
        (
            vec![
                "--max-rps",
                "100",
                "--max-concurrency",
                "8",
                "--metric",
                "invocations",
                "--traffic",
                &good,
            ],
            "--max-concurrency only applies to --metric concurrency".into(),
        ),
        (
            vec![
                "--max-rps",
                "100",
                "--max-concurrency",
                "8",
                "--recommend",
                "--traffic",
                &good,
            ],
            "--recommend searches the invocations target only".into(),
        ),
        (
            vec![
                "--from",
                &open_loop,
                "--metric",
                "concurrency",
                "--traffic",
                &good,
            ],
            "open-loop".into(),
        ),
        (
            vec!["--traffic", &good],
            "--from <RESULTS>|--max-rps <RPS>".into(),
        ),
        (vec!["--max-rps", "100"], "--traffic".into()),
        (
            vec!["--max-rps", "0", "--traffic", &good],
            "must be above 0".into(),
        ),
        (
            vec![
                "--max-rps",
                "100",
                "--traffic",
                &good,
                "--safety-factor",
                "1.2",
            ],
            "outside (0, 1]".into(),
        ),
        (
            vec![
                "--max-rps",
                "100",
                "--traffic",
                &good,
                "--min-capacity",
                "0",
            ],
            "--min-capacity".into(),
        ),
        (
            vec![
                "--max-rps",
                "100",
                "--traffic",
                &good,
                "--min-capacity",
                "4",
                "--max-capacity",
                "2",
            ],
            "--min-capacity 4 is above --max-capacity 2".into(),
        ),
        (
            vec![
                "--max-rps",
                "100",
                "--traffic",
                &good,
                "--metric-delay",
                "60",
            ],
            "has no unit".into(),
        ),
        (
            vec![
                "--max-rps",
                "100",
                "--traffic",
                &good,
                "--instance-price",
                "-1",
            ],
            "negative".into(),
        ),
        (
            vec![
                "--max-rps",
                "100",
                "--traffic",
                &good,
                "--recommend",
                "--safety-factor",
                "0.5",
            ],
            "cannot be used with".into(),
        ),
        (
            vec!["--max-rps", "100", "--traffic", "/no/such/profile.toml"],
            "cannot read it".into(),
        ),
        (
            vec![
                "--max-rps",
                "100",
                "--traffic",
                &good,
                "--json",
                "/no/such/dir/out.json",
            ],
            "does not exist".into(),
        ),
    ];
    for (args, expected) in cases {
        let out = peakrps().arg("simulate").args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.starts_with("error: "), "{args:?}: {stderr}");
        assert!(
            stderr.contains(&expected),
            "{args:?}: expected {expected:?} in {stderr}"
        );
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

/// `--metric concurrency` through the CLI: MAX_RPS 100 with 20 in flight (W = 0.2 s),
/// factor 0.5 (target 10 in flight). 40 req/s is 8 in flight on one instance; 80 req/s is
/// 16, high, and with the default delay of one 10 s datapoint the third high one is seen in
/// the same minute: out to ceil(16 / 10) = 2, serving from the next minute, 8 in flight each.
#[test]
fn concurrency_metric_on_ten_second_datapoints() {
    let dir = tempfile::tempdir().unwrap();
    let csv = step_traffic(dir.path(), 8, 40, 80);
    let args = [
        "--max-rps",
        "100",
        "--max-concurrency",
        "20",
        "--safety-factor",
        "0.5",
        "--provisioning",
        "0s",
        "--traffic",
        &csv,
    ];
    let (doc, stdout) = simulate_json_and_text(&args, dir.path(), "concurrency.json");
    assert_eq!(
        doc["policy"]["metric"],
        "SageMakerVariantConcurrentRequestsPerModelHighResolution"
    );
    assert_eq!(doc["policy"]["target_value"], 10.0);
    assert_eq!(doc["capacity"]["max_concurrency"], 20.0);
    assert_eq!(doc["datapoints"]["period_s"], 10);
    assert_eq!(doc["datapoints"]["metric_delay_s"], 10);
    assert_eq!(column(&doc, "instances"), [1, 1, 1, 1, 2, 2, 2, 2]);
    let events = doc["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(
        (events[0]["minute"].as_u64(), events[0]["to"].as_u64()),
        (Some(3), Some(2))
    );
    let in_flight: Vec<f64> = doc["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["concurrency_per_instance"].as_f64().unwrap())
        .collect();
    assert_eq!((in_flight[0], in_flight[5]), (8.0, 8.0));
    // The terminal timeline shows the tracked metric beside the instances: the minute's
    // mean datapoint, as in the JSON (minute 3 mixes 8 and 16 in flight and scales out).
    assert!(
        stdout.contains("in flight: requests in flight per instance"),
        "{stdout}"
    );
    let shown: Vec<f64> = timeline_column(&stdout, 4)
        .iter()
        .map(|cell| cell.parse().unwrap())
        .collect();
    assert_eq!(shown.len(), in_flight.len(), "{stdout}");
    for (cell, value) in shown.iter().zip(&in_flight) {
        assert!((cell - value).abs() <= 0.05, "{cell} for {value}: {stdout}");
    }
    assert!(shown[3] > 8.0 && shown[4] == 8.0, "{stdout}");

    // A find result in concurrency: the target is its peak's concurrency × its factor, as
    // `policy --metric concurrency` writes it.
    let find = example("find-results.json");
    let good = example("traffic-rise-fall.toml");
    let args = [
        "--from",
        &find,
        "--metric",
        "concurrency",
        "--traffic",
        &good,
    ];
    let doc = simulate_json(&args, dir.path(), "from.json");
    let text = std::fs::read_to_string(&find).unwrap();
    let results: Value = serde_json::from_str(&text).unwrap();
    let expected = results["peak"]["concurrency"].as_f64().unwrap()
        * results["recommendation"]["safety_factor"].as_f64().unwrap();
    assert_eq!(doc["policy"]["target_value"].as_f64(), Some(expected));
    let out = peakrps()
        .arg("simulate")
        .args(args)
        .args(["--csv", &dir.path().join("t.csv").display().to_string()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("Little's law"), "{stdout}");
    assert!(stdout.contains("datapoints every 10 s"), "{stdout}");
    let table = std::fs::read_to_string(dir.path().join("t.csv")).unwrap();
    assert!(
        table.starts_with("minute,")
            && table
                .lines()
                .next()
                .unwrap()
                .ends_with(",concurrency_per_instance")
    );
}

/// The example results with the peak and recommendation removed (a search where no level passed).
fn no_peak_results() -> String {
    let text = std::fs::read_to_string(example("find-results.json")).unwrap();
    let mut doc: Value = serde_json::from_str(&text).unwrap();
    doc["peak"] = Value::Null;
    doc["recommendation"] = Value::Null;
    doc.to_string()
}

/// The example results as if found in open loop: the peak has no concurrency.
fn open_loop_results() -> String {
    let text = std::fs::read_to_string(example("find-results.json")).unwrap();
    let mut doc: Value = serde_json::from_str(&text).unwrap();
    doc["peak"]["concurrency"] = Value::Null;
    doc.to_string()
}

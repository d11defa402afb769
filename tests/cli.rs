//! The command line end to end: `run` counts every request, bad input gets one clear line
//! and exit 2, a run that cannot work gets exit 1 with the reason, results JSON has the
//! fields of DESIGN.md.

mod common;

use std::time::Duration;

use common::{FAST, exclusive, model_server, peakrps, url, with_json};
use peakrps::server::WhenFull;
use serde_json::Value;

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Each bad input: the arguments, and a piece of the one line it must print.
#[test]
fn bad_input_gets_one_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let bad_jsonl = dir.path().join("bad.jsonl");
    std::fs::write(&bad_jsonl, "[1,2,3,4]\n{broken\n").unwrap();
    let empty = dir.path().join("empty.json");
    std::fs::write(&empty, "").unwrap();
    let missing = dir.path().join("missing.json");
    let huge = dir.path().join("huge.csv");
    std::fs::write(&huge, "minute,rps\n0,100\n1,1e30\n").unwrap();
    let huge_toml = dir.path().join("huge.toml");
    std::fs::write(&huge_toml, "[[stage]]\nduration = \"5m\"\nrps = 1e30\n").unwrap();
    let s = |v: &[&str]| v.iter().map(|a| a.to_string()).collect::<Vec<String>>();
    let huge_path = huge.display().to_string();
    let huge_toml_path = huge_toml.display().to_string();
    let mut cases: Vec<(Vec<String>, &str)> = vec![
        // Absurd loads and limits: refused before any connection, the limit named.
        (
            s(&["simulate", "--max-rps", "100", "--traffic", &huge_path]),
            "huge.csv:3:3: rps 1e30 is above the limit of 10,000,000 req/s",
        ),
        (
            s(&["simulate", "--max-rps", "100", "--traffic", &huge_toml_path]),
            "rps 1e30 is above the limit of 10,000,000 req/s",
        ),
        (
            s(&["run", "--profile", &huge_path]),
            "rps 1e30 is above the limit of 10,000,000 req/s",
        ),
        (
            s(&["simulate", "--max-rps", "1e30", "--traffic", &huge_path]),
            "1e30 req/s is above the limit of 10,000,000 req/s",
        ),
        (
            s(&["run", "--rate", "2e7"]),
            "2e7 req/s is above the limit of 10,000,000 req/s",
        ),
        (
            s(&["run", "--duration", "0s"]),
            "'--duration <DURATION>': 0s is no time at all",
        ),
        (
            s(&["run", "--timeout", "0s"]),
            "'--timeout <DURATION>': 0s is no time at all",
        ),
        (
            s(&["find", "--timeout", "0ms"]),
            "'--timeout <DURATION>': 0ms is no time at all",
        ),
        (s(&["find", "--window", "0s"]), "'--window <DURATION>'"),
        (
            s(&["run", "--duration", "400d"]),
            "longer than the limit of 366 days",
        ),
        (
            s(&["run", "-c", "4000000000", "http://127.0.0.1:9/invocations"]),
            "--concurrency 4000000000 needs about 4000000064 open files, above this system's limit of",
        ),
        (
            s(&["find", "--max-concurrency", "4000000000"]),
            "--max-concurrency 4000000000 needs about 8000000064 open files (two a connection",
        ),
        (
            s(&["run", "--rate", "10", "--max-inflight", "4000000000"]),
            "--max-inflight 4000000000 needs about",
        ),
        (s(&["serve", "--workers", "100000"]), "is not in 1..=4096"),
    ];
    cases.extend(vec![
        (
            vec!["find".into(), "localhost:8080/invocations".into()],
            "no scheme",
        ),
        (
            vec!["find".into(), "ftp://host/x".into()],
            "unsupported scheme 'ftp'",
        ),
        (
            vec!["find".into(), "--safety-factor".into(), "0".into()],
            "outside (0, 1]",
        ),
        (
            vec!["find".into(), "--safety-factor".into(), "1.5".into()],
            "outside (0, 1]",
        ),
        (
            vec!["find".into(), "--max-concurrency".into(), "0".into()],
            "--max-concurrency",
        ),
        (
            vec!["run".into(), "--concurrency".into(), "0".into()],
            "--concurrency",
        ),
        (
            vec!["run".into(), "--duration".into(), "ten".into()],
            "not a duration",
        ),
        (
            vec!["run".into(), "--timeout".into(), "30".into()],
            "has no unit",
        ),
        (
            vec!["find".into(), "--percentile".into(), "120".into()],
            "outside (0, 100]",
        ),
        (
            vec!["find".into(), "--min-success".into(), "2".into()],
            "outside [0, 1]",
        ),
        (
            vec!["run".into(), "-H".into(), "NoColonHere".into()],
            "has no ':'",
        ),
        (
            vec![
                "run".into(),
                "--payload".into(),
                missing.display().to_string(),
            ],
            "cannot read it",
        ),
        (
            vec![
                "run".into(),
                "--payload".into(),
                empty.display().to_string(),
            ],
            "is empty",
        ),
        (
            vec![
                "run".into(),
                "--payload".into(),
                bad_jsonl.display().to_string(),
            ],
            "bad.jsonl:2: not valid JSON",
        ),
        (
            vec![
                "find".into(),
                "--start-concurrency".into(),
                "64".into(),
                "--max-concurrency".into(),
                "8".into(),
            ],
            "above --max-concurrency",
        ),
        (vec!["nonsense".into()], "unrecognized subcommand"),
        (
            vec![
                "run".into(),
                "--profile".into(),
                missing.display().to_string(),
            ],
            "missing.json",
        ),
        (
            vec![
                "run".into(),
                "--speed".into(),
                "0".into(),
                "--profile".into(),
                "x.csv".into(),
            ],
            "outside [1, 600]",
        ),
        (vec!["run".into(), "--rate=-5".into()], "not a usable rate"),
        (
            vec!["run".into(), "--provisioning".into(), "2m".into()],
            "--provisioning only applies to run --profile on a sagemaker:// target",
        ),
        (
            vec![
                "find".into(),
                "--mode".into(),
                "rate".into(),
                "--start-rate".into(),
                "500".into(),
                "--max-rps".into(),
                "100".into(),
            ],
            "above --max-rps",
        ),
    ]);
    for (args, expected) in cases {
        let out = peakrps().args(&args).output().unwrap();
        let stderr = stderr_of(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains(expected),
            "{args:?}: expected '{expected}' in: {stderr}"
        );
        let lines: Vec<&str> = stderr
            .lines()
            .filter(|l| !l.starts_with("No TARGET") && !l.trim().is_empty())
            .collect();
        assert_eq!(lines.len(), 1, "{args:?}: one line expected, got: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

#[test]
fn nothing_listening_is_one_clear_error_and_exit_1() {
    // Bind a port, then free it: nothing listens there any more.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = peakrps()
        .args([
            "run",
            &format!("http://127.0.0.1:{port}/invocations"),
            "--quiet",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = stderr_of(&out);
    assert!(stderr.contains("cannot connect to 127.0.0.1"), "{stderr}");
    assert!(stderr.contains("is the server running"), "{stderr}");
}

#[test]
fn a_target_rejecting_every_request_stops_at_once_and_shows_the_body() {
    let _guard = exclusive();
    let server = model_server(2, Duration::ZERO, 8, WhenFull::Unavailable);
    let dir = tempfile::tempdir().unwrap();
    let payload = dir.path().join("three-features.json");
    std::fs::write(&payload, "[1.0, 2.0, 3.0]").unwrap();
    let out = peakrps()
        .args(["find", &url(&server), "--payload"])
        .arg(&payload)
        .args(FAST)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains("every request at the first step was rejected with HTTP 400"),
        "{stderr}"
    );
    assert!(
        stderr.contains("expected 4 features"),
        "the server's answer is shown: {stderr}"
    );
}

#[test]
fn run_counts_every_request_and_writes_the_summary() {
    let _guard = exclusive();
    let server = model_server(4, Duration::from_millis(2), 64, WhenFull::Unavailable);
    let out = with_json(&[
        "run",
        &url(&server),
        "--concurrency",
        "8",
        "--requests",
        "500",
        "--quiet",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let doc = &out.doc;
    assert_eq!(doc["schema"], "peakrps.run/v1");
    let s = &doc["summary"];
    assert_eq!(s["requests"], 500, "{s}");
    let errors: u64 = s["errors"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    let successes = (s["success_ratio"].as_f64().unwrap() * 500.0).round() as u64;
    assert_eq!(successes + errors, 500);
    assert_eq!(doc["load"]["concurrency"], 8);
    for field in ["rps", "latency_ms", "dropped"] {
        assert!(s.get(field).is_some(), "summary lacks {field}: {s}");
    }
    assert!(
        out.stdout.contains("req/s") && out.stdout.contains("500"),
        "{}",
        out.stdout
    );
}

#[test]
fn run_against_an_overloaded_server_classifies_503s() {
    let _guard = exclusive();
    // One worker, no queue: of 8 users, most are refused with 503 at any moment.
    let server = model_server(1, Duration::from_millis(5), 0, WhenFull::Unavailable);
    let out = with_json(&[
        "run",
        &url(&server),
        "-c",
        "8",
        "--duration",
        "1s",
        "--quiet",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let s = &out.doc["summary"];
    assert!(s["errors"]["server_error"].as_u64().unwrap() > 0, "{s}");
    assert!(s["success_ratio"].as_f64().unwrap() < 0.9, "{s}");
    assert!(out.stdout.contains("First error: server_error (HTTP 503)"));
}

#[test]
fn find_json_has_the_fields_of_the_design_and_no_partial_file_is_left() {
    let _guard = exclusive();
    let server = model_server(2, Duration::from_millis(10), 16, WhenFull::Unavailable);
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("find.json");
    let out = peakrps()
        .args([
            "find",
            &url(&server),
            "--max-concurrency",
            "8",
            "--safety-factor",
            "0.6",
            "--json",
        ])
        .arg(&json)
        .args(FAST)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(doc["schema"], "peakrps.find/v1");
    assert_eq!(doc["target"]["kind"], "http");
    assert_eq!(doc["target"]["url"], url(&server));
    assert_eq!(doc["mode"], "concurrency");
    let step = &doc["steps"][0];
    for field in [
        "concurrency",
        "offered_rps",
        "rps",
        "requests",
        "success_ratio",
        "errors",
        "latency_ms",
        "stable",
        "passed",
    ] {
        assert!(step.get(field).is_some(), "step lacks {field}: {step}");
    }
    for field in [
        "throttled",
        "server_error",
        "client_error",
        "timeout",
        "connect",
        "other",
    ] {
        assert!(step["errors"].get(field).is_some(), "errors lack {field}");
    }
    for field in ["p50", "p90", "p99", "max"] {
        assert!(
            step["latency_ms"].get(field).is_some(),
            "latency lacks {field}"
        );
    }
    let peak = &doc["peak"];
    assert!(peak["rps"].as_f64().unwrap() > 150.0, "{peak}");
    assert!(peak["reason"].as_str().is_some());
    let rec = &doc["recommendation"];
    assert_eq!(rec["safety_factor"], 0.6);
    assert_eq!(rec["per_minute"], true);
    let expected = peak["rps"].as_f64().unwrap() * 0.6 * 60.0;
    assert!((rec["invocations_per_instance"].as_f64().unwrap() - expected).abs() < 0.1);
    assert!(!dir.path().join("find.json.partial.jsonl").exists());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(
            "Scaling target: SageMakerVariantInvocationsPerInstance = MAX_RPS × SAFETY_FACTOR × 60"
        ),
        "{stdout}"
    );
}

#[test]
fn bad_input_leaves_no_output_file_behind() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    for target in ["localhost:8080/x", "http://[%]/x", "ftp://host/x"] {
        let out = peakrps()
            .args(["find", target, "--quiet", "--json"])
            .arg(&json)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{target}");
    }
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "files left behind: {left:?}");
}

#[test]
fn every_subcommand_help_says_what_it_does() {
    let expected = [
        ("find", "Step the load up on one instance"),
        ("run", "Apply one fixed load"),
        ("policy", "The Application Auto Scaling documents"),
        ("simulate", "Replay a traffic profile"),
        ("report", "Render a results file again"),
        ("compare", "Compare find results of several instance types"),
        ("serve", "Run the embedded model server"),
        ("completions", "Print the shell completion script"),
        ("man", "Print the man page"),
    ];
    for (command, first_words) in expected {
        let out = peakrps().args([command, "--help"]).output().unwrap();
        assert_eq!(out.status.code(), Some(0));
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(
            help.starts_with(first_words),
            "{command} --help starts: {}",
            help.lines().next().unwrap_or("")
        );
    }
}

/// `--json -`: the document alone on stdout (`peakrps run … --json - | jq` works); the
/// table a person reads goes to stderr.
#[test]
fn json_dash_puts_the_document_alone_on_stdout() {
    let _guard = exclusive();
    let server = model_server(2, Duration::from_millis(2), 16, WhenFull::Unavailable);
    let out = peakrps()
        .args(["run", &url(&server), "-c", "2", "-n", "40", "--json", "-"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).expect("stdout is one JSON document");
    assert_eq!(doc["schema"], "peakrps.run/v1");
    assert_eq!(doc["summary"]["requests"], 40);
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains("req/s"),
        "the table goes to stderr: {stderr}"
    );
    assert!(
        stderr.contains("Results written to standard output"),
        "{stderr}"
    );
    assert!(!std::path::Path::new("-").exists(), "no file named '-'");

    // find with --json - and --csv to a file: stdout is the document only.
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("steps.csv");
    let out = peakrps()
        .args([
            "find",
            &url(&server),
            "--max-concurrency",
            "2",
            "--json",
            "-",
        ])
        .arg("--csv")
        .arg(&csv)
        .args(FAST)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).expect("stdout is one JSON document");
    assert_eq!(doc["schema"], "peakrps.find/v1");
    assert!(
        stderr_of(&out).contains("Scaling target"),
        "the verdict is on stderr"
    );
    assert!(
        std::fs::read_to_string(&csv)
            .unwrap()
            .starts_with("concurrency,")
    );
}

#[test]
fn csv_dash_writes_the_csv_to_stdout_and_two_dashes_are_refused() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/find-results.json");
    let out = peakrps()
        .args(["report", example, "--csv", "-"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let csv = String::from_utf8_lossy(&out.stdout);
    assert!(csv.starts_with("concurrency,"), "{csv}");
    assert!(!csv.contains('┌'), "no table on stdout: {csv}");

    let out = peakrps()
        .args(["run", "--json", "-", "--csv", "-"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = stderr_of(&out);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("--json - and --csv -: only one document can go to standard output"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
}

/// `report -`, `policy --from -` and `simulate --from -` read the document from stdin.
#[test]
fn dash_reads_results_from_stdin() {
    let example = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/find-results.json"
    ))
    .unwrap();
    let traffic = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/traffic-rise-fall.toml"
    );
    let report = peakrps()
        .args(["report", "-"])
        .write_stdin(example.clone())
        .output()
        .unwrap();
    assert_eq!(report.status.code(), Some(0), "{}", stderr_of(&report));
    assert!(String::from_utf8_lossy(&report.stdout).contains("Peak (MAX_RPS): 314.67 req/s"));

    let policy = peakrps()
        .args(["policy", "--from", "-", "--endpoint", "my-endpoint"])
        .write_stdin(example.clone())
        .output()
        .unwrap();
    assert_eq!(policy.status.code(), Some(0), "{}", stderr_of(&policy));
    let doc: Value = serde_json::from_slice(&policy.stdout).unwrap();
    assert_eq!(
        doc["PutScalingPolicy"]["TargetTrackingScalingPolicyConfiguration"]["TargetValue"],
        9440.1
    );

    let simulate = peakrps()
        .args([
            "simulate",
            "--from",
            "-",
            "--traffic",
            traffic,
            "--json",
            "-",
        ])
        .write_stdin(example)
        .output()
        .unwrap();
    assert_eq!(simulate.status.code(), Some(0), "{}", stderr_of(&simulate));
    let doc: Value = serde_json::from_slice(&simulate.stdout).unwrap();
    assert_eq!(doc["schema"], "peakrps.simulate/v1");
    assert_eq!(doc["capacity"]["source"], "-");

    let garbage = peakrps()
        .args(["report", "-"])
        .write_stdin("not json")
        .output()
        .unwrap();
    assert_eq!(garbage.status.code(), Some(2));
    assert!(stderr_of(&garbage).contains("-: not a peakrps results file"));
}

const SUBCOMMANDS: [&str; 9] = [
    "find",
    "run",
    "policy",
    "simulate",
    "report",
    "compare",
    "serve",
    "completions",
    "man",
];

#[test]
fn completions_name_every_subcommand_in_every_shell() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = peakrps().args(["completions", shell]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{shell}: {}", stderr_of(&out));
        let script = String::from_utf8_lossy(&out.stdout);
        for command in SUBCOMMANDS {
            assert!(script.contains(command), "{shell} lacks {command}");
        }
        assert!(
            script.contains("max-concurrency"),
            "{shell} lacks the flags"
        );
    }
    let out = peakrps().args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_of(&out).contains("possible values: bash, elvish, fish, powershell, zsh"));
}

/// The bash script, loaded into a real bash, completes `peakrps si` and `peakrps find --max-c`.
#[test]
fn bash_completes_subcommands_and_flags() {
    if std::process::Command::new("bash")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("bash is not installed: skipping the live completion check");
        return;
    }
    let script = peakrps()
        .args(["completions", "bash"])
        .output()
        .unwrap()
        .stdout;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("peakrps.bash");
    std::fs::write(&path, script).unwrap();
    let complete = |words: &str| {
        let program = format!(
            "source '{}'; COMP_WORDS=({words}); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); \
             _peakrps peakrps \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"; \
             echo \"${{COMPREPLY[@]}}\"",
            path.display()
        );
        let out = std::process::Command::new("bash")
            .args(["--norc", "-c", &program])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    assert_eq!(complete("peakrps si"), "simulate");
    assert_eq!(complete("peakrps find --max-c"), "--max-concurrency");
}

#[test]
fn man_prints_the_pages_or_writes_them_all() {
    let out = peakrps().arg("man").output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let page = String::from_utf8_lossy(&out.stdout);
    assert!(page.contains(".TH peakrps 1"), "{page}");
    for command in SUBCOMMANDS {
        assert!(
            page.contains(&format!("peakrps\\-{command}(1)")),
            "{command}"
        );
    }
    let find = peakrps().args(["man", "find"]).output().unwrap();
    let find = String::from_utf8_lossy(&find.stdout);
    assert!(find.contains(".TH peakrps-find 1"), "{find}");
    assert!(find.contains("\\-\\-max\\-concurrency"), "{find}");

    let dir = tempfile::tempdir().unwrap();
    let out = peakrps()
        .args(["man", "--dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    for name in std::iter::once("peakrps.1".to_string())
        .chain(SUBCOMMANDS.iter().map(|c| format!("peakrps-{c}.1")))
    {
        assert!(dir.path().join(&name).is_file(), "{name} missing");
    }

    let out = peakrps().args(["man", "nope"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stderr_of(&out).lines().count(), 1);
}

/// `--version`: the version and the commit built from (build.rs), as bug reports need.
#[test]
fn version_names_the_commit_it_was_built_from() {
    let out = peakrps().arg("--version").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    let inside = stdout
        .trim()
        .strip_prefix(concat!("peakrps ", env!("CARGO_PKG_VERSION"), " ("))
        .and_then(|rest| rest.strip_suffix(')'))
        .unwrap_or_else(|| panic!("unexpected: {stdout}"));
    let head = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    match head {
        // "ed007e7a1b2c 2026-12-01", or "ed007e7a1b2c-dirty 2026-12-01" with local changes.
        Some(head) => assert!(inside.starts_with(&head), "{inside} is not {head}"),
        None => assert!(!inside.is_empty(), "{stdout}"),
    }
}

/// A JSON body in `body.txt` (or CSV rows in a file without an extension) is sent with the
/// content type its bytes show, said once; `--content-type` still wins. The embedded server
/// refuses other types with HTTP 415, as MLflow does.
#[test]
fn the_body_decides_the_content_type_when_the_extension_does_not() {
    let _guard = exclusive();
    let server = model_server(2, Duration::ZERO, 16, WhenFull::Unavailable);
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("body.txt");
    std::fs::write(&json, peakrps::server::SAMPLE_PAYLOAD).unwrap();
    let rows = dir.path().join("rows");
    std::fs::write(&rows, "5.9,3.0,4.2,1.5\n").unwrap();
    for (file, chosen) in [(&json, "application/json"), (&rows, "text/csv")] {
        let out = peakrps()
            .args(["run", &url(&server), "-n", "20", "--payload"])
            .arg(file)
            .output()
            .unwrap();
        let stderr = stderr_of(&out);
        assert_eq!(out.status.code(), Some(0), "{chosen}: {stderr}");
        let note = format!("sending Content-Type {chosen}, as the body is");
        assert_eq!(stderr.matches(&note).count(), 1, "{stderr}");
    }
    let out = peakrps()
        .args([
            "run",
            &url(&server),
            "-n",
            "5",
            "--content-type",
            "text/plain",
        ])
        .arg("--payload")
        .arg(&json)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(!stderr_of(&out).contains("sending Content-Type"));
    assert!(String::from_utf8_lossy(&out.stdout).contains("(HTTP 415)"));
}

/// A server answering every POST /invocations with `status` and `body`, and the count of
/// requests it saw.
fn rejecting_server(
    status: axum::http::StatusCode,
    body: &'static str,
) -> (
    std::net::SocketAddr,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
) {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&seen);
    let addr = common::serve_in_background(move |listener| async move {
        let app = axum::Router::new().route(
            "/invocations",
            axum::routing::post(move || {
                counter.fetch_add(1, Ordering::SeqCst);
                async move { (status, body) }
            }),
        );
        let _ = axum::serve(listener, app).await;
    });
    (addr, seen)
}

/// A wrong request (here every answer is HTTP 422, as MLflow gives a bad payload) stops
/// `find` after its first 20 answers, not after a whole step of them; `--json FILE` still
/// holds what was measured and the error, and no partial log is left.
#[test]
fn a_wrong_request_costs_the_server_twenty_requests_and_leaves_the_document() {
    let _guard = exclusive();
    let (addr, seen) = rejecting_server(
        axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        "Invalid input. Expected dataframe_split",
    );
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("find.json");
    let started = std::time::Instant::now();
    // The default windows (1 s warm-up, 2 s windows): the stop must not wait for them.
    let out = peakrps()
        .args(["find", &format!("http://{addr}/invocations"), "--json"])
        .arg(&json)
        .output()
        .unwrap();
    let elapsed = started.elapsed();
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    let stderr = stderr_of(&out);
    let last = stderr.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("error: every request at the first step was rejected with HTTP 422")
            && last.contains("Invalid input. Expected dataframe_split"),
        "{stderr}"
    );
    // The connection probe sends no request: the server saw the 20 answers and no more.
    assert_eq!(
        seen.load(std::sync::atomic::Ordering::SeqCst),
        20,
        "{stderr}"
    );
    assert!(elapsed < Duration::from_secs(2), "took {elapsed:?}");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(doc["schema"], "peakrps.find/v1");
    assert!(doc["peak"].is_null());
    assert_eq!(doc["error"].as_str(), last.strip_prefix("error: "));
    let step = &doc["steps"][0];
    assert_eq!(step["requests"], 20);
    assert_eq!(step["errors"]["client_error"], 20);
    assert_eq!(step["first_error"]["status"], 422);
    assert!(!dir.path().join("find.json.partial.jsonl").exists());
}

/// The soft limit on open files is raised to the hard limit at start (as wrk and oha do): 300
/// connections work under a soft limit of 100. Past the hard limit the load is refused before
/// any connection, with the limit named.
#[cfg(unix)]
#[test]
fn open_files_are_raised_to_the_hard_limit_and_refused_past_it() {
    let bin = assert_cmd::cargo::cargo_bin("peakrps");
    let shell = |script: &str, args: &[&str]| {
        std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("{script} && exec \"$0\" \"$@\""))
            .arg(&bin)
            .args(args)
            .env("NO_COLOR", "1")
            .output()
            .unwrap()
    };
    // Port 9 (discard) has no listener: a refusal that connected would say so instead.
    let out = shell(
        "ulimit -n 200",
        &["run", "http://127.0.0.1:9/invocations", "-c", "500"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    assert_eq!(
        stderr_of(&out).trim(),
        "error: --concurrency 500 needs about 564 open files, above this system's limit of 200 \
         (ulimit -Hn); use at most 136, or raise the hard limit"
    );

    let hard = std::process::Command::new("sh")
        .args(["-c", "ulimit -Hn"])
        .output()
        .unwrap();
    let hard = String::from_utf8_lossy(&hard.stdout).trim().to_string();
    if hard.parse::<u64>().is_ok_and(|h| h < 1000) {
        eprintln!("hard limit {hard}: skipping the raise check");
        return;
    }
    let _guard = exclusive();
    let server = model_server(4, Duration::ZERO, 512, WhenFull::Unavailable);
    let out = shell(
        "ulimit -Sn 100",
        &[
            "run",
            &url(&server),
            "-c",
            "300",
            "-n",
            "600",
            "--quiet",
            "--json",
            "-",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["summary"]["requests"], 600);
    assert_eq!(doc["summary"]["success_ratio"], 1.0, "{}", doc["summary"]);
}

/// `peakrps serve` on a port the OS picks: 30 requests through `run`, then Ctrl-C, and the
/// server says what it measured itself: 30 requests, each holding a worker at least the
/// 20 ms asked, so its 2 workers serve at most 100 req/s.
#[test]
fn serve_reports_its_own_count_when_stopped() {
    use std::io::{BufRead, BufReader, Read};
    let _guard = exclusive();
    let binary = assert_cmd::cargo::cargo_bin("peakrps");
    let mut server = std::process::Command::new(&binary)
        .args([
            "serve",
            "--port",
            "0",
            "--workers",
            "2",
            "--service-time",
            "20ms",
        ])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("serve starts");
    let mut stderr = BufReader::new(server.stderr.take().expect("stderr"));
    let mut first = String::new();
    stderr.read_line(&mut first).expect("the listening line");
    let addr = first
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no address in {first:?}"));
    let target = format!("http://{addr}/invocations");
    let doc = common::run_json(&[&target, "-c", "2", "--requests", "30"]);
    assert_eq!(doc["summary"]["requests"], 30, "{doc}");
    std::process::Command::new("kill")
        .args(["-INT", &server.id().to_string()])
        .status()
        .expect("kill runs");
    let mut rest = String::new();
    stderr
        .read_to_string(&mut rest)
        .expect("the rest of stderr");
    assert!(server.wait().expect("serve exits").success(), "{rest}");
    let count = rest
        .lines()
        .find_map(|l| l.strip_prefix("The server's own count: "))
        .unwrap_or_else(|| panic!("no count in {rest}"));
    assert!(count.starts_with("30 requests held a worker 2"), "{count}");
    let capacity: f64 = count
        .rsplit("at most ")
        .next()
        .and_then(|c| c.trim_end_matches(" req/s.").parse().ok())
        .unwrap_or_else(|| panic!("no capacity in {count}"));
    assert!((80.0..=100.0).contains(&capacity), "{count}");
}

/// The flags of `find -h` or `run -h`, each with the heading it is listed under, in order.
fn flags_by_heading(command: &str) -> Vec<(String, String)> {
    let out = peakrps()
        .args([command, "-h"])
        .env("COLUMNS", "200")
        .output()
        .unwrap();
    let mut heading = String::new();
    let mut flags = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        if !line.starts_with(' ') && line.ends_with(':') {
            heading = line.trim_end_matches(':').to_string();
        } else if let Some(flag) = line
            .strip_prefix("  ")
            .filter(|l| l.trim_start().starts_with('-') && l.len() - l.trim_start().len() <= 4)
            .and_then(|l| l.split_whitespace().find(|w| w.starts_with("--")))
        {
            flags.push((flag.to_string(), heading.clone()));
        }
    }
    flags
}

/// The load and search flags come first, under "Options", not under the heading of a
/// flattened group before them (they were filed under "Shards"); each group has its own.
#[test]
fn help_files_every_flag_under_its_heading_and_the_core_ones_first() {
    for (command, core) in [
        (
            "find",
            &[
                "--mode",
                "--window",
                "--max-latency",
                "--safety-factor",
                "--search",
            ][..],
        ),
        (
            "run",
            &[
                "--concurrency",
                "--rate",
                "--duration",
                "--requests",
                "--profile",
            ][..],
        ),
    ] {
        let flags = flags_by_heading(command);
        let heading_of = |flag: &str| {
            flags
                .iter()
                .find(|(f, _)| f.trim_end_matches(',') == flag)
                .map(|(_, h)| h.as_str())
                .unwrap_or_else(|| panic!("{command} -h lists no {flag}: {flags:?}"))
        };
        for flag in core {
            assert_eq!(heading_of(flag), "Options", "{command} {flag}");
        }
        assert_eq!(flags[0].1, "Options", "{command}: {flags:?}");
        let shards: Vec<&str> = flags
            .iter()
            .filter(|(_, h)| h.starts_with("Shards"))
            .map(|(f, _)| f.as_str())
            .collect();
        assert_eq!(
            shards,
            [
                "--shard",
                "--shards",
                "--run-id",
                "--start-at",
                "--start-base"
            ],
            "{command}"
        );
        for (flag, heading) in [
            ("--payload", "Requests"),
            ("--timeout", "Requests"),
            ("--json", "Output"),
            ("--quiet", "Output"),
            ("--ca-cert", "TLS (https:// targets)"),
            ("--region", "SageMaker (sagemaker:// targets)"),
            ("--stream", "LLM endpoints (--stream)"),
        ] {
            assert_eq!(heading_of(flag), heading, "{command} {flag}");
        }
    }
}

/// Runs peakrps with `args` and returns its one line of stderr, checking exit code 2.
fn one_usage_line(args: &[&str]) -> String {
    let out = peakrps().args(args).output().unwrap();
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{args:?}: one line expected, got: {stderr}");
    stderr
}

#[test]
fn typos_get_a_suggestion_and_negative_numbers_reach_their_flag() {
    for (args, expected) in [
        (
            &["run", "--concurency", "4"][..],
            "tip: a similar argument exists: '--concurrency'",
        ),
        (&["fnd"][..], "tip: a similar subcommand exists: 'find'"),
        (
            &["run", "--rate", "-10"][..],
            "invalid value '-10' for '--rate <REQ/S>': -10 is not a usable rate",
        ),
        (
            &["run", "-c", "-5"][..],
            "invalid value '-5' for '--concurrency <N>'",
        ),
        (
            &["find", "--safety-factor", "-0.5"][..],
            "invalid value '-0.5' for '--safety-factor <FACTOR>'",
        ),
        (
            &["simulate", "--scale-in-cooldown", "-5s"][..],
            "'-5s' for '--scale-in-cooldown <DURATION>': -5s is negative",
        ),
        (
            &["run", "--duration", "--quiet"][..],
            "'--quiet' is not a duration",
        ),
    ] {
        let line = one_usage_line(args);
        assert!(
            line.contains(expected),
            "{args:?}: expected '{expected}' in: {line}"
        );
    }
}

/// A step needs three windows to judge stability: a --step-duration shorter than that was
/// silently stretched (three 10 s windows for a 2 s step); now it is refused at once.
#[test]
fn a_step_shorter_than_three_windows_is_refused_naming_both_flags() {
    let started = std::time::Instant::now();
    let line = one_usage_line(&["find", "--window", "10s", "--step-duration", "2s"]);
    assert!(
        line.contains("--step-duration 2s is shorter than the three --window 10s windows")
            && line.contains("--step-duration 30s or more"),
        "{line}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

/// https:// against a port that speaks plain HTTP: said so, with http:// suggested, instead
/// of rustls' "received corrupt message of type InvalidContentType".
#[test]
fn https_to_a_plain_http_port_suggests_http() {
    let _guard = exclusive();
    let server = model_server(1, Duration::ZERO, 8, WhenFull::Unavailable);
    let out = peakrps()
        .args([
            "run",
            &format!("https://{}/invocations", server.addr),
            "-n",
            "1",
        ])
        .output()
        .unwrap();
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("the server answered in plain HTTP, not TLS")
            && stderr.contains(&format!("use http://{}/", server.addr)),
        "{stderr}"
    );
    assert!(!stderr.contains("InvalidContentType"), "{stderr}");
}

/// `run` against a target that rejects every request (HTTP 415) stops after the first
/// window instead of sending the whole --duration of them, and says what the server said.
#[test]
fn run_stops_when_every_answer_is_a_rejection() {
    let _guard = exclusive();
    let (addr, seen) = rejecting_server(
        axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported content type",
    );
    let started = std::time::Instant::now();
    let out = peakrps()
        .args(["run", &format!("http://{addr}/invocations"), "-d", "20s"])
        .output()
        .unwrap();
    let elapsed = started.elapsed();
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let last = stderr.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("error: every one of the first ")
            && last.contains("was rejected with HTTP 415: \"unsupported content type\""),
        "{stderr}"
    );
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
    assert!(seen.load(std::sync::atomic::Ordering::SeqCst) >= 20);
}

/// A `.json` payload is checked before any request, as each line of a `.jsonl` one is.
#[test]
fn a_malformed_json_payload_is_refused_before_any_request() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("garbage.json");
    std::fs::write(&bad, "{\"inputs\": [[5.1, 3.5,]]}\n").unwrap();
    let path = bad.display().to_string();
    // Port 9: nothing is sent, so nothing needs to listen.
    let line = one_usage_line(&["run", "http://127.0.0.1:9/invocations", "--payload", &path]);
    assert!(
        line.contains(&format!("--payload {path}:1:")) && line.contains("not valid JSON"),
        "{line}"
    );
}

/// A common start long past reads in days, not as 218856323.2 s.
#[test]
fn a_start_long_past_reads_in_days() {
    let out = peakrps()
        .args([
            "run",
            "http://127.0.0.1:9/invocations",
            "--shard",
            "0/2",
            "--start-at",
            "2019-01-01T00:00:00Z",
        ])
        .output()
        .unwrap();
    let stderr = stderr_of(&out);
    assert_ne!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("passed ") && stderr.contains(" days ") && stderr.contains(" h ago"),
        "{stderr}"
    );
}

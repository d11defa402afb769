//! `peakrps report RESULTS` end to end: a results file prints its table again, --html and
//! --csv write files (a profile run's minutes and instance counts too), and a wrong or broken
//! file is one error line with exit code 2.

mod fixtures;

use std::path::Path;
use std::process::{Command, Output};

use fixtures::{
    find_fixture, run_fixture, run_profile_fixture, simulate_fixture_json, stream_find_fixture,
};

fn peakrps(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_peakrps"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("the peakrps binary runs")
}

/// peakrps with COLUMNS set (`Some`) or removed (`None`), stdout a pipe either way.
fn peakrps_columns(args: &[&str], dir: &Path, columns: Option<&str>) -> String {
    let mut command = Command::new(env!("CARGO_BIN_EXE_peakrps"));
    command.args(args).current_dir(dir).env("NO_COLOR", "1");
    match columns {
        Some(c) => command.env("COLUMNS", c),
        None => command.env_remove("COLUMNS"),
    };
    let out = command.output().expect("the peakrps binary runs");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The widest line of the tables (the lines drawn with box characters), in characters.
fn table_width(text: &str) -> usize {
    text.lines()
        .filter(|l| l.starts_with('┌') || l.starts_with('│') || l.starts_with('└'))
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(0)
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).expect("write fixture");
}

#[test]
fn report_prints_the_table_and_verdict_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let results = find_fixture();
    peakrps::results::write_json(&dir.path().join("find.json"), &results).expect("json");
    let out = peakrps(&["report", "find.json"], dir.path());
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let expected = format!(
        "{}\n{}",
        peakrps::report::find_table(&results, false),
        peakrps::report::find_verdict(&results)
    );
    assert_eq!(stdout, expected);
}

#[test]
fn report_writes_html_and_csv_for_each_kind() {
    let dir = tempfile::tempdir().expect("tempdir");
    peakrps::results::write_json(&dir.path().join("find.json"), &find_fixture()).expect("json");
    peakrps::results::write_json(&dir.path().join("run.json"), &run_fixture()).expect("json");
    write(dir.path(), "sim.json", &simulate_fixture_json());
    for name in ["find", "run", "sim"] {
        let json = format!("{name}.json");
        let (html, csv) = (format!("{name}.html"), format!("{name}.csv"));
        let out = peakrps(
            &["report", &json, "--html", &html, "--csv", &csv],
            dir.path(),
        );
        assert!(out.status.success(), "{name}: {out:?}");
        let page = std::fs::read_to_string(dir.path().join(&html)).expect("html written");
        assert!(
            page.starts_with("<!DOCTYPE html>") && page.contains("<svg class=\"chart\""),
            "{name}"
        );
        let table = std::fs::read_to_string(dir.path().join(&csv)).expect("csv written");
        assert!(table.lines().count() >= 2, "{name}: {table}");
    }
    let out = peakrps(&["report", "sim.json"], dir.path());
    assert!(String::from_utf8_lossy(&out.stdout).contains("overloaded minutes"));
}

#[test]
fn bad_results_files_give_one_line_and_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "garbage.json", "this is not json");
    write(
        dir.path(),
        "other.json",
        r#"{"schema": "peakrps.find/v9", "steps": []}"#,
    );
    write(
        dir.path(),
        "broken.json",
        r#"{"schema": "peakrps.find/v1", "steps": "many"}"#,
    );
    let cases = [
        ("missing.json", "cannot read missing.json"),
        ("garbage.json", "invalid JSON"),
        (
            "other.json",
            "schema \"peakrps.find/v9\" is not one this peakrps",
        ),
        ("broken.json", "not a valid peakrps.find/v1 document"),
    ];
    for (file, expected) in cases {
        let out = peakrps(&["report", file, "--html", "out.html"], dir.path());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{file}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{file}: {stderr}");
        assert!(
            stderr.starts_with("error: ") && stderr.contains(expected),
            "{file}: {stderr}"
        );
        assert!(!dir.path().join("out.html").exists());
    }
}

#[test]
fn a_report_file_that_cannot_be_written_is_refused_before_any_load() {
    let dir = tempfile::tempdir().expect("tempdir");
    for args in [
        &["run", "--html", "no-such-folder/r.html"][..],
        &["find", "--csv", "."][..],
        &["report", "whatever.json", "--html", "no-such-folder/r.html"][..],
    ] {
        let out = peakrps(args, dir.path());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains("does not exist") || stderr.contains("is a folder"),
            "{stderr}"
        );
        assert!(out.stdout.is_empty(), "no load was sent: {args:?}");
    }
}

#[test]
fn a_find_without_a_peak_still_renders() {
    let mut results = find_fixture();
    results.peak = None;
    results.recommendation = None;
    for step in &mut results.steps {
        step.passed = false;
    }
    let html = peakrps::report::find_html(&results);
    assert!(html.contains("No load level passed"));
    assert!(
        !html.contains("class=\"mark highlight\""),
        "no peak to mark"
    );
    let verdict = peakrps::report::find_verdict(&results);
    assert!(verdict.starts_with("No load level passed"));
    let csv = peakrps::report::find_csv(&results).expect("csv");
    assert!(
        csv.lines().skip(1).all(|l| l.contains(",false,false,")),
        "{csv}"
    );
}

#[test]
fn simulate_recommend_html_carries_the_trade_off_with_the_pick_marked() {
    let dir = tempfile::tempdir().unwrap();
    let root = env!("CARGO_MANIFEST_DIR");
    let results = format!("{root}/examples/find-results.json");
    let traffic = format!("{root}/examples/traffic-rise-fall.toml");
    let out = peakrps(
        &[
            "simulate",
            "--from",
            &results,
            "--traffic",
            &traffic,
            "--recommend",
            "--html",
            "sim.html",
        ],
        dir.path(),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let html = std::fs::read_to_string(dir.path().join("sim.html")).unwrap();
    assert!(
        html.contains("Safety factor trade-off"),
        "no trade-off section"
    );
    assert_eq!(html.matches("◀ pick").count(), 1);
    assert!(
        html.contains("<tr class=\"peak\"><td>0.49</td>"),
        "the pick row is marked"
    );
}

/// The `<svg>` of chart `id` in a page.
fn chart<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html
        .find(&format!("data-chart=\"{id}\""))
        .unwrap_or_else(|| panic!("no chart {id}"));
    let end = html[start..].find("</svg>").expect("</svg>") + start;
    &html[start..end]
}

#[test]
fn report_renders_a_profile_run_again_with_its_minutes_and_instances() {
    let dir = tempfile::tempdir().expect("tempdir");
    let results = run_profile_fixture();
    peakrps::results::write_json(&dir.path().join("run.json"), &results).expect("json");
    let out = peakrps(
        &[
            "report", "run.json", "--html", "run.html", "--csv", "run.csv",
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{out:?}");
    let terminal = peakrps(&["report", "run.json"], dir.path());
    let stdout = String::from_utf8_lossy(&terminal.stdout);
    assert!(
        stdout.contains("predicted")
            && stdout.matches("◀ differs").count() == 2
            && stdout.contains("they differ in 2 of the 11 minutes where both are known."),
        "the terminal shows the minutes and the comparison again: {stdout}"
    );
    let csv = std::fs::read_to_string(dir.path().join("run.csv")).expect("csv written");
    assert_eq!(
        csv,
        peakrps::report::run_csv(&results).expect("csv"),
        "the JSON round trip keeps every minute"
    );
    assert_eq!(csv.lines().count(), 1 + 12);
    let html = std::fs::read_to_string(dir.path().join("run.html")).expect("html written");
    assert_eq!(html, peakrps::report::run_html(&results));
    for id in [
        "profile-traffic",
        "profile-latency",
        "profile-instances",
        "run-latency",
    ] {
        chart(&html, id);
    }
    let instances = chart(&html, "profile-instances");
    assert!(
        instances.contains("data-series=\"endpoint (CurrentInstanceCount)\"")
            && instances.contains("data-series=\"simulator (predicted)\""),
        "both series, named in the legend"
    );
    assert_eq!(
        instances
            .matches("<g class=\"mark point\" fill=\"#fff\"")
            .count(),
        2,
        "the two differing minutes are hollow"
    );
    assert_eq!(
        instances.matches("class=\"mark point\"").count(),
        11 + 12,
        "no marker for the unread minute"
    );
    assert!(instances.contains("max capacity 10") && instances.contains("min capacity 1"));
    assert_eq!(html.matches("<tr class=\"differs\">").count(), 2);
    assert_eq!(html.matches("◀ differs").count(), 2);
    assert!(html.contains("they differ in 2 of the 11 minutes where both are known."));
    assert!(html.contains("Note: DescribeEndpoint failed for minute 9"));
    assert!(html.contains(
        "Live target value</dt><dd>600 invocations per instance per minute (10.0 req/s)"
    ));
    assert!(html.contains("profile traffic.csv, 12 minutes at speed 6×"));
    assert!(
        html.contains("<title>peakrps run: sagemaker://peakrps-demo</title>"),
        "a SageMaker run is titled by its endpoint, not the runtime URL"
    );
}

#[test]
fn a_profile_run_without_instance_counts_has_no_instance_chart() {
    let mut results = run_profile_fixture();
    results.scaling = None;
    for m in &mut results.minutes {
        (m.instances, m.predicted_instances) = (None, None);
    }
    let html = peakrps::report::run_html(&results);
    chart(&html, "profile-traffic");
    chart(&html, "profile-latency");
    assert!(!html.contains("profile-instances") && !html.contains("id=\"scaling\""));
    assert!(
        !html.contains(">predicted<"),
        "no instance columns in the minute table"
    );
    assert_eq!(
        html.matches("<tr class=").count(),
        1 + 12,
        "summary row and 12 minutes"
    );
    let fixed = peakrps::report::run_html(&run_fixture());
    assert!(!fixed.contains("profile-") && !fixed.contains("id=\"minutes\""));
}

/// Three find results as three instance types: one priced when it was measured
/// (`find --instance-price`), two by `--price`.
fn three_candidates(dir: &Path) {
    let candidates = [
        ("ml.c5.xlarge", 150.0, Some(0.204)),
        ("ml.g4dn.xlarge", 600.0, None),
        ("ml.g5.xlarge", 1000.0, None),
    ];
    for (name, max_rps, price) in candidates {
        let mut r = find_fixture();
        if let Some(peak) = r.peak.as_mut() {
            peak.rps = max_rps;
        }
        r.recommendation = peakrps::results::Recommendation::new(max_rps, 0.5).ok();
        r.instance = price
            .map(|p| peakrps::results::InstanceInfo {
                type_name: Some(name.into()),
                price_per_hour: Some(p),
            })
            .map(Box::new);
        peakrps::results::write_json(&dir.join(format!("{name}.json")), &r).expect("json");
    }
}

/// `compare` of the three candidates with their prices, and `more`.
fn compare_args<'a>(more: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "compare",
        "ml.c5.xlarge.json",
        "ml.g4dn.xlarge.json",
        "ml.g5.xlarge.json",
    ];
    args.extend(PRICES);
    args.extend(more);
    args
}

const PRICES: [&str; 4] = [
    "--price",
    "ml.g4dn.xlarge=0.736",
    "--price",
    "ml.g5.xlarge=1.408",
];

/// At 310 req/s the c5 (75 req/s an instance) needs 5 for $1.02 an hour, the g4dn 2 for
/// $1.47, the g5 one for $1.41: the c5 is cheapest, though per million requests the g4dn is
/// ($0.681 against $0.756 and $0.782).
#[test]
fn compare_picks_the_cheapest_of_three_results() {
    let dir = tempfile::tempdir().expect("tempdir");
    three_candidates(dir.path());
    let files = [
        "ml.c5.xlarge.json",
        "ml.g4dn.xlarge.json",
        "ml.g5.xlarge.json",
    ];
    let mut args = vec!["compare"];
    args.extend(files);
    args.extend(PRICES);
    let per_million = peakrps(&args, dir.path());
    assert!(per_million.status.success(), "{per_million:?}");
    let text = String::from_utf8_lossy(&per_million.stdout);
    assert!(
        text.contains("Cheapest: ml.g4dn.xlarge at $0.681 per million"),
        "{text}"
    );
    args.extend([
        "--traffic",
        "310",
        "--json",
        "c.json",
        "--csv",
        "c.csv",
        "--html",
        "c.html",
    ]);
    let out = peakrps(&args, dir.path());
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    let marked: Vec<&str> = text.lines().filter(|l| l.contains("◀ cheapest")).collect();
    assert!(
        marked.len() == 1 && marked[0].contains("ml.c5.xlarge"),
        "{text}"
    );
    assert!(
        text.contains("Cheapest: ml.c5.xlarge: 5 instances carry 310.0 req/s for $1.02 an hour"),
        "{text}"
    );
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("c.json")).expect("json"))
            .expect("JSON");
    assert_eq!(doc["schema"], "peakrps.compare/v1");
    assert_eq!(doc["cheapest"], "ml.c5.xlarge");
    let instances: Vec<u64> = (0..3)
        .map(|i| doc["candidates"][i]["instances"].as_u64().unwrap_or(0))
        .collect();
    assert_eq!(instances, [5, 2, 1]);
    let csv = std::fs::read_to_string(dir.path().join("c.csv")).expect("csv");
    assert_eq!(csv.lines().count(), 4, "{csv}");
    assert!(
        csv.lines().nth(1).is_some_and(|l| l.ends_with(",true")),
        "{csv}"
    );
    let html = std::fs::read_to_string(dir.path().join("c.html")).expect("html");
    assert_eq!(
        html.matches(r#"class="series""#).count(),
        3,
        "one line per candidate"
    );
}

#[test]
fn compare_refuses_bad_prices_in_one_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    three_candidates(dir.path());
    for price in [
        "ml.g5.xlarge",
        "ml.g5.xlarge=-1",
        "ml.g5.xlarge=lots",
        "=1.4",
        "ml.p4d=30",
    ] {
        let out = peakrps(
            &[
                "compare",
                "ml.c5.xlarge.json",
                "ml.g5.xlarge.json",
                "--price",
                price,
            ],
            dir.path(),
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{price}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{price}: {stderr}");
        assert!(stderr.contains("--price"), "{price}: {stderr}");
        assert!(out.stdout.is_empty(), "{price}");
    }
}

/// Every table fits an 80-column terminal (COLUMNS=80) and keeps what matters: the level,
/// p99, the verdict and the peak's mark; with no COLUMNS and stdout a pipe the whole table
/// is written, wider than 80.
#[test]
fn tables_fit_the_terminal_width_and_stay_whole_in_a_pipe() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut rate = find_fixture();
    rate.mode = "rate".into();
    for step in &mut rate.steps {
        step.offered_rps = step.concurrency.map(|c| f64::from(c) * 40.0);
        step.concurrency = None;
    }
    if let Some(peak) = rate.peak.as_mut() {
        peak.offered_rps = Some(160.0);
        peak.concurrency = None;
    }
    let docs = [
        ("find.json", find_fixture(), "p99 ms", "◀ peak"),
        ("rate.json", rate, "p99 ms", "◀ peak"),
        ("stream.json", stream_find_fixture(), "TTFT p99", "◀ peak"),
    ];
    for (name, doc, column, mark) in docs {
        peakrps::results::write_json(&dir.path().join(name), &doc).expect("json");
        let full = peakrps_columns(&["report", name], dir.path(), None);
        assert!(table_width(&full) > 80, "{name}: {full}");
        let fitted = peakrps_columns(&["report", name], dir.path(), Some("80"));
        assert!(table_width(&fitted) <= 80, "{name}: {fitted}");
        assert!(
            fitted.contains(column) && fitted.contains(mark) && fitted.contains("passed"),
            "{name}: {fitted}"
        );
    }
    three_candidates(dir.path());
    let args = compare_args(&["--traffic", "310"]);
    let full = peakrps_columns(&args, dir.path(), None);
    assert!(table_width(&full) > 80, "{full}");
    let fitted = peakrps_columns(&args, dir.path(), Some("80"));
    assert!(table_width(&fitted) <= 80, "{fitted}");
    assert!(
        fitted.contains("◀ cheapest") && fitted.contains("MAX_RPS"),
        "{fitted}"
    );
}

/// `report` reads back the `compare --json` document this same version wrote: the table
/// and verdict again, and its HTML and CSV.
#[test]
fn report_reads_a_compare_document_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    three_candidates(dir.path());
    let args = compare_args(&["--json", "c.json"]);
    let compared = peakrps(&args, dir.path());
    assert!(compared.status.success(), "{compared:?}");
    let out = peakrps(&["report", "c.json"], dir.path());
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&compared.stdout),
        "the same table and verdict as compare printed"
    );
    let out = peakrps(
        &["report", "c.json", "--html", "c.html", "--csv", "c.csv"],
        dir.path(),
    );
    assert!(out.status.success(), "{out:?}");
    let html = std::fs::read_to_string(dir.path().join("c.html")).expect("html");
    assert!(html.contains("ml.g4dn.xlarge"));
    let csv = std::fs::read_to_string(dir.path().join("c.csv")).expect("csv");
    assert_eq!(csv.lines().count(), 4, "{csv}");
}

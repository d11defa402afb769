//! The HTML reports in a real headless Chromium: every chart is drawn with marks in it, and
//! the page fetches nothing. Skipped, with a notice, when no Chromium is installed.
//!
//! How "fetches nothing" is shown: the page's own Content-Security-Policy is `default-src
//! 'none'`, so any fetch it tried would raise a `securitypolicyviolation` event; a probe script
//! (let in by a nonce added to a copy of the page) records those events and the Resource
//! Timing entries (every fetch that happened) and writes them into the DOM. A control page
//! with one remote image proves the probe sees a fetch when there is one.

mod fixtures;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fixtures::{find_fixture, run_fixture, run_profile_fixture, simulate_fixture_json};
use peakrps::report::{CONTENT_SECURITY_POLICY, Exportable};
use peakrps::results::Document;
use serde_json::Value;

const PROBE: &str = r#"<script nonce="peakrps-probe">
window.peakrpsViolations = [];
document.addEventListener('securitypolicyviolation', e => window.peakrpsViolations.push(e.violatedDirective + ' ' + e.blockedURI));
window.addEventListener('load', () => setTimeout(() => {
  const charts = [...document.querySelectorAll('svg.chart')].map(svg => ({
    id: svg.dataset.chart,
    marks: svg.querySelectorAll('.mark').length,
    width: Math.round(svg.getBoundingClientRect().width),
    labels: [...svg.querySelectorAll('.axis-label')].map(t => t.textContent),
  }));
  const result = {
    charts,
    violations: window.peakrpsViolations,
    resources: performance.getEntriesByType('resource').map(r => r.name),
  };
  const pre = document.createElement('pre');
  pre.id = 'peakrps-probe';
  pre.textContent = JSON.stringify(result);
  document.body.appendChild(pre);
}, 200));
</script>"#;

/// Debian's Chromium, or the browser PEAKRPS_CHROMIUM names (a path that does not exist
/// there shows the skip).
fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PEAKRPS_CHROMIUM")
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    path.exists().then_some(path)
}

/// The page with the probe let in: the same policy plus a nonce for the probe script.
fn with_probe(html: &str) -> String {
    let policy = format!("content=\"{CONTENT_SECURITY_POLICY}\"");
    assert!(html.contains(&policy), "the page carries the strict policy");
    let probed_policy = policy.replace(
        "default-src 'none';",
        "default-src 'none'; script-src 'nonce-peakrps-probe';",
    );
    let html = html.replacen(&policy, &probed_policy, 1);
    let head_end = html.find("<title>").expect("a <title> in the head");
    format!("{}{PROBE}\n{}", &html[..head_end], &html[head_end..])
}

/// Loads `page` in headless Chromium and returns the DOM after scripts ran.
fn dump_dom(browser: &Path, page: &Path, dir: &Path) -> String {
    let dom_path = dir.join("dom.html");
    let dom = std::fs::File::create(&dom_path).expect("dom file");
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-quic",
            "--virtual-time-budget=5000",
        ])
        .arg(format!("--user-data-dir={}", dir.join("profile").display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .stdout(Stdio::from(dom))
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium starts");
    let deadline = Instant::now() + Duration::from_secs(90);
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium did not finish within 90 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    std::fs::read_to_string(&dom_path).expect("dom read")
}

/// What the probe wrote into the DOM.
fn probe(html: &str) -> Value {
    let Some(browser) = chromium() else {
        unreachable!("callers check for chromium")
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let page = dir.path().join("report.html");
    std::fs::write(&page, with_probe(html)).expect("page written");
    let dom = dump_dom(&browser, &page, dir.path());
    let start = dom
        .find("<pre id=\"peakrps-probe\">")
        .map(|i| i + "<pre id=\"peakrps-probe\">".len());
    let Some(start) = start else {
        panic!("the probe wrote nothing; DOM was:\n{dom}")
    };
    let end = dom[start..].find("</pre>").expect("closing </pre>") + start;
    let text = dom[start..end]
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    serde_json::from_str(&text).expect("probe JSON")
}

fn skip() -> bool {
    if chromium().is_none() {
        eprintln!(
            "NOTICE: no Chromium (/usr/bin/chromium, or PEAKRPS_CHROMIUM) found: skipping the headless Chromium report test (.ci/run installs it)"
        );
        return true;
    }
    false
}

/// Every chart was rendered at a readable width with marks and labelled axes, and nothing
/// was fetched or even attempted.
fn assert_rendered(html: &str, charts: &[&str]) {
    let result = probe(html);
    assert_eq!(
        result["violations"],
        Value::Array(vec![]),
        "the page tried to fetch: {result}"
    );
    assert_eq!(
        result["resources"],
        Value::Array(vec![]),
        "the page fetched: {result}"
    );
    let drawn = result["charts"].as_array().expect("charts");
    let ids: Vec<&str> = drawn.iter().filter_map(|c| c["id"].as_str()).collect();
    assert_eq!(ids, charts, "{result}");
    for chart in drawn {
        assert!(
            chart["marks"].as_u64().unwrap_or(0) >= 3,
            "too few marks: {chart}"
        );
        assert!(
            chart["width"].as_u64().unwrap_or(0) >= 300,
            "too narrow: {chart}"
        );
        let labels = chart["labels"].as_array().expect("labels");
        assert_eq!(labels.len(), 2, "two axis labels: {chart}");
        let y_label = labels[1].as_str().unwrap_or_default();
        assert!(
            y_label.contains('(') && y_label.contains(')'),
            "a unit in the y axis label: {chart}"
        );
    }
}

/// Resource-loading syntax that must not appear anywhere in a report.
fn assert_no_references(html: &str) {
    for needle in [
        " src=", "href=", "srcset", "@import", "<link", "<script", "<iframe", "<object", "<embed",
        "<img",
    ] {
        assert!(!html.contains(needle), "the report contains {needle:?}");
    }
    let urls = html.matches("url(").count();
    assert_eq!(
        urls,
        html.matches("url(#").count(),
        "only fragment url(#…) references"
    );
}

#[test]
fn find_report_draws_every_chart_and_fetches_nothing() {
    let html = find_fixture().html();
    assert_no_references(&html);
    if skip() {
        return;
    }
    assert_rendered(&html, &["throughput", "latency", "success", "errors"]);
}

#[test]
fn run_and_simulate_reports_render_too() {
    let run = run_fixture().html();
    let profile = run_profile_fixture().html();
    let Ok(sim) = Document::parse(&simulate_fixture_json()) else {
        panic!("simulate fixture reads")
    };
    let sim = sim.html();
    assert_no_references(&run);
    assert_no_references(&profile);
    assert_no_references(&sim);
    if skip() {
        return;
    }
    assert_rendered(&run, &["run-latency"]);
    assert_rendered(
        &profile,
        &[
            "profile-traffic",
            "profile-latency",
            "profile-instances",
            "run-latency",
        ],
    );
    assert_rendered(&sim, &["traffic", "instances"]);
}

#[test]
fn the_probe_sees_a_fetch_when_there_is_one() {
    if skip() {
        return;
    }
    let html = find_fixture().html().replacen(
        "<main>",
        "<main><img src=\"http://127.0.0.1:9/x.png\" alt=\"\">",
        1,
    );
    let result = probe(&html);
    let violations = result["violations"].as_array().expect("violations");
    assert!(
        violations
            .iter()
            .any(|v| v.as_str().is_some_and(|v| v.contains("127.0.0.1:9"))),
        "the blocked image was not seen: {result}"
    );
}

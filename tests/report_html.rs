//! Every HTML template renders over the fixtures, through every branch a page has (peak or
//! none, errors or none, profile or not, instance counts, policy, --recommend): a template
//! error is a bug, and this is where it shows, not as a page that says so.

mod fixtures;

use fixtures::{
    find_fixture, run_fixture, run_profile_fixture, simulate_fixture, stream_find_fixture,
};
use peakrps::report::Exportable;
use peakrps::results::{ErrorCounts, FactorSearch, TradeOff};

/// The page, which must render without a template error and be a whole page.
fn page(doc: &impl Exportable) -> String {
    let html = match doc.try_html() {
        Ok(html) => html,
        Err(e) => panic!("a template failed: {e}"),
    };
    assert!(html.starts_with("<!DOCTYPE html>") && html.ends_with("</html>\n"));
    assert_eq!(html, doc.html(), "the infallible form is the same page");
    html
}

#[test]
fn every_find_page_renders() {
    let html = page(&find_fixture());
    assert!(html.contains("<div class=\"formula\">") && html.contains("data-chart=\"errors\""));

    let mut no_peak = find_fixture();
    (no_peak.peak, no_peak.recommendation) = (None, None);
    assert!(page(&no_peak).contains("<div class=\"verdict failed\">"));

    let mut calm = find_fixture();
    for step in &mut calm.steps {
        step.summary.errors = ErrorCounts::default();
    }
    calm.interrupted = true;
    let html = page(&calm);
    assert!(
        html.contains("<p class=\"note\" data-chart=\"errors\">Errors by kind: no request failed")
    );
    assert!(html.contains("<strong>Interrupted:</strong>"));
}

#[test]
fn every_run_page_renders() {
    assert!(!page(&run_fixture()).contains("id=\"scaling\""));
    let html = page(&run_profile_fixture());
    assert!(html.contains("id=\"scaling\"") && html.contains("id=\"minutes\""));

    let mut no_policy = run_profile_fixture();
    if let Some(scaling) = &mut no_policy.scaling {
        scaling.policy = None;
    }
    assert!(page(&no_policy).contains("<dt>Live policy</dt>"));
}

#[test]
fn every_simulate_page_renders() {
    assert!(!page(&simulate_fixture()).contains("id=\"trade-off\""));
    let factor = |safety_factor: f64, overloaded_minutes: u32| TradeOff {
        safety_factor,
        min_capacity: 1,
        target_value: 9000.0 * safety_factor,
        overloaded_minutes,
        requests_at_risk: u64::from(overloaded_minutes) * 1000,
        instance_minutes: 600,
        instance_hours: 10.0,
        cost: Some(12.5),
    };
    let mut recommended = simulate_fixture();
    recommended.recommendation = Some(FactorSearch {
        trade_off: vec![factor(0.45, 0), factor(0.47, 0), factor(0.5, 2)],
        pick: Some(factor(0.47, 0)),
        next: Some(factor(0.5, 2)),
        min_capacity_lever: None,
    });
    let html = page(&recommended);
    assert!(html.contains("<tr class=\"peak\"><td>0.47</td>") && html.contains("$12.50"));
    assert_eq!(
        html.matches("<tr class=").count(),
        3,
        "0.45, the pick, 0.50"
    );
}

#[test]
fn text_from_a_results_file_is_escaped() {
    let mut hostile = find_fixture();
    hostile.target.payload = "<script>alert('x')</script> & \"q\"".into();
    hostile.stop_reason = "<img src=x>".into();
    let html = page(&hostile);
    assert!(!html.contains("<script>") && !html.contains("<img"));
    assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"));
    assert!(html.contains("Stopped because: &lt;img src=x&gt;"));
}

/// The page without its tables (a table's req/s column has one decimal for every step).
fn outside_tables(html: &str) -> String {
    let mut rest = html;
    let mut out = String::new();
    while let Some(start) = rest.find("<table") {
        out += &rest[..start];
        rest = rest[start..]
            .find("</table>")
            .map_or("", |end| &rest[start + end..]);
    }
    out + rest
}

/// MAX_RPS reads the same wherever the page names it (headline, formulas, chart labels):
/// the document's 157.33, never 157 or 157.3.
#[test]
fn max_rps_has_one_rounding_on_the_page() {
    let mut r = find_fixture();
    let peak_rps = 157.33;
    if let Some(step) = r.steps.iter_mut().find(|s| s.concurrency == Some(4)) {
        step.summary.rps = peak_rps;
    }
    if let Some(peak) = r.peak.as_mut() {
        peak.rps = peak_rps;
    }
    r.recommendation = peakrps::results::Recommendation::new(peak_rps, 0.5).ok();
    let html = outside_tables(&page(&r));
    let shown: Vec<&str> = html
        .match_indices("157")
        .map(|(i, _)| &html[i..(i + 6).min(html.len())])
        .collect();
    assert!(shown.len() >= 4, "{shown:?}");
    assert!(shown.iter().all(|s| *s == "157.33"), "{shown:?}");
}

/// The stability band the page states is the document's --stability, whole.
#[test]
fn the_stability_band_shown_is_the_setting() {
    let mut r = find_fixture();
    r.settings.stability = 0.2;
    let html = page(&r);
    assert!(html.contains("agree within 20 % (--stability)"), "{html}");
    r.settings.stability = 0.1;
    let html = page(&r);
    assert!(html.contains("agree within 10 %") && !html.contains("±5"));
}

/// A `find --stream` page headlines the concurrency target the terminal gives (8 × 0.5 = 4),
/// not the invocations one; its step table carries tokens/s, TTFT and ITL; its pass rules
/// are the TTFT and ITL limits that were applied.
#[test]
fn a_streaming_find_page_headlines_the_concurrency_target() {
    let r = stream_find_fixture();
    let html = page(&r);
    let headline = html
        .split("<div class=\"formula\">")
        .next()
        .unwrap_or_default();
    assert!(
        headline.contains("SageMakerVariantConcurrentRequestsPerModelHighResolution")
            && !headline.contains("SageMakerVariantInvocationsPerInstance"),
        "{headline}"
    );
    assert!(html.contains("PEAK_CONCURRENCY × SAFETY_FACTOR = 8 × 0.5 = 4"));
    for column in ["output tok/s", "TTFT p99 ms", "ITL p99 ms"] {
        assert!(
            html.contains(&format!("<th scope=\"col\">{column}</th>")),
            "{column}"
        );
    }
    assert!(
        html.contains("980.0"),
        "the peak step's tokens/s in the table"
    );
    assert!(html.contains("TTFT ≤ 2000 ms (--max-ttft)") && html.contains("ITL ≤ 100 ms"));
}

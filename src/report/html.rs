//! The HTML report: one self-contained page per results document (find, run, simulate) with
//! inline CSS and SVG charts, a strict Content-Security-Policy and no fetch of any kind.
//!
//! Each document kind has its own `*_html` function built from shared pieces (`page`,
//! `section`, `table`, `facts`); a new kind adds a function and its charts, nothing else.

use std::fmt::Write;

use super::comparison::{comparison_sentence, has_instances, plural};
use super::svg::{
    Axis, BarChart, BarLayer, Highlight, LineChart, Marker, Point, Rule, Scale, Series, Style, esc,
    num,
};
use super::terminal::{DIFFERS, achieved, count, ms as ms_figure, pct, rps};
use crate::results::{
    ErrorKind, FactorSearch, FindResults, LiveScaling, Policy, ProfileMinute, Recommendation,
    RunResults, SimMinute, SimulateResults, Step, Summary, TradeOff,
};

/// Nothing may be fetched: no scripts, images, fonts, frames or connections; only the inline
/// `<style>` (and SVG `<pattern>`s referenced by fragment, which are not fetches).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; base-uri 'none'; form-action 'none'";

const CSS: &str = r#"
:root { color-scheme: light; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: #1a1a1a;
       max-width: 1080px; margin: 0 auto; padding: 24px 28px 48px; background: #fff; }
h1 { font-size: 1.6em; margin: 0 0 4px; }
h2 { font-size: 1.2em; margin: 32px 0 10px; border-bottom: 1px solid #ccc; padding-bottom: 4px; }
.subtitle { color: #555; margin: 0 0 20px; overflow-wrap: anywhere; }
.verdict { border: 2px solid #1a1a1a; border-radius: 6px; padding: 14px 18px; margin: 16px 0; }
.verdict.failed { border-style: dashed; }
.figures { display: flex; flex-wrap: wrap; gap: 12px 40px; margin-bottom: 8px; }
.figure .value { font-size: 1.9em; font-weight: 700; font-variant-numeric: tabular-nums; }
.figure .label { color: #444; font-size: .9em; }
.formula { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, monospace; background: #f3f3f3; padding: 8px 10px;
           border-radius: 4px; overflow-wrap: anywhere; margin: 8px 0; }
.charts { display: grid; grid-template-columns: 1fr; gap: 22px; }
@media (min-width: 1700px) { body { max-width: 1600px; } .charts { grid-template-columns: 1fr 1fr; } }
figure { margin: 0; }
figcaption { color: #444; font-size: .9em; margin-top: 2px; }
svg.chart { width: 100%; height: auto; display: block; border: 1px solid #ddd; border-radius: 4px; background: #fff; }
svg.chart text { font: 12px system-ui, "DejaVu Sans", sans-serif; fill: #1a1a1a; }
svg.chart .chart-title { font-size: 15px; font-weight: 600; }
svg.chart .axis-label { font-size: 13px; font-weight: 600; }
svg.chart .point-label { font-size: 11px; fill: #333; paint-order: stroke; stroke: #fff; stroke-width: 3px; }
svg.chart .callout { font-size: 13px; font-weight: 700; paint-order: stroke; stroke: #fff; stroke-width: 4px; }
svg.chart .grid { stroke: #e3e3e3; stroke-width: 1; }
svg.chart .frame { fill: none; stroke: #777; }
.note { color: #444; font-style: italic; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; font-size: .92em; }
th, td { padding: 5px 8px; border-bottom: 1px solid #ddd; text-align: right; vertical-align: top; }
th { background: #f3f3f3; border-bottom: 2px solid #999; white-space: nowrap; }
td.text, th.text { text-align: left; }
tr.peak td { font-weight: 700; background: #e8f0e8; border-top: 2px solid #1a1a1a; border-bottom: 2px solid #1a1a1a; }
tr.failed td { color: #6b1b1b; }
tr.differs td { font-weight: 700; background: #fff3dc; }
#minutes td { white-space: nowrap; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 18px; margin: 0; }
dl.facts dt { color: #444; }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
footer { margin-top: 40px; color: #666; font-size: .85em; }
@media (max-width: 700px) { body { padding: 12px; } }
@media print {
  @page { margin: 14mm; }
  body { max-width: none; padding: 0; font-size: 10.5pt; }
  .charts { display: block; }
  figure, .verdict, tr { break-inside: avoid; page-break-inside: avoid; }
  figure { margin-bottom: 10px; }
  svg.chart { max-height: 92mm; border-color: #999; }
  h2 { break-after: avoid; }
  tr.peak td, tr.differs td { background: none; }
}
"#;

/// The page around a report body.
fn page(title: &str, subtitle: &str, body: &str) -> String {
    format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="peakrps {version}">
<title>{title}</title>
<style>{CSS}</style>
</head>
<body>
<header><h1>{title}</h1><p class="subtitle">{subtitle}</p></header>
<main>
{body}
</main>
<footer>Made by peakrps {version}. This file is self-contained: it loads nothing from anywhere.</footer>
</body>
</html>
"#,
        title = esc(title),
        subtitle = esc(subtitle),
        version = esc(env!("CARGO_PKG_VERSION")),
    )
}

/// The factors `--recommend` tried (every 0.05, and the pick), the pick marked.
fn trade_off_table(rec: &FactorSearch) -> String {
    let is_pick = |s: &TradeOff| {
        rec.pick
            .as_ref()
            .is_some_and(|p| s.safety_factor == p.safety_factor && s.min_capacity == p.min_capacity)
    };
    let rows = rec
        .trade_off
        .iter()
        .filter(|s| is_pick(s) || ((s.safety_factor * 100.0).round() as i64) % 5 == 0)
        .map(|s| {
            let class = if is_pick(s) { "peak" } else { "" };
            let cells = vec![
                format!("{:.2}", s.safety_factor),
                s.min_capacity.to_string(),
                esc(&num(s.target_value)),
                s.overloaded_minutes.to_string(),
                esc(&num(s.requests_at_risk as f64)),
                format!("{:.2}", s.instance_hours),
                s.cost.map_or("-".into(), |c| format!("${c:.2}")),
                if is_pick(s) {
                    "◀ pick".into()
                } else {
                    String::new()
                },
            ];
            (class.to_string(), cells)
        })
        .collect();
    Table {
        header: &[
            "safety factor",
            "min capacity",
            "target (inv./instance/min)",
            "overloaded minutes",
            "requests at risk",
            "instance-hours",
            "cost",
            "",
        ],
        text_columns: &[7],
        rows,
    }
    .render()
}

fn section(id: &str, heading: &str, content: &str) -> String {
    format!(
        "<section id=\"{id}\"><h2>{}</h2>\n{content}\n</section>\n",
        esc(heading)
    )
}

fn figure(svg: String, caption: &str) -> String {
    format!(
        "<figure>{svg}<figcaption>{}</figcaption></figure>",
        esc(caption)
    )
}

/// A table; cells are already escaped HTML. The first column and `text_columns` align left.
struct Table<'a> {
    header: &'a [&'a str],
    text_columns: &'a [usize],
    rows: Vec<(String, Vec<String>)>,
}

impl Table<'_> {
    fn render(&self) -> String {
        let class = |i: usize| {
            if self.text_columns.contains(&i) {
                " class=\"text\""
            } else {
                ""
            }
        };
        let mut out = String::from("<table><thead><tr>");
        for (i, h) in self.header.iter().enumerate() {
            let _ = write!(out, "<th scope=\"col\"{}>{}</th>", class(i), esc(h));
        }
        out.push_str("</tr></thead><tbody>");
        for (row_class, cells) in &self.rows {
            let _ = write!(out, "<tr class=\"{row_class}\">");
            for (i, cell) in cells.iter().enumerate() {
                let _ = write!(out, "<td{}>{cell}</td>", class(i));
            }
            out.push_str("</tr>");
        }
        out.push_str("</tbody></table>");
        out
    }
}

/// A definition list of (term, value) pairs, escaped here.
fn facts(pairs: &[(&str, String)]) -> String {
    let mut out = String::from("<dl class=\"facts\">");
    for (term, value) in pairs {
        let _ = write!(out, "<dt>{}</dt><dd>{}</dd>", esc(term), esc(value));
    }
    out.push_str("</dl>");
    out
}

fn figure_box(value: &str, label: &str) -> String {
    format!(
        "<div class=\"figure\"><div class=\"value\">{}</div><div class=\"label\">{}</div></div>",
        esc(value),
        esc(label)
    )
}

fn ms(v: f64) -> String {
    format!("{} ms", ms_figure(v))
}

fn req_s(v: f64) -> String {
    format!("{} req/s", rps(v))
}

// Series styles: colour, dash and marker all differ, and the colours differ in lightness,
// so the charts read in greyscale too.
const DARK: Style = Style {
    color: "#0b3c8c",
    dash: "",
    marker: Marker::Circle,
};
const MID: Style = Style {
    color: "#c85200",
    dash: "8 4",
    marker: Marker::Square,
};
const BLACK: Style = Style {
    color: "#111111",
    dash: "2 3",
    marker: Marker::Triangle,
};
const PEAK_RULE: (&str, &str) = ("#111111", "10 4");
const TARGET_RULE: (&str, &str) = ("#2a7f62", "3 3");
const LIMIT_RULE: (&str, &str) = ("#8a1c1c", "12 3 2 3");

fn rule(
    vertical: bool,
    value: f64,
    label: String,
    (color, dash): (&'static str, &'static str),
) -> Rule {
    Rule {
        vertical,
        value,
        label,
        color,
        dash,
    }
}

/// Error kinds as bar layers: fill and hatch differ, so they read in greyscale.
fn error_fill(kind: ErrorKind) -> (&'static str, &'static str) {
    match kind {
        ErrorKind::Throttled => ("#f0b030", "diagonal"),
        ErrorKind::ServerError => ("#8a1c1c", ""),
        ErrorKind::ClientError => ("#b9a0d0", "cross"),
        ErrorKind::Timeout => ("#222222", "dots"),
        ErrorKind::Connect => ("#9a9a9a", "horizontal"),
        ErrorKind::Other => ("#4a6fa5", "vertical"),
    }
}

// ---- find -------------------------------------------------------------------------------

/// The report of a `find`: verdict and recommendation, charts, step table, what was tested.
pub fn find_html(r: &FindResults) -> String {
    let mut steps: Vec<&Step> = r.steps.iter().collect();
    steps.sort_by(|a, b| level_value(a).total_cmp(&level_value(b)));
    let charts = [
        figure(
            throughput_chart(r, &steps).render(),
            "Hollow markers: steps that failed a rule.",
        ),
        figure(
            latency_chart(r, &steps).render(),
            "Each point is one step; the curve runs from low to high load.",
        ),
        figure(
            success_chart(r, &steps).render(),
            "The share of requests that succeeded at each step.",
        ),
        errors_figure(&steps),
    ];
    let mut body = verdict_html(r);
    body += &section(
        "charts",
        "Charts",
        &format!("<div class=\"charts\">{}</div>", charts.join("\n")),
    );
    body += &section("steps", "Steps (in the order they ran)", &step_table(r));
    body += &section("tested", "What was tested", &find_facts(r));
    page(
        &format!("peakrps find: {}", r.target.name()),
        &subtitle(&r.started_at, &r.version),
        &body,
    )
}

fn subtitle(started_at: &str, version: &str) -> String {
    format!("Measured {started_at} with peakrps {version}")
}

fn level_value(step: &Step) -> f64 {
    match (step.concurrency, step.offered_rps) {
        (Some(c), _) => f64::from(c),
        (None, Some(r)) => r,
        (None, None) => 0.0,
    }
}

/// "c8" (8 users) or "400/s" (offered rate), for labels beside points.
fn short_level(step: &Step) -> String {
    match (step.concurrency, step.offered_rps) {
        (Some(c), _) => format!("c{c}"),
        (None, Some(r)) => format!("{r:.0}/s"),
        (None, None) => String::new(),
    }
}

fn level_axis(r: &FindResults, steps: &[&Step]) -> Axis {
    let label = if r.mode == "rate" {
        "offered load (req/s, log scale)"
    } else {
        "concurrency (users, log scale)"
    };
    let values: Vec<f64> = steps
        .iter()
        .map(|s| level_value(s))
        .filter(|v| *v > 0.0)
        .collect();
    let min = values.iter().copied().fold(f64::MAX, f64::min);
    let max = values.iter().copied().fold(0.0, f64::max);
    if max >= 4.0 * min {
        Axis::linear(label).with_scale(Scale::Log2)
    } else {
        Axis::linear(&label.replace(", log scale", ""))
    }
}

fn step_point(step: &Step, x: f64, y: f64, what: &str) -> Point {
    let verdict = if step.passed { "passed" } else { "failed" };
    Point {
        x,
        y,
        title: format!("{}: {what} ({verdict})", step.level_label()),
    }
}

fn throughput_chart(r: &FindResults, steps: &[&Step]) -> LineChart {
    let points = steps
        .iter()
        .map(|s| step_point(s, level_value(s), s.summary.rps, &req_s(s.summary.rps)))
        .collect();
    let mut chart = LineChart {
        id: "throughput".into(),
        title: "Throughput vs load".into(),
        x: level_axis(r, steps),
        y: Axis::linear("throughput (successful req/s)"),
        series: vec![Series {
            name: "measured throughput".into(),
            style: DARK,
            points,
            hollow: steps.iter().map(|s| !s.passed).collect(),
            labels: vec![],
            step: false,
        }],
        rules: vec![],
        highlights: vec![],
    };
    if let (Some(peak), Some(rec)) = (&r.peak, &r.recommendation) {
        let x = peak
            .concurrency
            .map(f64::from)
            .or(peak.offered_rps)
            .unwrap_or(0.0);
        chart.highlights.push(Highlight {
            x,
            y: peak.rps,
            label: format!("peak {}", req_s(peak.rps)),
        });
        chart.rules.push(rule(
            false,
            peak.rps,
            format!("MAX_RPS {}", req_s(peak.rps)),
            PEAK_RULE,
        ));
        chart.rules.push(rule(
            false,
            operating_point(rec.max_rps, rec.safety_factor),
            target_label(rec),
            TARGET_RULE,
        ));
    }
    chart
}

/// The per-second operating point the scaling target holds an instance at.
fn operating_point(max_rps: f64, safety_factor: f64) -> f64 {
    max_rps * safety_factor
}

fn target_label(rec: &Recommendation) -> String {
    format!(
        "scaling target {} (MAX_RPS × {})",
        req_s(operating_point(rec.max_rps, rec.safety_factor)),
        num(rec.safety_factor)
    )
}

fn latency_chart(r: &FindResults, steps: &[&Step]) -> LineChart {
    let percentile = |name: &str, style: Style, pick: fn(&Summary) -> f64| Series {
        name: format!("{name} latency"),
        style,
        points: steps
            .iter()
            .map(|s| {
                step_point(
                    s,
                    s.summary.rps,
                    pick(&s.summary),
                    &format!(
                        "{name} {} at {}",
                        ms(pick(&s.summary)),
                        req_s(s.summary.rps)
                    ),
                )
            })
            .collect(),
        hollow: steps.iter().map(|s| !s.passed).collect(),
        labels: vec![],
        step: false,
    };
    let mut p99 = percentile("p99", BLACK, |s| s.latency_ms.p99);
    // Past the peak the points pile up at one throughput: name each by its load level.
    p99.labels = steps.iter().map(|s| short_level(s)).collect();
    let series = vec![
        percentile("p50", DARK, |s| s.latency_ms.p50),
        percentile("p90", MID, |s| s.latency_ms.p90),
        p99,
    ];
    let all: Vec<f64> = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.y))
        .filter(|v| *v > 0.0)
        .collect();
    let (lo, hi) = (
        all.iter().copied().fold(f64::MAX, f64::min),
        all.iter().copied().fold(0.0, f64::max),
    );
    let y = if hi > 20.0 * lo {
        Axis::linear("latency (ms, log scale)").with_scale(Scale::Log10)
    } else {
        Axis::linear("latency (ms)")
    };
    let mut chart = LineChart {
        id: "latency".into(),
        title: "Latency percentiles vs throughput".into(),
        x: Axis::linear("throughput (successful req/s)"),
        y,
        series,
        rules: vec![],
        highlights: vec![],
    };
    if let (Some(peak), Some(rec)) = (&r.peak, &r.recommendation) {
        chart.rules.push(rule(
            true,
            peak.rps,
            format!("MAX_RPS {}", req_s(peak.rps)),
            PEAK_RULE,
        ));
        chart.rules.push(rule(
            true,
            operating_point(rec.max_rps, rec.safety_factor),
            target_label(rec),
            TARGET_RULE,
        ));
        let label = format!("peak: p99 {}", ms(peak.latency_ms.p99));
        chart.highlights.push(Highlight {
            x: peak.rps,
            y: peak.latency_ms.p99,
            label,
        });
    }
    if let Some(limit) = r.settings.max_latency_ms {
        let label = format!(
            "--max-latency {} (p{})",
            ms(limit),
            num(r.settings.percentile)
        );
        chart.rules.push(rule(false, limit, label, LIMIT_RULE));
    }
    chart
}

fn success_chart(r: &FindResults, steps: &[&Step]) -> LineChart {
    let points = steps
        .iter()
        .map(|s| {
            step_point(
                s,
                level_value(s),
                s.summary.success_ratio * 100.0,
                &pct(s.summary.success_ratio),
            )
        })
        .collect();
    LineChart {
        id: "success".into(),
        title: "Success ratio per step".into(),
        x: level_axis(r, steps),
        y: Axis::linear("successful requests (%)").not_from_zero(),
        series: vec![Series {
            name: "success ratio".into(),
            style: DARK,
            points,
            hollow: steps.iter().map(|s| !s.passed).collect(),
            labels: vec![],
            step: false,
        }],
        rules: vec![rule(
            false,
            r.settings.min_success * 100.0,
            format!("--min-success {}", pct(r.settings.min_success)),
            LIMIT_RULE,
        )],
        highlights: vec![],
    }
}

fn errors_figure(steps: &[&Step]) -> String {
    let layers: Vec<BarLayer> = ErrorKind::ALL
        .iter()
        .filter(|k| steps.iter().any(|s| s.summary.errors.get(**k) > 0))
        .map(|k| {
            let (color, hatch) = error_fill(*k);
            let values = steps
                .iter()
                .map(|s| s.summary.errors.get(*k) as f64)
                .collect();
            BarLayer {
                name: k.name().into(),
                color,
                hatch,
                values,
            }
        })
        .collect();
    if layers.is_empty() {
        return "<figure><p class=\"note\" data-chart=\"errors\">Errors by kind: no request failed in any step.</p></figure>".into();
    }
    let chart = BarChart {
        id: "errors".into(),
        title: "Failed requests by kind per step".into(),
        x_label: steps
            .first()
            .map_or("step", |s| {
                if s.concurrency.is_some() {
                    "concurrency (users)"
                } else {
                    "offered load (req/s)"
                }
            })
            .into(),
        y_label: "failed requests (count)".into(),
        categories: steps.iter().map(|s| num(level_value(s))).collect(),
        layers,
    };
    figure(
        chart.render(),
        "Hover a bar for its count. Steps are ordered by load, not by when they ran.",
    )
}

fn verdict_html(r: &FindResults) -> String {
    let (Some(peak), Some(rec)) = (&r.peak, &r.recommendation) else {
        return format!(
            "<div class=\"verdict failed\"><p><strong>No load level passed: there is no peak to scale on.</strong></p><p>Stopped because: {}</p></div>",
            esc(&r.stop_reason)
        );
    };
    let at = peak.concurrency.map_or_else(
        || format!("offered {} req/s", num(peak.offered_rps.unwrap_or(0.0))),
        |c| format!("concurrency {c}"),
    );
    let figures = [
        figure_box(&req_s(peak.rps), &format!("MAX_RPS: peak at {at}")),
        figure_box(
            &rec.invocations_per_instance.to_string(),
            "SageMakerVariantInvocationsPerInstance (per minute)",
        ),
        figure_box(
            &req_s(operating_point(rec.max_rps, rec.safety_factor)),
            "per-instance operating point",
        ),
        figure_box(&ms(peak.latency_ms.p99), "p99 latency at the peak"),
    ];
    let per_second = format!(
        "Operating point = MAX_RPS × SAFETY_FACTOR = {} × {} = {} req/s per instance",
        rec.max_rps,
        rec.safety_factor,
        num(operating_point(rec.max_rps, rec.safety_factor))
    );
    format!(
        "<div class=\"verdict\"><div class=\"figures\">{}</div><div class=\"formula\">{}</div><div class=\"formula\">{}</div><p>Stopped because: {}</p>{}</div>",
        figures.join(""),
        esc(&rec.formula()),
        esc(&per_second),
        esc(&r.stop_reason),
        if r.interrupted {
            "<p><strong>Interrupted:</strong> the results cover the steps finished before the interruption.</p>"
        } else {
            ""
        }
    )
}

fn step_table(r: &FindResults) -> String {
    let level = if r.mode == "rate" {
        "offered req/s"
    } else {
        "concurrency"
    };
    let header = [
        level,
        "req/s",
        "requests",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "max ms",
        "success",
        "errors",
        "stable",
        "passed",
        "why it failed",
    ];
    let rows = r
        .steps
        .iter()
        .map(|s| {
            let peak = r.is_peak(s);
            let class = if peak {
                "peak"
            } else if s.passed {
                ""
            } else {
                "failed"
            };
            let l = &s.summary.latency_ms;
            let mut level = num(level_value(s));
            if peak {
                level = format!("◀ peak {level}");
            }
            let cells = [
                level,
                rps(s.summary.rps),
                s.summary.requests.to_string(),
                ms_figure(l.p50),
                ms_figure(l.p90),
                ms_figure(l.p99),
                ms_figure(l.max),
                pct(s.summary.success_ratio),
                s.summary.errors.describe(),
                (if s.partial {
                    "partial"
                } else if s.stable {
                    "yes"
                } else {
                    "no"
                })
                .to_string(),
                (if s.passed { "yes" } else { "no" }).to_string(),
                s.failure.clone().unwrap_or_default(),
            ];
            (class.to_string(), cells.iter().map(|c| esc(c)).collect())
        })
        .collect();
    Table {
        header: &header,
        text_columns: &[8, 11],
        rows,
    }
    .render()
}

fn find_facts(r: &FindResults) -> String {
    let s = &r.settings;
    let mut pairs = vec![
        ("Target", format!("{} ({})", r.target.url, r.target.kind)),
        (
            "Payload",
            if r.target.payload.is_empty() {
                "-".into()
            } else {
                r.target.payload.clone()
            },
        ),
        ("Mode", r.mode.clone()),
        ("Started", r.started_at.clone()),
        ("peakrps version", r.version.clone()),
        (
            "Steps",
            format!(
                "warm-up {} s, windows of {} s, at most {} s per step, stable within ±{}",
                num(s.warmup_s),
                num(s.window_s),
                num(s.step_duration_s),
                pct(s.stability / 2.0)
            ),
        ),
        ("Pass rules", pass_rules(r)),
        (
            "Search",
            format!(
                "doubling up to concurrency {}, then bisection to within {}",
                s.max_concurrency,
                pct(s.precision)
            ),
        ),
        ("Request timeout", format!("{} s", num(s.timeout_s))),
    ];
    if let Some(rec) = &r.recommendation {
        pairs.push(("Safety factor", num(rec.safety_factor)));
    }
    if r.interrupted {
        pairs.push(("Interrupted", "yes".into()));
    }
    facts(&pairs)
}

fn pass_rules(r: &FindResults) -> String {
    let s = &r.settings;
    let mut text = format!(
        "success ≥ {}; throughput must grow ≥ {} per doubling while p{} latency rises",
        pct(s.min_success),
        pct(s.min_gain),
        num(s.percentile)
    );
    if let Some(limit) = s.max_latency_ms {
        let _ = write!(text, "; p{} ≤ {}", num(s.percentile), ms(limit));
    }
    text
}

// ---- run --------------------------------------------------------------------------------

/// The report of a `run`: its summary and what was tested; for a `run --profile` also the
/// minutes (charts over time and a table) and, on a `sagemaker://` target, the instance
/// counts the endpoint had beside those the simulator predicted.
pub fn run_html(r: &RunResults) -> String {
    let s = &r.summary;
    let mut body = String::from("<div class=\"verdict\"><div class=\"figures\">");
    body += &figure_box(&req_s(s.rps), "throughput (successful)");
    body += &figure_box(&ms(s.latency_ms.p99), "p99 latency");
    body += &figure_box(&pct(s.success_ratio), "success");
    body += "</div></div>";
    body += &section("summary", "Summary", &run_summary_table(s));
    if let Some(scaling) = &r.scaling {
        body += &section(
            "scaling",
            "Instances: the endpoint against the simulator",
            &scaling_html(r, scaling),
        );
    }
    let mut charts = profile_figures(r);
    charts.push(figure(
        run_latency_chart(s).render(),
        "Latency of successful requests.",
    ));
    body += &section(
        "charts",
        "Charts",
        &format!("<div class=\"charts\">{}</div>", charts.join("\n")),
    );
    if !r.minutes.is_empty() {
        body += &section("minutes", "Minutes", &minute_table(&r.minutes));
    }
    body += &section("tested", "What was tested", &run_facts(r));
    page(
        &format!("peakrps run: {}", r.target.name()),
        &subtitle(&r.started_at, &r.version),
        &body,
    )
}

fn run_summary_table(s: &Summary) -> String {
    let header = [
        "req/s", "requests", "p50 ms", "p90 ms", "p99 ms", "max ms", "success", "errors",
        "dropped", "seconds",
    ];
    let cells = [
        rps(s.rps),
        s.requests.to_string(),
        ms_figure(s.latency_ms.p50),
        ms_figure(s.latency_ms.p90),
        ms_figure(s.latency_ms.p99),
        ms_figure(s.latency_ms.max),
        pct(s.success_ratio),
        s.errors.describe(),
        s.dropped.to_string(),
        num(s.duration_s),
    ];
    Table {
        header: &header,
        text_columns: &[7],
        rows: vec![(String::new(), cells.iter().map(|c| esc(c)).collect())],
    }
    .render()
}

fn run_latency_chart(s: &Summary) -> BarChart {
    BarChart {
        id: "run-latency".into(),
        title: "Latency percentiles".into(),
        x_label: "percentile".into(),
        y_label: "latency (ms)".into(),
        categories: ["p50", "p90", "p99", "max"].map(String::from).to_vec(),
        layers: vec![BarLayer {
            name: "latency (ms)".into(),
            color: DARK.color,
            hatch: "",
            values: vec![
                s.latency_ms.p50,
                s.latency_ms.p90,
                s.latency_ms.p99,
                s.latency_ms.max,
            ],
        }],
    }
}

/// How the load was shaped: a profile and its speed, or a fixed concurrency.
fn load_text(r: &RunResults) -> String {
    let l = &r.load;
    if let Some(profile) = &l.profile {
        return format!(
            "profile {profile}, {} at speed {}×",
            plural(r.minutes.len(), "minute"),
            num(l.speed.unwrap_or(1.0))
        );
    }
    match (l.concurrency, l.duration_s, l.requests) {
        (Some(c), Some(d), _) => format!("concurrency {c} for {} s", num(d)),
        (Some(c), None, Some(n)) => format!("concurrency {c} for {n} requests"),
        _ => l.mode.clone(),
    }
}

fn run_facts(r: &RunResults) -> String {
    let pairs = [
        ("Target", format!("{} ({})", r.target.url, r.target.kind)),
        (
            "Payload",
            if r.target.payload.is_empty() {
                "-".into()
            } else {
                r.target.payload.clone()
            },
        ),
        ("Load", load_text(r)),
        ("Started", r.started_at.clone()),
        ("peakrps version", r.version.clone()),
        (
            "Interrupted",
            if r.interrupted { "yes" } else { "no" }.into(),
        ),
    ];
    facts(&pairs)
}

/// The comparison sentence, the notes, and the live policy the prediction came from.
fn scaling_html(r: &RunResults, scaling: &LiveScaling) -> String {
    let mut out = format!("<p>{}</p>", esc(&comparison_sentence(r, scaling)));
    for note in &scaling.notes {
        let _ = write!(out, "<p class=\"note\">Note: {}</p>", esc(note));
    }
    let mut pairs = vec![
        (
            "Endpoint",
            format!("{}, variant {}", scaling.endpoint, scaling.variant),
        ),
        (
            "Instances at the start",
            scaling.initial_instances.to_string(),
        ),
    ];
    match &scaling.policy {
        Some(p) => pairs.extend(policy_facts("Live target value", p)),
        None => pairs.push((
            "Live policy",
            "none the simulator can model: the prediction holds the starting count".into(),
        )),
    }
    pairs.push((
        "Simulator timing",
        format!(
            "datapoints reach the alarms after {}; new instances take traffic {} after the decision's minute",
            plural(scaling.timing.metric_delay_min as usize, "minute"),
            plural(scaling.timing.provisioning_min as usize + 1, "minute")
        ),
    ));
    out + &facts(&pairs)
}

/// A target-tracking policy as label/value rows; `label` names the target value's row.
fn policy_facts(label: &'static str, p: &Policy) -> Vec<(&'static str, String)> {
    vec![
        (
            label,
            format!(
                "{} invocations per instance per minute ({} req/s)",
                p.target_value,
                rps(p.target_value / 60.0)
            ),
        ),
        (
            "Capacity",
            format!("{} to {} instances", p.min_capacity, p.max_capacity),
        ),
        (
            "Cooldowns",
            format!(
                "scale-out {} s, scale-in {} s{}",
                p.scale_out_cooldown_s,
                p.scale_in_cooldown_s,
                if p.disable_scale_in {
                    " (scale-in disabled)"
                } else {
                    ""
                }
            ),
        ),
    ]
}

/// The charts over the minutes of a `run --profile`; none for a fixed load.
fn profile_figures(r: &RunResults) -> Vec<String> {
    if r.minutes.is_empty() {
        return Vec::new();
    }
    let mut charts = vec![
        figure(
            profile_traffic_chart(&r.minutes).render(),
            "Hollow markers: minutes with failed or dropped requests.",
        ),
        figure(
            profile_latency_chart(&r.minutes).render(),
            "Latency of the requests of each minute.",
        ),
    ];
    if has_instances(&r.minutes) {
        charts.push(figure(
            profile_instances_chart(r).render(),
            "Hollow markers: minutes in which the endpoint's count differs from the prediction. A minute whose count could not be read has no marker.",
        ));
    }
    charts
}

/// One point per minute that has a value.
fn profile_points(
    minutes: &[ProfileMinute],
    value: impl Fn(&ProfileMinute) -> Option<f64>,
    what: &str,
) -> Vec<Point> {
    minutes
        .iter()
        .filter_map(|m| {
            let y = value(m)?;
            Some(Point {
                x: f64::from(m.minute),
                y,
                title: format!("minute {}: {} {what}", m.minute, num(y)),
            })
        })
        .collect()
}

fn profile_traffic_chart(minutes: &[ProfileMinute]) -> LineChart {
    let troubled = |m: &ProfileMinute| m.summary.errors.total() > 0 || m.summary.dropped > 0;
    LineChart {
        id: "profile-traffic".into(),
        title: "Offered vs achieved throughput per minute".into(),
        x: Axis::linear("time (minutes)"),
        y: Axis::linear("throughput (req/s)"),
        series: vec![
            Series {
                name: "offered (the profile)".into(),
                style: MID,
                points: profile_points(minutes, |m| Some(m.offered_rps), "req/s offered"),
                hollow: vec![],
                labels: vec![],
                step: false,
            },
            Series {
                name: "achieved (successful)".into(),
                style: DARK,
                points: profile_points(minutes, |m| Some(m.summary.rps), "req/s achieved"),
                hollow: minutes.iter().map(troubled).collect(),
                labels: vec![],
                step: false,
            },
        ],
        rules: vec![],
        highlights: vec![],
    }
}

fn profile_latency_chart(minutes: &[ProfileMinute]) -> LineChart {
    let percentile = |name: &str, style: Style, pick: fn(&ProfileMinute) -> f64| Series {
        name: format!("{name} latency"),
        style,
        points: profile_points(minutes, |m| Some(pick(m)), &format!("ms {name}")),
        hollow: vec![],
        labels: vec![],
        step: false,
    };
    LineChart {
        id: "profile-latency".into(),
        title: "Latency per minute".into(),
        x: Axis::linear("time (minutes)"),
        y: Axis::linear("latency (ms)"),
        series: vec![
            percentile("p50", DARK, |m| m.summary.latency_ms.p50),
            percentile("p99", MID, |m| m.summary.latency_ms.p99),
        ],
        rules: vec![],
        highlights: vec![],
    }
}

/// Observed against predicted instances, both as staircases; the minutes where they
/// differ are hollow on the observed line.
fn profile_instances_chart(r: &RunResults) -> LineChart {
    let minutes = &r.minutes;
    let observed: Vec<&ProfileMinute> = minutes.iter().filter(|m| m.instances.is_some()).collect();
    let mut rules = Vec::new();
    if let Some(p) = r.scaling.as_ref().and_then(|s| s.policy.as_ref()) {
        rules.push(rule(
            false,
            f64::from(p.max_capacity),
            format!("max capacity {}", p.max_capacity),
            LIMIT_RULE,
        ));
        rules.push(rule(
            false,
            f64::from(p.min_capacity),
            format!("min capacity {}", p.min_capacity),
            TARGET_RULE,
        ));
    }
    LineChart {
        id: "profile-instances".into(),
        title: "Instances per minute: the endpoint against the simulator".into(),
        x: Axis::linear("time (minutes)"),
        y: Axis::linear("instances (count)"),
        series: vec![
            Series {
                name: "endpoint (CurrentInstanceCount)".into(),
                style: DARK,
                points: profile_points(minutes, |m| m.instances.map(f64::from), "instances"),
                hollow: observed.iter().map(|m| m.instances_differ()).collect(),
                labels: vec![],
                step: true,
            },
            Series {
                name: "simulator (predicted)".into(),
                style: MID,
                points: profile_points(
                    minutes,
                    |m| m.predicted_instances.map(f64::from),
                    "instances predicted",
                ),
                hollow: vec![],
                labels: vec![],
                step: true,
            },
        ],
        rules,
        highlights: vec![],
    }
}

/// One row per minute; with instance counts, the minutes where they differ are marked.
fn minute_table(minutes: &[ProfileMinute]) -> String {
    let with_instances = has_instances(minutes);
    let mut header = vec![
        "minute",
        "offered req/s",
        "req/s",
        "achieved",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "success",
        "errors",
        "dropped",
    ];
    if with_instances {
        header.extend(["instances", "predicted", ""]);
    }
    let rows = minutes
        .iter()
        .map(|m| {
            let l = &m.summary.latency_ms;
            let mut cells = vec![
                m.minute.to_string(),
                rps(m.offered_rps),
                rps(m.summary.rps),
                achieved(m),
                ms_figure(l.p50),
                ms_figure(l.p90),
                ms_figure(l.p99),
                pct(m.summary.success_ratio),
                m.summary.errors.describe(),
                m.summary.dropped.to_string(),
            ];
            let differs = m.instances_differ();
            if with_instances {
                cells.push(count(m.instances));
                cells.push(count(m.predicted_instances));
                cells.push(if differs { DIFFERS } else { "" }.into());
            }
            let class = if differs { "differs" } else { "" };
            (class.to_string(), cells.iter().map(|c| esc(c)).collect())
        })
        .collect();
    Table {
        header: &header,
        text_columns: &[8, 12],
        rows,
    }
    .render()
}

// ---- simulate ---------------------------------------------------------------------------

/// The report of a `simulate`: traffic against capacity per minute, instances, the totals.
pub fn simulate_html(r: &SimulateResults) -> String {
    let t = &r.summary;
    let mut body = String::from("<div class=\"verdict\"><div class=\"figures\">");
    body += &figure_box(&t.max_instances.to_string(), "most instances in service");
    body += &figure_box(&t.overloaded_minutes.to_string(), "overloaded minutes");
    body += &figure_box(&t.requests_at_risk.to_string(), "requests at risk");
    body += &figure_box(&t.instance_minutes.to_string(), "instance-minutes");
    body += "</div></div>";
    let charts = [
        figure(
            traffic_chart(r).render(),
            "Hollow markers: minutes in which an instance received more than MAX_RPS.",
        ),
        figure(
            instances_chart(r).render(),
            "Instances taking traffic, and the count the policy asked for.",
        ),
    ];
    body += &section(
        "charts",
        "Charts",
        &format!("<div class=\"charts\">{}</div>", charts.join("\n")),
    );
    let mut pairs = vec![("Metric", r.policy.metric.clone())];
    pairs.extend(policy_facts("Target value", &r.policy.policy));
    pairs.extend([
        ("MAX_RPS per instance", req_s(r.capacity.max_rps)),
        (
            "Scaling events",
            format!("{} out, {} in", t.scale_out_events, t.scale_in_events),
        ),
    ]);
    body += &section("policy", "Policy simulated", &facts(&pairs));
    if let Some(rec) = &r.recommendation {
        body += &section(
            "trade-off",
            "Safety factor trade-off (--recommend)",
            &trade_off_table(rec),
        );
    }
    page(
        "peakrps simulate: traffic against capacity",
        &subtitle(&r.started_at, &r.version),
        &body,
    )
}

fn minute_points(r: &SimulateResults, value: impl Fn(&SimMinute) -> f64, what: &str) -> Vec<Point> {
    r.timeline
        .iter()
        .map(|m| Point {
            x: f64::from(m.minute),
            y: value(m),
            title: format!("minute {}: {} {what}", m.minute, num(value(m))),
        })
        .collect()
}

fn traffic_chart(r: &SimulateResults) -> LineChart {
    let per_instance_target = r.policy.policy.target_value / 60.0;
    let mut series = vec![Series {
        name: "offered traffic".into(),
        style: DARK,
        points: minute_points(r, |m| m.offered_rps, "req/s offered"),
        hollow: r.timeline.iter().map(|m| m.overloaded).collect(),
        labels: vec![],
        step: false,
    }];
    let max_rps = r.capacity.max_rps;
    series.push(Series {
        name: "capacity (instances × MAX_RPS)".into(),
        style: BLACK,
        points: minute_points(r, |m| f64::from(m.instances) * max_rps, "req/s capacity"),
        hollow: vec![],
        labels: vec![],
        step: true,
    });
    series.push(Series {
        name: "scaling target (instances × target/60)".into(),
        style: MID,
        points: minute_points(
            r,
            |m| f64::from(m.instances) * per_instance_target,
            "req/s at the target",
        ),
        hollow: vec![],
        labels: vec![],
        step: true,
    });
    LineChart {
        id: "traffic".into(),
        title: "Traffic vs capacity".into(),
        x: Axis::linear("time (minutes)"),
        y: Axis::linear("traffic (req/s)"),
        series,
        rules: vec![],
        highlights: vec![],
    }
}

fn instances_chart(r: &SimulateResults) -> LineChart {
    let mut series = vec![Series {
        name: "in service".into(),
        style: DARK,
        points: minute_points(r, |m| f64::from(m.instances), "instances in service"),
        hollow: r.timeline.iter().map(|m| m.overloaded).collect(),
        labels: vec![],
        step: true,
    }];
    series.push(Series {
        name: "desired".into(),
        style: MID,
        points: minute_points(r, |m| f64::from(m.desired), "instances desired"),
        hollow: vec![],
        labels: vec![],
        step: true,
    });
    let p = &r.policy.policy;
    LineChart {
        id: "instances".into(),
        title: "Instances per minute".into(),
        x: Axis::linear("time (minutes)"),
        y: Axis::linear("instances (count)"),
        series,
        rules: vec![
            rule(
                false,
                f64::from(p.max_capacity),
                format!("max capacity {}", p.max_capacity),
                LIMIT_RULE,
            ),
            rule(
                false,
                f64::from(p.min_capacity),
                format!("min capacity {}", p.min_capacity),
                TARGET_RULE,
            ),
        ],
        highlights: vec![],
    }
}

//! The charts of a `find` page: throughput and latency against load, the success ratio per
//! step, and the failed requests by kind, with the peak and the scaling target marked.

use super::style::{BLACK, DARK, LIMIT_RULE, MID, PEAK_RULE, TARGET_RULE, error_fill, rule};
use super::view::{Figure, ms, req_s};
use crate::report::format::{max_rps, num, pct};
use crate::report::svg::{
    Axis, BarChart, BarLayer, Highlight, LineChart, Point, Rule, Scale, Series, Style,
};
use crate::results::{ErrorKind, FindResults, Recommendation, Step, Summary};

/// The four figures, over the steps ordered by load (not by when they ran).
pub(super) fn charts(r: &FindResults) -> Vec<Figure> {
    // A shard's idle steps (no user of its own at that level) measured nothing to draw.
    let mut steps: Vec<&Step> = r.steps.iter().filter(|s| !s.is_idle()).collect();
    steps.sort_by(|a, b| level_value(a).total_cmp(&level_value(b)));
    let mut figures = vec![
        Figure::chart(
            throughput_chart(r, &steps).render(),
            if r.model.is_some() {
                "Hollow markers: steps that failed a rule. The dashed curve is the USL fitted to every step, its N* marked; the measured steps decide the peak."
            } else {
                "Hollow markers: steps that failed a rule."
            },
        ),
        Figure::chart(
            latency_chart(r, &steps).render(),
            "Each point is one step; the curve runs from low to high load.",
        ),
        Figure::chart(
            success_chart(r, &steps).render(),
            "The share of requests that succeeded at each step.",
        ),
        errors_figure(&steps),
    ];
    // Streaming steps: TTFT, ITL and tokens per second right after throughput.
    figures.splice(1..1, super::stream_charts::charts(r, &steps));
    figures
}

/// A step's load level: its concurrency, or its offered rate.
pub(super) fn level_value(step: &Step) -> f64 {
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

/// The load-level axis, on a log scale when the levels span a factor of four or more.
pub(super) fn level_axis(r: &FindResults, steps: &[&Step]) -> Axis {
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

pub(super) fn step_point(step: &Step, x: f64, y: f64, what: &str) -> Point {
    let verdict = if step.passed { "passed" } else { "failed" };
    Point {
        x,
        y,
        title: format!("{}: {what} ({verdict})", step.level_label()),
    }
}

/// The steps that failed a rule, drawn hollow.
pub(super) fn failed(steps: &[&Step]) -> Vec<bool> {
    steps.iter().map(|s| !s.passed).collect()
}

/// MAX_RPS and the scaling target's operating point, as rules across throughput.
fn peak_rules(peak_rps: f64, rec: &Recommendation, vertical: bool) -> [Rule; 2] {
    let target = format!(
        "scaling target {} (MAX_RPS × {})",
        req_s(rec.operating_rps()),
        num(rec.safety_factor)
    );
    [
        rule(
            vertical,
            peak_rps,
            format!("MAX_RPS {} req/s", max_rps(peak_rps)),
            PEAK_RULE,
        ),
        rule(vertical, rec.operating_rps(), target, TARGET_RULE),
    ]
}

fn throughput_chart(r: &FindResults, steps: &[&Step]) -> LineChart {
    let points = steps
        .iter()
        .map(|s| {
            let label = format!("{} req/s", max_rps(s.summary.rps));
            step_point(s, level_value(s), s.summary.rps, &label)
        })
        .collect();
    let series = Series::new("measured throughput", DARK, points).with_hollow(failed(steps));
    let mut chart = LineChart::new(
        "throughput",
        "Throughput vs load",
        level_axis(r, steps),
        Axis::linear("throughput (successful req/s)"),
        vec![series],
    );
    if let Some(model) = &r.model {
        let levels = steps.iter().map(|s| level_value(s)).filter(|v| *v > 0.0);
        let lo = levels.clone().fold(f64::MAX, f64::min);
        let hi = levels.fold(0.0, f64::max);
        super::fit_chart::add_model(&mut chart, model, lo, hi);
    }
    if let (Some(peak), Some(rec)) = (&r.peak, &r.recommendation) {
        let x = peak
            .concurrency
            .map(f64::from)
            .or(peak.offered_rps)
            .unwrap_or(0.0);
        chart.highlights.push(Highlight {
            x,
            y: peak.rps,
            label: format!("peak {} req/s", max_rps(peak.rps)),
        });
        chart.rules.extend(peak_rules(peak.rps, rec, false));
    }
    chart
}

/// The latency axis, on a log scale when the latencies span a factor of more than 20.
fn latency_axis(series: &[Series]) -> Axis {
    let all: Vec<f64> = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.y))
        .filter(|v| *v > 0.0)
        .collect();
    let (lo, hi) = (
        all.iter().copied().fold(f64::MAX, f64::min),
        all.iter().copied().fold(0.0, f64::max),
    );
    if hi > 20.0 * lo {
        Axis::linear("latency (ms, log scale)").with_scale(Scale::Log10)
    } else {
        Axis::linear("latency (ms)")
    }
}

fn latency_chart(r: &FindResults, steps: &[&Step]) -> LineChart {
    let percentile = |name: &str, style: Style, pick: fn(&Summary) -> f64| {
        let points = steps
            .iter()
            .map(|s| {
                let (x, y) = (s.summary.rps, pick(&s.summary));
                let at = max_rps(x);
                step_point(s, x, y, &format!("{name} {} at {at} req/s", ms(y)))
            })
            .collect();
        Series::new(format!("{name} latency"), style, points).with_hollow(failed(steps))
    };
    let mut p99 = percentile("p99", BLACK, |s| s.latency_ms.p99);
    // Past the peak the points pile up at one throughput: name each by its load level.
    p99.labels = steps.iter().map(|s| short_level(s)).collect();
    let series = vec![
        percentile("p50", DARK, |s| s.latency_ms.p50),
        percentile("p90", MID, |s| s.latency_ms.p90),
        p99,
    ];
    let y = latency_axis(&series);
    let x = Axis::linear("throughput (successful req/s)");
    let mut chart = LineChart::new("latency", "Latency percentiles vs throughput", x, y, series);
    if let (Some(peak), Some(rec)) = (&r.peak, &r.recommendation) {
        chart.rules.extend(peak_rules(peak.rps, rec, true));
        chart.highlights.push(Highlight {
            x: peak.rps,
            y: peak.latency_ms.p99,
            label: format!("peak: p99 {}", ms(peak.latency_ms.p99)),
        });
    }
    if let Some(limit) = r.settings.max_latency_ms {
        let percentile = num(r.settings.percentile);
        let label = format!("--max-latency {} (p{percentile})", ms(limit));
        chart.rules.push(rule(false, limit, label, LIMIT_RULE));
    }
    chart
}

fn success_chart(r: &FindResults, steps: &[&Step]) -> LineChart {
    let points = steps
        .iter()
        .map(|s| {
            let ratio = s.summary.success_ratio;
            step_point(s, level_value(s), ratio * 100.0, &pct(ratio))
        })
        .collect();
    let series = Series::new("success ratio", DARK, points).with_hollow(failed(steps));
    let mut chart = LineChart::new(
        "success",
        "Success ratio per step",
        level_axis(r, steps),
        Axis::linear("successful requests (%)").not_from_zero(),
        vec![series],
    );
    let min_success = r.settings.min_success;
    chart.rules.push(rule(
        false,
        min_success * 100.0,
        format!("--min-success {}", pct(min_success)),
        LIMIT_RULE,
    ));
    chart
}

/// The failed requests of each step stacked by kind, or a note when none failed.
fn errors_figure(steps: &[&Step]) -> Figure {
    let layers: Vec<BarLayer> = ErrorKind::every()
        .filter(|k| steps.iter().any(|s| s.summary.errors.get(*k) > 0))
        .map(|k| error_layer(k, steps))
        .collect();
    if layers.is_empty() {
        return Figure::note("errors", "Errors by kind: no request failed in any step.");
    }
    let x_label = match steps.first() {
        None => "step",
        Some(s) if s.concurrency.is_some() => "concurrency (users)",
        Some(_) => "offered load (req/s)",
    };
    let chart = BarChart {
        id: "errors".into(),
        title: "Failed requests by kind per step".into(),
        x_label: x_label.into(),
        y_label: "failed requests (count)".into(),
        categories: steps.iter().map(|s| num(level_value(s))).collect(),
        layers,
    };
    Figure::chart(
        chart.render(),
        "Hover a bar for its count. Steps are ordered by load, not by when they ran.",
    )
}

fn error_layer(kind: ErrorKind, steps: &[&Step]) -> BarLayer {
    let (color, hatch) = error_fill(kind);
    BarLayer {
        name: kind.name().into(),
        color,
        hatch,
        values: steps
            .iter()
            .map(|s| s.summary.errors.get(kind) as f64)
            .collect(),
    }
}

//! The charts of a `run` page: for a `run --profile` the minutes (traffic, latency, and
//! the instances against the simulator's), and for every run its latency percentiles.

use super::style::{BLACK, DARK, MID, capacity_rules, minute_points};
use super::view::Figure;
use crate::report::live_scaling::has_instances;
use crate::report::svg::{Axis, BarChart, BarLayer, LineChart, Point, Series, Style};
use crate::results::{ProfileMinute, RunResults, StreamFigures, Summary};

/// The profile's charts, if any, then the latency of the whole run.
pub(super) fn charts(r: &RunResults) -> Vec<Figure> {
    let mut charts = profile_figures(r);
    charts.push(Figure::chart(
        latency_chart(&r.summary).render(),
        "Latency of successful requests.",
    ));
    charts
}

/// The charts over the minutes of a `run --profile`; none for a fixed load.
fn profile_figures(r: &RunResults) -> Vec<Figure> {
    if r.minutes.is_empty() {
        return Vec::new();
    }
    let mut charts = vec![
        Figure::chart(
            traffic_chart(&r.minutes).render(),
            "Hollow markers: minutes with failed or dropped requests.",
        ),
        Figure::chart(
            minute_latency_chart(&r.minutes).render(),
            "Latency of the requests of each minute.",
        ),
    ];
    if r.minutes.iter().any(|m| m.stream.is_some()) {
        charts.push(Figure::chart(
            minute_ttft_chart(&r.minutes).render(),
            "Time to first token and the gap between tokens of the requests of each minute (--stream).",
        ));
    }
    if has_instances(&r.minutes) {
        charts.push(Figure::chart(
            instances_chart(r).render(),
            "Hollow markers: minutes in which the endpoint's count differs from the prediction. A minute whose count could not be read has no marker.",
        ));
    }
    charts
}

/// One point per minute that has a value.
fn points(
    minutes: &[ProfileMinute],
    value: impl Fn(&ProfileMinute) -> Option<f64>,
    what: &str,
) -> Vec<Point> {
    minute_points(minutes, |m| m.minute, value, what)
}

fn minutes_axis() -> Axis {
    Axis::linear("time (minutes)")
}

fn traffic_chart(minutes: &[ProfileMinute]) -> LineChart {
    let troubled = |m: &ProfileMinute| m.summary.errors.total() > 0 || m.summary.dropped > 0;
    let offered = points(minutes, |m| Some(m.offered_rps), "req/s offered");
    let achieved = points(minutes, |m| Some(m.summary.rps), "req/s achieved");
    let series = vec![
        Series::new("offered (the profile)", MID, offered),
        Series::new("achieved (successful)", DARK, achieved)
            .with_hollow(minutes.iter().map(troubled).collect()),
    ];
    LineChart::new(
        "profile-traffic",
        "Offered vs achieved throughput per minute",
        minutes_axis(),
        Axis::linear("throughput (req/s)"),
        series,
    )
}

fn minute_latency_chart(minutes: &[ProfileMinute]) -> LineChart {
    let percentile = |name: &str, style: Style, pick: fn(&ProfileMinute) -> f64| {
        let values = points(minutes, |m| Some(pick(m)), &format!("ms {name}"));
        Series::new(format!("{name} latency"), style, values)
    };
    let series = vec![
        percentile("p50", DARK, |m| m.summary.latency_ms.p50),
        percentile("p99", MID, |m| m.summary.latency_ms.p99),
    ];
    LineChart::new(
        "profile-latency",
        "Latency per minute",
        minutes_axis(),
        Axis::linear("latency (ms)"),
        series,
    )
}

/// `--stream`: TTFT p50 and p99 and the median inter-token gap per minute (a minute
/// without streaming figures has no point).
fn minute_ttft_chart(minutes: &[ProfileMinute]) -> LineChart {
    let figure = |name: &str, style: Style, pick: fn(&StreamFigures) -> f64| {
        let values = points(
            minutes,
            |m| m.stream.as_ref().map(pick),
            &format!("ms {name}"),
        );
        Series::new(name.to_string(), style, values)
    };
    let series = vec![
        figure("TTFT p50", DARK, |f| f.ttft_ms.p50),
        figure("TTFT p99", MID, |f| f.ttft_ms.p99),
        figure("ITL p50", BLACK, |f| f.itl_ms.p50),
    ];
    LineChart::new(
        "profile-ttft",
        "Time to first token and inter-token latency per minute",
        minutes_axis(),
        Axis::linear("latency (ms)"),
        series,
    )
}

/// Observed against predicted instances, both as staircases; the minutes where they
/// differ are hollow on the observed line.
fn instances_chart(r: &RunResults) -> LineChart {
    let minutes = &r.minutes;
    let read = minutes.iter().filter(|m| m.instances.is_some());
    let observed = points(minutes, |m| m.instances.map(f64::from), "instances");
    let predicted = points(
        minutes,
        |m| m.predicted_instances.map(f64::from),
        "instances predicted",
    );
    let series = vec![
        Series::new("endpoint (CurrentInstanceCount)", DARK, observed)
            .with_hollow(read.map(|m| m.instances_differ()).collect())
            .stepped(),
        Series::new("simulator (predicted)", MID, predicted).stepped(),
    ];
    let mut chart = LineChart::new(
        "profile-instances",
        "Instances per minute: the endpoint against the simulator",
        minutes_axis(),
        Axis::linear("instances (count)"),
        series,
    );
    if let Some(p) = r.scaling.as_ref().and_then(|s| s.policy.as_ref()) {
        chart
            .rules
            .extend(capacity_rules(p.min_capacity, p.max_capacity));
    }
    chart
}

/// The latency percentiles of the whole run, as bars.
fn latency_chart(s: &Summary) -> BarChart {
    let l = &s.latency_ms;
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
            values: vec![l.p50, l.p90, l.p99, l.max],
        }],
    }
}

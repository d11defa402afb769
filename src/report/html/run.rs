//! The `run` page's view: the summary, the instance comparison of a `run --profile` on a
//! `sagemaker://` target, the minutes, and what was tested; the charts come from `run_charts`.

use serde::Serialize;

use super::render::render;
use super::run_charts::charts;
use super::view::{
    Fact, Figure, FigureBox, Head, Row, Table, fact, figure_box, ms, policy_facts, req_s,
    target_facts,
};
use crate::Error;
use crate::report::cells::{MinuteColumns, SUMMARY_HEADER, achieved, summary_cells};
use crate::report::format::num;
use crate::report::format::{ms as ms_figure, pct, rps};
use crate::report::live_scaling::{comparison_sentence, plural};
use crate::results::{LiveScaling, ProfileMinute, RunResults, StreamFigures, Summary};

#[derive(Serialize)]
struct RunPage<'a> {
    head: Head,
    figures: Vec<FigureBox>,
    summary: Table,
    /// `--stream`: the run's tokens, TTFT and inter-token latency.
    stream: Option<StreamView>,
    scaling: Option<Scaling<'a>>,
    charts: Vec<Figure>,
    /// None for a run without a profile.
    minutes: Option<Table>,
    tested: Vec<Fact>,
}

/// The endpoint's instance counts against the simulator's, in words and as the policy.
#[derive(Serialize)]
struct Scaling<'a> {
    sentence: String,
    notes: &'a [String],
    facts: Vec<Fact>,
}

/// The report of a `run`: its summary and what was tested; for a `run --profile` also the
/// minutes (charts over time and a table) and, on a `sagemaker://` target, the instance
/// counts the endpoint had beside those the simulator predicted.
pub(super) fn page(r: &RunResults) -> Result<String, Error> {
    let s = &r.summary;
    let mut figures = vec![
        figure_box(req_s(s.rps), "throughput (successful)"),
        figure_box(ms(s.latency_ms.p99), "p99 latency"),
        figure_box(pct(s.success_ratio), "success"),
    ];
    if let Some(f) = &r.stream {
        figures.push(figure_box(ms(f.ttft_ms.p99), "p99 time to first token"));
    }
    let view = RunPage {
        head: Head::new(
            format!("peakrps run: {}", r.target.name()),
            &r.started_at,
            &r.version,
        ),
        figures,
        summary: summary_table(s),
        stream: r.stream.as_ref().map(stream_view),
        scaling: r.scaling.as_ref().map(|scaling| scaling_view(r, scaling)),
        charts: charts(r),
        minutes: (!r.minutes.is_empty()).then(|| minute_table(&r.minutes)),
        tested: tested(r),
    };
    render("run.html", &view)
}

fn summary_table(s: &Summary) -> Table {
    let mut header = Vec::from(SUMMARY_HEADER);
    header.extend(["dropped", "seconds"]);
    let mut cells = Vec::from(summary_cells(s));
    cells.extend([s.dropped.to_string(), num(s.duration_s)]);
    Table {
        header,
        text_columns: vec![7],
        rows: vec![Row { class: "", cells }],
    }
}

/// The streaming figures of the whole run: one row, and where the token counts came from.
#[derive(Serialize)]
struct StreamView {
    table: Table,
    note: String,
}

fn stream_view(f: &StreamFigures) -> StreamView {
    StreamView {
        table: stream_table(f),
        note: format!("Token counts: {}.", f.tokens_from.describe()),
    }
}

fn stream_table(f: &StreamFigures) -> Table {
    let header = vec![
        "output tok/s",
        "tok/s per request",
        "TTFT p50 ms",
        "TTFT p90 ms",
        "TTFT p99 ms",
        "ITL p50 ms",
        "ITL p90 ms",
        "ITL p99 ms",
        "tokens a request",
        "in flight",
    ];
    let cells = vec![
        rps(f.output_tokens_per_s),
        rps(f.output_tokens_per_s_per_request),
        ms_figure(f.ttft_ms.p50),
        ms_figure(f.ttft_ms.p90),
        ms_figure(f.ttft_ms.p99),
        ms_figure(f.itl_ms.p50),
        ms_figure(f.itl_ms.p90),
        ms_figure(f.itl_ms.p99),
        format!("{:.0}", f.mean_output_tokens),
        format!("{:.1}", f.concurrency),
    ];
    Table {
        header,
        text_columns: Vec::new(),
        rows: vec![Row { class: "", cells }],
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

fn tested(r: &RunResults) -> Vec<Fact> {
    let mut facts = Vec::from(target_facts(&r.target));
    facts.extend([
        fact("Load", load_text(r)),
        fact("Started", r.started_at.clone()),
        fact("peakrps version", r.version.clone()),
        fact("Interrupted", if r.interrupted { "yes" } else { "no" }),
    ]);
    facts
}

/// The comparison sentence, the notes, and the live policy the prediction came from.
fn scaling_view<'a>(r: &RunResults, scaling: &'a LiveScaling) -> Scaling<'a> {
    let mut facts = vec![
        fact(
            "Endpoint",
            format!("{}, variant {}", scaling.endpoint, scaling.variant),
        ),
        fact(
            "Instances at the start",
            scaling.initial_instances.to_string(),
        ),
    ];
    match &scaling.policy {
        Some(p) => facts.extend(policy_facts("Live target value", p)),
        None => facts.push(fact(
            "Live policy",
            "none the simulator can model: the prediction holds the starting count",
        )),
    }
    let timing = &scaling.timing;
    facts.push(fact(
        "Simulator timing",
        format!(
            "datapoints reach the alarms after {}; new instances take traffic {} after the decision's minute",
            plural(timing.metric_delay_min as usize, "minute"),
            plural(timing.provisioning_min as usize + 1, "minute")
        ),
    ));
    Scaling {
        sentence: comparison_sentence(r, scaling),
        notes: &scaling.notes,
        facts,
    }
}

/// One row per minute; with instance counts, the minutes where they differ are marked.
fn minute_table(minutes: &[ProfileMinute]) -> Table {
    let columns = MinuteColumns::of(minutes, true);
    Table {
        header: columns.header(),
        text_columns: columns.text_columns(),
        rows: minutes.iter().map(|m| minute_row(m, columns)).collect(),
    }
}

fn minute_row(m: &ProfileMinute, columns: MinuteColumns) -> Row {
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
    cells.extend(columns.tail_cells(m));
    let class = if m.instances_differ() { "differs" } else { "" };
    Row { class, cells }
}

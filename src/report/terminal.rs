//! The final table and verdict, written for a person at a terminal: aligned, the peak row
//! and a profile's disagreeing instance counts marked, colour only on a terminal and never
//! when NO_COLOR is set.

use std::io::IsTerminal;

use comfy_table::presets::UTF8_BORDERS_ONLY;
use comfy_table::{Attribute, Cell, CellAlignment, Color, Table};

use super::live_scaling::has_instances;
use crate::results::{
    CloudWatchFigures, FindResults, MetricSummary, ProfileMinute, RunResults, SimulateResults,
    Step, Summary,
};

/// Writes to stdout; a closed pipe (`peakrps … | head`) is not an error worth a panic.
pub fn emit(text: &str) {
    use std::io::Write;
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

/// Writes to stderr: the table's place when stdout carries a document (`--json -`).
pub fn emit_stderr(text: &str) {
    use std::io::Write;
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

/// Colour is used when stdout is a terminal and NO_COLOR is unset (https://no-color.org).
pub fn color_enabled() -> bool {
    no_color_unset() && std::io::stdout().is_terminal()
}

/// As `color_enabled`, for text written to stderr.
pub fn stderr_color_enabled() -> bool {
    no_color_unset() && std::io::stderr().is_terminal()
}

fn no_color_unset() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// A table in the report's border style, coloured only when `color` is set.
pub(super) fn new_table(color: bool) -> Table {
    let mut table = Table::new();
    table.load_style(UTF8_BORDERS_ONLY);
    if color {
        table.enforce_styling();
    } else {
        table.force_no_tty();
    }
    table
}

/// Milliseconds to a precision that matters: 1234, 25.3, 0.42.
pub(super) fn ms(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// Requests per second: one decimal below 10 000, none above.
pub(super) fn rps(v: f64) -> String {
    if v >= 10_000.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// A success ratio as a percentage, rounded down so that 99.96% never reads as 100.0% and a
/// step below --min-success never reads as reaching it.
pub(super) fn pct(ratio: f64) -> String {
    format!("{:.1}%", (ratio * 1000.0 + 1e-6).floor() / 10.0)
}

/// The columns `summary_cells` fills, as every table that shows a whole summary heads them.
pub(super) const SUMMARY_HEADER: [&str; 8] = [
    "req/s", "requests", "p50 ms", "p90 ms", "p99 ms", "max ms", "success", "errors",
];

/// A summary's figures as table cells, the same in the terminal and the HTML report.
pub(super) fn summary_cells(s: &Summary) -> [String; 8] {
    let l = &s.latency_ms;
    [
        rps(s.rps),
        s.requests.to_string(),
        ms(l.p50),
        ms(l.p90),
        ms(l.p99),
        ms(l.max),
        pct(s.success_ratio),
        s.errors.describe(),
    ]
}

fn align_right(table: &mut Table, columns: &[usize]) {
    for &i in columns {
        if let Some(col) = table.column_mut(i) {
            col.set_cell_alignment(CellAlignment::Right);
        }
    }
}

/// One row per step: load level, throughput, latency percentiles, success, errors, verdict.
pub fn find_table(results: &FindResults, color: bool) -> String {
    if results.steps.iter().any(|s| s.stream.is_some()) {
        return super::stream::find_table(results, color);
    }
    let mut table = new_table(color);
    let level_header = if results.mode == "rate" {
        "offered req/s"
    } else {
        "concurrency"
    };
    table.set_header(vec![
        level_header,
        "req/s",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "max ms",
        "success",
        "errors",
        "stable",
        "passed",
        "",
    ]);
    for step in &results.steps {
        table.add_row(step_row(step, results.is_peak(step), color));
    }
    align_right(&mut table, &[0, 1, 2, 3, 4, 5, 6]);
    table.to_string()
}

fn step_row(step: &Step, is_peak: bool, color: bool) -> Vec<Cell> {
    let s = &step.summary;
    let level = match (step.concurrency, step.offered_rps) {
        (Some(c), _) => c.to_string(),
        (None, Some(r)) => format!("{r:.0}"),
        (None, None) => "-".into(),
    };
    let mut texts = if step.is_idle() {
        // Nothing was sent: no figure to show, not figures of zero.
        let mut texts = vec!["-".to_string(); 8];
        texts[0] = level;
        texts
    } else {
        vec![
            level,
            rps(s.rps),
            ms(s.latency_ms.p50),
            ms(s.latency_ms.p90),
            ms(s.latency_ms.p99),
            ms(s.latency_ms.max),
            pct(s.success_ratio),
            s.errors.describe(),
        ]
    };
    texts.extend(verdict_cells(step, is_peak));
    step_cells(texts, step, is_peak, color)
}

/// The last three cells of a step's row: stable, passed, and the peak's mark.
pub(super) fn verdict_cells(step: &Step, is_peak: bool) -> [String; 3] {
    if step.is_idle() {
        return ["-".into(), "-".into(), String::new()];
    }
    let stable = if step.partial {
        "partial"
    } else if step.stable {
        "yes"
    } else {
        "no"
    };
    let passed = if step.passed { "yes" } else { "no" };
    let mark = if is_peak { "◀ peak" } else { "" };
    [stable.into(), passed.into(), mark.into()]
}

/// A step's row as cells: the peak's in bold green, a failing step's "no" in red (the
/// passed column is the one before the last).
pub(super) fn step_cells(texts: Vec<String>, step: &Step, is_peak: bool, color: bool) -> Vec<Cell> {
    let passed_column = texts.len().saturating_sub(2);
    texts
        .into_iter()
        .enumerate()
        .map(|(i, text)| {
            let cell = Cell::new(text);
            if color && is_peak {
                cell.fg(Color::Green).add_attribute(Attribute::Bold)
            } else if color && i == passed_column && !step.passed && !step.is_idle() {
                cell.fg(Color::Red)
            } else {
                cell
            }
        })
        .collect()
}

/// The verdict under the table: the peak, why the search stopped, the scaling target.
pub fn find_verdict(results: &FindResults) -> String {
    let mut out = String::new();
    match (&results.peak, &results.recommendation) {
        (Some(peak), Some(rec)) if peak.is_stream() => {
            out += &super::stream::peak_lines(results, peak, rec);
        }
        (Some(peak), Some(rec)) => {
            let at = match (peak.concurrency, peak.offered_rps) {
                (Some(c), _) => format!("concurrency {c}"),
                (None, Some(r)) => format!("an offered rate of {r:.0} req/s"),
                _ => "an unknown level".into(),
            };
            out += &format!(
                "{} at {at} (p50 {} ms, p99 {} ms, success {})\n",
                super::uncertainty::max_rps(peak),
                ms(peak.latency_ms.p50),
                ms(peak.latency_ms.p99),
                pct(peak.success_ratio)
            );
            out += &format!("Stopped because: {}\n", results.stop_reason);
            out += &format!("Scaling target: {}\n", rec.formula());
            out += &format!(
                "                (target value {} invocations per minute per instance; each instance\n                 then runs at about {} req/s, MAX_RPS × SAFETY_FACTOR)\n",
                rec.invocations_per_instance,
                rps(rec.max_rps * rec.safety_factor)
            );
            if let Some(range) = super::uncertainty::target_range(rec) {
                out += &format!("                ({range})\n");
            }
        }
        _ if results.shard.as_ref().is_some_and(|s| s.index.is_some()) => {
            out += "One shard's part of the run: `peakrps merge` finds the peak of the whole.\n";
            out += &format!("Stopped because: {}\n", results.stop_reason);
        }
        _ => {
            out += "No load level passed: there is no peak to scale on.\n";
            out += &format!("Stopped because: {}\n", results.stop_reason);
        }
    }
    let unstable: Vec<String> = results
        .steps
        .iter()
        .filter(|s| !s.stable && !s.partial && !s.is_idle())
        .map(|s| s.level().to_string())
        .collect();
    if !unstable.is_empty() {
        out += &format!(
            "Note: the steps at {} {} did not settle within --step-duration ({} s); their figures vary more than ±{:.0}%.\n",
            if results.mode == "rate" {
                "rate"
            } else {
                "concurrency"
            },
            unstable.join(", "),
            results.settings.step_duration_s,
            results.settings.stability * 100.0 / 2.0
        );
    }
    if let Some(model) = &results.model {
        let lines = super::uncertainty::model_lines(model, results.rate_mode());
        for (i, line) in lines.iter().enumerate() {
            out += if i == 0 { "Model: " } else { "       " };
            out += line;
            out += "\n";
        }
    }
    for step in &results.steps {
        for note in &step.notes {
            out += &format!("Note: at {}: {note}.\n", step.level_label());
        }
    }
    out += "Latency counts every answered request, failures included (the successes' alone are latency_ms_ok in the JSON).\n";
    if results.interrupted {
        out += "Interrupted: the results cover the steps finished before the interruption.\n";
    }
    out
}

/// A `run` for the terminal: with `--profile`, the minutes (and, on a `sagemaker://`
/// target, the instance comparison) above the summary of the whole run.
pub fn run_report(results: &RunResults, color: bool) -> String {
    let mut out = String::new();
    if !results.minutes.is_empty() {
        out += &profile_table(&results.minutes, color);
        out += "\n";
        if let Some(comparison) = super::scaling_comparison(results) {
            out += &comparison;
        }
        out += "\n";
    }
    out + &run_summary(&results.summary, color) + "\n"
}

/// The summary of one `run`.
pub fn run_summary(summary: &Summary, color: bool) -> String {
    let mut table = new_table(color);
    let mut header = Vec::from(SUMMARY_HEADER);
    header.push("seconds");
    table.set_header(header);
    let mut row = Vec::from(summary_cells(summary));
    row.push(format!("{:.1}", summary.duration_s));
    table.add_row(row);
    align_right(&mut table, &[0, 1, 2, 3, 4, 5, 6, 8]);
    table.to_string()
}

/// The totals of a `simulate`, and its policy.
pub fn simulate_summary(results: &SimulateResults, color: bool) -> String {
    let mut table = new_table(color);
    let s = &results.summary;
    table.set_header(vec![
        "minutes",
        "max instances",
        "instance-minutes",
        "overloaded minutes",
        "requests at risk",
        "scale-outs",
        "scale-ins",
    ]);
    table.add_row(vec![
        results.timeline.len().to_string(),
        s.max_instances.to_string(),
        s.instance_minutes.to_string(),
        s.overloaded_minutes.to_string(),
        s.requests_at_risk.to_string(),
        s.scale_out_events.to_string(),
        s.scale_in_events.to_string(),
    ]);
    let p = &results.policy.policy;
    format!(
        "{table}\nPolicy: target {} invocations per instance per minute, {} to {} instances, cooldowns out {} s / in {} s\n",
        p.target_value,
        p.min_capacity,
        p.max_capacity,
        p.scale_out_cooldown_s,
        p.scale_in_cooldown_s
    )
}

/// The figures as lines for the terminal, with the client's own latency beside them.
pub fn cloudwatch_lines(figures: &CloudWatchFigures, client: &str) -> String {
    let metric = |m: &Option<MetricSummary>| match m {
        Some(m) => format!("avg {:.1} ms, max {:.1} ms", m.average_ms, m.maximum_ms),
        None => "no data".to_string(),
    };
    let mut out = format!(
        "CloudWatch ({}, EndpointName={}, per minute, {} to {}):\n",
        figures.namespace, figures.endpoint, figures.start, figures.end
    );
    if figures.variants.is_empty() {
        out.push_str("  no ModelLatency data for this endpoint yet\n");
    }
    for v in &figures.variants {
        let invocations = v.model_latency.as_ref().map_or(0.0, |m| m.samples);
        out.push_str(&format!(
            "  {}: ModelLatency {}; OverheadLatency {}; {invocations:.0} invocations\n",
            v.variant,
            metric(&v.model_latency),
            metric(&v.overhead_latency)
        ));
    }
    out.push_str(&format!("  client (whole round trip): {client}\n"));
    if let Some(note) = &figures.note {
        out.push_str(&format!("  note: {note}\n"));
    }
    out
}

/// `run --profile`: one row per minute, offered against achieved. When the minutes carry
/// instance counts (a `sagemaker://` target), the endpoint's and the simulator's are added
/// and the minutes where they differ are marked in text, not only in colour.
pub fn profile_table(minutes: &[ProfileMinute], color: bool) -> String {
    let mut table = new_table(color);
    let columns = MinuteColumns::of(minutes, false);
    let header = columns.header();
    table.set_header(header.clone());
    for m in minutes {
        table.add_row(profile_row(m, columns, color));
    }
    let right: Vec<usize> = (0..header.len())
        .filter(|i| !columns.text_columns().contains(i))
        .collect();
    align_right(&mut table, &right);
    table.to_string()
}

/// Which columns a table of profile minutes has: p90 too where there is room (HTML), the
/// streaming figures when the minutes carry them (`--stream`), and the instance counts when
/// they carry those.
#[derive(Clone, Copy)]
pub(super) struct MinuteColumns {
    pub p90: bool,
    pub stream: bool,
    pub instances: bool,
}

impl MinuteColumns {
    pub fn of(minutes: &[ProfileMinute], p90: bool) -> Self {
        MinuteColumns {
            p90,
            stream: minutes.iter().any(|m| m.stream.is_some()),
            instances: has_instances(minutes),
        }
    }

    pub fn header(self) -> Vec<&'static str> {
        let mut header = vec!["minute", "offered req/s", "req/s", "achieved", "p50 ms"];
        if self.p90 {
            header.push("p90 ms");
        }
        header.extend(["p99 ms", "success", "errors", "dropped"]);
        if self.stream {
            header.extend(MINUTE_STREAM_HEADER);
        }
        if self.instances {
            header.extend(INSTANCE_HEADER);
        }
        header
    }

    /// The columns of words, aligned left: the errors, and the mark of differing counts.
    pub fn text_columns(self) -> Vec<usize> {
        let errors = if self.p90 { 8 } else { 7 };
        let mut columns = vec![errors];
        if self.instances {
            columns.push(self.header().len() - 1);
        }
        columns
    }

    /// A minute's cells after `dropped`: its streaming figures and instance counts.
    pub fn tail_cells(self, m: &ProfileMinute) -> Vec<String> {
        let mut cells = Vec::new();
        if self.stream {
            cells.extend(minute_stream_cells(m));
        }
        if self.instances {
            cells.extend(instance_cells(m));
        }
        cells
    }
}

/// The columns `minute_stream_cells` fills.
const MINUTE_STREAM_HEADER: [&str; 4] =
    ["output tok/s", "TTFT p50 ms", "TTFT p99 ms", "ITL p50 ms"];

/// A minute's output tokens per second, TTFT and ITL ("-" in a minute without them).
fn minute_stream_cells(m: &ProfileMinute) -> [String; 4] {
    match &m.stream {
        Some(f) => [
            rps(f.output_tokens_per_s),
            ms(f.ttft_ms.p50),
            ms(f.ttft_ms.p99),
            ms(f.itl_ms.p50),
        ],
        None => ["-".into(), "-".into(), "-".into(), "-".into()],
    }
}

/// Achieved against offered, as a percentage ("-" when nothing was offered).
pub(super) fn achieved(m: &ProfileMinute) -> String {
    if m.offered_rps > 0.0 {
        format!("{:.1}%", m.summary.rps / m.offered_rps * 100.0)
    } else {
        "-".into()
    }
}

/// An instance count, "-" when it is not known.
fn count(value: Option<u32>) -> String {
    value.map_or_else(|| "-".into(), |v| v.to_string())
}

/// The columns `instance_cells` fills, after a minute's traffic columns.
pub(super) const INSTANCE_HEADER: [&str; 3] = ["instances", "predicted", ""];

/// A minute's instance counts, the endpoint's and the simulator's, and beside them
/// "◀ differs" when the two are known and not the same.
pub(super) fn instance_cells(m: &ProfileMinute) -> [String; 3] {
    let differs = if m.instances_differ() {
        "◀ differs"
    } else {
        ""
    };
    [
        count(m.instances),
        count(m.predicted_instances),
        differs.into(),
    ]
}

fn profile_row(m: &ProfileMinute, columns: MinuteColumns, color: bool) -> Vec<Cell> {
    let s = &m.summary;
    let mut texts = vec![
        m.minute.to_string(),
        rps(m.offered_rps),
        rps(s.rps),
        achieved(m),
        ms(s.latency_ms.p50),
        ms(s.latency_ms.p99),
        pct(s.success_ratio),
        s.errors.describe(),
        s.dropped.to_string(),
    ];
    texts.extend(columns.tail_cells(m));
    // The instance counts are the last three columns; they stand out where they differ.
    let counts_from = texts.len().saturating_sub(INSTANCE_HEADER.len());
    let differs = columns.instances && m.instances_differ();
    texts
        .into_iter()
        .enumerate()
        .map(|(i, text)| {
            let cell = Cell::new(text);
            if color && differs && i >= counts_from {
                cell.fg(Color::Yellow).add_attribute(Attribute::Bold)
            } else {
                cell
            }
        })
        .collect()
}

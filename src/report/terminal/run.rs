//! The final tables of a `run`: the summary, and with `--profile` one row per minute (with
//! the instance comparison on a `sagemaker://` target); CloudWatch's figures beside the
//! client's.

use comfy_table::{Attribute, Cell, Color};

use super::{align_right, new_table, render};
use crate::report::cells::{
    INSTANCE_HEADER, MinuteColumns, SUMMARY_HEADER, achieved, summary_cells,
};
use crate::report::format::{ms, pct, rps};
use crate::report::live_scaling::scaling_comparison;
use crate::results::{CloudWatchFigures, MetricSummary, ProfileMinute, RunResults, Summary};

/// A `run` for the terminal: with `--profile`, the minutes (and, on a `sagemaker://`
/// target, the instance comparison) above the summary of the whole run.
pub fn run_report(results: &RunResults, color: bool) -> String {
    let mut out = String::new();
    if !results.minutes.is_empty() {
        out += &profile_table(&results.minutes, color);
        out += "\n";
        if let Some(comparison) = scaling_comparison(results) {
            out += &comparison;
        }
        out += "\n";
    }
    out + &run_summary(&results.summary, color) + "\n"
}

/// The columns of a run's summary a narrow terminal loses first, in this order.
const SUMMARY_DROP_ORDER: [&str; 4] = ["p90 ms", "max ms", "requests", "p50 ms"];

/// The columns of a profile's minutes a narrow terminal loses first, in this order.
const PROFILE_DROP_ORDER: [&str; 7] = [
    "dropped",
    "p50 ms",
    "TTFT p50 ms",
    "ITL p50 ms",
    "req/s",
    "errors",
    "output tok/s",
];

/// The summary of one `run`, fitted to the terminal's width (`SUMMARY_DROP_ORDER`).
pub fn run_summary(summary: &Summary, color: bool) -> String {
    let mut table = new_table(color);
    let mut header = Vec::from(SUMMARY_HEADER);
    header.push("seconds");
    table.set_header(header);
    let mut row = Vec::from(summary_cells(summary));
    row.push(format!("{:.1}", summary.duration_s));
    table.add_row(row);
    align_right(&mut table, &[0, 1, 2, 3, 4, 5, 6, 8]);
    render(table, &SUMMARY_DROP_ORDER)
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
/// and the minutes where they differ are marked in text, not only in colour. Fitted to the
/// terminal's width (`PROFILE_DROP_ORDER`).
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
    render(table, &PROFILE_DROP_ORDER)
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

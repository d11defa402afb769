//! The final table and verdict, written for a person at a terminal: aligned, the peak row
//! marked, colour only on a terminal and never when NO_COLOR is set.

use std::io::IsTerminal;

use comfy_table::presets::UTF8_BORDERS_ONLY;
use comfy_table::{Attribute, Cell, CellAlignment, Color, Table};

use super::FindResults;
use crate::search::Step;
use crate::stats::Summary;

/// Colour is used when stdout is a terminal and NO_COLOR is unset (https://no-color.org).
pub fn color_enabled() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stdout().is_terminal()
}

fn new_table(color: bool) -> Table {
    let mut table = Table::new();
    table.load_style(UTF8_BORDERS_ONLY);
    if color {
        table.enforce_styling();
    } else {
        table.force_no_tty();
    }
    table
}

fn ms(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

fn pct(ratio: f64) -> String {
    format!("{:.1}%", ratio * 100.0)
}

/// One row per step: load level, throughput, latency percentiles, success, errors, verdict.
pub fn find_table(results: &FindResults, color: bool) -> String {
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
    let peak_level = results
        .peak
        .as_ref()
        .map(|p| (p.concurrency, p.offered_rps));
    for step in &results.steps {
        let is_peak = peak_level == Some((step.concurrency, step.offered_rps)) && step.passed;
        table.add_row(step_row(step, is_peak, color));
    }
    for i in 1..=9 {
        if let Some(col) = table.column_mut(i) {
            col.set_cell_alignment(CellAlignment::Right);
        }
    }
    if let Some(col) = table.column_mut(0) {
        col.set_cell_alignment(CellAlignment::Right);
    }
    table.to_string()
}

fn step_row(step: &Step, is_peak: bool, color: bool) -> Vec<Cell> {
    let s = &step.summary;
    let level = match (step.concurrency, step.offered_rps) {
        (Some(c), _) => c.to_string(),
        (None, Some(r)) => format!("{r:.0}"),
        (None, None) => "-".into(),
    };
    let stable = if step.partial {
        "partial"
    } else if step.stable {
        "yes"
    } else {
        "no"
    };
    let texts = [
        level,
        format!("{:.1}", s.rps),
        ms(s.latency_ms.p50),
        ms(s.latency_ms.p90),
        ms(s.latency_ms.p99),
        ms(s.latency_ms.max),
        pct(s.success_ratio),
        s.errors.describe(),
        stable.to_string(),
        if step.passed { "yes" } else { "no" }.to_string(),
        if is_peak {
            "◀ peak".to_string()
        } else {
            String::new()
        },
    ];
    texts
        .into_iter()
        .enumerate()
        .map(|(i, text)| {
            let mut cell = Cell::new(text);
            if color && is_peak {
                cell = cell.fg(Color::Green).add_attribute(Attribute::Bold);
            } else if color && i == 9 && !step.passed {
                cell = cell.fg(Color::Red);
            }
            cell
        })
        .collect()
}

/// The verdict under the table: the peak, why the search stopped, the scaling target.
pub fn find_verdict(results: &FindResults) -> String {
    let mut out = String::new();
    match (&results.peak, &results.recommendation) {
        (Some(peak), Some(rec)) => {
            let at = match (peak.concurrency, peak.offered_rps) {
                (Some(c), _) => format!("concurrency {c}"),
                (None, Some(r)) => format!("an offered rate of {r:.0} req/s"),
                _ => "an unknown level".into(),
            };
            out += &format!(
                "Peak (MAX_RPS): {} req/s at {at} (p50 {} ms, p99 {} ms, success {})\n",
                peak.rps,
                ms(peak.latency_ms.p50),
                ms(peak.latency_ms.p99),
                pct(peak.success_ratio)
            );
            out += &format!("Stopped because: {}\n", results.stop_reason);
            out += &format!("Scaling target: {}\n", rec.formula());
            out += &format!(
                "                (target value {} invocations per minute per instance)\n",
                rec.invocations_per_instance
            );
        }
        _ => {
            out += "No load level passed: there is no peak to scale on.\n";
            out += &format!("Stopped because: {}\n", results.stop_reason);
        }
    }
    let unstable: Vec<String> = results
        .steps
        .iter()
        .filter(|s| !s.stable && !s.partial)
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
    if results.interrupted {
        out += "Interrupted: the results cover the steps finished before the interruption.\n";
    }
    out
}

/// The summary of one `run`.
pub fn run_summary(summary: &Summary, color: bool) -> String {
    let mut table = new_table(color);
    table.set_header(vec![
        "req/s", "requests", "p50 ms", "p90 ms", "p99 ms", "max ms", "success", "errors", "seconds",
    ]);
    table.add_row(vec![
        format!("{:.1}", summary.rps),
        summary.requests.to_string(),
        ms(summary.latency_ms.p50),
        ms(summary.latency_ms.p90),
        ms(summary.latency_ms.p99),
        ms(summary.latency_ms.max),
        pct(summary.success_ratio),
        summary.errors.describe(),
        format!("{:.1}", summary.duration_s),
    ]);
    table.to_string()
}

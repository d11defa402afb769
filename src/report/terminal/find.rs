//! The final table and verdict of a `find`: one row per step with the peak marked, then the
//! peak, why the search stopped, the scaling target and the fitted model in words.

use comfy_table::Cell;

use super::{align_right, new_table, render, step_cells, verdict_cells};
use crate::report::format::{ms, pct, rps, stability_band};
use crate::report::uncertainty;
use crate::results::{FindResults, Step};

/// The columns a narrow terminal loses first, in this order (the load level, req/s, p99,
/// success and passed stay).
pub const FIND_DROP_ORDER: [&str; 5] = ["p90 ms", "max ms", "stable", "p50 ms", "errors"];

/// One row per step: load level, throughput, latency percentiles, success, errors, verdict;
/// fitted to the terminal's width (`FIND_DROP_ORDER`).
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
    render(table, &FIND_DROP_ORDER)
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
                uncertainty::max_rps(peak),
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
            if let Some(range) = uncertainty::target_range(rec) {
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
            "Note: the steps at {} {} did not settle within --step-duration ({} s): their last 3 windows differ by more than {} (--stability).\n",
            if results.mode == "rate" {
                "rate"
            } else {
                "concurrency"
            },
            unstable.join(", "),
            results.settings.step_duration_s,
            stability_band(results.settings.stability)
        );
    }
    if let Some(model) = &results.model {
        let lines = uncertainty::model_lines(model, results.rate_mode());
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

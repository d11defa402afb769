//! Streaming (LLM) results for a person at a terminal: a step's progress line, the table of
//! TTFT, inter-token latency and tokens per second against concurrency, and the verdict with
//! both scaling targets (concurrency, and invocations).

use comfy_table::Cell;

use super::{align_right, new_table, render, step_cells, verdict_cells};
use crate::report::format::{ms, pct, rps};
use crate::results::{FindResults, Peak, Recommendation, Step, StreamFigures};

/// The line a finished streaming step prints on stderr; `None` for other steps.
pub fn progress_line(step: &Step, verdict: &str) -> Option<String> {
    let f = step.stream.as_ref()?;
    Some(format!(
        "  {:<18} {:>8.1} tok/s {:>6.2} req/s  TTFT p50 {:>7.1} p99 {:>7.1} ms  ITL p50 {:>6.1} p99 {:>6.1} ms  ok {:>5.1}%  {}{}",
        step.level_label(),
        f.output_tokens_per_s,
        step.summary.rps,
        f.ttft_ms.p50,
        f.ttft_ms.p99,
        f.itl_ms.p50,
        f.itl_ms.p99,
        step.summary.success_ratio * 100.0,
        if step.stable { "" } else { "unstable, " },
        verdict
    ))
}

const HEADER: [&str; 14] = [
    "concurrency",
    "tok/s",
    "req/s",
    "TTFT p50",
    "TTFT p99",
    "ITL p50",
    "ITL p99",
    "e2e p99",
    "in flight",
    "success",
    "errors",
    "stable",
    "passed",
    "",
];

/// The streaming figures of a `run`, one line.
pub fn run_line(f: &StreamFigures) -> String {
    format!(
        "Streaming: {} output tokens/s; TTFT p50 {} ms, p99 {} ms; ITL p50 {} ms, p99 {} ms; {:.0} output tokens a request (counts: {}); {:.1} in flight\n",
        rps(f.output_tokens_per_s),
        ms(f.ttft_ms.p50),
        ms(f.ttft_ms.p99),
        ms(f.itl_ms.p50),
        ms(f.itl_ms.p99),
        f.mean_output_tokens,
        f.tokens_from.describe(),
        f.concurrency
    )
}

/// The columns a narrow terminal loses first, in this order (concurrency, tok/s, the p99s
/// of TTFT and ITL, success and passed stay).
const DROP_ORDER: [&str; 7] = [
    "in flight",
    "e2e p99",
    "req/s",
    "TTFT p50",
    "ITL p50",
    "stable",
    "errors",
];

/// One row per step: tokens per second, TTFT and ITL (ms), end-to-end p99, concurrency in
/// flight, success, errors, verdict; fitted to the terminal's width (`DROP_ORDER`).
pub fn find_table(results: &FindResults, color: bool) -> String {
    let mut table = new_table(color);
    table.set_header(HEADER.to_vec());
    for step in &results.steps {
        table.add_row(row(step, results.is_peak(step), color));
    }
    align_right(&mut table, &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    render(table, &DROP_ORDER)
}

fn row(step: &Step, is_peak: bool, color: bool) -> Vec<Cell> {
    let s = &step.summary;
    let none = StreamFigures {
        ttft_ms: Default::default(),
        itl_ms: Default::default(),
        ttft_at_percentile_ms: 0.0,
        itl_at_percentile_ms: 0.0,
        output_tokens_per_s: 0.0,
        output_tokens_per_s_per_request: 0.0,
        output_tokens: 0,
        input_tokens: 0,
        mean_output_tokens: 0.0,
        concurrency: 0.0,
        tokens_from: crate::results::TokenSource::Counted,
    };
    let f = step.stream.as_ref().unwrap_or(&none);
    let mut texts = vec![
        step.concurrency.map_or("-".into(), |c| c.to_string()),
        rps(f.output_tokens_per_s),
        format!("{:.2}", s.rps),
        ms(f.ttft_ms.p50),
        ms(f.ttft_ms.p99),
        ms(f.itl_ms.p50),
        ms(f.itl_ms.p99),
        ms(s.latency_ms.p99),
        format!("{:.1}", f.concurrency),
        pct(s.success_ratio),
        s.errors.describe(),
    ];
    texts.extend(verdict_cells(step, is_peak));
    step_cells(texts, step, is_peak, color)
}

/// The verdict of a streaming peak: where it is, why the search stopped, both targets.
pub fn peak_lines(results: &FindResults, peak: &Peak, rec: &Recommendation) -> String {
    let mut out = String::new();
    let c = peak.concurrency.map_or("-".to_string(), |c| c.to_string());
    if let Some(f) = &peak.stream {
        out += &format!(
            "Peak: concurrency {c}, {} output tokens/s ({} req/s; TTFT p50 {} ms, p99 {} ms; ITL p50 {} ms, p99 {} ms; success {})\n",
            rps(f.output_tokens_per_s),
            rps(peak.rps),
            ms(f.ttft_ms.p50),
            ms(f.ttft_ms.p99),
            ms(f.itl_ms.p50),
            ms(f.itl_ms.p99),
            pct(peak.success_ratio)
        );
        out += &format!(
            "      each request: {:.0} output tokens at {:.1} tokens/s after the first (token counts: {})\n",
            f.mean_output_tokens,
            f.output_tokens_per_s_per_request,
            f.tokens_from.describe()
        );
    }
    out += &format!("Stopped because: {}\n", results.stop_reason);
    if let Some(target) = &rec.concurrency {
        out += &format!("Scaling target: {}\n", target.formula(rec.safety_factor));
        out += "                (the metric AWS advises for LLM endpoints: in-flight requests, published every 10 s;\n                 `peakrps policy` uses it by default for this result)\n";
    }
    out += &format!("Also:           {}\n", rec.formula());
    if let Some(s) = &results.settings.stream {
        out += &format!(
            "SLOs: p{} TTFT ≤ {} ms, p{} ITL ≤ {} ms (--max-ttft, --max-itl); API {}\n",
            percentile(results.settings.percentile),
            ms(s.max_ttft_ms),
            percentile(results.settings.percentile),
            ms(s.max_itl_ms),
            s.api
        );
    }
    out
}

/// "99", "99.9".
fn percentile(p: f64) -> String {
    if p.fract() == 0.0 {
        format!("{p:.0}")
    } else {
        p.to_string()
    }
}

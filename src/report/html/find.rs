//! The `find` page's view: the verdict with the scaling target, the steps as they ran, and
//! what was tested; the charts come from `find_charts`.

use serde::Serialize;

use super::find_charts::{charts, level_value};
use super::render::render;
use super::view::{
    Fact, Figure, FigureBox, Head, Row, Table, fact, figure_box, ms, req_s, target_facts,
};
use crate::Error;
use crate::report::cells::{SUMMARY_HEADER, summary_cells};
use crate::report::format::num;
use crate::report::format::{max_rps, ms as cell_ms, pct, rps, stability_band};
use crate::report::uncertainty::{model_lines, target_range};
use crate::results::{ConcurrencyTarget, FindResults, Recommendation, Step, StreamFigures};

#[derive(Serialize)]
struct FindPage<'a> {
    head: Head,
    /// None when no load level passed.
    verdict: Option<Verdict>,
    stop_reason: &'a str,
    interrupted: bool,
    charts: Vec<Figure>,
    steps: Table,
    tested: Vec<Fact>,
}

/// The peak and the scaling target, as figures and as formulas (and the model's lines).
#[derive(Serialize)]
struct Verdict {
    figures: Vec<FigureBox>,
    formulas: Vec<String>,
}

/// The report of a `find`: verdict and recommendation, charts, step table, what was tested.
pub(super) fn page(r: &FindResults) -> Result<String, Error> {
    let view = FindPage {
        head: Head::new(
            format!("peakrps find: {}", r.target.name()),
            &r.started_at,
            &r.version,
        ),
        verdict: verdict(r),
        stop_reason: &r.stop_reason,
        interrupted: r.interrupted,
        charts: charts(r),
        steps: step_table(r),
        tested: tested(r),
    };
    render("find.html", &view)
}

fn verdict(r: &FindResults) -> Option<Verdict> {
    let (peak, rec) = (r.peak.as_ref()?, r.recommendation.as_ref()?);
    if let (Some(f), Some(target)) = (&peak.stream, &rec.concurrency) {
        return Some(stream_verdict(f, target, rec));
    }
    let at = peak.concurrency.map_or_else(
        || format!("offered {} req/s", num(peak.offered_rps.unwrap_or(0.0))),
        |c| format!("concurrency {c}"),
    );
    let operating = rec.operating_rps();
    let headline = match &peak.rps_ci {
        Some(ci) => figure_box(
            format!("{} ± {:.1} req/s", max_rps(peak.rps), ci.half_width),
            format!(
                "MAX_RPS ({:.0}% interval): peak at {at}",
                ci.confidence * 100.0
            ),
        ),
        None => figure_box(
            format!("{} req/s", max_rps(peak.rps)),
            format!("MAX_RPS: peak at {at}"),
        ),
    };
    let figures = vec![
        headline,
        figure_box(
            rec.invocations_per_instance.to_string(),
            "SageMakerVariantInvocationsPerInstance (per minute)",
        ),
        figure_box(req_s(operating), "per-instance operating point"),
        figure_box(ms(peak.latency_ms.p99), "p99 latency at the peak"),
    ];
    let per_second = format!(
        "Operating point = MAX_RPS × SAFETY_FACTOR = {} × {} = {} req/s per instance",
        max_rps(rec.max_rps),
        rec.safety_factor,
        num(operating)
    );
    let mut formulas = vec![rec.formula(), per_second];
    formulas.extend(target_range(rec).map(|range| format!("Target value {range}")));
    if let Some(model) = &r.model {
        formulas.extend(
            model_lines(model, r.rate_mode())
                .into_iter()
                .map(|line| format!("Model: {line}")),
        );
    }
    Some(Verdict { figures, formulas })
}

/// A streaming peak's headline: the concurrency target it scales on (what the terminal
/// gives), the tokens per second and the TTFT and ITL there; the invocations target after.
fn stream_verdict(f: &StreamFigures, target: &ConcurrencyTarget, rec: &Recommendation) -> Verdict {
    let figures = vec![
        figure_box(
            num(target.concurrent_requests_per_model),
            format!(
                "SageMakerVariantConcurrentRequestsPerModelHighResolution: peak concurrency {} × {}",
                target.peak_concurrency,
                num(rec.safety_factor)
            ),
        ),
        figure_box(
            format!("{} tok/s", rps(f.output_tokens_per_s)),
            format!("output tokens/s at concurrency {}", target.peak_concurrency),
        ),
        figure_box(ms(f.ttft_ms.p99), "TTFT p99 at the peak"),
        figure_box(ms(f.itl_ms.p99), "ITL p99 at the peak"),
    ];
    let formulas = vec![
        target.formula(rec.safety_factor),
        format!("Also (requests): {}", rec.formula()),
    ];
    Verdict { figures, formulas }
}

/// One row per step in the order they ran, the peak and the failed steps marked.
fn step_table(r: &FindResults) -> Table {
    let level = if r.mode == "rate" {
        "offered req/s"
    } else {
        "concurrency"
    };
    let stream = r.steps.iter().any(|s| s.stream.is_some());
    let mut header = vec![level];
    header.extend(SUMMARY_HEADER);
    if stream {
        header.extend(STREAM_HEADER);
    }
    header.extend(["stable", "passed", "why it failed"]);
    let failure_column = header.len() - 1;
    Table {
        header,
        text_columns: vec![8, failure_column],
        rows: r
            .steps
            .iter()
            .map(|s| step_row(s, r.is_peak(s), stream))
            .collect(),
    }
}

/// The streaming columns of a `find --stream` step table (the CSV carries them too).
const STREAM_HEADER: [&str; 5] = [
    "output tok/s",
    "TTFT p50 ms",
    "TTFT p99 ms",
    "ITL p50 ms",
    "ITL p99 ms",
];

fn stream_cells(s: &Step) -> [String; 5] {
    match &s.stream {
        Some(f) if !s.is_idle() => [
            rps(f.output_tokens_per_s),
            cell_ms(f.ttft_ms.p50),
            cell_ms(f.ttft_ms.p99),
            cell_ms(f.itl_ms.p50),
            cell_ms(f.itl_ms.p99),
        ],
        _ => STREAM_HEADER.map(|_| "-".to_string()),
    }
}

fn step_row(s: &Step, peak: bool, stream: bool) -> Row {
    let class = match (peak, s.passed) {
        (true, _) => "peak",
        (false, true) => "",
        (false, false) if s.is_idle() => "",
        (false, false) => "failed",
    };
    let level = num(level_value(s));
    let (stable, passed) = match (s.is_idle(), s.partial, s.stable, s.passed) {
        (true, ..) => ("-", "-"),
        (_, true, _, p) => ("partial", yes_no(p)),
        (_, false, stable, p) => (yes_no(stable), yes_no(p)),
    };
    let level = if peak {
        format!("◀ peak {level}")
    } else {
        level
    };
    let mut cells = vec![level];
    if s.is_idle() {
        // Nothing was sent: no figure to show, not figures of zero.
        cells.extend(SUMMARY_HEADER.iter().map(|_| "-".to_string()));
    } else {
        cells.extend(summary_cells(&s.summary));
    }
    if stream {
        cells.extend(stream_cells(s));
    }
    cells.extend([
        stable.into(),
        passed.into(),
        s.failure.clone().unwrap_or_default(),
    ]);
    Row { class, cells }
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

/// The target, the search settings and the rules a step had to pass.
fn tested(r: &FindResults) -> Vec<Fact> {
    let s = &r.settings;
    let mut facts = Vec::from(target_facts(&r.target));
    facts.extend([
        fact("Mode", r.mode.clone()),
        fact("Started", r.started_at.clone()),
        fact("peakrps version", r.version.clone()),
        fact(
            "Steps",
            format!(
                "warm-up {} s, windows of {} s, at most {} s per step, stable when the last 3 windows agree within {} (--stability)",
                num(s.warmup_s),
                num(s.window_s),
                num(s.step_duration_s),
                stability_band(s.stability)
            ),
        ),
        fact("Pass rules", pass_rules(r)),
        fact("Search", search(r)),
        fact("Request timeout", format!("{} s", num(s.timeout_s))),
    ]);
    if let Some(rec) = &r.recommendation {
        facts.push(fact("Safety factor", num(rec.safety_factor)));
    }
    if r.interrupted {
        facts.push(fact("Interrupted", "yes"));
    }
    facts
}

fn search(r: &FindResults) -> String {
    let s = &r.settings;
    let walk = format!(
        "doubling up to concurrency {}, then bisection to within {}",
        s.max_concurrency,
        pct(s.precision)
    );
    match s.search.as_deref() {
        Some("guided") => {
            format!("guided: probes where the trusted fitted curve puts the knee; otherwise {walk}")
        }
        _ => walk,
    }
}

fn pass_rules(r: &FindResults) -> String {
    let s = &r.settings;
    let percentile = num(s.percentile);
    if let Some(slo) = &s.stream {
        let mut text = format!(
            "success ≥ {}; p{percentile} TTFT ≤ {} (--max-ttft); p{percentile} ITL ≤ {} (--max-itl); output tokens/s must grow ≥ {} per doubling while latency rises",
            pct(s.min_success),
            ms(slo.max_ttft_ms),
            ms(slo.max_itl_ms),
            pct(s.min_gain),
        );
        if let Some(limit) = s.max_latency_ms {
            text += &format!("; p{percentile} end-to-end ≤ {}", ms(limit));
        }
        return text;
    }
    let mut text = format!(
        "success ≥ {}; throughput must grow ≥ {} per doubling while p{percentile} latency rises",
        pct(s.min_success),
        pct(s.min_gain),
    );
    // Documents that record the search were judged on the median too, and on real gains.
    if s.search.is_some() {
        text +=
            " (or the median rises), and only a gain beyond the two steps' 95% intervals counts";
    }
    if let Some(limit) = s.max_latency_ms {
        text += &format!("; p{percentile} ≤ {}", ms(limit));
    }
    text
}

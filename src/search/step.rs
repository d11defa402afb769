//! One measured step, judged: its level, the figures its windows counted, and the step
//! they make with its verdict. The search, a fixed plan and `merge` all build steps here.

use std::time::Duration;

use super::{Basis, PassRules, StreamRules, judge_step};
use crate::results::Step;
use crate::stats::{
    Tally, Window, is_settled, percentile_ms, rate_interval, stream_figures, summary_of,
};

/// The load level of a step: a concurrency, or an offered rate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Level {
    Concurrency(u32),
    Rate(f64),
}

impl Level {
    /// "concurrency 8", "rate 400/s".
    pub fn label(&self) -> String {
        match self {
            Level::Concurrency(c) => format!("concurrency {c}"),
            Level::Rate(r) => format!("rate {r:.0}/s"),
        }
    }
}

/// What a step measured: everything its windows counted, and its latest three
/// windows (what its stability is judged on).
pub struct StepFigures<'a> {
    pub level: Level,
    pub total: &'a Tally,
    pub span: Duration,
    pub latest: &'a [Window],
    /// How many windows it measured.
    pub windows: u32,
    /// Cut short by an interruption.
    pub partial: bool,
}

/// A measured step, judged against `basis`: its figures come from its latest three windows
/// when they agree within `stability` (with their throughput's interval), from all its
/// windows when they do not. With `stream` it is settled on tokens and judged on tokens,
/// TTFT and ITL.
pub fn judged_step(
    rules: &PassRules,
    stream: Option<&StreamRules>,
    stability: f64,
    figures: &StepFigures,
    basis: &Basis,
) -> Step {
    let stable =
        figures.latest.len() >= 3 && is_settled(figures.latest, stability, stream.is_some());
    let (tally, span) = if stable {
        let mut recent = Tally::new();
        let mut span = Duration::ZERO;
        for w in figures.latest {
            recent.merge(&w.tally);
            span += w.duration;
        }
        (recent, span)
    } else {
        (figures.total.clone(), figures.span)
    };
    let rps_ci = stable.then(|| rate_interval(figures.latest)).flatten();
    let summary = summary_of(&tally, span);
    let latency = percentile_ms(&tally.latency, rules.percentile);
    let (concurrency, offered_rps) = match figures.level {
        Level::Concurrency(c) => (Some(c), None),
        Level::Rate(r) => (None, Some(r)),
    };
    let mut step = Step {
        concurrency,
        offered_rps,
        latency_at_percentile_ms: latency,
        stable,
        passed: false,
        failure: None,
        windows: figures.windows,
        partial: figures.partial,
        first_error: tally.first_error.clone(),
        notes: Vec::new(),
        rps_ci,
        stream: tally
            .stream
            .as_deref()
            .map(|s| stream_figures(s, span, rules.percentile)),
        summary,
    };
    let verdict = judge_step(rules, stream, &step, &figures.level.label(), basis);
    step.passed = verdict.passed && !figures.partial;
    step.failure = verdict.failure;
    step
}

//! The peak search: which load levels to try (doubling, then bisection between the last
//! passing and the first failing level, or where the curve fitted so far puts the knee), the
//! pass/fail rules for a step, and the peak with the reason the search stopped there. Pure
//! logic: steps are measured by the caller.

mod bounds;
mod curves;
pub mod plan;
pub mod recovery;
mod rules;
pub mod step;
mod stream;
#[cfg(test)]
pub(crate) mod testing;
pub mod usl;
mod walk;

pub use curves::{Curves, Law};
pub use rules::{Judgement, Measurement, PassRules, judge};
pub use stream::{StreamRules, judge_stream};

use crate::results::{CurveModel, Peak, Step};

/// How the search chooses the levels after the first (`--search`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// Where the trusted curve puts the knee, else doubling and bisection.
    Guided,
    /// Doubling, then bisection, whatever the curve says.
    Doubling,
}

/// How the search walks the levels.
#[derive(Clone, Debug)]
pub struct Schedule {
    pub start: u64,
    pub max: u64,
    /// Bisection stops when the gap between passing and failing levels is at most
    /// `max(1, passing level × precision)`.
    pub precision: f64,
    pub strategy: Strategy,
    /// The levels are users of a closed loop (concurrency), not offered rates: the USL
    /// applies.
    pub closed_loop: bool,
    /// The share of the USL's maximum short of which its knee lies (`--min-gain`).
    pub shortfall: f64,
}

impl Schedule {
    /// The doubling levels: start, 2·start, … and `max` itself as the last.
    pub fn doubling(&self) -> Vec<u64> {
        let mut levels = Vec::new();
        let mut level = self.start.max(1);
        while level < self.max {
            levels.push(level);
            level = level.saturating_mul(2);
        }
        levels.push(self.max.max(1));
        levels
    }

    /// The largest difference between levels that counts as close enough above `pass`.
    fn gap(&self, pass: u64) -> u64 {
        ((pass as f64 * self.precision).ceil() as u64).max(1)
    }

    fn close_enough(&self, pass: u64, fail: u64) -> bool {
        fail.saturating_sub(pass) <= self.gap(pass)
    }
}

/// What a search found.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// Every step in the order it ran.
    pub steps: Vec<Step>,
    pub peak: Option<Peak>,
    /// Why the search ended where it did.
    pub reason: String,
    /// The curves fitted to every step's throughput.
    pub model: Option<CurveModel>,
}

/// What the step callback returns: a measured step, or a reason to end the search now
/// (interrupted, the target failed outright) after recording the step it carries, if any.
pub enum Measured {
    Step(Step),
    Abort { step: Option<Step>, reason: String },
}

/// What a step is judged against: the last passing step, and the throughput scatter between
/// steps around the trusted curve (relative), which a step's own windows cannot show.
#[derive(Clone, Copy, Debug, Default)]
pub struct Basis<'a> {
    pub reference: Option<&'a Step>,
    pub scatter: Option<f64>,
}

/// Runs the search. `measure(level, basis)` measures one level and judges it against the
/// basis with `judge`.
pub fn search(schedule: &Schedule, mut measure: impl FnMut(u64, &Basis) -> Measured) -> Outcome {
    let mut walk = walk::Walk::new(schedule);
    while let Some(level) = walk.next_level() {
        match measure(level, &walk.basis()) {
            Measured::Abort { step, reason } => return walk.abort(step, reason),
            Measured::Step(step) => walk.record(step),
        }
    }
    walk.finish()
}

/// A step whose windows never settled is not a level the target sustains: once a settled
/// step has passed, an unsettled one fails, and the search looks below it. Before that (a
/// target that never settles), it may pass, and the peak then says it is less certain.
fn gate_on_stability(step: &mut Step, settled_pass: Option<&Step>) {
    let gated =
        step.passed && !step.stable && !step.partial && settled_pass.is_some_and(|p| p.stable);
    if gated {
        step.passed = false;
        step.failure = Some(format!(
            "the figures at {} did not settle within --step-duration (its last three windows did not agree within the stability band)",
            step.level_label()
        ));
    }
}

/// Judges a measured step by the rules of its kind: with `stream`, on tokens, time to first
/// token and inter-token latency (`judge_stream`); otherwise on requests (`judge`).
pub fn judge_step(
    rules: &PassRules,
    stream: Option<&StreamRules>,
    step: &Step,
    label: &str,
    basis: &Basis,
) -> Judgement {
    match stream {
        Some(slo) => judge_stream(rules, slo, step, basis.reference),
        None => {
            let measurement = Measurement {
                level: step.level(),
                label,
                summary: &step.summary,
                latency_ms: step.latency_at_percentile_ms,
                offered_rps: step.offered_rps,
                rps_ci: step.rps_ci.as_ref(),
            };
            judge(rules, &measurement, basis)
        }
    }
}

/// Ends with the steps so far and `last` (the step an abort carries, if any).
fn finish(mut steps: Vec<Step>, last: Option<Step>, reason: String) -> Outcome {
    steps.extend(last);
    conclude(steps, reason)
}

/// The peak: the passing step with the highest throughput among those that settled; an
/// unsettled step only when no passing step settled, and the reason then says so.
fn conclude(steps: Vec<Step>, reason: String) -> Outcome {
    let best = |stable_only: bool| {
        steps
            .iter()
            .filter(|s| s.passed && !s.partial && (s.stable || !stable_only))
            .max_by(|a, b| a.throughput().total_cmp(&b.throughput()))
    };
    let (chosen, reason) = match (best(true), best(false)) {
        (Some(step), _) => (Some(step), reason),
        (None, Some(step)) => {
            let why = format!(
                "{reason}; no passing step settled within --step-duration, so the peak is the unsettled {} and less certain",
                step.level_label()
            );
            (Some(step), why)
        }
        (None, None) => (None, reason),
    };
    let peak = chosen.map(|s| Peak {
        rps: s.summary.rps,
        concurrency: s.concurrency,
        offered_rps: s.offered_rps,
        latency_ms: s.summary.latency_ms,
        success_ratio: s.summary.success_ratio,
        reason: reason.clone(),
        rps_ci: s.rps_ci.clone(),
        stream: s.stream.clone(),
    });
    Outcome {
        steps,
        peak,
        reason,
        model: None,
    }
}

#[cfg(test)]
mod tests;

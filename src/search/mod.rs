//! The peak search: which load levels to try (doubling, then bisection between the last
//! passing and the first failing level), the pass/fail rules for a step, and the peak with
//! the reason the search stopped there. Pure logic: steps are measured by the caller.

pub mod plan;
pub mod recovery;
mod rules;
mod stream;

pub use rules::{Judgement, PassRules, judge};
pub use stream::{StreamRules, judge_stream};

use crate::results::{Peak, Step};

/// How the search walks the levels.
#[derive(Clone, Debug)]
pub struct Schedule {
    pub start: u64,
    pub max: u64,
    /// Bisection stops when the gap between passing and failing levels is at most
    /// `max(1, passing level × precision)`.
    pub precision: f64,
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

    fn close_enough(&self, pass: u64, fail: u64) -> bool {
        let gap = ((pass as f64 * self.precision).ceil() as u64).max(1);
        fail.saturating_sub(pass) <= gap
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
}

/// What the step callback returns: a measured step, or a reason to end the search now
/// (interrupted, the target failed outright) after recording the step it carries, if any.
pub enum Measured {
    Step(Step),
    Abort { step: Option<Step>, reason: String },
}

/// Runs the search. `measure(level, reference)` measures one level and judges it against
/// the reference step (the last passing one) with `judge`.
pub fn search(
    schedule: &Schedule,
    mut measure: impl FnMut(u64, Option<&Step>) -> Measured,
) -> Outcome {
    let mut steps: Vec<Step> = Vec::new();
    let mut last_pass: Option<Step> = None;
    let mut first_fail: Option<Step> = None;

    for level in schedule.doubling() {
        match measure(level, last_pass.as_ref()) {
            Measured::Abort { step, reason } => return finish(steps, step, reason),
            Measured::Step(mut step) => {
                gate_on_stability(&mut step, last_pass.as_ref());
                steps.push(step.clone());
                if step.passed {
                    last_pass = Some(step);
                } else {
                    first_fail = Some(step);
                    break;
                }
            }
        }
    }

    let Some(fail) = first_fail else {
        let reason = format!(
            "reached the load limit ({}) without a failing step; the peak may lie higher",
            steps.last().map(Step::level_label).unwrap_or_default()
        );
        return conclude(steps, reason);
    };
    let Some(mut pass) = last_pass else {
        let reason = format!(
            "the first step failed: {}",
            fail.failure.clone().unwrap_or_default()
        );
        return conclude(steps, reason);
    };

    let mut fail = fail;
    while !schedule.close_enough(pass.level(), fail.level()) {
        let mid = pass.level() + (fail.level() - pass.level()) / 2;
        match measure(mid, Some(&pass)) {
            Measured::Abort { step, reason } => return finish(steps, step, reason),
            Measured::Step(mut step) => {
                gate_on_stability(&mut step, Some(&pass));
                steps.push(step.clone());
                if step.passed {
                    pass = step;
                } else {
                    fail = step;
                }
            }
        }
    }
    let reason = fail.failure.clone().unwrap_or_default();
    conclude(steps, reason)
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
        stream: s.stream.clone(),
    });
    Outcome {
        steps,
        peak,
        reason,
    }
}

#[cfg(test)]
mod tests;

//! A fixed plan instead of doubling and bisection (`find --plan 1,2,4,8`): every level is
//! measured for the same time, on a clock shards can share, and judged in order with the
//! same rules as the search (pass/fail, the knee against the last passing level, stability
//! gating). The first failing level ends the judgement, as it ends the search's doubling;
//! the peak is chosen as the search chooses it.

use std::time::Duration;

use super::{
    Basis, Measured, Outcome, PassRules, StreamRules, conclude, finish, gate_on_stability,
    judge_step,
};
use crate::results::Step;
use crate::stats::{
    Tally, Window, is_settled, percentile_ms, rate_interval, stream_figures, summary_of,
};

/// Measures the plan's levels in order with `measure(level, basis)` (the basis's reference
/// is the last passing step; no curve guides a plan, so it has no scatter) and judges them.
pub fn run_plan(levels: &[u64], mut measure: impl FnMut(u64, &Basis) -> Measured) -> Outcome {
    let mut steps: Vec<Step> = Vec::new();
    let mut last_pass: Option<Step> = None;
    let mut failed: Option<Step> = None;
    for &level in levels {
        let basis = Basis {
            reference: last_pass.as_ref(),
            scatter: None,
        };
        match measure(level, &basis) {
            Measured::Abort { step, reason } => return finish(steps, step, reason),
            Measured::Step(mut step) if step.is_idle() => {
                step.passed = false;
                step.failure = None;
                step.notes.push(format!(
                    "this shard has no user at the whole run's concurrency {level}: the other shards carry it"
                ));
                steps.push(step);
            }
            Measured::Step(mut step) => {
                if let Some(first) = &failed {
                    step.passed = false;
                    step.failure = Some(format!(
                        "not judged: the plan already failed at {}",
                        first.level_label()
                    ));
                } else {
                    gate_on_stability(&mut step, last_pass.as_ref());
                    if step.passed {
                        last_pass = Some(step.clone());
                    } else {
                        failed = Some(step.clone());
                    }
                }
                steps.push(step);
            }
        }
    }
    let reason = match &failed {
        Some(step) => step.failure.clone().unwrap_or_default(),
        None => format!(
            "reached the end of the plan ({}) without a failing step; the peak may lie higher",
            steps.last().map(Step::level_label).unwrap_or_default()
        ),
    };
    conclude(steps, reason)
}

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

/// What a plan step measured: everything its windows counted, and its latest three
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

/// A measured step, judged: its figures come from its latest three windows when they
/// agree within `stability` (with their throughput's interval), from all its windows when
/// they do not (as the search's). With `stream` it is judged as the search judges a
/// streaming step: settled on tokens, and on tokens, TTFT and ITL.
pub fn judged_step(
    rules: &PassRules,
    stream: Option<&StreamRules>,
    stability: f64,
    figures: &StepFigures,
    reference: Option<&Step>,
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
    let basis = Basis {
        reference,
        scatter: None,
    };
    let verdict = judge_step(rules, stream, &step, &figures.level.label(), &basis);
    step.passed = verdict.passed && !figures.partial;
    step.failure = verdict.failure;
    step
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> PassRules {
        PassRules {
            min_success: 0.99,
            percentile: 99.0,
            max_latency: None,
            min_gain: 0.05,
            latency_tolerance: 0.1,
        }
    }

    /// Windows of a server of capacity `capacity` req/s with a 25 ms service time at
    /// `users` concurrency: throughput min(users, capacity·25ms)/25ms, latency rising past it.
    fn measured(users: u32, capacity: f64) -> (Tally, Vec<Window>) {
        let served = (f64::from(users) * 40.0).min(capacity);
        let latency = Duration::from_secs_f64(f64::from(users) / served);
        let mut total = Tally::new();
        let mut windows = Vec::new();
        for index in 0..5 {
            let mut t = Tally::new();
            for _ in 0..(served as u64) {
                t.record_success(latency);
                t.answered += 1;
            }
            total.merge(&t);
            windows.push(Window {
                index,
                duration: Duration::from_secs(1),
                tally: t,
            });
        }
        (total, windows[2..].to_vec())
    }

    /// A step at `level` users of a server of `capacity`, judged as the plan judges it.
    fn judged(level: u64, capacity: f64, basis: &Basis) -> Measured {
        let (total, latest) = measured(level as u32, capacity);
        let figures = StepFigures {
            level: Level::Concurrency(level as u32),
            total: &total,
            span: Duration::from_secs(5),
            latest: &latest,
            windows: 5,
            partial: false,
        };
        Measured::Step(judged_step(&rules(), None, 0.1, &figures, basis.reference))
    }

    #[test]
    fn the_plan_is_judged_in_order_and_the_peak_is_before_the_knee() {
        let levels = [1, 2, 4, 8, 16];
        let outcome = run_plan(&levels, |level, basis| judged(level, 160.0, basis));
        let passed: Vec<bool> = outcome.steps.iter().map(|s| s.passed).collect();
        assert_eq!(passed, [true, true, true, false, false]);
        let peak = outcome.peak.expect("a peak");
        assert_eq!(peak.concurrency, Some(4));
        assert!((peak.rps - 160.0).abs() < 1e-9, "{}", peak.rps);
        assert!(
            outcome.reason.contains("latency rose"),
            "{}",
            outcome.reason
        );
        let last = outcome.steps[4].failure.as_deref().unwrap_or_default();
        assert!(last.contains("already failed at concurrency 8"), "{last}");
    }

    #[test]
    fn a_shards_level_without_a_user_is_not_judged_and_does_not_end_the_plan() {
        // Shard 0 of 2 over the plan 1, 2, 4: no user at level 1, then 1 and 2 users.
        let outcome = run_plan(&[1, 2, 4], |level, basis| {
            let share = level / 2;
            let (total, latest) = if share == 0 {
                (Tally::new(), Vec::new())
            } else {
                measured(share as u32, 160.0)
            };
            let figures = StepFigures {
                level: Level::Concurrency(share as u32),
                total: &total,
                span: Duration::from_secs(5),
                latest: &latest,
                windows: 5,
                partial: false,
            };
            Measured::Step(judged_step(&rules(), None, 0.1, &figures, basis.reference))
        });
        let idle = &outcome.steps[0];
        assert!(idle.is_idle() && !idle.passed, "{idle:?}");
        assert_eq!(idle.failure, None);
        assert!(
            idle.notes[0].contains("no user at the whole run's concurrency 1:"),
            "{idle:?}"
        );
        let passed: Vec<bool> = outcome.steps[1..].iter().map(|s| s.passed).collect();
        assert_eq!(passed, [true, true], "{:?}", outcome.steps);
        assert_eq!(outcome.peak.and_then(|p| p.concurrency), Some(2));
    }

    #[test]
    fn a_plan_without_a_failure_says_the_peak_may_lie_higher() {
        let outcome = run_plan(&[1, 2], |level, basis| judged(level, 1000.0, basis));
        assert_eq!(outcome.peak.and_then(|p| p.concurrency), Some(2));
        assert!(
            outcome.reason.contains("end of the plan"),
            "{}",
            outcome.reason
        );
    }
}

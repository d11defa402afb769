//! A fixed plan instead of doubling and bisection (`find --plan 1,2,4,8`): every level is
//! measured for the same time, on a clock shards can share, and judged in order with the
//! same rules as the search (pass/fail, the knee against the last passing level, stability
//! gating). The first failing level ends the judgement, as it ends the search's doubling;
//! the peak is chosen as the search chooses it.

use super::{Basis, Measured, Outcome, conclude, finish, gate_on_stability};
use crate::results::Step;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::step::{Level, StepFigures, judged_step};
    use crate::search::testing::rules;
    use crate::stats::{Tally, Window};
    use std::time::Duration;

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

    /// A step at `users` users of a server of `capacity`, judged as the plan judges it (no
    /// user: nothing sent, as a shard without a user at a level).
    fn judged(users: u64, capacity: f64, basis: &Basis) -> Measured {
        let (total, latest) = if users == 0 {
            (Tally::new(), Vec::new())
        } else {
            measured(users as u32, capacity)
        };
        let figures = StepFigures {
            level: Level::Concurrency(users as u32),
            total: &total,
            span: Duration::from_secs(5),
            latest: &latest,
            windows: 5,
            partial: false,
        };
        Measured::Step(judged_step(&rules(), None, 0.1, &figures, basis))
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
        let outcome = run_plan(&[1, 2, 4], |level, basis| judged(level / 2, 160.0, basis));
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

//! The walk over load levels: double until a step fails, then bisect between the last
//! passing and the first failing level (`--search doubling`); or, guided, probe where the
//! trusted curve puts the knee and just above it, falling back to doubling and bisection
//! whenever the curve is not trusted or has just been wrong.

use super::curves::Curves;
use super::rules::gain_noise;
use super::{Basis, Outcome, Schedule, Strategy, conclude, gate_on_stability};
use crate::results::Step;

/// Confirmations that may pass in a row before the walk stops following the curve.
const MAX_CONFIRMATIONS: u32 = 2;

/// Why a level was chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Probe {
    /// The next doubling, or the midpoint of the bracket.
    Default,
    /// Where the curve puts the knee.
    Knee,
    /// Just above the last passing level (within `--precision`): the curve puts the knee at
    /// or below it, and a failure here ends the search.
    Confirm,
}

/// The search's state between steps.
pub(super) struct Walk<'a> {
    schedule: &'a Schedule,
    steps: Vec<Step>,
    /// The highest passing level so far, and the one before it.
    pass: Option<Step>,
    previous_pass: Option<Step>,
    /// The lowest failing level above it.
    fail: Option<Step>,
    curves: Curves,
    /// How the level being measured was chosen, and how the last one was and whether it
    /// passed.
    planned: Probe,
    last: Option<(Probe, bool)>,
    /// Confirmations in a row that passed (the knee lay a little higher than the curve put
    /// it); after `MAX_CONFIRMATIONS` of them the walk falls back to its default.
    confirmations: u32,
    /// Why the walk ended before a failing step closed the bracket, when it did.
    plateau: Option<String>,
}

impl<'a> Walk<'a> {
    pub(super) fn new(schedule: &'a Schedule) -> Self {
        Walk {
            schedule,
            steps: Vec::new(),
            pass: None,
            previous_pass: None,
            fail: None,
            curves: Curves::default(),
            planned: Probe::Default,
            last: None,
            confirmations: 0,
            plateau: None,
        }
    }

    /// What the next step is judged against: the last passing step and the curve's scatter.
    pub(super) fn basis(&self) -> Basis<'_> {
        Basis {
            reference: self.pass.as_ref(),
            scatter: self.curves.scatter(),
        }
    }

    /// The next level to measure; `None` when the search is over.
    pub(super) fn next_level(&mut self) -> Option<u64> {
        let Some(pass) = &self.pass else {
            self.planned = Probe::Default;
            return self.steps.is_empty().then_some(self.schedule.start.max(1));
        };
        if self.plateau.is_some() {
            return None;
        }
        let lo = pass.level();
        let (default, upper) = match &self.fail {
            Some(f) if self.schedule.close_enough(lo, f.level()) => return None,
            Some(f) => (lo + (f.level() - lo) / 2, f.level()),
            None if lo >= self.schedule.max => return None,
            None => {
                let next = lo.saturating_mul(2).min(self.schedule.max);
                (next, next)
            }
        };
        let guided = match self.schedule.strategy {
            Strategy::Guided => self.guided(lo, upper),
            Strategy::Doubling => None,
        };
        let (level, probe) = guided.unwrap_or((default, Probe::Default));
        self.planned = probe;
        Some(level)
    }

    /// Where the trusted curve says to look, strictly between `lo` and `upper`: at its knee,
    /// or just above `lo` when the knee is at or below it. After a guided probe passed, the
    /// curve may only ask for a confirmation (a knee higher up means it moved: the default
    /// looks there once), and after two confirmations passed in a row, the default.
    fn guided(&self, lo: u64, upper: u64) -> Option<(u64, Probe)> {
        let (_, knee) = self.curves.guide()?;
        let confirm = lo + self.schedule.gap(lo);
        let target = knee.round().clamp(0.0, u64::MAX as f64) as u64;
        let (level, probe) = if target <= confirm {
            (confirm, Probe::Confirm)
        } else {
            (target, Probe::Knee)
        };
        let guided_passed = matches!(self.last, Some((Probe::Knee | Probe::Confirm, true)));
        let allowed = match probe {
            Probe::Knee => !guided_passed,
            _ => self.confirmations < MAX_CONFIRMATIONS,
        };
        (allowed && level > lo && level < upper).then_some((level, probe))
    }

    /// Takes a measured step in: the stability gate, the bracket, the curves.
    pub(super) fn record(&mut self, mut step: Step) {
        gate_on_stability(&mut step, self.pass.as_ref());
        self.last = Some((self.planned, step.passed));
        self.confirmations = match (self.planned, step.passed) {
            (Probe::Confirm, true) => self.confirmations + 1,
            _ => 0,
        };
        self.steps.push(step.clone());
        if step.passed {
            self.previous_pass = self.pass.replace(step);
        } else if self.fail.as_ref().is_none_or(|f| step.level() < f.level()) {
            self.fail = Some(step);
        }
        let scatter = self.curves.scatter();
        self.curves = Curves::fit(
            &self.steps,
            self.schedule.closed_loop,
            self.schedule.shortfall,
        );
        if self.last == Some((Probe::Confirm, true)) {
            self.plateau = self.plateau_reached(scatter);
        }
    }

    /// After a confirmation passed: the curve put the knee at or below the level before it,
    /// and the throughput gained no more than the noise of the two steps can give though the
    /// load grew by more than that (so a rise would have shown). More load then buys
    /// latency, not throughput: the walk ends, said why.
    fn plateau_reached(&self, scatter: Option<f64>) -> Option<String> {
        let (Some(step), Some(before)) = (&self.pass, &self.previous_pass) else {
            return None;
        };
        let (_, knee) = self.curves.guide()?;
        let noise = gain_noise(before, step.rps_ci.as_ref(), scatter);
        let gain = step.summary.rps / before.summary.rps.max(f64::MIN_POSITIVE) - 1.0;
        let growth = step.level() as f64 / before.level().max(1) as f64 - 1.0;
        (knee <= before.level() as f64 && gain <= noise && growth > noise).then(|| {
            format!(
                "throughput grew {:.1}% from {} to {} for {:.0}% more load, less than the {:.1}% a real gain must pass, past the knee the fitted curve puts at {knee:.1}: more load adds latency, not throughput",
                gain * 100.0,
                before.level_label(),
                step.level_label(),
                growth * 100.0,
                noise * 100.0
            )
        })
    }

    /// The search ended early (interrupted, the target failed outright), after `last`.
    pub(super) fn abort(mut self, last: Option<Step>, reason: String) -> Outcome {
        self.steps.extend(last);
        self.outcome(reason)
    }

    /// The search ran its course: the peak, and why it stopped where it did.
    pub(super) fn finish(self) -> Outcome {
        let reason = match (&self.pass, &self.fail) {
            _ if self.plateau.is_some() => self.plateau.clone().unwrap_or_default(),
            (_, None) => format!(
                "reached the load limit ({}) without a failing step; the peak may lie higher",
                self.steps.last().map(Step::level_label).unwrap_or_default()
            ),
            (None, Some(fail)) => format!(
                "the first step failed: {}",
                fail.failure.clone().unwrap_or_default()
            ),
            (Some(_), Some(fail)) => fail.failure.clone().unwrap_or_default(),
        };
        self.outcome(reason)
    }

    fn outcome(self, reason: String) -> Outcome {
        let curves = Curves::fit(
            &self.steps,
            self.schedule.closed_loop,
            self.schedule.shortfall,
        );
        let model = curves.model(self.schedule.strategy == Strategy::Guided);
        let mut outcome = conclude(self.steps, reason);
        outcome.model = model;
        outcome
    }
}

#[cfg(test)]
mod tests;

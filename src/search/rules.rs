//! The pass/fail rules of a step: enough successes, latency under the limit, and not past
//! the knee (the throughput it gained over the last passing level was real, beyond the
//! noise, and worth the latency its median or chosen percentile added).

use std::time::Duration;

use super::Basis;
use crate::results::{Interval, Step, Summary};
use crate::stats::real_difference;

/// The rules a step must pass (flags `--min-success`, `--max-latency`, `--min-gain`).
#[derive(Clone, Debug)]
pub struct PassRules {
    pub min_success: f64,
    /// The percentile latency is judged at, e.g. 99.0.
    pub percentile: f64,
    pub max_latency: Option<Duration>,
    /// The throughput a doubling of load must add (0.05 = 5 %); smaller steps of load must
    /// add proportionally less.
    pub min_gain: f64,
    /// Latency rises below this fraction count as "latency did not rise" (the stability band).
    pub latency_tolerance: f64,
}

/// A step's verdict.
#[derive(Clone, Debug, PartialEq)]
pub struct Judgement {
    pub passed: bool,
    pub failure: Option<String>,
}

/// A step as measured, to be judged.
#[derive(Clone, Copy, Debug)]
pub struct Measurement<'a> {
    pub level: u64,
    /// "concurrency 8", "rate 400/s".
    pub label: &'a str,
    pub summary: &'a Summary,
    /// Latency at the chosen percentile, in ms.
    pub latency_ms: f64,
    /// Rate mode: the rate requests were due at.
    pub offered_rps: Option<f64>,
    /// The 95 % interval of `summary.rps`, when the step settled.
    pub rps_ci: Option<&'a Interval>,
}

/// Judges a measured step against the basis (the last passing step and the curve's
/// scatter). In rate mode (`offered_rps`), the step must also have achieved the offered
/// rate and dropped nothing.
pub fn judge(rules: &PassRules, m: &Measurement, basis: &Basis) -> Judgement {
    let fail = |why: String| Judgement {
        passed: false,
        failure: Some(why),
    };
    let (summary, level_label) = (m.summary, m.label);
    if summary.requests == 0 {
        return fail(format!("no request completed at {level_label}"));
    }
    if let Some(why) = short_of_offered(summary, m.offered_rps, level_label) {
        return fail(why);
    }
    if summary.success_ratio < rules.min_success {
        return fail(format!(
            "success ratio fell to {:.1}% at {level_label} (below --min-success {:.1}%; {})",
            summary.success_ratio * 100.0,
            rules.min_success * 100.0,
            summary.errors.describe()
        ));
    }
    if let Some(max) = rules.max_latency {
        let max_ms = max.as_secs_f64() * 1000.0;
        if m.latency_ms > max_ms {
            return fail(format!(
                "p{} latency {:.1} ms at {level_label} exceeded --max-latency {max_ms:.0} ms",
                fmt_percentile(rules.percentile),
                m.latency_ms
            ));
        }
    }
    if let Some(reference) = basis.reference
        && let Some(why) = past_the_knee(rules, m, reference, basis.scatter)
    {
        return fail(why);
    }
    Judgement {
        passed: true,
        failure: None,
    }
}

/// In rate mode a step must achieve this share of the offered rate.
pub const MIN_ACHIEVED: f64 = 0.98;

/// Rate mode: requests dropped (`--max-inflight` were out) or an achieved rate under 98 %
/// of the one scheduled mean the target (or the client) could not keep up. The rate is
/// compared with the requests that actually fell due, not `rate × duration`: a Poisson
/// schedule's count itself varies by √N.
fn short_of_offered(
    summary: &Summary,
    offered_rps: Option<f64>,
    level_label: &str,
) -> Option<String> {
    let offered = offered_rps?;
    if summary.dropped > 0 {
        return Some(format!(
            "{} requests could not be sent at {level_label} (all --max-inflight were outstanding)",
            summary.dropped
        ));
    }
    let scheduled = match summary.scheduled {
        Some(n) if summary.duration_s > 0.0 => n as f64 / summary.duration_s,
        _ => offered,
    };
    (summary.rps < scheduled * MIN_ACHIEVED).then(|| {
        format!(
            "achieved {:.1} req/s at {level_label}, {:.1}% of the {:.1} req/s that fell due (at least {:.0}% needed)",
            summary.rps,
            summary.rps / scheduled * 100.0,
            scheduled,
            MIN_ACHIEVED * 100.0
        )
    })
}

/// The throughput share a step must gain per unit of relative latency it adds: 1 % more
/// throughput for every 10 % more latency.
pub(super) const LATENCY_PRICE: f64 = 0.1;

/// How many of the curve's relative scatters a gain between two steps must pass: the
/// difference of two points each off the curve by `scatter` has √2 × scatter, and a
/// one-sided test at 95 % asks for 1.645 of those.
const SCATTER_TO_NOISE: f64 = 1.645 * std::f64::consts::SQRT_2;

/// The knee: latency rose beyond the tolerance — at the median or at the chosen percentile,
/// whichever rose more — and the throughput gained was not worth it: not real (within what
/// the noise of the two steps can give), or less than `min_gain` per doubling of load
/// (proportionally less for smaller steps), or less than 1 % for every 10 % of added
/// latency. Latency that did not rise calls no knee, whatever the throughput did.
fn past_the_knee(
    rules: &PassRules,
    m: &Measurement,
    reference: &Step,
    scatter: Option<f64>,
) -> Option<String> {
    let load_growth = m.level as f64 / reference.level().max(1) as f64 - 1.0;
    let at_percentile = m.latency_ms / reference.latency_at_percentile_ms.max(0.001);
    let at_median = m.summary.latency_ms.p50 / reference.summary.latency_ms.p50.max(0.001);
    let latency_rise = at_percentile.max(at_median);
    if load_growth <= 0.0 || latency_rise <= 1.0 + rules.latency_tolerance {
        return None;
    }
    let gain = if reference.summary.rps > 0.0 {
        m.summary.rps / reference.summary.rps - 1.0
    } else {
        f64::INFINITY
    };
    let noise = gain_noise(reference, m.rps_ci, scatter);
    let required = (rules.min_gain * load_growth).max(LATENCY_PRICE * (latency_rise - 1.0));
    let which = if at_median > at_percentile {
        "median latency"
    } else {
        "latency"
    };
    if gain < required {
        return Some(format!(
            "{which} rose {latency_rise:.1}x at {} while throughput grew {:.1}%",
            m.label,
            gain * 100.0
        ));
    }
    (gain <= noise).then(|| {
        format!(
            "{which} rose {latency_rise:.1}x at {} while throughput grew {:.1}%, within the {:.1}% a real gain must pass",
            m.label,
            gain * 100.0,
            noise * 100.0
        )
    })
}

/// The least relative gain from `reference` to a step that counts as real: Welch's
/// one-sided test at 95 % on the two throughputs' windows, or, when larger, what the
/// trusted curve's scatter between steps puts on a difference of two of them. A step
/// without an interval (unsettled) adds no noise of its own.
pub fn gain_noise(reference: &Step, step_ci: Option<&Interval>, scatter: Option<f64>) -> f64 {
    let base = reference.summary.rps;
    if base <= 0.0 {
        return 0.0;
    }
    let steady = |like: &Interval| Interval {
        half_width: 0.0,
        ..like.clone()
    };
    let windows = match (reference.rps_ci.as_ref(), step_ci) {
        (Some(a), Some(b)) => real_difference(a, b),
        (Some(one), None) => real_difference(one, &steady(one)),
        (None, Some(one)) => real_difference(&steady(one), one),
        (None, None) => None,
    };
    let windows = windows.unwrap_or(0.0);
    (windows / base).max(scatter.unwrap_or(0.0) * SCATTER_TO_NOISE)
}

/// "99", "99.9", "50".
pub fn fmt_percentile(p: f64) -> String {
    if p.fract() == 0.0 {
        format!("{p:.0}")
    } else {
        format!("{p}")
    }
}

//! The pass/fail rules of a step: enough successes, latency under the limit, and not past
//! the knee (the throughput it gained over the last passing level was worth the latency).

use std::time::Duration;

use crate::results::{Step, Summary};

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

/// Judges a step measured at `level` with `summary` and latency `latency_ms` at the chosen
/// percentile, against the last passing step. In rate mode (`offered_rps`), the step must
/// also have achieved the offered rate and dropped nothing.
pub fn judge(
    rules: &PassRules,
    level: u64,
    level_label: &str,
    summary: &Summary,
    latency_ms: f64,
    offered_rps: Option<f64>,
    reference: Option<&Step>,
) -> Judgement {
    let fail = |why: String| Judgement {
        passed: false,
        failure: Some(why),
    };
    if summary.requests == 0 {
        return fail(format!("no request completed at {level_label}"));
    }
    if let Some(why) = short_of_offered(summary, offered_rps, level_label) {
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
        if latency_ms > max_ms {
            return fail(format!(
                "p{} latency {latency_ms:.1} ms at {level_label} exceeded --max-latency {max_ms:.0} ms",
                fmt_percentile(rules.percentile)
            ));
        }
    }
    if let Some(reference) = reference
        && let Some(why) = past_the_knee(
            rules,
            level,
            level_label,
            summary.rps,
            latency_ms,
            reference,
        )
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

/// The knee: latency rose (beyond the tolerance) and the throughput gained was not worth it:
/// less than `min_gain` per doubling of load (proportionally less for smaller steps), or
/// less than 1 % for every 10 % of added latency.
fn past_the_knee(
    rules: &PassRules,
    level: u64,
    level_label: &str,
    rps: f64,
    latency_ms: f64,
    reference: &Step,
) -> Option<String> {
    let load_growth = level as f64 / reference.level().max(1) as f64 - 1.0;
    let latency_rise = latency_ms / reference.latency_at_percentile_ms.max(0.001);
    if load_growth <= 0.0 || latency_rise <= 1.0 + rules.latency_tolerance {
        return None;
    }
    let gain = if reference.summary.rps > 0.0 {
        rps / reference.summary.rps - 1.0
    } else {
        f64::INFINITY
    };
    let required = (rules.min_gain * load_growth).max(LATENCY_PRICE * (latency_rise - 1.0));
    (gain < required).then(|| {
        format!(
            "latency rose {latency_rise:.1}x at {level_label} while throughput grew {:.1}%",
            gain * 100.0
        )
    })
}

/// "99", "99.9", "50".
pub fn fmt_percentile(p: f64) -> String {
    if p.fract() == 0.0 {
        format!("{p:.0}")
    } else {
        format!("{p}")
    }
}

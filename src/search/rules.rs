//! The pass/fail rules of a step: enough successes, latency under the limit, and not past
//! the knee (the throughput it gained over the last passing level was worth the latency).

use std::time::Duration;

use super::Step;
use crate::stats::Summary;

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
/// percentile, against the last passing step.
pub fn judge(
    rules: &PassRules,
    level: u64,
    level_label: &str,
    summary: &Summary,
    latency_ms: f64,
    reference: Option<&Step>,
) -> Judgement {
    let fail = |why: String| Judgement {
        passed: false,
        failure: Some(why),
    };
    if summary.requests == 0 {
        return fail(format!("no request completed at {level_label}"));
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
    if let Some(reference) = reference {
        let ref_level = reference.level().max(1) as f64;
        let load_growth = level as f64 / ref_level - 1.0;
        let required_gain = rules.min_gain * load_growth;
        let gain = if reference.summary.rps > 0.0 {
            summary.rps / reference.summary.rps - 1.0
        } else {
            f64::INFINITY
        };
        let ref_latency = reference.latency_at_percentile_ms.max(0.001);
        let latency_rise = latency_ms / ref_latency;
        if load_growth > 0.0 && gain < required_gain && latency_rise > 1.0 + rules.latency_tolerance
        {
            return fail(format!(
                "latency rose {latency_rise:.1}x at {level_label} while throughput grew {:.1}%",
                gain * 100.0
            ));
        }
    }
    Judgement {
        passed: true,
        failure: None,
    }
}

/// "99", "99.9", "50".
pub fn fmt_percentile(p: f64) -> String {
    if p.fract() == 0.0 {
        format!("{p:.0}")
    } else {
        format!("{p}")
    }
}

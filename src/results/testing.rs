//! Builders for unit tests: a step's figures, a step and a policy with the values most tests
//! share, so that a test states only what it is about and a new field is added here once.

use super::{LatencySummary, Policy, Step, Summary};

/// Latency percentiles: `p50`, and `p99` for the p90, the p99 and the maximum alike.
pub(crate) fn latency(p50: f64, p99: f64) -> LatencySummary {
    LatencySummary {
        p50,
        p90: p99,
        p99,
        max: p99,
    }
}

/// A step's figures: `rps` from 1000 requests over 6 s, all of them successes.
pub(crate) fn summary(rps: f64, latency_ms: LatencySummary) -> Summary {
    Summary {
        rps,
        requests: 1000,
        success_ratio: 1.0,
        latency_ms,
        duration_s: 6.0,
        ..Summary::default()
    }
}

/// A stable step of three windows, not yet judged, at no level.
pub(crate) fn step(summary: Summary, latency_at_percentile_ms: f64) -> Step {
    Step {
        summary,
        latency_at_percentile_ms,
        stable: true,
        windows: 3,
        ..Step::default()
    }
}

/// A policy tracking `target_value` on 1 to 10 instances, with the default 300 s cooldowns.
pub(crate) fn policy(target_value: f64) -> Policy {
    Policy {
        target_value,
        min_capacity: 1,
        max_capacity: 10,
        scale_in_cooldown_s: 300,
        scale_out_cooldown_s: 300,
        disable_scale_in: false,
    }
}

//! Builders for the search's unit tests (the results' own are in `results::testing`): the
//! pass rules most tests judge by.

use super::PassRules;

/// 99 % successes, judged at p99 with no latency limit, a 5 % gain and a 10 % latency
/// tolerance.
pub(crate) fn rules() -> PassRules {
    PassRules {
        min_success: 0.99,
        percentile: 99.0,
        max_latency: None,
        min_gain: 0.05,
        latency_tolerance: 0.10,
    }
}

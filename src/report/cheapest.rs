//! The verdict of a `compare` in words, for the terminal and the HTML page alike: the
//! cheapest candidate, what it costs and the load each of its instances carries.

use crate::report::format::rps;
use crate::results::CompareResults;

/// "Cheapest: …" in words, or why there is none.
pub fn cheapest_verdict(r: &CompareResults) -> String {
    let Some(c) = r
        .cheapest
        .as_deref()
        .and_then(|name| r.candidates.iter().find(|c| c.name == name))
    else {
        return "Cheapest: none can be said without prices.".into();
    };
    let per_million = c.cost_per_million.unwrap_or(0.0);
    let at = format!(
        "each instance at {} req/s (MAX_RPS {} × {})",
        rps(c.operating_rps),
        rps(c.max_rps),
        c.safety_factor
    );
    match (r.traffic_rps, c.instances, c.cost_per_hour) {
        (Some(t), Some(n), Some(hour)) => format!(
            "Cheapest: {}: {n} instance{} carry {} req/s for ${hour:.2} an hour, {at}; ${per_million:.3} per million requests.",
            c.name,
            if n == 1 { "" } else { "s" },
            rps(t)
        ),
        _ => format!(
            "Cheapest: {} at ${per_million:.3} per million requests, {at}.",
            c.name
        ),
    }
}

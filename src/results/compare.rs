//! `peakrps.compare/v1`: several `find` results side by side (one per instance type or
//! configuration) with their prices: MAX_RPS, the operating point at the safety factor,
//! the cost of a million requests there, the instances a traffic peak needs, and the
//! cheapest. Built here from the find documents, so every renderer reads one shape.

use serde::{Deserialize, Serialize};

use super::{FindResults, check_safety_factor};
use crate::Error;

/// One find result, as a candidate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// Its instance type (`find --instance-type`), else its file name without `.json`.
    pub name: String,
    /// The results file it was read from.
    pub source: String,
    pub mode: String,
    pub max_rps: f64,
    /// MAX_RPS's 95 % half-width, when the peak step settled.
    pub max_rps_ci: Option<f64>,
    /// The concurrency of the peak (concurrency mode).
    pub peak_concurrency: Option<u32>,
    pub safety_factor: f64,
    /// MAX_RPS × safety factor: the rate an instance runs at when the target holds.
    pub operating_rps: f64,
    /// Dollars per instance-hour, from `--price` or the results; null when unknown.
    pub price_per_hour: Option<f64>,
    /// Dollars per million requests served at the operating point.
    pub cost_per_million: Option<f64>,
    /// Instances `--traffic` needs at the operating point.
    pub instances: Option<u64>,
    /// Those instances' dollars per hour.
    pub cost_per_hour: Option<f64>,
    /// Throughput against load, step by step in the order of load: (level, req/s).
    pub curve: Vec<[f64; 2]>,
}

/// `peakrps compare --json FILE`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CompareResults {
    pub schema: String,
    pub version: String,
    /// `--traffic`: the peak request rate to carry, req/s.
    pub traffic_rps: Option<f64>,
    pub candidates: Vec<Candidate>,
    /// The name of the cheapest priced candidate; null when none has a price.
    pub cheapest: Option<String>,
    /// What "cheapest" was judged by.
    pub judged_by: String,
}

impl CompareResults {
    pub const SCHEMA: &'static str = "peakrps.compare/v1";
}

/// A find result to compare, named.
pub struct Input {
    pub name: String,
    pub source: String,
    pub results: FindResults,
}

/// What `compare` was asked: a price per candidate name, a safety factor for all (else
/// each result's own), and a traffic peak.
pub struct Terms<'a> {
    pub prices: &'a [(String, f64)],
    pub safety_factor: Option<f64>,
    pub traffic: Option<f64>,
}

/// Builds the comparison. A result without a peak, two candidates of one name, and a
/// price for a name no candidate has are input errors, each said in one line.
pub fn compare(inputs: Vec<Input>, terms: &Terms) -> Result<CompareResults, Error> {
    for (i, a) in inputs.iter().enumerate() {
        if let Some(b) = inputs[..i].iter().find(|b| b.name == a.name) {
            return Err(Error::Input(format!(
                "{} and {} are both named {}: record --instance-type in find, or rename a file",
                b.source, a.source, a.name
            )));
        }
    }
    for (name, _) in terms.prices {
        if !inputs.iter().any(|c| &c.name == name) {
            let names: Vec<&str> = inputs.iter().map(|c| c.name.as_str()).collect();
            return Err(Error::Input(format!(
                "--price {name}=…: no candidate is named {name} (they are: {})",
                names.join(", ")
            )));
        }
    }
    let candidates = inputs
        .into_iter()
        .map(|input| candidate(input, terms))
        .collect::<Result<Vec<_>, _>>()?;
    let (cheapest, judged_by) = cheapest(&candidates, terms.traffic);
    Ok(CompareResults {
        schema: CompareResults::SCHEMA.into(),
        version: env!("CARGO_PKG_VERSION").into(),
        traffic_rps: terms.traffic,
        candidates,
        cheapest,
        judged_by,
    })
}

fn candidate(input: Input, terms: &Terms) -> Result<Candidate, Error> {
    let r = &input.results;
    let Some(peak) = &r.peak else {
        return Err(Error::Input(format!(
            "{}: no load level passed in this find, so it has no MAX_RPS to compare",
            input.source
        )));
    };
    let safety_factor = terms
        .safety_factor
        .or(r.recommendation.as_ref().map(|rec| rec.safety_factor))
        .unwrap_or(super::DEFAULT_SAFETY_FACTOR);
    check_safety_factor(safety_factor)?;
    let operating_rps = peak.rps * safety_factor;
    let price = terms
        .prices
        .iter()
        .rev()
        .find(|(name, _)| *name == input.name)
        .map(|(_, p)| *p)
        .or(r.instance.as_ref().and_then(|i| i.price_per_hour));
    let per_hour_served = operating_rps * 3600.0;
    let instances = terms
        .traffic
        .filter(|_| operating_rps > 0.0)
        .map(|t| (t / operating_rps).ceil() as u64);
    let mut curve: Vec<[f64; 2]> = r
        .steps
        .iter()
        .filter(|s| !s.partial)
        .map(|s| {
            [
                s.concurrency
                    .map_or(s.offered_rps.unwrap_or(0.0), f64::from),
                s.summary.rps,
            ]
        })
        .collect();
    curve.sort_by(|a, b| a[0].total_cmp(&b[0]));
    Ok(Candidate {
        name: input.name.clone(),
        source: input.source.clone(),
        mode: r.mode.clone(),
        max_rps: peak.rps,
        max_rps_ci: peak.rps_ci.as_ref().map(|ci| ci.half_width),
        peak_concurrency: peak.concurrency,
        safety_factor,
        operating_rps,
        price_per_hour: price,
        cost_per_million: price
            .filter(|_| per_hour_served > 0.0)
            .map(|p| p / per_hour_served * 1e6),
        instances,
        cost_per_hour: price.zip(instances).map(|(p, n)| p * n as f64),
        curve,
    })
}

/// The cheapest priced candidate: by the hourly cost of carrying `--traffic` when given,
/// else by the cost of a million requests at the operating point; a tie goes to the higher
/// MAX_RPS.
fn cheapest(candidates: &[Candidate], traffic: Option<f64>) -> (Option<String>, String) {
    let key = |c: &Candidate| match traffic {
        Some(_) => c.cost_per_hour,
        None => c.cost_per_million,
    };
    let best = candidates
        .iter()
        .filter_map(|c| Some((key(c)?, c)))
        .min_by(|(a, ca), (b, cb)| a.total_cmp(b).then(cb.max_rps.total_cmp(&ca.max_rps)))
        .map(|(_, c)| c.name.clone());
    let judged_by = match traffic {
        Some(t) => format!("dollars per hour to carry {t} req/s at the operating point"),
        None => "dollars per million requests at the operating point".to_string(),
    };
    (best, judged_by)
}

#[cfg(test)]
mod tests;

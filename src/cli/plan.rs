//! `find --plan` and `--plan-rates`: fixed levels measured in order instead of doubling and
//! bisection, what shards can run on a common clock.

use clap::Args;

use crate::units::MAX_RATE;

/// The most levels a plan may list.
const MAX_PLAN_LEVELS: usize = 100;

/// `find --plan`: fixed levels instead of doubling and bisection.
#[derive(Debug, Args, Default, Clone)]
#[command(next_help_heading = "Fixed plan (find across shards)")]
pub struct PlanArgs {
    /// Measure these concurrencies, in order, each for --step-duration, and judge them with
    /// the usual rules (no bisection): what shards can run on a common clock.
    #[arg(long, value_name = "C1,C2,…", value_parser = parse_plan_concurrency, conflicts_with = "plan_rates")]
    pub plan: Option<PlanLevels>,

    /// As --plan, with offered rates in req/s (rate mode).
    #[arg(long, value_name = "R1,R2,…", value_parser = parse_plan_rates)]
    pub plan_rates: Option<PlanLevels>,
}

/// The levels of a plan, rising.
#[derive(Clone, Debug, PartialEq)]
pub struct PlanLevels(pub Vec<u64>);

impl PlanArgs {
    /// The plan's levels, if a plan was given.
    pub fn levels(&self) -> Option<&[u64]> {
        self.plan
            .as_ref()
            .or(self.plan_rates.as_ref())
            .map(|p| p.0.as_slice())
    }
}

fn parse_plan(s: &str, what: &str, max: f64) -> Result<PlanLevels, String> {
    let mut levels = Vec::new();
    for part in s.split(',') {
        let v: f64 = part
            .trim()
            .parse()
            .map_err(|_| format!("'{}' in the plan is not a {what}", part.trim()))?;
        if !(v >= 1.0 && v <= max && v.fract() == 0.0) {
            return Err(format!(
                "'{}' in the plan is not a {what} (a whole number from 1 to {max})",
                part.trim()
            ));
        }
        let v = v as u64;
        if levels.last().is_some_and(|&last| last >= v) {
            return Err(format!(
                "the plan's levels must rise: {v} follows {}",
                levels.last().copied().unwrap_or(0)
            ));
        }
        levels.push(v);
    }
    if levels.len() > MAX_PLAN_LEVELS {
        return Err(format!("a plan has at most {MAX_PLAN_LEVELS} levels"));
    }
    Ok(PlanLevels(levels))
}

fn parse_plan_concurrency(s: &str) -> Result<PlanLevels, String> {
    parse_plan(s, "concurrency", f64::from(u32::MAX))
}

fn parse_plan_rates(s: &str) -> Result<PlanLevels, String> {
    parse_plan(s, "rate in req/s", MAX_RATE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_rise_in_whole_levels() {
        assert_eq!(
            parse_plan_concurrency("1,2, 4,8"),
            Ok(PlanLevels(vec![1, 2, 4, 8]))
        );
        for (bad, why) in [
            ("1,2,2", "must rise"),
            ("4,2", "must rise"),
            ("0,1", "from 1"),
            ("1.5", "whole number"),
            ("1,,2", "not a concurrency"),
        ] {
            let e = parse_plan_concurrency(bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
        assert!(
            parse_plan_rates("100,2e7")
                .unwrap_err()
                .contains("10000000")
        );
    }
}

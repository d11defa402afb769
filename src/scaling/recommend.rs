//! `simulate --recommend`: the cheapest safety factor with no overloaded minute on a traffic
//! profile, the trade-off behind it, and whether a higher minimum capacity would do better.
//!
//! Factors are tried on a grid of 0.01 from 0.01 to 1.00 (overload is not monotone in the
//! factor in general: cooldowns and ceilings make steps), every one simulated. The pick is
//! the feasible factor with the fewest instance-minutes, the larger factor on a tie.

use super::simulate::{Setting, simulate};
use crate::results::{
    DEFAULT_SAFETY_FACTOR, FactorSearch, Policy, Recommendation, SimSummary, TradeOff,
};

/// The grid: factors i / GRID for i in 1..=GRID.
pub const GRID: u32 = 100;

/// Searches the safety factor for `base` (its target value is replaced) at MAX_RPS `max_rps`.
pub fn recommend(setting: &Setting, base: &Policy, max_rps: f64) -> FactorSearch {
    let trade_off = grid(setting, base, max_rps);
    let pick = cheapest(&trade_off).cloned();
    let next = pick
        .as_ref()
        .and_then(|p| trade_off.iter().find(|t| t.safety_factor > p.safety_factor))
        .cloned();
    let min_capacity_lever = lever(setting, base, max_rps, pick.as_ref());
    FactorSearch {
        trade_off,
        pick,
        next,
        min_capacity_lever,
    }
}

/// The setting `--recommend` settles on, as a policy and its factor: the factor pick, or the
/// min-capacity lever when no factor alone avoids overload, or the factor with the fewest
/// overloaded minutes.
pub fn chosen(search: &FactorSearch, base: &Policy, max_rps: f64) -> (Policy, f64) {
    let best = search
        .min_capacity_lever
        .as_ref()
        .filter(|_| search.pick.is_none())
        .or(search.pick.as_ref())
        .or_else(|| search.trade_off.iter().min_by_key(|t| t.overloaded_minutes));
    match best {
        Some(t) => {
            let with_min = Policy {
                min_capacity: t.min_capacity,
                ..base.clone()
            };
            (
                policy_for(&with_min, max_rps, t.safety_factor),
                t.safety_factor,
            )
        }
        None => (base.clone(), DEFAULT_SAFETY_FACTOR),
    }
}

/// The policy for one factor: `base` with the target `MAX_RPS × factor × 60`.
pub fn policy_for(base: &Policy, max_rps: f64, factor: f64) -> Policy {
    let target_value = Recommendation::new(max_rps, factor)
        .map(|r| r.invocations_per_instance)
        .unwrap_or(base.target_value);
    Policy {
        target_value,
        ..base.clone()
    }
}

fn grid(setting: &Setting, base: &Policy, max_rps: f64) -> Vec<TradeOff> {
    (1..=GRID)
        .map(|i| f64::from(i) / f64::from(GRID))
        .map(|factor| {
            let policy = policy_for(base, max_rps, factor);
            row(factor, &policy, &simulate(setting, &policy).summary)
        })
        .collect()
}

fn row(factor: f64, policy: &Policy, s: &SimSummary) -> TradeOff {
    TradeOff {
        safety_factor: factor,
        min_capacity: policy.min_capacity,
        target_value: policy.target_value,
        overloaded_minutes: s.overloaded_minutes,
        requests_at_risk: s.requests_at_risk,
        instance_minutes: s.instance_minutes,
        instance_hours: s.instance_hours,
        cost: s.cost,
    }
}

/// The feasible row with the fewest instance-minutes; the larger factor on a tie.
fn cheapest(rows: &[TradeOff]) -> Option<&TradeOff> {
    rows.iter().filter(|t| t.feasible()).min_by(|a, b| {
        a.instance_minutes
            .cmp(&b.instance_minutes)
            .then(b.safety_factor.total_cmp(&a.safety_factor))
    })
}

/// Tries minimum capacities above the given one and stops once the floor alone
/// (min × minutes) costs as much as the best found. A minimum of `ceil(peak / MAX_RPS)`
/// never overloads, so no higher one is tried; past `MAX_LEVER_STEPS` candidates they are
/// spread evenly up to that bound (so absurd inputs cannot make the search run for hours).
fn lever(
    setting: &Setting,
    base: &Policy,
    max_rps: f64,
    pick: Option<&TradeOff>,
) -> Option<TradeOff> {
    let mut best: Option<TradeOff> = None;
    let minutes = setting.profile.minutes() as u64;
    for min_capacity in lever_candidates(setting, base, max_rps) {
        let bound = best.as_ref().or(pick).map(|t| t.instance_minutes);
        if bound.is_some_and(|b| u64::from(min_capacity).saturating_mul(minutes) >= b) {
            break;
        }
        let policy = Policy {
            min_capacity,
            ..base.clone()
        };
        let rows = grid(setting, &policy, max_rps);
        let beats = |t: &TradeOff| {
            best.as_ref()
                .or(pick)
                .is_none_or(|o| t.instance_minutes < o.instance_minutes)
        };
        if let Some(found) = cheapest(&rows).filter(|t| beats(t)) {
            best = Some(found.clone());
        }
    }
    best
}

/// Minimum capacities tried by `lever`, increasing.
pub const MAX_LEVER_STEPS: u32 = 50;

fn lever_candidates(setting: &Setting, base: &Policy, max_rps: f64) -> Vec<u32> {
    let needed = (setting.profile.peak() / max_rps).ceil();
    // Not even max capacity carries the peak: no minimum capacity can help.
    if !needed.is_finite() || needed > f64::from(base.max_capacity) {
        return Vec::new();
    }
    let (low, high) = (
        base.min_capacity.saturating_add(1),
        (needed as u32).min(base.max_capacity),
    );
    if low > high {
        return Vec::new();
    }
    let span = high - low;
    if span < MAX_LEVER_STEPS {
        return (low..=high).collect();
    }
    let mut steps: Vec<u32> = (0..=MAX_LEVER_STEPS)
        .map(|i| low + (u64::from(span) * u64::from(i) / u64::from(MAX_LEVER_STEPS)) as u32)
        .collect();
    steps.dedup();
    steps
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::Timing;
    use crate::results::testing::policy;
    use crate::scaling::instance::InstanceModel;
    use crate::scaling::profile::TrafficProfile;

    fn base() -> Policy {
        policy(0.0)
    }

    fn setting<'a>(profile: &'a TrafficProfile, model: &'a InstanceModel) -> Setting<'a> {
        Setting {
            profile,
            model,
            timing: Timing {
                metric_delay_min: 1,
                provisioning_min: 5,
            },
            instance_price: Some(2.0),
        }
    }

    /// A slow ramp from 50 to 600 req/s over an hour on MAX_RPS 100: scaling keeps up only
    /// with headroom. The pick has no overloaded minute and the next factor up has some.
    #[test]
    fn the_pick_is_the_cheapest_feasible_boundary() {
        let ramp: Vec<f64> = (0..60)
            .map(|m| 50.0 + 550.0 * f64::from(m) / 59.0)
            .collect();
        let profile = TrafficProfile::from_rates([ramp, vec![600.0; 30]].concat());
        let model = InstanceModel::from_max_rps(100.0).unwrap();
        let found = recommend(&setting(&profile, &model), &base(), 100.0);
        let pick = found.pick.clone().unwrap();
        assert!(pick.feasible());
        assert!(pick.safety_factor < 1.0);
        let next = found.next.clone().unwrap();
        assert!(!next.feasible(), "{next:?}");
        assert!((next.safety_factor - pick.safety_factor - 0.01).abs() < 1e-9);
        assert!(
            found
                .trade_off
                .iter()
                .filter(|t| t.feasible())
                .all(|t| t.instance_minutes >= pick.instance_minutes)
        );
        assert_eq!(found.trade_off.len(), 100);
    }

    #[test]
    fn lever_candidates_stop_where_the_peak_is_carried() {
        let profile = TrafficProfile::from_rates(vec![950.0]);
        let model = InstanceModel::from_max_rps(100.0).unwrap();
        let s = setting(&profile, &model);
        assert_eq!(
            lever_candidates(&s, &base(), 100.0),
            (2..=10).collect::<Vec<_>>()
        );
        let small = Policy {
            max_capacity: 9,
            ..base()
        };
        assert!(lever_candidates(&s, &small, 100.0).is_empty());
        let huge = TrafficProfile::from_rates(vec![1e9]);
        let wide = Policy {
            max_capacity: u32::MAX,
            ..base()
        };
        let c = lever_candidates(&setting(&huge, &model), &wide, 100.0);
        assert_eq!(c.len(), MAX_LEVER_STEPS as usize + 1);
        assert_eq!((c[0], c[c.len() - 1]), (2, 10_000_000));
    }

    /// A jump from 50 to 900 req/s: scaling cannot react in time, so only a factor so low
    /// that 50 req/s already keeps 9 instances avoids overload (0.06: target 360/min, 6 req/s
    /// per instance). A minimum of 9 instances (900 / 100) at factor 1.0 does it for less:
    /// 9 × 40 = 360 instance-minutes, the lever to suggest.
    #[test]
    fn a_sudden_jump_makes_min_capacity_the_better_lever() {
        let profile = TrafficProfile::from_rates([vec![50.0; 20], vec![900.0; 20]].concat());
        let model = InstanceModel::from_max_rps(100.0).unwrap();
        let found = recommend(&setting(&profile, &model), &base(), 100.0);
        let pick = found.pick.unwrap();
        assert_eq!(pick.safety_factor, 0.06);
        let lever = found.min_capacity_lever.unwrap();
        assert_eq!(
            (
                lever.min_capacity,
                lever.safety_factor,
                lever.instance_minutes
            ),
            (9, 1.0, 360)
        );
        assert!(lever.instance_minutes < pick.instance_minutes);
        assert!(lever.feasible());
    }
}

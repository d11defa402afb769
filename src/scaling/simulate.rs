//! The scaling simulator: a traffic profile through the target-tracking controller, minute
//! by minute, with each minute's latency and failures predicted from the instance model.

use super::controller::{Controller, proportional};
use super::instance::InstanceModel;
use super::profile::TrafficProfile;
use crate::results::{Direction, Policy, ScaleEvent, SimMinute, SimSummary, Timing};

/// A simulated run of a profile under a policy.
#[derive(Clone, Debug, PartialEq)]
pub struct Simulation {
    pub timeline: Vec<SimMinute>,
    pub events: Vec<ScaleEvent>,
    pub summary: SimSummary,
}

/// Everything a simulation needs besides the policy.
#[derive(Clone, Copy, Debug)]
pub struct Setting<'a> {
    pub profile: &'a TrafficProfile,
    pub model: &'a InstanceModel,
    pub timing: Timing,
    /// Dollars per instance-hour.
    pub instance_price: Option<f64>,
}

/// Runs `policy` over the profile. The variant starts settled for the first minute:
/// `ceil(invocations / target)` instances, within the capacity range.
pub fn simulate(setting: &Setting, policy: &Policy) -> Simulation {
    let first = setting.profile.rps.first().copied().unwrap_or(0.0) * 60.0;
    let initial = proportional(1, first, policy.target_value);
    let mut controller = Controller::new(policy.clone(), setting.timing, initial);
    let mut timeline = Vec::with_capacity(setting.profile.minutes());
    let mut events = Vec::new();
    for &rps in &setting.profile.rps {
        let state = controller.step(rps * 60.0);
        let per_instance = rps / f64::from(state.instances.max(1));
        let predicted = setting.model.minute(per_instance);
        timeline.push(SimMinute {
            minute: state.minute,
            offered_rps: rps,
            instances: state.instances,
            desired: state.desired,
            billed: state.billed,
            invocations_per_instance: round1(state.invocations_per_instance.unwrap_or(0.0)),
            concurrency_per_instance: None,
            overloaded: predicted.overloaded,
            p99_ms: predicted.p99_ms.map(round1),
            failed: (predicted.failed * f64::from(state.instances)).round() as u64,
        });
        events.extend(state.event);
    }
    let summary = summarize(&timeline, &events, setting.instance_price);
    Simulation {
        timeline,
        events,
        summary,
    }
}

/// The instances in service each minute of `rps` for a variant that has `initial` of them
/// when the traffic starts: the simulator's prediction beside a live run. Without a policy
/// nothing scales the variant, so the count stays.
pub fn predict_instances(
    rps: &[f64],
    policy: Option<&Policy>,
    timing: Timing,
    initial: u32,
) -> Vec<u32> {
    let Some(policy) = policy else {
        return vec![initial; rps.len()];
    };
    let mut controller = Controller::new(policy.clone(), timing, initial);
    rps.iter()
        .map(|&r| controller.step(r * 60.0).instances)
        .collect()
}

pub(super) fn summarize(
    timeline: &[SimMinute],
    events: &[ScaleEvent],
    price: Option<f64>,
) -> SimSummary {
    let requests = |m: &SimMinute| (m.offered_rps * 60.0).round() as u64;
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    let instance_minutes: u64 = timeline.iter().map(|m| u64::from(m.billed)).sum();
    let instance_hours = instance_minutes as f64 / 60.0;
    SimSummary {
        minutes: count(timeline.len()),
        requests: timeline.iter().map(requests).fold(0, u64::saturating_add),
        max_instances: timeline.iter().map(|m| m.instances).max().unwrap_or(0),
        overloaded_minutes: count(timeline.iter().filter(|m| m.overloaded).count()),
        requests_at_risk: timeline
            .iter()
            .filter(|m| m.overloaded)
            .map(requests)
            .fold(0, u64::saturating_add),
        failed_requests: timeline
            .iter()
            .map(|m| m.failed)
            .fold(0, u64::saturating_add),
        instance_minutes,
        instance_hours: (instance_hours * 100.0).round() / 100.0,
        cost: price.map(|p| (instance_hours * p * 100.0).round() / 100.0),
        scale_out_events: count(
            events
                .iter()
                .filter(|e| e.direction == Direction::Out)
                .count(),
        ),
        scale_in_events: count(
            events
                .iter()
                .filter(|e| e.direction == Direction::In)
                .count(),
        ),
    }
}

pub(super) fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::testing::policy;

    /// Target 600 per instance per minute, 30 req/s (1800 a minute) on 1 instance, no metric
    /// delay, no provisioning: minutes 0-2 are high, the end of minute 2 scales out to
    /// ceil(1 × 1800 / 600) = 3, serving from minute 3; at 600 per instance nothing is high
    /// or low (low is below 540) any more, so 3 stay.
    #[test]
    fn prediction_starts_from_the_live_count() {
        let timing = Timing {
            metric_delay_min: 0,
            provisioning_min: 0,
        };
        let rps = [30.0; 6];
        assert_eq!(
            predict_instances(&rps, Some(&policy(600.0)), timing, 1),
            [1, 1, 1, 3, 3, 3]
        );
        // Starting at 3, the same traffic is on target: nothing happens.
        assert_eq!(
            predict_instances(&rps, Some(&policy(600.0)), timing, 3),
            [3; 6]
        );
        assert_eq!(predict_instances(&rps, None, timing, 2), [2; 6]);
    }

    /// MAX_RPS 100, target 6000/min (factor 1.0). 50 req/s for 3 minutes, then 250 req/s:
    /// scale-out to 3 at the end of minute 5 (delay 0), serving from minute 8 (provisioning
    /// 2). Minutes 3-7 are overloaded (250 req/s on 1 instance, 150 over MAX_RPS: 9000
    /// failures each); from minute 8, 83.3 req/s each.
    #[test]
    fn overloaded_minutes_and_failures_follow_the_timeline() {
        let profile = TrafficProfile::from_rates([vec![50.0; 3], vec![250.0; 9]].concat());
        let model = InstanceModel::from_max_rps(100.0).unwrap();
        let setting = Setting {
            profile: &profile,
            model: &model,
            timing: Timing {
                metric_delay_min: 0,
                provisioning_min: 2,
            },
            instance_price: Some(1.5),
        };
        let sim = simulate(&setting, &policy(6000.0));
        let instances: Vec<u32> = sim.timeline.iter().map(|m| m.instances).collect();
        assert_eq!(instances, vec![1, 1, 1, 1, 1, 1, 1, 1, 3, 3, 3, 3]);
        let overloaded: Vec<u32> = sim
            .timeline
            .iter()
            .filter(|m| m.overloaded)
            .map(|m| m.minute)
            .collect();
        assert_eq!(overloaded, vec![3, 4, 5, 6, 7]);
        let s = &sim.summary;
        assert_eq!(s.overloaded_minutes, 5);
        assert_eq!(s.requests_at_risk, 5 * 15000);
        assert_eq!(s.failed_requests, 5 * 9000);
        // Billed: 1 for minutes 0-5, 3 for minutes 6-11 (provisioning counts).
        assert_eq!(s.instance_minutes, 6 + 18);
        assert_eq!(s.instance_hours, 0.4);
        assert_eq!(s.cost, Some(0.6));
        assert_eq!(
            (s.scale_out_events, s.scale_in_events, s.max_instances),
            (1, 0, 3)
        );
        assert_eq!(sim.timeline[8].invocations_per_instance, 5000.0);
        assert_eq!(sim.timeline[0].p99_ms, None);
    }

    #[test]
    fn the_variant_starts_settled_for_the_first_minute() {
        let profile = TrafficProfile::from_rates(vec![450.0; 2]);
        let model = InstanceModel::from_max_rps(100.0).unwrap();
        let timing = Timing {
            metric_delay_min: 1,
            provisioning_min: 5,
        };
        let setting = Setting {
            profile: &profile,
            model: &model,
            timing,
            instance_price: None,
        };
        let sim = simulate(&setting, &policy(6000.0));
        assert_eq!(sim.timeline[0].instances, 5);
        assert_eq!(sim.summary.cost, None);
    }
}

use std::time::Duration;

use super::*;
use crate::results::testing::policy;
use crate::results::{Direction, ScaleEvent, Timing};
use crate::scaling::InstanceModel;
use crate::scaling::{TrafficProfile, simulate};

/// MAX_RPS 100 with 20 in flight at it: W = 0.2 s at any load.
fn model() -> ConcurrencyModel {
    ConcurrencyModel::from_limits(100.0, 20).unwrap()
}

#[test]
fn in_flight_is_rate_times_latency_and_queues_past_the_peak() {
    let m = model();
    assert!((m.in_flight(50.0, 5.0) - 50.0 * 0.2).abs() < 1e-9);
    assert!((m.in_flight(100.0, 5.0) - 20.0).abs() < 1e-9);
    // 50 req/s over MAX_RPS for 30 s: 1500 waiting on top of the peak's 20.
    assert!((m.in_flight(150.0, 30.0) - (20.0 + 1500.0)).abs() < 1e-9);
    assert_eq!(m.in_flight(f64::NAN, 5.0), 0.0);
    assert!(ConcurrencyModel::from_limits(0.0, 4).is_err());
    assert!(ConcurrencyModel::from_limits(10.0, 0).is_err());
}

/// Metrics a minute late, instances serving `provisioning_min` after the decision, no price.
fn setting<'a>(
    profile: &'a TrafficProfile,
    instance: &'a InstanceModel,
    provisioning_min: u32,
) -> Setting<'a> {
    Setting {
        profile,
        model: instance,
        timing: Timing {
            metric_delay_min: 1,
            provisioning_min,
        },
        instance_price: None,
    }
}

fn first_out(events: &[ScaleEvent]) -> Option<&ScaleEvent> {
    events.iter().find(|e| e.direction == Direction::Out)
}

fn first_in(events: &[ScaleEvent]) -> Option<&ScaleEvent> {
    events.iter().find(|e| e.direction == Direction::In)
}

/// 40 req/s for 3 minutes, 80 for 7, then 10 for 20; targets of 8.5 in flight and 2500
/// invocations a minute, so that 80 req/s is high on 1 instance and neither high nor low
/// (below 90 % of the target) on 2, and 40 req/s neither on 1.
///
/// Concurrency: 80 req/s puts 16 in flight on the one instance (> 8.5) from period 18
/// (minute 3). With a datapoint 10 s late, the 3rd high one (period 20) is seen at the end of
/// period 21, still minute 3: out to ceil(16 / 8.5) = 2. Invocations: minutes 3-5 are high
/// (4800 > 2500), seen a minute late at the end of minute 6: out to ceil(4800 / 2500) = 2.
///
/// From minute 10 both metrics are low (1 in flight, 300 a minute per instance). Concurrency
/// needs 90 low datapoints (periods 60-149), seen at the end of period 150 = minute 25;
/// invocations 15 (minutes 10-24), seen at the end of minute 25: the same minute.
#[test]
fn concurrency_scales_out_sooner_and_in_no_sooner() {
    let rates = [vec![40.0; 3], vec![80.0; 7], vec![10.0; 20]].concat();
    let profile = TrafficProfile::from_rates(rates);
    let instance = InstanceModel::from_max_rps(100.0).unwrap();
    let setting = setting(&profile, &instance, 0);
    let cadence = Cadence::high_resolution(Duration::from_secs(10));
    let by_concurrency = simulate_concurrency(&setting, &policy(8.5), &model(), cadence);
    let by_invocations = simulate(&setting, &policy(2500.0));

    let out = first_out(&by_concurrency.events).unwrap();
    assert_eq!((out.minute, out.from, out.to), (3, 1, 2));
    assert_eq!(out.metric, 16.0);
    let out = first_out(&by_invocations.events).unwrap();
    assert_eq!((out.minute, out.from, out.to), (6, 1, 2));

    let scale_in = |sim: &Simulation| first_in(&sim.events).map(|e| (e.minute, e.to));
    assert_eq!(scale_in(&by_concurrency), Some((25, 1)));
    assert_eq!(scale_in(&by_invocations), Some((25, 1)));

    let t = &by_concurrency.timeline;
    // The new instance serves from the period after the decision: minute 3 had 1 throughout
    // most of it, minute 4 has 2, each with 40 req/s × 0.2 s = 8 in flight.
    assert_eq!((t[3].instances, t[4].instances), (1, 2));
    assert_eq!(t[4].concurrency_per_instance, Some(8.0));
    assert_eq!(t[0].concurrency_per_instance, Some(8.0));
    assert!(t.iter().all(|m| !m.overloaded));
    assert!(
        by_invocations
            .timeline
            .iter()
            .all(|m| m.concurrency_per_instance.is_none())
    );
}

/// The variant starts with the fewest instances that hold the first minute at the target:
/// 120 req/s is 24 in flight, 12 on 2 and 8 on 3 (target 10).
#[test]
fn the_variant_starts_settled_on_concurrency() {
    let profile = TrafficProfile::from_rates(vec![120.0; 2]);
    let instance = InstanceModel::from_max_rps(100.0).unwrap();
    let setting = setting(&profile, &instance, 5);
    let cadence = Cadence::high_resolution(Duration::from_secs(10));
    let sim = simulate_concurrency(&setting, &policy(10.0), &model(), cadence);
    assert_eq!(sim.timeline[0].instances, 3);
    assert!(sim.events.is_empty());
}

#[test]
fn the_high_resolution_cadence_rounds_its_delay_up_to_periods() {
    let c = Cadence::high_resolution(Duration::from_millis(10_500));
    assert_eq!((c.period_s, c.delay_periods), (10, 2));
    assert_eq!(c.low_datapoints * c.period_s as usize, 15 * 60);
    assert_eq!(Cadence::high_resolution(Duration::ZERO).delay_periods, 0);
}

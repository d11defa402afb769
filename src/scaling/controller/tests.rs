//! Hand-computed timelines for the controller. Every test uses a target of 6000 invocations
//! per instance per minute (100 req/s), so a minute's proposal is easy to check by hand.

use super::*;
use crate::results::testing;

const TARGET: f64 = 6000.0;

fn policy() -> Policy {
    testing::policy(TARGET)
}

fn timing(metric_delay_min: u32, provisioning_min: u32) -> Timing {
    Timing {
        metric_delay_min,
        provisioning_min,
    }
}

/// Invocations per minute: `(count, invocations)` runs.
fn traffic(runs: &[(usize, f64)]) -> Vec<f64> {
    runs.iter()
        .flat_map(|&(n, v)| std::iter::repeat_n(v, n))
        .collect()
}

fn run(policy: Policy, timing: Timing, initial: u32, invocations: &[f64]) -> Vec<MinuteState> {
    let mut c = Controller::new(policy, timing, initial);
    invocations.iter().map(|&v| c.step(v)).collect()
}

fn instances(states: &[MinuteState]) -> Vec<u32> {
    states.iter().map(|s| s.instances).collect()
}

fn desired(states: &[MinuteState]) -> Vec<u32> {
    states.iter().map(|s| s.desired).collect()
}

fn events(states: &[MinuteState]) -> Vec<(u32, Direction, u32, u32)> {
    states
        .iter()
        .filter_map(|s| s.event.as_ref())
        .map(|e| (e.minute, e.direction, e.from, e.to))
        .collect()
}

fn counts(runs: &[(usize, u32)]) -> Vec<u32> {
    runs.iter()
        .flat_map(|&(n, v)| std::iter::repeat_n(v, n))
        .collect()
}

/// 1 instance at 3000/min, then 15000/min from minute 3 (2.5× the target). Metric delay 0,
/// provisioning 2 min. Minutes 3, 4, 5 are high, so at the end of minute 5 (the third high
/// minute) desired = ceil(1 × 15000 / 6000) = 3. The two new instances serve from minute
/// 5 + 1 + 2 = 8; minutes 6-7 still run on 1 instance; from minute 8 the metric is 5000.
#[test]
fn step_up_scales_out_at_the_third_high_minute_and_serves_after_provisioning() {
    let states = run(
        policy(),
        timing(0, 2),
        1,
        &traffic(&[(3, 3000.0), (9, 15000.0)]),
    );
    assert_eq!(instances(&states), vec![1, 1, 1, 1, 1, 1, 1, 1, 3, 3, 3, 3]);
    assert_eq!(desired(&states), vec![1, 1, 1, 1, 1, 3, 3, 3, 3, 3, 3, 3]);
    assert_eq!(events(&states), vec![(5, Direction::Out, 1, 3)]);
    assert_eq!(states[3].invocations_per_instance, Some(15000.0));
    assert_eq!(states[8].invocations_per_instance, Some(5000.0));
    // Provisioning instances are billed: 3 from the minute after the decision.
    assert_eq!(states[6].billed, 3);
    assert_eq!(states[5].billed, 1);
}

/// The same step with the defaults (metric delay 1 min, provisioning 5 min): the alarm sees
/// minute 5 only at the end of minute 6, so the scale-out to 3 is decided then and the new
/// instances serve from minute 6 + 1 + 5 = 12. Minutes 12-13: the cooldown (until the end
/// of minute 16) sees the stale high datapoint of minute 11 (1 instance, 15000) and proposes
/// ceil(1 × 15000 / 6000) = 3, not larger than 3: no second scale-out.
#[test]
fn metric_delay_and_provisioning_postpone_the_new_capacity() {
    let states = run(
        policy(),
        timing(1, 5),
        1,
        &traffic(&[(3, 3000.0), (11, 15000.0)]),
    );
    assert_eq!(instances(&states), counts(&[(12, 1), (2, 3)]));
    assert_eq!(desired(&states), counts(&[(6, 1), (8, 3)]));
    assert_eq!(events(&states), vec![(6, Direction::Out, 1, 3)]);
}

/// 5 instances at 30000/min (6000 each, on target), then 3000/min from minute 2 (600 each,
/// under 90 % of the target). Minutes 2-16 are the 15 low datapoints: at the end of minute
/// 16 desired = ceil(5 × 600 / 6000) = 1, raised to the minimum 2. Afterwards the metric
/// (1500) stays low but the proposal is still 1 → 2: never below the minimum.
#[test]
fn fall_scales_in_after_fifteen_low_minutes_and_never_below_the_minimum() {
    let p = Policy {
        min_capacity: 2,
        ..policy()
    };
    let states = run(p, timing(0, 2), 5, &traffic(&[(2, 30000.0), (20, 3000.0)]));
    assert_eq!(instances(&states), counts(&[(17, 5), (5, 2)]));
    assert_eq!(desired(&states), counts(&[(16, 5), (6, 2)]));
    assert_eq!(events(&states), vec![(16, Direction::In, 5, 2)]);
}

/// Fourteen low minutes are not enough: 3000/min for minutes 2-15 only, then back on target.
#[test]
fn fourteen_low_minutes_do_not_scale_in() {
    let states = run(
        policy(),
        timing(0, 2),
        5,
        &traffic(&[(2, 30000.0), (14, 3000.0), (10, 30000.0)]),
    );
    assert_eq!(instances(&states), counts(&[(26, 5)]));
    assert!(events(&states).is_empty());
}

/// 9000/min from minute 2 (1800 each on 5): at the end of minute 16 desired =
/// ceil(5 × 1800 / 6000) = 2 (2 serve from minute 17). Traffic then falls to 3000/min (1500
/// each on 2, proposal 1) but the scale-in cooldown (300 s from the end of minute 16) holds
/// the next scale-in until the end of minute 21: 1 instance from minute 22.
#[test]
fn scale_in_cooldown_defers_the_next_scale_in() {
    let states = run(
        policy(),
        timing(0, 2),
        5,
        &traffic(&[(2, 30000.0), (15, 9000.0), (10, 3000.0)]),
    );
    assert_eq!(instances(&states), counts(&[(17, 5), (5, 2), (5, 1)]));
    assert_eq!(desired(&states), counts(&[(16, 5), (5, 2), (6, 1)]));
    assert_eq!(
        events(&states),
        vec![(16, Direction::In, 5, 2), (21, Direction::In, 2, 1)]
    );
}

/// Metric delay 1, provisioning 2. The scale-out to 3 is decided at the end of minute 6 and
/// serves from minute 9. At the end of minute 9 the alarm still sees minute 8 (1 instance,
/// 15000). The proposal comes from the instances that datapoint was divided by:
/// ceil(1 × 15000 / 6000) = 3, not larger, so nothing changes, with the cooldown and without
/// it. (Multiplying the stale datapoint by the 3 now in service would ask for
/// ceil(3 × 15000 / 6000) = 8: an overshoot whenever the cooldown is shorter than the delay.)
#[test]
fn a_late_datapoint_does_not_count_the_capacity_added_since() {
    let load = traffic(&[(3, 3000.0), (11, 15000.0)]);
    let held = run(policy(), timing(1, 2), 1, &load);
    assert_eq!(instances(&held), counts(&[(9, 1), (5, 3)]));
    assert_eq!(desired(&held), counts(&[(6, 1), (8, 3)]));
    assert_eq!(events(&held), vec![(6, Direction::Out, 1, 3)]);

    let no_cooldown = Policy {
        scale_out_cooldown_s: 0,
        ..policy()
    };
    let same = run(no_cooldown, timing(1, 2), 1, &load);
    assert_eq!(instances(&same), instances(&held));
    assert_eq!(events(&same), vec![(6, Direction::Out, 1, 3)]);
}

/// Within a scale-out cooldown a larger scale-out is taken. 15000/min from minute 3 → 3 at
/// the end of minute 5 (serving from 8, cooldown until the end of minute 12). Traffic doubles
/// to 30000/min at minute 6: minute 8 on 3 instances is 10000 each, the proposal
/// ceil(3 × 10000 / 6000) = 5 is larger, so it is taken at the end of minute 8 (serving
/// from 11, at 6000 each: on target, no further change).
#[test]
fn scale_out_cooldown_still_takes_a_larger_scale_out() {
    let states = run(
        policy(),
        timing(0, 2),
        1,
        &traffic(&[(3, 3000.0), (3, 15000.0), (8, 30000.0)]),
    );
    assert_eq!(instances(&states), counts(&[(8, 1), (3, 3), (3, 5)]));
    assert_eq!(desired(&states), counts(&[(5, 1), (3, 3), (6, 5)]));
    assert_eq!(
        events(&states),
        vec![(5, Direction::Out, 1, 3), (8, Direction::Out, 3, 5)]
    );
}

/// Max capacity 4: the proposal ceil(1 × 60000 / 6000) = 10 at the end of minute 5 is capped
/// to 4; on 4 instances (15000 each) the cooldown's proposal is 10 → 4 again: no change.
#[test]
fn max_capacity_caps_the_scale_out() {
    let p = Policy {
        max_capacity: 4,
        ..policy()
    };
    let states = run(p, timing(0, 2), 1, &traffic(&[(3, 3000.0), (9, 60000.0)]));
    assert_eq!(instances(&states), counts(&[(8, 1), (4, 4)]));
    assert_eq!(desired(&states), counts(&[(5, 1), (7, 4)]));
    assert_eq!(events(&states), vec![(5, Direction::Out, 1, 4)]);
}

/// The fall of the scale-in test with DisableScaleIn: 5 instances throughout.
#[test]
fn disable_scale_in_keeps_the_capacity() {
    let p = Policy {
        disable_scale_in: true,
        ..policy()
    };
    let states = run(p, timing(0, 2), 5, &traffic(&[(2, 30000.0), (20, 3000.0)]));
    assert_eq!(instances(&states), counts(&[(22, 5)]));
    assert_eq!(desired(&states), counts(&[(22, 5)]));
    assert!(events(&states).is_empty());
}

/// Scale in to 2 at the end of minute 16 (as above), then 30000/min from minute 17 (15000
/// each): minutes 17-19 are high and at the end of minute 19, inside the scale-in cooldown,
/// the scale-out to ceil(2 × 15000 / 6000) = 5 happens at once (serving from minute 22).
#[test]
fn scale_out_interrupts_the_scale_in_cooldown() {
    let states = run(
        policy(),
        timing(0, 2),
        5,
        &traffic(&[(2, 30000.0), (15, 9000.0), (6, 30000.0)]),
    );
    assert_eq!(instances(&states), counts(&[(17, 5), (5, 2), (1, 5)]));
    assert_eq!(desired(&states), counts(&[(16, 5), (3, 2), (4, 5)]));
    assert_eq!(
        events(&states),
        vec![(16, Direction::In, 5, 2), (19, Direction::Out, 2, 5)]
    );
}

/// Minutes without traffic publish no datapoint, so they never make a low alarm (assumed;
/// see the module notes): 5 instances stay.
#[test]
fn minutes_without_traffic_do_not_scale_in() {
    let states = run(
        policy(),
        timing(0, 2),
        5,
        &traffic(&[(2, 30000.0), (20, 0.0)]),
    );
    assert_eq!(instances(&states), counts(&[(22, 5)]));
    assert_eq!(states[5].invocations_per_instance, None);
}

#[test]
fn initial_count_is_clamped_and_proportional_saturates() {
    let p = Policy {
        min_capacity: 2,
        max_capacity: 3,
        ..policy()
    };
    assert_eq!(run(p.clone(), timing(0, 0), 0, &[1.0])[0].instances, 2);
    assert_eq!(run(p, timing(0, 0), 9, &[1.0])[0].instances, 3);
    assert_eq!(proportional(1, 12000.0, 6000.0), 2);
    assert_eq!(proportional(3, 6000.0 + 1e-10, 6000.0), 3);
    assert_eq!(proportional(3, 6000.1, 6000.0), 4);
    assert_eq!(proportional(1, f64::MAX, 1e-300), u32::MAX);
    assert_eq!(proportional(1, 0.0, 6000.0), 0);
}

#[test]
fn timing_durations_round_up_to_whole_minutes() {
    use std::time::Duration;
    let minutes = |d| Timing::from_durations(d, d).metric_delay_min;
    assert_eq!(minutes(Duration::ZERO), 0);
    assert_eq!(minutes(Duration::from_secs(60)), 1);
    assert_eq!(minutes(Duration::from_secs(61)), 2);
    assert_eq!(minutes(Duration::from_millis(500)), 1);
    assert_eq!(minutes(Duration::from_millis(60_500)), 2);
    assert_eq!(minutes(Duration::from_secs(u64::MAX)), u32::MAX);
    let t = Timing::from_durations(Duration::from_secs(60), Duration::from_secs(300));
    assert_eq!((t.metric_delay_min, t.provisioning_min), (1, 5));
}

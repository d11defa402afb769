//! The target-tracking controller: Application Auto Scaling's rules for a SageMaker variant
//! (REFERENCE.md §4), stepped one minute at a time. Plain data in, plain data out; no clock.
//!
//! Each rule, and where it comes from:
//!
//! - **Metric.** `SageMakerVariantInvocationsPerInstance` for a minute is the invocations of
//!   that minute divided by the instances in service during it (REFERENCE.md §4; SageMaker's
//!   metric documentation: invocations "normalized by InstanceCount"). *Assumed*: every
//!   request sent counts, failed or not, and a minute without invocations emits no datapoint
//!   (SageMaker publishes the metric only when there is traffic), so it is neither high nor
//!   low and breaks both alarms' runs of consecutive datapoints.
//! - **Metric delay.** CloudWatch datapoints reach the alarms 1-3 minutes late (REFERENCE.md
//!   §4). The alarms are evaluated at the end of every minute `t`; with a delay of `d` minutes
//!   they see datapoints up to minute `t - d`.
//! - **High alarm.** The last 3 visible datapoints are all above the target value. *Source*:
//!   the alarm AWS creates for target tracking (3 of 3 one-minute datapoints), as users see
//!   it and as moto models it; not a documented promise.
//! - **Low alarm.** The last 15 visible datapoints are all below 90 % of the target value.
//!   *Source*: as for the high alarm (15 of 15, at about 90 % of the target).
//! - **Proportional capacity.** `desired = ceil(current × metric / target)`, within
//!   `[min_capacity, max_capacity]`, where `metric` is the latest visible datapoint
//!   (Application Auto Scaling user guide, "target tracking"). `current` is the number of
//!   instances that datapoint was divided by (those in service in its minute), so the
//!   proposal is `ceil(invocations / target)`: a datapoint that reaches the alarms late is
//!   never multiplied by capacity added since, which would overshoot whenever the cooldown
//!   is shorter than the metric delay.
//! - **Repeated evaluation.** While an alarm holds, the policy is evaluated again every
//!   minute (alarms invoke their actions each period they stay in ALARM); each evaluation may
//!   scale again, subject to the cooldowns.
//! - **One activity at a time.** A scale-out is an activity that lasts until its instances are
//!   in service: it is decided at the end of minute `t` and its instances take traffic from
//!   minute `t + 1 + provisioning`. *Assumed*: while it runs, nothing else is decided (the
//!   endpoint is `Updating`, and SageMaker takes no other capacity change then). A scale-in
//!   completes at once: the instances leave service from the next minute.
//! - **Scale-out cooldown** (default 300 s) runs from the end of the scale-out activity
//!   ("the amount of time after a scale-out activity completes before another scale-out
//!   activity can start", PutScalingPolicy reference). Within it only a larger scale-out is
//!   taken, and "the capacity that has been added by the previous scale-out ... is calculated
//!   as part of the desired capacity for the next scale-out", which the proportional rule
//!   above does by computing from the instances that produced the datapoint.
//! - **Scale-in cooldown** (default 300 s), from the scale-in: no scale-in until it has
//!   passed. A scale-out may interrupt it: "if another alarm triggers a scale-out policy
//!   during the cooldown period after a scale-in, Application Auto Scaling scales out your
//!   scalable target immediately" (same reference). *Assumed*: scale-in also waits for a
//!   running scale-out cooldown to end (scale-in is the conservative direction).
//! - **DisableScaleIn.** The low alarm never removes capacity (PutScalingPolicy parameter).
//! - **Billing.** *Assumed*: every instance that exists, in service or still provisioning,
//!   is billed.
//! - **Start.** *Assumed*: the variant starts settled for the first minute's traffic, with
//!   the caller's initial count (the simulator uses `ceil(invocations / target)` clamped to
//!   the capacity range) and no cooldown running.
//!
//! The rules above are stated for one-minute datapoints. The same controller steps through
//! shorter periods for the high-resolution concurrency metrics (`Cadence`): every count and
//! time above is then in periods of `Cadence::period_s`, except the cooldowns (seconds) and
//! provisioning (whole minutes, converted to periods).

use std::time::Duration;

use crate::results::{Direction, Policy, ScaleEvent, Timing};

/// Consecutive high datapoints that trigger a scale-out.
pub const HIGH_DATAPOINTS: usize = 3;
/// Consecutive low datapoints that trigger a scale-in.
pub const LOW_DATAPOINTS: usize = 15;
/// A datapoint is low below this share of the target value.
pub const LOW_THRESHOLD: f64 = 0.9;

/// How often the tracked metric publishes a datapoint, and how many the alarms need.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cadence {
    /// Seconds between datapoints: 60 for InvocationsPerInstance, 10 for the
    /// high-resolution concurrency metrics.
    pub period_s: u32,
    pub high_datapoints: usize,
    pub low_datapoints: usize,
    /// Periods before a datapoint reaches the alarms.
    pub delay_periods: u32,
}

/// Seconds between datapoints of the high-resolution concurrency metrics (REFERENCE.md §7).
pub const HIGH_RESOLUTION_PERIOD_S: u32 = 10;

impl Cadence {
    /// `SageMakerVariantInvocationsPerInstance`: one datapoint a minute, the alarms above.
    pub fn per_minute(timing: Timing) -> Self {
        Cadence {
            period_s: 60,
            high_datapoints: HIGH_DATAPOINTS,
            low_datapoints: LOW_DATAPOINTS,
            delay_periods: timing.metric_delay_min,
        }
    }

    /// `SageMakerVariantConcurrentRequestsPerModelHighResolution`: a datapoint every 10 s.
    ///
    /// AWS documents that these metrics publish every 10 seconds, so the policy scales out
    /// faster than on the per-minute metric, and that it scales in no faster (SageMaker
    /// developer guide, "Define a scaling policy"; REFERENCE.md §7). It documents no alarm
    /// counts, so:
    ///
    /// - **High alarm.** *Assumed*: 3 consecutive 10-second datapoints (30 s) above the
    ///   target: the standard alarm's count kept at the shorter period.
    /// - **Low alarm.** *Assumed*: 90 consecutive 10-second datapoints (the standard 15
    ///   minutes) below 90 % of the target, so scale-in takes as long as on the standard metric.
    /// - **Metric delay.** *Assumed*: `metric_delay` rounded up to whole 10-second periods.
    pub fn high_resolution(metric_delay: Duration) -> Self {
        let period = u64::from(HIGH_RESOLUTION_PERIOD_S);
        let secs = metric_delay
            .as_secs()
            .saturating_add(u64::from(metric_delay.subsec_nanos() > 0));
        Cadence {
            period_s: HIGH_RESOLUTION_PERIOD_S,
            high_datapoints: HIGH_DATAPOINTS,
            low_datapoints: LOW_DATAPOINTS * 60 / HIGH_RESOLUTION_PERIOD_S as usize,
            delay_periods: u32::try_from(secs.div_ceil(period)).unwrap_or(u32::MAX),
        }
    }

    /// Datapoints per minute.
    pub fn per_minute_count(&self) -> usize {
        (60 / self.period_s.max(1)) as usize
    }
}

/// What happened in one period (a minute for the per-minute metric).
#[derive(Clone, Debug, PartialEq)]
pub struct MinuteState {
    /// The period's index (the minute's, for one-minute datapoints).
    pub minute: u32,
    /// Instances in service (taking traffic) during the minute.
    pub instances: u32,
    /// Instances that exist during the minute (in service plus provisioning): what is billed.
    pub billed: u32,
    /// The desired count after the end-of-minute evaluation.
    pub desired: u32,
    /// The minute's datapoint; `None` when there was no traffic.
    pub invocations_per_instance: Option<f64>,
    pub event: Option<ScaleEvent>,
}

/// One datapoint: the metric and the instances it was divided by.
#[derive(Clone, Copy, Debug)]
struct Datapoint {
    metric: f64,
    in_service: u32,
}

/// A scale-out whose instances are not in service yet.
#[derive(Clone, Copy, Debug)]
struct Launch {
    /// The first minute the new instances take traffic.
    ready: usize,
    count: u32,
}

/// The controller's state between minutes.
#[derive(Clone, Debug)]
pub struct Controller {
    policy: Policy,
    timing: Timing,
    cadence: Cadence,
    desired: u32,
    launch: Option<Launch>,
    datapoints: Vec<Option<Datapoint>>,
    /// End of the running cooldowns, in seconds from the start of minute 0.
    scale_out_until: u64,
    scale_in_until: u64,
}

impl Controller {
    /// A controller with `initial` instances in service (clamped to the capacity range).
    pub fn new(policy: Policy, timing: Timing, initial: u32) -> Self {
        Self::with_cadence(policy, timing, Cadence::per_minute(timing), initial)
    }

    /// A controller on datapoints of `cadence` (whose delay replaces the timing's).
    pub fn with_cadence(policy: Policy, timing: Timing, cadence: Cadence, initial: u32) -> Self {
        let desired = clamp(initial, &policy);
        Controller {
            policy,
            timing,
            cadence,
            desired,
            launch: None,
            datapoints: Vec::new(),
            scale_out_until: 0,
            scale_in_until: 0,
        }
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    pub fn timing(&self) -> Timing {
        self.timing
    }

    /// Runs the next minute with `invocations` sent to the variant in it.
    pub fn step(&mut self, invocations: f64) -> MinuteState {
        self.step_with(|_| invocations)
    }

    /// Runs the next period; `total` gives the metric summed over the instances in service
    /// (it is divided by their count for the datapoint).
    pub fn step_with(&mut self, total: impl FnOnce(u32) -> f64) -> MinuteState {
        let minute = self.datapoints.len();
        if self.launch.is_some_and(|l| l.ready <= minute) {
            self.launch = None;
        }
        let billed = self.desired;
        let instances = self.in_service();
        let invocations = if instances > 0 { total(instances) } else { 0.0 };
        let datapoint = (invocations > 0.0 && instances > 0).then(|| Datapoint {
            metric: invocations / f64::from(instances),
            in_service: instances,
        });
        self.datapoints.push(datapoint);
        let event = if self.launch.is_some() {
            None
        } else {
            self.evaluate(minute)
        };
        MinuteState {
            minute: minute_number(minute),
            instances,
            billed,
            desired: self.desired,
            invocations_per_instance: datapoint.map(|d| d.metric),
            event,
        }
    }

    /// The minute a period falls in.
    fn minute_of(&self, period: usize) -> u32 {
        minute_number(period / self.cadence.per_minute_count().max(1))
    }

    fn in_service(&self) -> u32 {
        self.desired
            .saturating_sub(self.launch.map_or(0, |l| l.count))
    }

    /// The datapoints the alarms can see at the end of `minute`, newest last.
    fn visible(&self, minute: usize) -> &[Option<Datapoint>] {
        let delay = self.cadence.delay_periods as usize;
        match (minute + 1).checked_sub(delay) {
            Some(end) => &self.datapoints[..end],
            None => &[],
        }
    }

    fn evaluate(&mut self, minute: usize) -> Option<ScaleEvent> {
        let now = (minute as u64 + 1) * u64::from(self.cadence.period_s);
        let target = self.policy.target_value;
        let (high, low) = (self.cadence.high_datapoints, self.cadence.low_datapoints);
        let visible = self.visible(minute);
        let latest = *visible.last()?.as_ref()?;
        if alarm(visible, high, |m| m > target) {
            self.scale_out(minute, latest)
        } else if alarm(visible, low, |m| m < LOW_THRESHOLD * target) {
            self.scale_in(minute, now, latest)
        } else {
            None
        }
    }

    fn scale_out(&mut self, minute: usize, latest: Datapoint) -> Option<ScaleEvent> {
        let proposal = clamp(
            proportional(latest.in_service, latest.metric, self.policy.target_value),
            &self.policy,
        );
        if proposal <= self.desired {
            return None;
        }
        let from = self.desired;
        let provisioning = self.timing.provisioning_min as usize * self.cadence.per_minute_count();
        let ready = minute + 1 + provisioning;
        self.launch = Some(Launch {
            ready,
            count: proposal - from,
        });
        self.desired = proposal;
        let completes = ready as u64 * u64::from(self.cadence.period_s);
        self.scale_out_until = completes.saturating_add(self.policy.scale_out_cooldown_s);
        // A scale-out interrupts a running scale-in cooldown.
        self.scale_in_until = 0;
        Some(ScaleEvent {
            minute: self.minute_of(minute),
            direction: Direction::Out,
            from,
            to: proposal,
            metric: latest.metric,
        })
    }

    fn scale_in(&mut self, minute: usize, now: u64, latest: Datapoint) -> Option<ScaleEvent> {
        if self.policy.disable_scale_in || now < self.scale_in_until || now < self.scale_out_until {
            return None;
        }
        let proposal = clamp(
            proportional(latest.in_service, latest.metric, self.policy.target_value),
            &self.policy,
        );
        if proposal >= self.desired {
            return None;
        }
        let from = self.desired;
        self.desired = proposal;
        self.scale_in_until = now.saturating_add(self.policy.scale_in_cooldown_s);
        Some(ScaleEvent {
            minute: self.minute_of(minute),
            direction: Direction::In,
            from,
            to: proposal,
            metric: latest.metric,
        })
    }
}

/// Whether the last `n` datapoints exist and all satisfy `test`.
fn alarm(visible: &[Option<Datapoint>], n: usize, test: impl Fn(f64) -> bool) -> bool {
    visible.len() >= n
        && visible[visible.len() - n..]
            .iter()
            .all(|d| d.is_some_and(|d| test(d.metric)))
}

/// `ceil(current × metric / target)`, saturating; products that land a hair above a whole
/// number through rounding (2.0000000001) count as that number.
pub fn proportional(current: u32, metric: f64, target: f64) -> u32 {
    let exact = f64::from(current) * metric / target;
    let rounded = (exact * 1e9).round() / 1e9;
    if rounded.is_finite() {
        rounded.ceil().max(0.0) as u32
    } else {
        u32::MAX
    }
}

fn clamp(count: u32, policy: &Policy) -> u32 {
    count.clamp(
        policy.min_capacity,
        policy.max_capacity.max(policy.min_capacity),
    )
}

#[cfg(test)]
mod tests;

/// A minute's index as the results documents number it.
fn minute_number(index: usize) -> u32 {
    u32::try_from(index).unwrap_or(u32::MAX)
}

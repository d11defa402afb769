//! `peakrps.simulate/v1`: a traffic profile replayed through a target-tracking policy, minute
//! by minute; with `simulate --recommend`, the safety factors tried and the pick.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The metric a simulated policy tracks by default.
pub const INVOCATIONS_METRIC: &str = "SageMakerVariantInvocationsPerInstance";
/// The high-resolution concurrency metric (`simulate --metric concurrency`).
pub const CONCURRENCY_METRIC: &str = "SageMakerVariantConcurrentRequestsPerModelHighResolution";

/// A target-tracking policy and its scalable target's capacity range.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Policy {
    /// Invocations per instance per minute, or requests in flight per instance for the
    /// concurrency metric.
    pub target_value: f64,
    pub min_capacity: u32,
    pub max_capacity: u32,
    pub scale_in_cooldown_s: u64,
    pub scale_out_cooldown_s: u64,
    pub disable_scale_in: bool,
}

/// How late the autoscaler sees and acts, in whole minutes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timing {
    /// Minutes before a datapoint reaches the alarms.
    pub metric_delay_min: u32,
    /// Minutes between a scale-out decision's minute and the new instances taking traffic
    /// (they serve from minute `decision + 1 + provisioning_min`).
    pub provisioning_min: u32,
}

impl Timing {
    /// From durations, each rounded up to whole minutes (the controller steps in minutes).
    pub fn from_durations(metric_delay: Duration, provisioning: Duration) -> Self {
        Timing {
            metric_delay_min: whole_minutes(metric_delay),
            provisioning_min: whole_minutes(provisioning),
        }
    }
}

/// A duration in minutes, rounded up.
fn whole_minutes(d: Duration) -> u32 {
    let secs = d.as_secs().saturating_add(u64::from(d.subsec_nanos() > 0));
    u32::try_from(secs.div_ceil(60)).unwrap_or(u32::MAX)
}

/// The simulated policy as PutScalingPolicy and RegisterScalableTarget see it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PolicyDoc {
    pub metric: String,
    #[serde(flatten)]
    pub policy: Policy,
}

impl PolicyDoc {
    pub fn new(policy: &Policy) -> Self {
        PolicyDoc {
            metric: INVOCATIONS_METRIC.into(),
            policy: policy.clone(),
        }
    }

    /// A policy on the high-resolution concurrency metric.
    pub fn concurrency(policy: &Policy) -> Self {
        PolicyDoc {
            metric: CONCURRENCY_METRIC.into(),
            policy: policy.clone(),
        }
    }

    pub fn is_concurrency(&self) -> bool {
        self.metric == CONCURRENCY_METRIC
    }
}

/// The datapoints a concurrency simulation ran on, and what it assumed of them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Datapoints {
    /// Seconds between datapoints.
    pub period_s: u32,
    /// Consecutive datapoints above the target that scale out.
    pub high_datapoints: u32,
    /// Consecutive datapoints below 90 % of it that scale in.
    pub low_datapoints: u32,
    /// How late datapoints reach the alarms (in place of `timing.metric_delay_min`).
    pub metric_delay_s: u64,
}

/// Where one instance's capacity came from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Capacity {
    pub max_rps: f64,
    /// The factor the target value came from; `None` when `--target-value` set it.
    #[serde(deserialize_with = "super::required")]
    pub safety_factor: Option<f64>,
    /// The results file, or `--max-rps`.
    pub source: String,
    /// Whether latency and failures below MAX_RPS come from a measured curve.
    pub latency_curve: bool,
    /// `--metric concurrency`: requests in flight per instance at the peak.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_concurrency: Option<f64>,
}

/// The traffic profile that was replayed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Traffic {
    pub file: String,
    pub minutes: u32,
    pub peak_rps: f64,
}

/// One minute of the timeline (DESIGN.md, `simulate --json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SimMinute {
    pub minute: u32,
    pub offered_rps: f64,
    /// Instances in service (taking traffic) during the minute.
    pub instances: u32,
    /// The desired count after the end-of-minute evaluation.
    pub desired: u32,
    /// Instances billed during the minute (in service plus provisioning).
    pub billed: u32,
    /// The minute's datapoint; 0 when there was no traffic (no datapoint was published).
    pub invocations_per_instance: f64,
    /// `--metric concurrency`: the mean of the minute's 10-second datapoints (requests in
    /// flight per instance); absent for the invocations metric.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency_per_instance: Option<f64>,
    /// An in-service instance received more than MAX_RPS.
    pub overloaded: bool,
    /// Predicted p99 latency; null when only MAX_RPS is known.
    #[serde(deserialize_with = "super::required")]
    pub p99_ms: Option<f64>,
    /// Requests predicted to fail in the minute.
    pub failed: u64,
}

/// Which way the desired count moved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Out,
    In,
}

/// A change of the desired count, decided at the end of `minute`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScaleEvent {
    pub minute: u32,
    pub direction: Direction,
    pub from: u32,
    pub to: u32,
    /// The datapoint (invocations per instance) the decision was made on.
    pub metric: f64,
}

/// The totals of a simulation.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SimSummary {
    pub minutes: u32,
    /// Requests offered over the whole profile.
    pub requests: u64,
    /// The most instances in service in any minute.
    pub max_instances: u32,
    pub overloaded_minutes: u32,
    /// Requests offered in overloaded minutes.
    pub requests_at_risk: u64,
    /// Requests predicted to fail (over capacity, or the measured failure share below it).
    pub failed_requests: u64,
    /// Instance-minutes billed (in service plus provisioning).
    pub instance_minutes: u64,
    pub instance_hours: f64,
    /// `instance_hours × --instance-price`, when a price was given.
    #[serde(deserialize_with = "super::required")]
    pub cost: Option<f64>,
    pub scale_out_events: u32,
    pub scale_in_events: u32,
}

/// One safety factor `simulate --recommend` simulated.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TradeOff {
    pub safety_factor: f64,
    pub min_capacity: u32,
    pub target_value: f64,
    pub overloaded_minutes: u32,
    pub requests_at_risk: u64,
    pub instance_minutes: u64,
    pub instance_hours: f64,
    #[serde(deserialize_with = "super::required")]
    pub cost: Option<f64>,
}

impl TradeOff {
    /// No minute was overloaded.
    pub fn feasible(&self) -> bool {
        self.overloaded_minutes == 0
    }
}

/// What `simulate --recommend` found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FactorSearch {
    /// Every factor of the grid at the given minimum capacity, by increasing factor.
    pub trade_off: Vec<TradeOff>,
    /// The cheapest feasible factor at the given minimum capacity.
    #[serde(deserialize_with = "super::required")]
    pub pick: Option<TradeOff>,
    /// The next factor up from the pick (to show the pick is the boundary).
    #[serde(deserialize_with = "super::required")]
    pub next: Option<TradeOff>,
    /// A higher minimum capacity whose cheapest feasible factor is cheaper than `pick` (or
    /// feasible at all when no factor is).
    #[serde(deserialize_with = "super::required")]
    pub min_capacity_lever: Option<TradeOff>,
}

/// `simulate --json FILE`: the policy, the timeline, the summary, plus what the simulation
/// assumed and, with `--recommend`, the search.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SimulateResults {
    pub schema: String,
    pub version: String,
    pub started_at: String,
    pub policy: PolicyDoc,
    pub capacity: Capacity,
    pub timing: Timing,
    /// `--metric concurrency`: the 10-second datapoints the controller ran on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datapoints: Option<Datapoints>,
    pub traffic: Traffic,
    #[serde(deserialize_with = "super::required")]
    pub instance_price: Option<f64>,
    pub timeline: Vec<SimMinute>,
    pub events: Vec<ScaleEvent>,
    pub summary: SimSummary,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recommendation: Option<FactorSearch>,
}

impl SimulateResults {
    pub const SCHEMA: &'static str = "peakrps.simulate/v1";
}

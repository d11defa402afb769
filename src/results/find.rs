//! `peakrps.find/v1`: the steps a search measured, the peak it found and the scaling target
//! that follows from it (MAX_RPS × SAFETY_FACTOR × 60, REFERENCE.md §1).

use serde::{Deserialize, Serialize};

use super::{
    Arrival, CloudWatchFigures, ConcurrencyTarget, CurveModel, ErrorSample, InstanceInfo, Interval,
    LatencySummary, StreamFigures, StreamSettings, Summary, TargetInfo,
};
use crate::Error;

/// The flags that shaped a find run, kept so a report can say what was tested.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FindSettings {
    pub window_s: f64,
    pub warmup_s: f64,
    pub step_duration_s: f64,
    pub stability: f64,
    pub min_success: f64,
    pub percentile: f64,
    #[serde(deserialize_with = "super::required")]
    pub max_latency_ms: Option<f64>,
    pub min_gain: f64,
    pub precision: f64,
    pub max_concurrency: u32,
    pub timeout_s: f64,
    /// Rate mode: the arrival process and the in-flight cap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arrival: Option<Arrival>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_inflight: Option<u32>,
    /// `--search`: "guided" (by the fitted curve) or "doubling"; absent in documents of
    /// versions that only doubled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search: Option<String>,
    /// `--stream`: the API, the TTFT and ITL limits and the prompts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<StreamSettings>,
}

/// One measured load level and its verdict (a row of the results table).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// Concurrent users (concurrency mode).
    #[serde(deserialize_with = "super::required")]
    pub concurrency: Option<u32>,
    /// The rate requests were due at (rate mode).
    #[serde(deserialize_with = "super::required")]
    pub offered_rps: Option<f64>,
    #[serde(flatten)]
    pub summary: Summary,
    /// Latency at the chosen `--percentile`, in ms.
    pub latency_at_percentile_ms: f64,
    /// The last three windows agreed within the stability band.
    pub stable: bool,
    pub passed: bool,
    /// Why the step failed, in words; `None` when it passed.
    #[serde(deserialize_with = "super::required")]
    pub failure: Option<String>,
    /// Measurement windows the figures come from.
    pub windows: u32,
    /// The step was cut short (interrupted); its figures cover only what was measured.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub partial: bool,
    /// The first failed request of the step, to show what went wrong.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_error: Option<ErrorSample>,
    /// What else a reader should know about the step (e.g. the server had not recovered
    /// from the step before).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// The 95 % interval of `rps` from the spread of the windows it comes from (settled
    /// steps only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rps_ci: Option<Interval>,
    /// `--stream`: time to first token, inter-token latency, tokens per second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<StreamFigures>,
}

impl Step {
    /// The load level: concurrency, or the offered rate rounded.
    pub fn level(&self) -> u64 {
        match (self.concurrency, self.offered_rps) {
            (Some(c), _) => u64::from(c),
            (None, Some(r)) => r.round() as u64,
            (None, None) => 0,
        }
    }

    /// A shard's step at a level too low to give this shard a user (concurrency 1 over two
    /// shards): nothing was sent, and nothing is judged; the other shards carry the level.
    pub fn is_idle(&self) -> bool {
        self.concurrency == Some(0)
    }

    /// "concurrency 16" or "rate 400/s".
    pub fn level_label(&self) -> String {
        match (self.concurrency, self.offered_rps) {
            (Some(c), _) => format!("concurrency {c}"),
            (None, Some(r)) => format!("rate {r:.0}/s"),
            (None, None) => "an unknown level".to_string(),
        }
    }
}

/// The peak: the passing step with the highest throughput, and why the search stopped.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Peak {
    pub rps: f64,
    #[serde(deserialize_with = "super::required")]
    pub concurrency: Option<u32>,
    #[serde(deserialize_with = "super::required")]
    pub offered_rps: Option<f64>,
    pub latency_ms: LatencySummary,
    pub success_ratio: f64,
    pub reason: String,
    /// MAX_RPS's 95 % interval: the peak step's `rps_ci`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rps_ci: Option<Interval>,
    /// `--stream`: the streaming figures of the peak step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<StreamFigures>,
}

/// The AWS-recommended starting safety factor.
pub const DEFAULT_SAFETY_FACTOR: f64 = 0.5;

/// The value to put in the target-tracking policy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Recommendation {
    pub safety_factor: f64,
    pub max_rps: f64,
    /// `SageMakerVariantInvocationsPerInstance` target: invocations per minute per instance.
    pub invocations_per_instance: f64,
    /// The target is per minute (the peak was measured per second, hence × 60).
    pub per_minute: bool,
    /// The target's range over MAX_RPS's 95 % interval: [low, high].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invocations_range: Option<[f64; 2]>,
    /// `--stream`: the concurrency target beside the invocations one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<ConcurrencyTarget>,
}

impl Recommendation {
    /// `MAX_RPS × SAFETY_FACTOR × 60`, to one decimal.
    pub fn new(max_rps: f64, safety_factor: f64) -> Result<Self, Error> {
        check_safety_factor(safety_factor)?;
        let invocations = (max_rps * safety_factor * 60.0 * 10.0).round() / 10.0;
        Ok(Recommendation {
            safety_factor,
            max_rps,
            invocations_per_instance: invocations,
            per_minute: true,
            invocations_range: None,
            concurrency: None,
        })
    }

    /// The scaling target of a peak: MAX_RPS's, with its range; a streaming peak adds the
    /// concurrency target.
    pub fn of_peak(peak: &Peak, safety_factor: f64) -> Result<Self, Error> {
        let mut recommendation =
            Recommendation::new(peak.rps, safety_factor)?.with_interval(peak.rps_ci.as_ref());
        if let (true, Some(c)) = (peak.is_stream(), peak.concurrency) {
            recommendation.concurrency = Some(ConcurrencyTarget::new(c, safety_factor));
        }
        Ok(recommendation)
    }

    /// With the target's range over MAX_RPS ± `interval` (none without one).
    pub fn with_interval(mut self, interval: Option<&Interval>) -> Self {
        self.invocations_range = interval.map(|ci| {
            let at = |rps: f64| (rps.max(0.0) * self.safety_factor * 60.0 * 10.0).round() / 10.0;
            [
                at(self.max_rps - ci.half_width),
                at(self.max_rps + ci.half_width),
            ]
        });
        self
    }

    /// The formula with the numbers filled in.
    pub fn formula(&self) -> String {
        format!(
            "SageMakerVariantInvocationsPerInstance = MAX_RPS × SAFETY_FACTOR × 60 = {} × {} × 60 = {}",
            self.max_rps, self.safety_factor, self.invocations_per_instance
        )
    }

    /// The request rate each instance runs at when the target holds: MAX_RPS × SAFETY_FACTOR.
    pub fn operating_rps(&self) -> f64 {
        self.max_rps * self.safety_factor
    }
}

/// A safety factor must lie in (0, 1], as the AWS CDK's `scaleOnInvocations` also demands.
pub fn check_safety_factor(factor: f64) -> Result<(), Error> {
    if factor > 0.0 && factor <= 1.0 {
        Ok(())
    } else {
        Err(Error::Input(format!(
            "--safety-factor {factor} is outside (0, 1]; AWS recommends starting at 0.5"
        )))
    }
}

/// `find --json FILE`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FindResults {
    pub schema: String,
    pub version: String,
    pub started_at: String,
    pub target: TargetInfo,
    pub mode: String,
    pub settings: FindSettings,
    pub steps: Vec<Step>,
    #[serde(deserialize_with = "super::required")]
    pub peak: Option<Peak>,
    #[serde(deserialize_with = "super::required")]
    pub recommendation: Option<Recommendation>,
    /// Why the search ended where it did.
    pub stop_reason: String,
    pub interrupted: bool,
    /// `--cloudwatch`: SageMaker's own latency figures for the test's span.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloudwatch: Option<CloudWatchFigures>,
    /// The error the command ended with (exit 1), when it did: the document still holds
    /// what was measured until then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The curves fitted to the steps' throughput.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<Box<CurveModel>>,
    /// `--instance-type`, `--instance-price`: what the endpoint ran on, for `compare`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<Box<InstanceInfo>>,
    /// `--shard K/N`: which part of which run this document holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<super::ShardInfo>,
}

impl FindResults {
    pub const SCHEMA: &'static str = "peakrps.find/v1";

    /// Whether `step` is the one the peak was taken from.
    pub fn is_peak(&self, step: &Step) -> bool {
        let Some(peak) = &self.peak else { return false };
        step.passed
            && !step.partial
            && peak.concurrency == step.concurrency
            && peak.offered_rps == step.offered_rps
    }

    /// Whether the levels are offered rates (`find --mode rate`) rather than concurrencies.
    pub fn rate_mode(&self) -> bool {
        self.mode == "rate"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_is_max_rps_times_factor_times_sixty() {
        let r = Recommendation::new(301.7, 0.5).unwrap();
        assert_eq!(r.invocations_per_instance, 9051.0);
        assert_eq!(
            r.formula(),
            "SageMakerVariantInvocationsPerInstance = MAX_RPS × SAFETY_FACTOR × 60 = 301.7 × 0.5 × 60 = 9051"
        );
        assert_eq!(
            Recommendation::new(100.0, 1.0)
                .unwrap()
                .invocations_per_instance,
            6000.0
        );
    }

    #[test]
    fn factor_outside_zero_one_is_rejected() {
        for f in [0.0, -0.5, 1.01, f64::NAN] {
            assert!(Recommendation::new(100.0, f).is_err(), "{f}");
        }
    }
}

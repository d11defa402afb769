//! `peakrps.run/v1`: one fixed load or a traffic profile played minute by minute, and on a
//! `sagemaker://` target the endpoint's instance counts beside the simulator's prediction.

use serde::{Deserialize, Serialize};

use super::{Arrival, CloudWatchFigures, Policy, StreamFigures, Summary, TargetInfo, Timing};

/// The load of a `run`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LoadInfo {
    /// `concurrency`, `rate` or `profile`.
    pub mode: String,
    #[serde(deserialize_with = "super::required")]
    pub concurrency: Option<u32>,
    /// Open loop: the offered rate, arrival process and in-flight cap.
    #[serde(deserialize_with = "super::required")]
    pub rate: Option<f64>,
    #[serde(deserialize_with = "super::required")]
    pub arrival: Option<Arrival>,
    #[serde(deserialize_with = "super::required")]
    pub max_inflight: Option<u32>,
    #[serde(deserialize_with = "super::required")]
    pub duration_s: Option<f64>,
    #[serde(deserialize_with = "super::required")]
    pub requests: Option<u64>,
    /// `run --profile`: the profile file and the time compression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speed: Option<f64>,
}

/// One minute of a `run --profile`: what was offered and what the target did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProfileMinute {
    pub minute: u32,
    pub offered_rps: f64,
    #[serde(flatten)]
    pub summary: Summary,
    /// `sagemaker://` targets: the variant's CurrentInstanceCount (DescribeEndpoint) as the
    /// minute began; absent when the call failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instances: Option<u32>,
    /// `sagemaker://` targets: the instances in service the simulator predicts for the
    /// minute under the live policy (see `RunResults::scaling`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predicted_instances: Option<u32>,
    /// `--stream`: the minute's TTFT, inter-token latency and tokens (every request counts
    /// in the minute it fell due in, as for the summary).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<StreamFigures>,
}

impl ProfileMinute {
    /// The endpoint and the simulator disagree in this minute; a minute missing either
    /// count is not a disagreement (there is nothing to compare).
    pub fn instances_differ(&self) -> bool {
        matches!(
            (self.instances, self.predicted_instances),
            (Some(seen), Some(predicted)) if seen != predicted
        )
    }
}

/// `run --profile` on a `sagemaker://` target: what the instance counts are compared with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LiveScaling {
    pub endpoint: String,
    pub variant: String,
    /// CurrentInstanceCount before the first minute: where the prediction starts.
    pub initial_instances: u32,
    /// The target-tracking policy read from Application Auto Scaling; null when the variant
    /// has none the simulator can model (then the prediction holds the initial count).
    #[serde(deserialize_with = "super::required")]
    pub policy: Option<Policy>,
    /// Why `policy` is null, or what else limits the comparison.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    pub timing: Timing,
}

/// `run --json FILE`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunResults {
    pub schema: String,
    pub version: String,
    pub started_at: String,
    pub target: TargetInfo,
    pub load: LoadInfo,
    pub summary: Summary,
    /// `run --profile`: one entry per minute of the profile.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub minutes: Vec<ProfileMinute>,
    pub interrupted: bool,
    /// `--cloudwatch`: SageMaker's own latency figures for the test's span.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloudwatch: Option<CloudWatchFigures>,
    /// `run --profile` on a `sagemaker://` target: the live policy the `minutes[]`
    /// `predicted_instances` come from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scaling: Option<LiveScaling>,
    /// `--stream`: TTFT, inter-token latency and tokens of the whole run (p99 at `ttft_at_percentile_ms`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<StreamFigures>,
    /// `--shard K/N`: which part of which run this document holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<Box<super::ShardInfo>>,
    /// The error the command ended with (exit 1), when it did: the document still holds
    /// what was measured until then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl RunResults {
    pub const SCHEMA: &'static str = "peakrps.run/v1";
    /// The percentile of a run's `stream.ttft_at_percentile_ms` and `itl_at_percentile_ms`.
    pub const STREAM_PERCENTILE: f64 = 99.0;
}

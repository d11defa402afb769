//! What every results document says about how it was measured: the target, the arrival
//! process of an open-loop load, and SageMaker's own figures from CloudWatch (`--cloudwatch`).

use serde::{Deserialize, Serialize};

/// What was tested.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TargetInfo {
    /// `http`, `https`, `sagemaker` or `embedded`.
    pub kind: String,
    pub url: String,
    /// Where the request bodies came from.
    pub payload: String,
    /// `sagemaker://` targets: the endpoint, its region and the variant requests were sent to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sagemaker: Option<SageMakerTarget>,
}

impl TargetInfo {
    /// How the user named the target: `sagemaker://ENDPOINT` for SageMaker, else the URL.
    pub fn name(&self) -> String {
        match &self.sagemaker {
            Some(sm) => format!("sagemaker://{}", sm.endpoint),
            None => self.url.clone(),
        }
    }
}

/// The SageMaker endpoint a run loaded.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SageMakerTarget {
    pub endpoint: String,
    pub region: String,
    /// `--target-variant`, when one was named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

/// How open-loop requests arrive.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Arrival {
    /// Evenly spaced: request i is due at start + i / rate.
    Constant,
    /// A Poisson process: exponential gaps with mean 1 / rate (independent arrivals).
    Poisson,
}

/// One CloudWatch metric over the test's span (milliseconds; CloudWatch reports
/// microseconds).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricSummary {
    /// Average over every invocation in the span (per-minute averages weighted by their counts).
    pub average_ms: f64,
    /// The largest per-minute maximum.
    pub maximum_ms: f64,
    /// Invocations the metric counted.
    pub samples: f64,
    /// Minutes with data.
    pub minutes: u32,
}

/// SageMaker's figures for one variant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VariantLatency {
    pub variant: String,
    #[serde(deserialize_with = "super::required")]
    pub model_latency: Option<MetricSummary>,
    #[serde(deserialize_with = "super::required")]
    pub overhead_latency: Option<MetricSummary>,
}

/// The `cloudwatch` field of the results documents.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CloudWatchFigures {
    pub namespace: String,
    pub endpoint: String,
    /// The span queried, whole minutes (UTC).
    pub start: String,
    pub end: String,
    pub period_s: u32,
    pub variants: Vec<VariantLatency>,
    /// Set when the data looked incomplete when we stopped waiting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

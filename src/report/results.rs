//! The results documents of DESIGN.md ("Results JSON"): `peakrps.find/v1` and
//! `peakrps.run/v1`, written atomically, and `FILE.partial.jsonl`, appended and flushed as
//! each step ends so an interrupted or crashed run loses no finished step.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::Error;
use crate::load::Arrival;
use crate::scaling::Recommendation;
use crate::search::{Peak, Step};
use crate::stats::Summary;
use crate::target::cloudwatch::CloudWatchFigures;

/// What was tested.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TargetInfo {
    /// `http`, `https`, `sagemaker` or `embedded`.
    pub kind: String,
    pub url: String,
    /// Where the request bodies came from.
    #[serde(default)]
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

/// The flags that shaped a find run, kept so a report can say what was tested.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FindSettings {
    pub window_s: f64,
    pub warmup_s: f64,
    pub step_duration_s: f64,
    pub stability: f64,
    pub min_success: f64,
    pub percentile: f64,
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
    pub peak: Option<Peak>,
    pub recommendation: Option<Recommendation>,
    /// Why the search ended where it did.
    pub stop_reason: String,
    #[serde(default)]
    pub interrupted: bool,
    /// `--cloudwatch`: SageMaker's own latency figures for the test's span.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloudwatch: Option<CloudWatchFigures>,
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
}

/// The load of a `run`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LoadInfo {
    pub mode: String,
    pub concurrency: Option<u32>,
    /// Open loop: the offered rate, arrival process and in-flight cap.
    pub rate: Option<f64>,
    pub arrival: Option<Arrival>,
    pub max_inflight: Option<u32>,
    pub duration_s: Option<f64>,
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
    /// minute began; null when the call failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instances: Option<u32>,
    /// `sagemaker://` targets: the instances in service the simulator predicts for the
    /// minute under the live policy (see `RunResults::scaling`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predicted_instances: Option<u32>,
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
    pub policy: Option<crate::scaling::Policy>,
    /// Why `policy` is null, or what else limits the comparison.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    pub timing: crate::scaling::Timing,
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
    #[serde(default)]
    pub interrupted: bool,
    /// `--cloudwatch`: SageMaker's own latency figures for the test's span.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloudwatch: Option<CloudWatchFigures>,
    /// `run --profile` on a `sagemaker://` target: the live policy the `minutes[]`
    /// `predicted_instances` come from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scaling: Option<LiveScaling>,
}

impl RunResults {
    pub const SCHEMA: &'static str = "peakrps.run/v1";
}

/// The current time as `2026-11-29T17:00:00Z`.
pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

/// Writes `value` as pretty JSON to `path` through a temporary file and a rename, so a
/// crash never leaves a half-written results file.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), Error> {
    let fail =
        |e: &dyn std::fmt::Display| Error::Run(format!("cannot write {}: {e}", path.display()));
    let text = serde_json::to_string_pretty(value).map_err(|e| fail(&e))?;
    write_text(path, &(text + "\n"))
}

/// Writes `text` to `path` through a temporary file and a rename.
pub fn write_text(path: &Path, text: &str) -> Result<(), Error> {
    let fail =
        |e: &dyn std::fmt::Display| Error::Run(format!("cannot write {}: {e}", path.display()));
    let tmp = sibling(path, ".tmp");
    std::fs::write(&tmp, text).map_err(|e| fail(&e))?;
    std::fs::rename(&tmp, path).map_err(|e| fail(&e))
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// `FILE.partial.jsonl`: one JSON line per finished step, flushed as it is written.
pub struct PartialLog {
    path: PathBuf,
    file: File,
}

impl PartialLog {
    /// Creates (truncates) the log beside the results file `json_path`.
    pub fn create(json_path: &Path) -> Result<Self, Error> {
        let path = sibling(json_path, ".partial.jsonl");
        let file = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .open(&path)
            .map_err(|e| {
                Error::Input(format!(
                    "--json {}: cannot create {} ({e})",
                    json_path.display(),
                    path.display()
                ))
            })?;
        Ok(PartialLog { path, file })
    }

    pub fn append<T: Serialize>(&mut self, record: &T) -> Result<(), Error> {
        let fail = |e: &dyn std::fmt::Display| {
            Error::Run(format!("cannot write {}: {e}", self.path.display()))
        };
        let mut line = serde_json::to_string(record).map_err(|e| fail(&e))?;
        line.push('\n');
        self.file.write_all(line.as_bytes()).map_err(|e| fail(&e))?;
        self.file.sync_data().map_err(|e| fail(&e))
    }

    /// Removes the log once the complete document is written.
    pub fn remove(self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

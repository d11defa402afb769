//! What a `find` document says beyond the steps: the uncertainty of a throughput (a
//! confidence interval), the curves fitted to the measured throughput (`model`: the
//! Universal Scalability Law and the asymptotic bounds), and the instance it ran on.

use serde::{Deserialize, Serialize};

/// A confidence interval around a step's throughput: `rps ± half_width`, from the spread of
/// the measurement windows the step's figures come from (batch means with Student's t).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    pub half_width: f64,
    /// 0.95.
    pub confidence: f64,
    /// The windows (batch means) it was computed from.
    pub windows: u32,
}

impl Interval {
    /// "± 4.2 req/s (95%)".
    pub fn describe(&self) -> String {
        format!(
            "± {:.1} req/s ({:.0}%)",
            self.half_width,
            self.confidence * 100.0
        )
    }
}

/// `model`: the curves fitted to throughput against load, and the one that placed the
/// search's probes (REFERENCE.md §7). The measured steps decide the peak; these describe
/// the curve and chose where to look.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CurveModel {
    /// The load levels of the steps fitted (concurrency, or offered req/s), in the order
    /// they ran; each model's `residuals_rps` follow the same order.
    pub levels: Vec<f64>,
    /// Gunther's USL (concurrency mode only; an open loop is not a closed system of N users).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usl: Option<UslModel>,
    /// The asymptotic bounds `X ≤ min(slope × level, ceiling)` (both modes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bounds: Option<BoundsModel>,
    /// "usl" or "bounds": the trusted curve whose knee the search looked at; absent when
    /// neither was trusted (or the search only doubled and bisected).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guide: Option<String>,
}

/// `X(N) = λN / (1 + σ(N−1) + κN(N−1))` fitted by weighted least squares.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UslModel {
    pub lambda: f64,
    pub sigma: f64,
    pub kappa: f64,
    /// `N* = √((1−σ)/κ)`; null when κ is 0 (no peak).
    pub peak_concurrency: Option<f64>,
    /// `X(N*)`, or the ceiling λ/σ when κ is 0; null for a straight line.
    pub peak_rps: Option<f64>,
    /// Where the curve reaches (1 − min_gain) of its maximum.
    pub knee: Option<f64>,
    pub r_squared: f64,
    /// Measured minus fitted throughput at each of `levels`.
    pub residuals_rps: Vec<f64>,
    pub points: u32,
    /// Enough points and a good enough R² to place probes.
    pub trusted: bool,
}

/// `X = min(slope × level, ceiling)`: the line of one user's (or one req/s's) throughput
/// and the ceiling the busiest steps reached; they cross at the knee.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BoundsModel {
    pub slope: f64,
    pub ceiling_rps: f64,
    /// `ceiling / slope`.
    pub knee: f64,
    pub r_squared: f64,
    pub residuals_rps: Vec<f64>,
    pub points: u32,
    pub trusted: bool,
}

/// `find --instance-type NAME --instance-price P`: what the endpoint ran on, for `compare`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InstanceInfo {
    #[serde(rename = "type")]
    pub type_name: Option<String>,
    /// US dollars per instance-hour.
    pub price_per_hour: Option<f64>,
}

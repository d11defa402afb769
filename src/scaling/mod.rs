//! From a peak to autoscaling: the target value of `SageMakerVariantInvocationsPerInstance`
//! (REFERENCE.md §1: MAX_RPS × SAFETY_FACTOR × 60).

use serde::{Deserialize, Serialize};

pub mod apply;
pub mod policy;

use crate::Error;

pub mod controller;
pub mod instance;
pub mod live;
pub mod profile;
pub mod recommend;
pub mod simulate;

pub use controller::{Controller, Direction, MinuteState, Policy, ScaleEvent, Timing};
pub use instance::InstanceModel;
pub use profile::TrafficProfile;
pub use recommend::{FactorSearch, TradeOff, recommend};
pub use simulate::{
    CapacityDoc, MinuteRecord, PolicyDoc, Setting, SimSummary, SimulateDocument, Simulation,
    TrafficDoc, predict_instances, simulate,
};

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
}

impl Recommendation {
    pub fn new(max_rps: f64, safety_factor: f64) -> Result<Self, Error> {
        check_safety_factor(safety_factor)?;
        let invocations = (max_rps * safety_factor * 60.0 * 10.0).round() / 10.0;
        Ok(Recommendation {
            safety_factor,
            max_rps,
            invocations_per_instance: invocations,
            per_minute: true,
        })
    }

    /// The formula with the numbers filled in.
    pub fn formula(&self) -> String {
        format!(
            "SageMakerVariantInvocationsPerInstance = MAX_RPS × SAFETY_FACTOR × 60 = {} × {} × 60 = {}",
            self.max_rps, self.safety_factor, self.invocations_per_instance
        )
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

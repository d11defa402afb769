//! From a peak to autoscaling: the target value of `SageMakerVariantInvocationsPerInstance`
//! (REFERENCE.md §1: MAX_RPS × SAFETY_FACTOR × 60).

pub mod apply;
pub mod policy;

pub mod controller;
pub mod instance;
pub mod live;
pub mod profile;
pub mod recommend;
pub mod simulate;

pub use controller::{Controller, MinuteState};
pub use instance::InstanceModel;
pub use profile::TrafficProfile;
pub use recommend::recommend;
pub use simulate::{Setting, Simulation, predict_instances, simulate};

//! From a peak to autoscaling: the policy for a variant, the target-tracking controller, the
//! simulator that runs it over a traffic profile, and the live comparison with a real endpoint.

pub mod concurrency;
pub mod controller;
pub mod instance;
pub mod live;
pub mod policy;
pub mod profile;
pub mod recommend;
pub mod simulate;

pub use concurrency::{ConcurrencyModel, simulate_concurrency};
pub use controller::{Cadence, Controller, MinuteState};
pub use instance::InstanceModel;
pub use profile::TrafficProfile;
pub use recommend::recommend;
pub use simulate::{Setting, Simulation, predict_instances, simulate};

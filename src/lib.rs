//! peakrps: find the peak sustainable request rate of one inference endpoint instance and turn
//! it into an autoscaling target. The binary in `main.rs` is a thin shell over this library.

pub mod aws;
pub mod cli;
pub mod commands;
pub mod error;
pub mod load;
pub mod report;
pub mod results;
pub mod scaling;
pub mod search;
pub mod server;
pub mod stats;
pub mod target;
pub mod units;

pub use error::Error;

//! `find`'s flags for how it searches (`--search`) and what it records for `peakrps
//! compare` (`--instance-type`, `--instance-price`).

use clap::Args;

use crate::units::parse_price;

/// How `find` chooses the levels after the first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SearchStrategy {
    /// Where the curve fitted to the steps so far puts the knee, then just above it
    /// (doubling and bisection until the curve is trusted).
    Guided,
    /// Double the load until a step fails, then bisect.
    Doubling,
}

/// `find`'s search strategy and what it records about the instance.
#[derive(Debug, Args)]
pub struct SearchArgs {
    /// How levels are chosen: `guided` (where the curve fitted so far puts the knee) or
    /// `doubling` (double, then bisect). Either way the measured steps decide the peak.
    #[arg(long, value_enum, default_value_t = SearchStrategy::Guided)]
    pub search: SearchStrategy,

    /// The instance type the endpoint runs on, recorded in the results for `peakrps
    /// compare` (e.g. ml.g5.xlarge).
    #[arg(long, value_name = "NAME")]
    pub instance_type: Option<String>,

    /// The instance's price in dollars per hour, recorded in the results for `peakrps
    /// compare`.
    #[arg(long, value_parser = parse_price, value_name = "DOLLARS", allow_negative_numbers = true)]
    pub instance_price: Option<f64>,
}

//! The flags of `peakrps compare`: find results side by side, with their prices.

use std::path::PathBuf;

use clap::Args;

use super::ReportFileArgs;
use crate::units::{parse_positive_rate, parse_safety_factor};

/// `peakrps compare RESULTS…`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// `find --json` results, one per instance type or configuration (at least one; `-`
    /// reads one from standard input).
    #[arg(value_name = "RESULTS", required = true)]
    pub results: Vec<PathBuf>,

    /// A candidate's price, repeatable: NAME=DOLLARS_PER_HOUR, NAME being its instance type
    /// (`find --instance-type`) or its file name without `.json`. Overrides a price the
    /// results recorded (`find --instance-price`).
    #[arg(long = "price", value_name = "NAME=DOLLARS")]
    pub prices: Vec<String>,

    /// The operating point is MAX_RPS × this (default: each result's own safety factor).
    #[arg(long, value_parser = parse_safety_factor, value_name = "FACTOR")]
    pub safety_factor: Option<f64>,

    /// A traffic peak in req/s: how many instances of each candidate it needs, and what
    /// they cost an hour (the cheapest is then the one that carries it for least).
    #[arg(long, value_parser = parse_positive_rate, value_name = "REQ/S")]
    pub traffic: Option<f64>,

    /// Write the comparison (JSON, `peakrps.compare/v1`) to FILE (`-`: stdout).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,

    #[command(flatten)]
    pub reports: ReportFileArgs,
}

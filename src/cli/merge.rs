//! The flags of `peakrps merge`: the shards' documents in, one ordinary document out.

use std::path::PathBuf;

use clap::Args;

use super::ReportFileArgs;

/// `peakrps merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The shards' documents (`find`/`run --shard … --json FILE`): files, or `-` for standard
    /// input, which may hold them all mixed with other lines (as `kubectl logs` gives them).
    #[arg(value_name = "FILES", required = true)]
    pub files: Vec<PathBuf>,

    /// Write the merged document (an ordinary peakrps.find/v1 or peakrps.run/v1) to FILE
    /// (`-`: standard output).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,

    #[command(flatten)]
    pub reports: ReportFileArgs,
}

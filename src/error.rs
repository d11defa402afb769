//! The library's error type and the exit code each kind of error maps to: 2 for bad usage or
//! bad input, 1 for a run that could not be done or failed, 130 for an interruption.

use thiserror::Error;

/// Everything a peakrps command can fail with.
#[derive(Debug, Error)]
pub enum Error {
    /// The user gave something we cannot use: a flag value, a URL, a payload, a file.
    #[error("{0}")]
    Input(String),
    /// The run was attempted and failed: nothing listening, every request rejected, I/O.
    #[error("{0}")]
    Run(String),
    /// The load search itself failed a gate (no load level passed).
    #[error("{0}")]
    Failed(String),
}

impl Error {
    /// The process exit code for this error (see DESIGN.md, "Command line").
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Input(_) => 2,
            Error::Run(_) | Error::Failed(_) => 1,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

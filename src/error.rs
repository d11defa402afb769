//! The library's error type and the exit code each kind of error maps to: 2 for bad usage or
//! bad input, 1 for a run that could not be done or failed, 130 for an interruption.

use std::path::PathBuf;

use thiserror::Error;

/// Any error an error can be caused by (an SDK's, hyper's, a builder's).
pub type Cause = Box<dyn std::error::Error + Send + Sync>;

/// Everything a peakrps command can fail with. The variants with a cause keep it as their
/// `source()`; their message is the one line a user sees, and already names the cause.
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
    /// A file the user named cannot be read, listed or created (exit 2).
    #[error("{message}")]
    File {
        path: PathBuf,
        message: String,
        #[source]
        source: std::io::Error,
    },
    /// What the user gave is not in the form it must be: a payload that is not JSON, a PEM
    /// file that does not parse, a URL that is no header value (exit 2).
    #[error("{message}")]
    Invalid {
        message: String,
        #[source]
        source: Cause,
    },
    /// Writing output failed: `shown` is the file (or "standard output") (exit 1).
    #[error("cannot write {shown}: {source}")]
    Write {
        shown: String,
        #[source]
        source: std::io::Error,
    },
    /// A value could not be encoded as JSON for writing to `shown` (exit 1).
    #[error("cannot write {shown}: {source}")]
    Encode {
        shown: String,
        #[source]
        source: serde_json::Error,
    },
    /// The network failed us: a host does not resolve, a connection or a listen fails (exit 1).
    #[error("{message}")]
    Network {
        message: String,
        #[source]
        source: std::io::Error,
    },
    /// An AWS call failed or answered something unreadable; `operation` is e.g.
    /// `PutScalingPolicy` (exit 1).
    #[error("{message}")]
    Aws {
        operation: &'static str,
        message: String,
        #[source]
        source: Cause,
    },
    /// No usable AWS credentials could be found (exit 2: the user's configuration).
    #[error(
        "no usable AWS credentials ({}); configure them as for the AWS CLI (aws configure, AWS_PROFILE, SSO login)",
        aws_smithy_types::error::display::DisplayErrorContext(.source)
    )]
    Credentials {
        #[source]
        source: aws_credential_types::provider::error::CredentialsError,
    },
    /// Something a run needs could not be set up: a runtime, a thread, a listener, TLS, a
    /// request or its signature; `what` says which, as `cannot start the AWS runtime` (exit 1).
    #[error("{what}: {source}")]
    Setup {
        what: &'static str,
        #[source]
        source: Cause,
    },
}

impl Error {
    /// The process exit code for this error (see DESIGN.md, "Command line").
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Input(_)
            | Error::File { .. }
            | Error::Invalid { .. }
            | Error::Credentials { .. } => 2,
            Error::Run(_)
            | Error::Failed(_)
            | Error::Write { .. }
            | Error::Encode { .. }
            | Error::Network { .. }
            | Error::Aws { .. }
            | Error::Setup { .. } => 1,
        }
    }

    /// `what`, caused by `source`: something a run needs could not be set up.
    pub fn setup(what: &'static str, source: impl Into<Cause>) -> Self {
        Error::Setup {
            what,
            source: source.into(),
        }
    }

    /// A file the user named that cannot be read: `message` says so, naming the file.
    pub fn file(path: impl Into<PathBuf>, message: String, source: std::io::Error) -> Self {
        Error::File {
            path: path.into(),
            message,
            source,
        }
    }

    /// Input that is not in the form it must be: `message` says so, naming the cause.
    pub fn invalid(message: String, source: impl Into<Cause>) -> Self {
        Error::Invalid {
            message,
            source: source.into(),
        }
    }

    /// Writing `shown` (a file, or "standard output") failed.
    pub fn write(shown: impl Into<String>, source: std::io::Error) -> Self {
        Error::Write {
            shown: shown.into(),
            source,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn an_unreadable_file_keeps_its_io_error_and_is_bad_input() {
        let io = std::fs::read("/nonexistent/peakrps/payload.json").unwrap_err();
        let kind = io.kind();
        let message = format!("--payload /nonexistent/peakrps/payload.json: cannot read it ({io})");
        let e = Error::file("/nonexistent/peakrps/payload.json", message.clone(), io);
        assert_eq!(e.to_string(), message);
        assert_eq!(e.exit_code(), 2);
        let source = e.source().expect("the io::Error is kept");
        let io = source
            .downcast_ref::<std::io::Error>()
            .expect("the source is the io::Error");
        assert_eq!(io.kind(), kind);
    }

    #[test]
    fn a_failed_write_keeps_its_io_error_and_is_a_run_failure() {
        let io = std::io::Error::new(std::io::ErrorKind::PermissionDenied, "denied");
        let e = Error::write("out.json", io);
        assert_eq!(e.to_string(), "cannot write out.json: denied");
        assert_eq!(e.exit_code(), 1);
        let source = e.source().and_then(|s| s.downcast_ref::<std::io::Error>());
        assert_eq!(
            source.map(std::io::Error::kind),
            Some(std::io::ErrorKind::PermissionDenied)
        );
    }

    #[test]
    fn setup_failures_read_as_before() {
        let io = std::io::Error::other("no threads");
        let e = Error::setup("cannot start the AWS runtime", io);
        assert_eq!(e.to_string(), "cannot start the AWS runtime: no threads");
        assert_eq!(e.exit_code(), 1);
        assert!(e.source().is_some());
    }
}

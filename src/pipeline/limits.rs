//! What the OS allows a load: each connection is an open file (two when the embedded server
//! runs in the same process). At start the soft limit on open files is raised to the hard
//! limit, as wrk and oha do, and a load that needs more is refused before any connection.

use crate::Error;
use crate::cli::{FindArgs, Mode, RunArgs};

/// Open files kept for everything but connections: standard streams, the runtimes' event
/// queues, the signal thread, DNS, the results files.
const RESERVED_FILES: u64 = 64;

/// The load a command asks for, in connections, and the flag that asked.
pub struct Connections {
    pub count: u64,
    pub flag: &'static str,
    /// The target is the embedded server, in this process: two open files a connection.
    pub embedded: bool,
}

impl Connections {
    /// `run`: one a user, or the in-flight cap open loop (--rate, --profile).
    pub fn of_run(args: &RunArgs) -> Self {
        let open_loop = args.rate.is_some() || args.profile.is_some();
        let (count, flag) = match args.concurrency {
            _ if open_loop => (args.max_inflight, "--max-inflight"),
            users => (users.unwrap_or(1), "--concurrency"),
        };
        Connections {
            count: u64::from(count),
            flag,
            embedded: args.target.target.is_none(),
        }
    }

    /// `find`: its highest level, or the in-flight cap in rate mode.
    pub fn of_find(args: &FindArgs) -> Self {
        let (count, flag) = match args.mode {
            Mode::Concurrency => (args.max_concurrency, "--max-concurrency"),
            Mode::Rate => (args.max_inflight, "--max-inflight"),
        };
        Connections {
            count: u64::from(count),
            flag,
            embedded: args.target.target.is_none(),
        }
    }
}

/// Raises the open-files limit as far as allowed and refuses a load past it (exit 2), naming
/// the limit.
pub fn check(load: &Connections) -> Result<(), Error> {
    let Some(limit) = raise_open_files_limit() else {
        return Ok(());
    };
    let per_connection = if load.embedded { 2 } else { 1 };
    let needed = load
        .count
        .saturating_mul(per_connection)
        .saturating_add(RESERVED_FILES);
    if needed <= limit {
        return Ok(());
    }
    let most = limit.saturating_sub(RESERVED_FILES) / per_connection;
    let each = if load.embedded {
        " (two a connection: the embedded server is in this process)"
    } else {
        ""
    };
    Err(Error::Input(format!(
        "{} {} needs about {needed} open files{each}, above this system's limit of {limit} \
         (ulimit -Hn); use at most {most}, or raise the hard limit",
        load.flag, load.count
    )))
}

/// Raises the soft limit on open files to the hard limit (or to what the OS allows a process)
/// and returns the limit now in force; `None` where there is no such limit to read.
#[cfg(unix)]
pub fn raise_open_files_limit() -> Option<u64> {
    let (soft, _) = rlimit::Resource::NOFILE.get().ok()?;
    Some(rlimit::increase_nofile_limit(u64::MAX).unwrap_or(soft))
}

#[cfg(not(unix))]
pub fn raise_open_files_limit() -> Option<u64> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_load_past_the_open_files_limit_is_refused_with_the_limit_named() {
        let err = check(&Connections {
            count: u64::MAX / 4,
            flag: "--concurrency",
            embedded: true,
        })
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("--concurrency 4611686018427387903 needs about"),
            "{err}"
        );
        assert!(err.contains("above this system's limit of"), "{err}");
        assert!(
            check(&Connections {
                count: 1,
                flag: "--concurrency",
                embedded: true,
            })
            .is_ok()
        );
    }
}

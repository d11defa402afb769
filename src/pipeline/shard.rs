//! The shard flags of `find` and `run` resolved: which part of the load this process sends,
//! the run it belongs to, and the common start mapped onto the engine's monotonic clock;
//! and what a shard adds to its document (its tallies, who it is) and how it writes it.

use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use serde::Serialize;

use crate::Error;
use crate::cli::{ShardArgs, StartAt, TargetArgs};
use crate::load::ProcessShard;
use crate::results::{self, Summary};
use crate::stats::{Tally, Window, interchange};
use crate::units::readable_span;

/// Kubernetes sets this in each pod of an Indexed Job: the pod's index, 0-based.
pub const JOB_COMPLETION_INDEX: &str = "JOB_COMPLETION_INDEX";

/// The longest a common start may lie ahead: a day (a later one is a typo).
const MAX_WAIT: Duration = Duration::from_secs(24 * 3600);
/// How late a process may find the common start and still join: its first requests go
/// out late (counted from their due times); later than this it would distort the run.
const MAX_LATE: Duration = Duration::from_secs(1);

/// The common start, on both clocks.
#[derive(Clone, Copy, Debug)]
pub struct CommonStart {
    pub wall: SystemTime,
    /// The same moment on the monotonic clock the engine's windows count from.
    pub instant: Instant,
}

impl CommonStart {
    /// RFC 3339 with milliseconds, UTC.
    pub fn rfc3339(&self) -> String {
        humantime::format_rfc3339_millis(self.wall).to_string()
    }
}

/// How this process takes part in the run.
#[derive(Clone, Debug)]
pub struct Sharding {
    pub process: ProcessShard,
    /// Set with `--shard`/`--shards`: the run's id (documents carry their tallies).
    pub run_id: Option<String>,
    /// `--start-at`, else none (the load starts at once).
    pub start: Option<CommonStart>,
}

impl Sharding {
    /// Whether this process is one shard of several documents to merge.
    pub fn sharded(&self) -> bool {
        self.run_id.is_some()
    }

    /// "shard 2 of 4 (0-based) of run abc", for messages.
    pub fn label(&self) -> String {
        format!(
            "shard {} of {} (0-based) of run {}",
            self.process.index,
            self.process.count,
            self.run_id.as_deref().unwrap_or("-")
        )
    }

    /// What this process waits for before it sends anything, if anything.
    pub fn waiting_note(&self) -> Option<String> {
        let start = self.start?;
        let ahead = start.instant.saturating_duration_since(Instant::now());
        let who = if self.sharded() {
            format!("{}: ", self.label())
        } else {
            String::new()
        };
        Some(format!(
            "{who}waiting {:.1} s for the common start at {}",
            ahead.as_secs_f64(),
            start.rfc3339()
        ))
    }

    /// This process's part of a rate.
    pub fn rate_share(&self, rate: f64) -> f64 {
        rate / f64::from(self.process.count.max(1))
    }

    /// Where the engine's clock starts: the common start, or in a few milliseconds.
    pub fn start_instant(&self) -> Instant {
        self.start
            .map_or_else(|| Instant::now() + Duration::from_millis(20), |s| s.instant)
    }
}

/// Resolves the shard flags; `now` is when the process started (what `+DURATION` counts
/// from without `--start-base`).
pub fn resolve(args: &TargetArgs, now: SystemTime) -> Result<Sharding, Error> {
    let flags = &args.shard;
    let index_env = std::env::var(JOB_COMPLETION_INDEX).ok();
    let process = process_shard(flags, index_env.as_deref())?;
    let start = flags
        .start_at
        .map(|at| common_start(at, flags.start_base, now))
        .transpose()?;
    let sharded = flags.shard.is_some() || flags.shards.is_some();
    if !sharded {
        if flags.run_id.is_some() {
            return Err(Error::Input(
                "--run-id only applies with --shard K/N (or --shards N)".into(),
            ));
        }
        return Ok(Sharding {
            process,
            run_id: None,
            start,
        });
    }
    if args.target.is_none() {
        return Err(Error::Input(
            "--shard needs a TARGET: without one each shard would load its own embedded server"
                .into(),
        ));
    }
    let Some(start) = start else {
        return Err(Error::Input(
            "--shard needs --start-at TIME (or PEAKRPS_START_AT), one start all shards share, so their steps and minutes line up".into(),
        ));
    };
    let run_id = match &flags.run_id {
        Some(id) => check_run_id(id)?,
        None => start.rfc3339(),
    };
    Ok(Sharding {
        process,
        run_id: Some(run_id),
        start: Some(start),
    })
}

/// `--shard K/N`, or `--shards N` with K from JOB_COMPLETION_INDEX.
fn process_shard(flags: &ShardArgs, index_env: Option<&str>) -> Result<ProcessShard, Error> {
    match (flags.shard, flags.shards) {
        (Some(spec), Some(n)) if n != spec.count => Err(Error::Input(format!(
            "--shard {}/{} disagrees with --shards {n} (or PEAKRPS_SHARDS)",
            spec.index, spec.count
        ))),
        (Some(spec), _) => Ok(ProcessShard {
            index: spec.index,
            count: spec.count,
        }),
        (None, Some(count)) => {
            let raw = index_env.ok_or_else(|| {
                Error::Input(format!(
                    "--shards {count} needs this shard's index: set {JOB_COMPLETION_INDEX} (Kubernetes does in an Indexed Job) or give --shard K/{count}"
                ))
            })?;
            let index: u32 = raw.trim().parse().map_err(|_| {
                Error::Input(format!(
                    "{JOB_COMPLETION_INDEX}={raw:?} is not a shard index"
                ))
            })?;
            if index >= count {
                return Err(Error::Input(format!(
                    "{JOB_COMPLETION_INDEX}={index} is not below --shards {count}: the Job's completions and --shards differ"
                )));
            }
            Ok(ProcessShard { index, count })
        }
        (None, None) => Ok(ProcessShard::WHOLE),
    }
}

fn check_run_id(id: &str) -> Result<String, Error> {
    let ok = !id.is_empty() && id.len() <= 128 && id.chars().all(|c| c.is_ascii_graphic());
    if ok {
        Ok(id.to_string())
    } else {
        Err(Error::Input(format!(
            "--run-id {id:?}: use 1 to 128 printable characters without spaces"
        )))
    }
}

/// The common start on both clocks. The engine's windows count from an `Instant` (the
/// monotonic clock), so the wall-clock time maps onto it once, here: the instant is now's
/// instant plus how far the start lies ahead of now's wall time, both read back to back.
/// From then on waits and windows follow the monotonic clock, which NTP slews but never
/// steps; shards line up as well as their wall clocks agreed at this moment.
pub fn common_start(
    at: StartAt,
    base: Option<SystemTime>,
    now: SystemTime,
) -> Result<CommonStart, Error> {
    let wall = match at {
        StartAt::At(time) => time,
        StartAt::After(delay) => base
            .unwrap_or(now)
            .checked_add(delay)
            .ok_or_else(|| Error::Input("--start-at lies beyond any clock".into()))?,
    };
    let (now_instant, now_wall) = (Instant::now(), SystemTime::now());
    let shown = humantime::format_rfc3339_millis(wall);
    match wall.duration_since(now_wall) {
        Ok(ahead) if ahead > MAX_WAIT => Err(Error::Input(format!(
            "--start-at {shown} is {} away, more than a day: check the time (it is UTC unless it says otherwise)",
            readable_span(ahead)
        ))),
        Ok(ahead) => Ok(CommonStart {
            wall,
            instant: now_instant + ahead,
        }),
        Err(e) if e.duration() <= MAX_LATE => Ok(CommonStart {
            wall,
            instant: now_instant.checked_sub(e.duration()).unwrap_or(now_instant),
        }),
        Err(e) => Err(Error::Run(format!(
            "the common start {shown} passed {} ago: this process started too late to join the run (start the shards sooner, or give a later --start-at)",
            readable_span(e.duration())
        ))),
    }
}

/// Puts the counts and histograms behind `summary` into it, so `merge` can add them.
pub fn attach(
    summary: &mut Summary,
    tally: &Tally,
    span: Duration,
    recent: &[Window],
) -> Result<(), Error> {
    let mut record = interchange::record(tally, span)?;
    record.windows = interchange::window_records(recent)?;
    summary.tally = Some(Box::new(record));
    Ok(())
}

/// Writes a results document; a shard's to standard output goes on one line, so a log
/// collector (kubectl logs) that interleaves lines cannot split it.
pub fn write_json<T: Serialize>(path: &Path, value: &T, sharded: bool) -> Result<(), Error> {
    if !(sharded && results::is_stdio(path)) {
        return results::write_json(path, value);
    }
    let line = serde_json::to_string(value)
        .map_err(|e| Error::Run(format!("cannot write the results: {e}")))?;
    results::write_text(path, &(line + "\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::ShardSpec;

    fn flags(shard: Option<(u32, u32)>, shards: Option<u32>) -> ShardArgs {
        ShardArgs {
            shard: shard.map(|(index, count)| ShardSpec { index, count }),
            shards,
            ..ShardArgs::default()
        }
    }

    #[test]
    fn the_index_comes_from_the_flag_or_the_indexed_job() {
        let p = |f: &ShardArgs, env: Option<&str>| process_shard(f, env).map_err(|e| e.to_string());
        assert_eq!(p(&flags(None, None), Some("3")), Ok(ProcessShard::WHOLE));
        assert_eq!(
            p(&flags(Some((1, 4)), None), None),
            Ok(ProcessShard { index: 1, count: 4 })
        );
        assert_eq!(
            p(&flags(None, Some(20)), Some("19")),
            Ok(ProcessShard {
                index: 19,
                count: 20
            })
        );
        for (f, env, why) in [
            (flags(None, Some(4)), None, "needs this shard's index"),
            (flags(None, Some(4)), Some("4"), "not below --shards 4"),
            (flags(None, Some(4)), Some("x"), "not a shard index"),
            (flags(Some((0, 3)), Some(4)), None, "disagrees"),
        ] {
            let e = p(&f, env).unwrap_err();
            assert!(e.contains(why), "{e}");
        }
    }

    /// The wall-clock start maps onto the monotonic clock: a start 2 s after a base 1 s ago
    /// is about 1 s ahead; one long past is refused; one a little past joins at once.
    #[test]
    fn the_start_maps_onto_the_monotonic_clock() {
        let now = SystemTime::now();
        let base = now - Duration::from_secs(1);
        let start = common_start(StartAt::After(Duration::from_secs(2)), Some(base), now).unwrap();
        let ahead = start.instant.saturating_duration_since(Instant::now());
        assert!(
            ahead > Duration::from_millis(900) && ahead <= Duration::from_secs(1),
            "{ahead:?}"
        );
        let late = common_start(StartAt::At(now - Duration::from_millis(300)), None, now).unwrap();
        assert!(late.instant <= Instant::now());
        let e = common_start(StartAt::At(now - Duration::from_secs(5)), None, now).unwrap_err();
        assert!(e.to_string().contains("too late to join"), "{e}");
        assert_eq!(e.exit_code(), 1);
        let e =
            common_start(StartAt::After(Duration::from_secs(2 * 86_400)), None, now).unwrap_err();
        assert_eq!(e.exit_code(), 2, "{e}");
    }
}

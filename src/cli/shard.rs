//! The flags of one run sent from several machines with no coordinator (`--shard K/N`, or
//! `--shards N` with K from Kubernetes' JOB_COMPLETION_INDEX; `--run-id`; `--start-at`).

use std::time::{Duration, SystemTime};

use clap::Args;

use crate::units::parse_duration;

/// The most shards a run may have.
pub const MAX_SHARDS: u32 = 10_000;

/// Part K (0-based) of N.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShardSpec {
    pub index: u32,
    pub count: u32,
}

/// When the load starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StartAt {
    /// An RFC 3339 time.
    At(SystemTime),
    /// `+DURATION` after `--start-base` (or after this process started).
    After(Duration),
}

/// Flags of `find` and `run` for a run several processes send together.
#[derive(Debug, Args, Default, Clone)]
#[command(next_help_heading = "Shards (one load sent from several machines)")]
pub struct ShardArgs {
    /// Send part K (0-based) of N of the load: --rate R sends R/N (the shards' arrivals
    /// interleave), --concurrency C its part of C, a profile's every minute its share. The
    /// results document then carries what `peakrps merge` adds up exactly.
    #[arg(long, value_name = "K/N", value_parser = parse_shard)]
    pub shard: Option<ShardSpec>,

    /// The number of shards, K coming from JOB_COMPLETION_INDEX (a Kubernetes Indexed Job).
    #[arg(long, env = "PEAKRPS_SHARDS", value_name = "N", value_parser = clap::value_parser!(u32).range(1..=MAX_SHARDS as i64))]
    pub shards: Option<u32>,

    /// An id all shards of one run share (e.g. the Job's uid), so `merge` refuses shards of
    /// other runs. Default: the common start time.
    #[arg(long, env = "PEAKRPS_RUN_ID", value_name = "ID")]
    pub run_id: Option<String>,

    /// Start the load at this time: RFC 3339 (2026-12-01T12:00:00Z), or +DURATION after
    /// --start-base. The process waits for it, so shards' steps and minutes line up.
    #[arg(long, env = "PEAKRPS_START_AT", value_name = "TIME|+DURATION", value_parser = parse_start_at)]
    pub start_at: Option<StartAt>,

    /// The time +DURATION in --start-at counts from (RFC 3339), one all shards share.
    /// Default: when this process started.
    #[arg(long, env = "PEAKRPS_START_BASE", value_name = "TIME", value_parser = parse_time)]
    pub start_base: Option<SystemTime>,
}

/// `K/N`, 0 ≤ K < N.
pub fn parse_shard(s: &str) -> Result<ShardSpec, String> {
    let usage = || format!("'{s}' is not K/N; write e.g. 0/4 for the first of four shards");
    let (k, n) = s.trim().split_once('/').ok_or_else(usage)?;
    let index: u32 = k.trim().parse().map_err(|_| usage())?;
    let count: u32 = n.trim().parse().map_err(|_| usage())?;
    if count == 0 || count > MAX_SHARDS {
        return Err(format!(
            "'{s}': the number of shards must be 1 to {MAX_SHARDS}"
        ));
    }
    if index >= count {
        return Err(format!(
            "'{s}': K counts from 0, so it must be below N (0 to {})",
            count - 1
        ));
    }
    Ok(ShardSpec { index, count })
}

/// An RFC 3339 time, e.g. 2026-12-01T12:00:00Z or 2026-12-01T12:00:00.250+01:00.
pub fn parse_time(s: &str) -> Result<SystemTime, String> {
    humantime::parse_rfc3339_weak(s.trim())
        .or_else(|_| parse_offset_time(s.trim()))
        .map_err(|_| format!("'{s}' is not an RFC 3339 time; write e.g. 2026-12-01T12:00:00Z"))
}

/// RFC 3339 with a numeric offset (humantime reads only `Z`): shifts it to UTC.
fn parse_offset_time(s: &str) -> Result<SystemTime, ()> {
    let at = s.len().checked_sub(6).ok_or(())?;
    let (time, offset) = s.split_at(at);
    let sign = match offset.as_bytes().first() {
        Some(b'+') => 1i64,
        Some(b'-') => -1,
        _ => return Err(()),
    };
    let (h, m) = offset[1..].split_once(':').ok_or(())?;
    let minutes = h.parse::<i64>().map_err(|_| ())? * 60 + m.parse::<i64>().map_err(|_| ())?;
    let local = humantime::parse_rfc3339_weak(time).map_err(|_| ())?;
    let shift = Duration::from_secs(minutes.unsigned_abs() * 60);
    if sign * minutes >= 0 {
        local.checked_sub(shift)
    } else {
        local.checked_add(shift)
    }
    .ok_or(())
}

/// `--start-at`: an RFC 3339 time or `+DURATION`.
pub fn parse_start_at(s: &str) -> Result<StartAt, String> {
    match s.trim().strip_prefix('+') {
        Some(after) => parse_duration(after).map(StartAt::After),
        None => parse_time(s).map(StartAt::At),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_read_k_of_n_from_zero() {
        assert_eq!(parse_shard("3/4"), Ok(ShardSpec { index: 3, count: 4 }));
        assert_eq!(parse_shard(" 0 / 1 "), Ok(ShardSpec { index: 0, count: 1 }));
        for (bad, why) in [
            ("4/4", "counts from 0"),
            ("1/0", "1 to"),
            ("a/b", "not K/N"),
            ("3", "not K/N"),
            ("-1/4", "not K/N"),
        ] {
            let e = parse_shard(bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn start_times_read_rfc3339_or_a_delay() {
        let noon = humantime::parse_rfc3339("2026-12-01T12:00:00Z").unwrap();
        assert_eq!(
            parse_start_at("2026-12-01T12:00:00Z"),
            Ok(StartAt::At(noon))
        );
        assert_eq!(
            parse_start_at("2026-12-01T13:00:00+01:00"),
            Ok(StartAt::At(noon))
        );
        assert_eq!(
            parse_start_at("2026-12-01T10:30:00-01:30"),
            Ok(StartAt::At(noon))
        );
        assert_eq!(
            parse_start_at("2026-12-01T12:00:00.250Z"),
            Ok(StartAt::At(noon + Duration::from_millis(250)))
        );
        assert_eq!(
            parse_start_at("+30s"),
            Ok(StartAt::After(Duration::from_secs(30)))
        );
        assert!(
            parse_start_at("@START_AT@")
                .unwrap_err()
                .contains("RFC 3339")
        );
        assert!(parse_start_at("+soon").is_err());
    }
}

//! A shard's `run` document: its `load` is its part of the whole run (which `shard.load`
//! keeps), and its summary carries the tallies `peakrps merge` adds up.

use crate::Error;
use crate::load::{ProcessShard, StepRun};
use crate::pipeline::shard::{Sharding, attach};
use crate::results::{LoadInfo, RunResults, ShardInfo};

/// Marks `results` as this shard's part of the run, when the run is sharded.
pub fn mark_shard(
    results: &mut RunResults,
    run: &StepRun,
    sharding: &Sharding,
) -> Result<(), Error> {
    let (Some(run_id), Some(start)) = (&sharding.run_id, &sharding.start) else {
        return Ok(());
    };
    let whole = results.load.clone();
    results.load = share_of(&whole, sharding.process);
    attach(
        &mut results.summary,
        run.windows.total(),
        run.windows.span(),
        &[],
    )?;
    results.shard = Some(Box::new(ShardInfo {
        run_id: run_id.clone(),
        count: sharding.process.count,
        index: Some(sharding.process.index),
        start_at: start.rfc3339(),
        load: Some(whole),
        plan: Vec::new(),
        safety_factor: None,
    }));
    Ok(())
}

/// The part of `whole` process `process` sends (what the engine gave it).
fn share_of(whole: &LoadInfo, process: ProcessShard) -> LoadInfo {
    let count = f64::from(process.count.max(1));
    let part = |n: u32| u32::try_from(process.share(u64::from(n))).unwrap_or(u32::MAX);
    LoadInfo {
        concurrency: whole.concurrency.map(part),
        rate: whole.rate.map(|r| r / count),
        max_inflight: whole.max_inflight.map(|n| part(n).max(1)),
        requests: whole.requests.map(|n| process.share(n)),
        ..whole.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::Arrival;

    #[test]
    fn a_shard_records_its_part_of_the_load() {
        let whole = LoadInfo {
            mode: "rate".into(),
            concurrency: Some(10),
            rate: Some(4000.0),
            arrival: Some(Arrival::Constant),
            max_inflight: Some(1024),
            duration_s: Some(10.0),
            requests: Some(7),
            profile: None,
            speed: None,
        };
        let parts: Vec<LoadInfo> = (0..4)
            .map(|index| share_of(&whole, ProcessShard { index, count: 4 }))
            .collect();
        let sum = |f: fn(&LoadInfo) -> u64| parts.iter().map(f).sum::<u64>();
        assert_eq!(sum(|l| u64::from(l.concurrency.unwrap_or(0))), 10);
        assert_eq!(sum(|l| l.requests.unwrap_or(0)), 7);
        assert_eq!(sum(|l| u64::from(l.max_inflight.unwrap_or(0))), 1024);
        assert!(parts.iter().all(|l| l.rate == Some(1000.0)));
        assert!(parts.iter().all(|l| l.duration_s == Some(10.0)));
    }
}

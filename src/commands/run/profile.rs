//! `run --profile`: the whole profile as one open-loop load whose rate changes each minute
//! (no pause between minutes), `--speed` times faster than real time. Every request counts
//! in the minute it fell due in; each finished minute is shown, logged, and on a
//! `sagemaker://` target set beside the endpoint's instance count.

use std::sync::Arc;
use std::time::Duration;

use super::Target;
use crate::cli::RunArgs;
use crate::load::{Load, StepPlan, StepRun, Verdict};
use crate::pipeline::shard::attach;
use crate::report::Progress;
use crate::results::ProfileMinute;
use crate::scaling::TrafficProfile;
use crate::scaling::live::Watch;
use crate::stats::{run_stream_figures, summary_of};

/// Plays the profile; returns all windows (one per minute) and one entry per minute played.
pub fn play(
    target: &mut Target,
    args: &RunArgs,
    profile: &TrafficProfile,
    mut watch: Option<&mut Watch>,
    progress: &mut Progress,
) -> (StepRun, Vec<ProfileMinute>) {
    let minute_length = Duration::from_secs_f64(60.0 / args.speed);
    let minutes_total = profile.rps.len();
    let plan = StepPlan {
        load: Load::Profile {
            rates: Arc::from(profile.rps.as_slice()),
            arrival: args.arrival,
            max_inflight: args.max_inflight,
        },
        warmup: Duration::ZERO,
        window: minute_length,
        max_duration: minute_length * u32::try_from(minutes_total).unwrap_or(u32::MAX),
        max_requests: None,
        timeout: args.target.timeout,
        drain: args.target.drain_limit(),
    };
    let mut minutes = Vec::with_capacity(minutes_total);
    let mut poll = watch.as_deref().map(Watch::poll);
    progress.start(&label(0, profile));
    let sharding = target.sharding;
    let run = target.run(&plan, |target, windows| {
        let Some(window) = windows.last() else {
            return Verdict::Continue;
        };
        let index = window.index as usize;
        let instances = match (watch.as_deref_mut(), poll.take()) {
            (Some(w), Some(started)) => {
                let count = w.count(started);
                if let Some(warning) = w.warning() {
                    progress.note(&warning);
                }
                poll = Some(w.poll());
                count
            }
            _ => None,
        };
        let mut minute = ProfileMinute {
            minute: window.index,
            offered_rps: sharding.rate_share(profile.rps.get(index).copied().unwrap_or(0.0)),
            summary: summary_of(&window.tally, window.duration),
            instances,
            predicted_instances: None,
            stream: run_stream_figures(&window.tally, window.duration),
        };
        if sharding.sharded()
            && let Err(e) = attach(&mut minute.summary, &window.tally, window.duration, &[])
        {
            target.failure = Some(e);
            return Verdict::Stop;
        }
        progress.note(&minute_line(&minute, minutes_total, instances));
        let verdict = match target.log(&minute) {
            Verdict::Continue if super::hopeless(windows) => Verdict::Stop,
            verdict => verdict,
        };
        minutes.push(minute);
        if index + 1 < minutes_total {
            progress.start(&label(index + 1, profile));
        }
        verdict
    });
    progress.abandon();
    (run, minutes)
}

fn label(minute: usize, profile: &TrafficProfile) -> String {
    format!(
        "minute {}/{} at {:.0} req/s",
        minute + 1,
        profile.rps.len(),
        profile.rps.get(minute).copied().unwrap_or(0.0)
    )
}

/// The line shown as a minute finishes.
fn minute_line(minute: &ProfileMinute, total: usize, instances: Option<u32>) -> String {
    let s = &minute.summary;
    format!(
        "  minute {}/{total} at {:.0} req/s: achieved {:.1} req/s, p99 {} ms, ok {:.1}%{}{}",
        minute.minute + 1,
        minute.offered_rps,
        s.rps,
        s.latency_ms.p99,
        s.success_ratio * 100.0,
        minute
            .stream
            .as_ref()
            .map(|f| format!(
                ", {:.1} output tokens/s, TTFT p99 {} ms",
                f.output_tokens_per_s, f.ttft_ms.p99
            ))
            .unwrap_or_default(),
        instances
            .map(|n| format!(", {n} instances in service"))
            .unwrap_or_default()
    )
}

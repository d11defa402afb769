//! `find --plan`: each level of the plan measured for the whole `--step-duration` in a slot
//! of its own on a fixed clock (step i starts at the common start + i slots), so shards on
//! different machines measure the same level at the same time; no probing between steps and
//! no early stop, which would put shards out of step. A shard measures its part of each
//! level and keeps the tallies `merge` adds up.

use std::cell::Cell;
use std::time::{Duration, Instant};

use super::step::StepRunner;
use crate::Error;
use crate::cli::{FindArgs, Mode};
use crate::load::{ProcessShard, StepPlan, Verdict, run_step_at};
use crate::pipeline::Interrupt;
use crate::pipeline::shard::{Sharding, attach};
use crate::report::Progress;
use crate::results::{FindResults, ShardInfo};
use crate::search::step::{Level, StepFigures, judged_step};
use crate::search::{Basis, Measured};

/// Room in each slot after a step's drain, for its threads to stop and the next to start.
const SLOT_MARGIN: Duration = Duration::from_secs(1);
/// How long before a step's start its threads are started (they wait for the start).
const LEAD: Duration = Duration::from_millis(50);
/// A step that starts later than this after its slot's start says so in a note.
const LATE_NOTE: Duration = Duration::from_millis(100);

/// When each step of the plan runs, and which part of it this process sends.
pub struct PlanClock {
    pub process: ProcessShard,
    /// When the first step starts (its warm-up).
    pub start: Instant,
    /// From one step's start to the next's.
    pub slot: Duration,
    /// Documents carry their tallies for `merge`.
    pub sharded: bool,
    next: Cell<u32>,
}

impl PlanClock {
    pub fn new(sharding: &Sharding, args: &FindArgs) -> Self {
        PlanClock {
            process: sharding.process,
            start: sharding.start_instant(),
            slot: slot(args),
            sharded: sharding.sharded(),
            next: Cell::new(0),
        }
    }
}

/// The drain of a plan's step without `--drain`: slots are fixed, so they cannot wait up to
/// `--timeout` as the search's steps do; requests still out then count as cut.
const PLAN_DRAIN: Duration = Duration::from_secs(5);

/// A step's slot: warm-up, measurement, drain, and a margin.
pub fn slot(args: &FindArgs) -> Duration {
    args.warmup + measured_time(args) + plan_drain(args) + SLOT_MARGIN
}

/// `--drain`, or [`PLAN_DRAIN`]; never longer than `--timeout`.
fn plan_drain(args: &FindArgs) -> Duration {
    let target = &args.target;
    target.drain.unwrap_or(PLAN_DRAIN).min(target.timeout)
}

/// How long each step measures (at least three windows, as the search's).
fn measured_time(args: &FindArgs) -> Duration {
    args.step_duration.max(args.window * 3)
}

impl StepRunner<'_> {
    /// Measures this process's part of `level` in the plan's next slot and judges it
    /// against `basis`.
    pub fn measure_planned(
        &self,
        clock: &PlanClock,
        level: u64,
        basis: &Basis,
        progress: &mut Progress,
    ) -> Measured {
        let index = clock.next.get();
        clock.next.set(index + 1);
        let start = clock.start + clock.slot * index;
        let at = self.level(level);
        let (load, label) = (self.load(at), at.label());
        wait_until(start.checked_sub(LEAD).unwrap_or(start), self.interrupt);
        let late = Instant::now().saturating_duration_since(start);
        let plan = StepPlan {
            load,
            warmup: self.args.warmup,
            window: self.args.window,
            max_duration: measured_time(self.args),
            max_requests: None,
            timeout: self.args.target.timeout,
            drain: plan_drain(self.args),
        };
        progress.start(&label);
        let flag = self.interrupt.flag();
        let run = run_step_at(
            self.template,
            self.connector,
            &plan,
            clock.process,
            start,
            flag,
            |windows| {
                progress.window(windows);
                Verdict::Continue
            },
        );
        let windows = &run.windows;
        let figures = StepFigures {
            level: self.share_of(clock.process, level),
            total: windows.total(),
            span: windows.span(),
            latest: windows.latest(),
            windows: windows.len(),
            partial: run.interrupted,
        };
        let mut step = judged_step(
            &self.rules,
            self.stream.as_ref(),
            self.args.stability,
            &figures,
            basis,
        );
        if late > LATE_NOTE {
            step.notes.push(format!(
                "the step started {} ms after its slot began (the one before overran it)",
                late.as_millis()
            ));
        }
        if clock.sharded
            && let Err(e) = attach(
                &mut step.summary,
                figures.total,
                figures.span,
                figures.latest,
            )
        {
            return Measured::Abort {
                step: Some(step),
                reason: e.to_string(),
            };
        }
        progress.finish(&step);
        if run.interrupted {
            Measured::Abort {
                step: Some(step),
                reason: "interrupted by the user".into(),
            }
        } else {
            Measured::Step(step)
        }
    }

    /// This process's part of a level of the whole run.
    fn share_of(&self, process: ProcessShard, level: u64) -> Level {
        match self.args.mode {
            Mode::Concurrency => {
                Level::Concurrency(u32::try_from(process.share(level)).unwrap_or(u32::MAX))
            }
            Mode::Rate => Level::Rate(level as f64 / f64::from(process.count.max(1))),
        }
    }
}

/// Without a plan, `--start-at` delays the whole search (a plan's steps wait for their
/// own slots).
pub fn wait_for_start(args: &FindArgs, sharding: &Sharding, interrupt: &Interrupt) {
    if let (None, Some(start)) = (args.plan.levels(), sharding.start) {
        wait_until(start.instant, interrupt);
    }
}

/// Sleeps until `t`, waking early when interrupted.
fn wait_until(t: Instant, interrupt: &Interrupt) {
    while !interrupt.is_set() {
        let left = t.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        std::thread::sleep(left.min(Duration::from_millis(100)));
    }
}

/// The plan and shard flags agree with the rest: a shard needs a plan (adaptive bisection
/// would need the shards to agree on each next level), the plan's kind matches `--mode`,
/// and no level passes `--max-concurrency`.
pub fn check(args: &FindArgs, sharding: &Sharding) -> Result<(), Error> {
    let plan = &args.plan;
    if sharding.sharded() && plan.levels().is_none() {
        return Err(Error::Input(
            "find --shard needs a fixed plan (--plan 1,2,4,8 or --plan-rates …): adaptive bisection would need the shards to agree on each next level".into(),
        ));
    }
    match (args.mode, &plan.plan, &plan.plan_rates) {
        (Mode::Rate, Some(_), _) => Err(Error::Input(
            "--plan lists concurrencies; with --mode rate give the rates with --plan-rates".into(),
        )),
        (Mode::Concurrency, _, Some(_)) => Err(Error::Input(
            "--plan-rates lists offered rates: add --mode rate".into(),
        )),
        (Mode::Concurrency, Some(levels), _)
            if levels
                .0
                .iter()
                .any(|&l| l > u64::from(args.max_concurrency)) =>
        {
            Err(Error::Input(format!(
                "--plan goes above --max-concurrency {}",
                args.max_concurrency
            )))
        }
        _ => Ok(()),
    }
}

/// A shard's document: who it is, the whole plan, and no peak of its own (its steps are
/// its part of each level; `merge` judges the whole run and picks the peak).
pub fn mark_shard(results: &mut FindResults, sharding: &Sharding, args: &FindArgs) {
    let (Some(run_id), Some(start)) = (&sharding.run_id, &sharding.start) else {
        return;
    };
    results.shard = Some(ShardInfo {
        run_id: run_id.clone(),
        count: sharding.process.count,
        index: Some(sharding.process.index),
        start_at: start.rfc3339(),
        load: None,
        plan: args
            .plan
            .levels()
            .unwrap_or_default()
            .iter()
            .map(|&l| l as f64)
            .collect(),
        safety_factor: Some(args.safety_factor),
    });
    if !results.interrupted && results.error.is_none() {
        results.stop_reason = format!(
            "{} measured its part of the plan; `peakrps merge` of all {} shards' documents judges the whole run and picks the peak",
            sharding.label(),
            sharding.process.count
        );
    }
    results.peak = None;
    results.recommendation = None;
}

//! `peakrps find`: step the load up, find the peak, print the scaling target.

mod plan;
mod step;

use std::cell::Cell;
use std::time::SystemTime;

use step::StepRunner;

use super::Completion;
use crate::Error;
use crate::aws::runtime::{describe_error, parse_error};
use crate::cli::{FindArgs, Mode, SearchStrategy};
use crate::load::Prober;
use crate::pipeline::limits::Connections;
use crate::pipeline::rejected::rejected_error;
use crate::pipeline::shard::Sharding;
use crate::pipeline::{self, Ended, Measure, Session, llm};
use crate::report::{self, Progress};
use crate::results::{
    self, ErrorKind, ErrorSample, FindResults, FindSettings, InstanceInfo, PartialLog,
    Recommendation, Step, TargetInfo,
};
use crate::search::{
    Basis, Measured, Outcome, PassRules, Schedule, Strategy, plan::run_plan, search,
};

pub fn find(args: &FindArgs) -> Result<Completion, Error> {
    llm::check_find_flags(args)?;
    check_step_time(args)?;
    let find = Find {
        args,
        schedule: schedule(args)?,
    };
    pipeline::measure(&args.target, Connections::of_find(args), find)
}

/// `find`'s part of the pipeline: the search (or the plan) and its verdict.
struct Find<'a> {
    args: &'a FindArgs,
    schedule: Schedule,
}

impl Measure for Find<'_> {
    type Document = FindResults;

    fn check(&mut self, sharding: &Sharding) -> Result<(), Error> {
        plan::check(self.args, sharding)
    }

    fn announce(&self, target: &TargetInfo) -> Option<String> {
        Some(format!(
            "Finding the peak of {} (Ctrl-C stops and keeps what was measured)",
            target.url
        ))
    }

    fn measure(&mut self, session: &mut Session) -> Result<Ended<FindResults>, Error> {
        let args = self.args;
        plan::wait_for_start(args, &session.sharding, &session.interrupt);
        let started_at = results::now_rfc3339();
        let started = SystemTime::now();
        let (outcome, fatal) = self.walk(session);
        // The embedded server's own count, to set beside the peak found: the capacity its
        // workers really had on this machine (a busy machine stretches their sleeps).
        let embedded = session.target.server.as_ref();
        if let Some(count) = embedded.and_then(|s| s.work_done().describe()) {
            session
                .progress
                .note(&format!("The embedded server's own count: {count}."));
        }
        let mut results = self.results(outcome, started_at, session)?;
        let ended = SystemTime::now();
        if let Some(e) = fatal {
            return Err(keep_what_was_measured(&mut results, e, session));
        }
        let successes = results.steps.iter().map(|s| s.summary.successes()).sum();
        match session.cloudwatch(started, ended, successes) {
            Some(Ok(figures)) => results.cloudwatch = Some(figures),
            Some(Err(e)) => return Err(keep_what_was_measured(&mut results, e, session)),
            None => {}
        }
        let failure = (results.peak.is_none() && !results.interrupted && results.shard.is_none())
            .then(|| Error::Failed(format!("no load level passed: {}", results.stop_reason)));
        results.error = failure.as_ref().map(Error::to_string);
        show(&results, session);
        Ok(Ended {
            interrupted: results.interrupted,
            document: results,
            failure,
        })
    }
}

impl Find<'_> {
    /// Steps through the levels (the search, or the plan), logging each step; a step that
    /// shows the test cannot go on aborts it, and that error comes back beside the outcome.
    fn walk(&self, session: &mut Session) -> (Outcome, Option<Error>) {
        let (args, schedule) = (self.args, &self.schedule);
        let Session {
            target,
            progress,
            interrupt,
            sharding,
            ..
        } = session;
        let template = &target.template;
        let runner = StepRunner {
            template,
            connector: &target.connector,
            args,
            rules: rules(args),
            interrupt,
            first_level: schedule.start,
            prober: Prober::new(template, &target.connector, args.target.timeout).ok(),
            baseline_ms: Cell::new(None),
            end_to_end: Cell::new(None),
            stream: template.stream().map(|_| llm::rules(args)),
            plan: args
                .plan
                .levels()
                .map(|_| plan::PlanClock::new(sharding, args)),
        };
        let mut watch = StepWatch {
            first_level: args.plan.levels().map_or(schedule.start, |l| l[0]),
            url: template.endpoint.url(),
            error_shown: false,
            partial: target.partial.as_mut(),
            fatal: None,
        };
        let measure = |level, basis: &Basis| {
            let measured = runner.measure(level, basis, progress);
            watch.after(measured, progress)
        };
        let outcome = match args.plan.levels() {
            Some(levels) => run_plan(levels, measure),
            None => search(schedule, measure),
        };
        (outcome, watch.fatal)
    }

    /// The document of the walk (not yet judged).
    fn results(
        &self,
        outcome: Outcome,
        started_at: String,
        session: &Session,
    ) -> Result<FindResults, Error> {
        let args = self.args;
        let recommendation = outcome
            .peak
            .as_ref()
            .map(|p| Recommendation::of_peak(p, args.safety_factor))
            .transpose()?;
        let api = session
            .target
            .template
            .stream()
            .map_or("", |s| s.api.name());
        let mut results = FindResults {
            schema: FindResults::SCHEMA.into(),
            version: env!("CARGO_PKG_VERSION").into(),
            started_at,
            target: session.target.info.clone(),
            mode: mode_name(args.mode).into(),
            settings: settings(args, api),
            steps: outcome.steps,
            peak: outcome.peak,
            recommendation,
            stop_reason: outcome.reason,
            interrupted: session.interrupt.is_set(),
            cloudwatch: None,
            error: None,
            model: outcome.model.map(Box::new),
            instance: instance(args).map(Box::new),
            shard: None,
        };
        plan::mark_shard(&mut results, &session.sharding, args);
        Ok(results)
    }
}

/// What is checked after each step: its first notable error shown once, the step logged,
/// and whether the test can go on.
struct StepWatch<'a> {
    first_level: u64,
    url: String,
    error_shown: bool,
    partial: Option<&'a mut PartialLog>,
    /// Why the walk was aborted, when a step showed it cannot go on.
    fatal: Option<Error>,
}

impl StepWatch<'_> {
    fn after(&mut self, measured: Measured, progress: &Progress) -> Measured {
        if !self.error_shown
            && let Some(text) =
                notable_error(measured_step(&measured).and_then(|s| s.first_error.as_ref()))
        {
            progress.note(&text);
            self.error_shown = true;
        }
        if let Err(e) = log_step(self.partial.as_deref_mut(), &measured) {
            self.fatal = Some(e);
            return Measured::Abort {
                step: None,
                reason: "cannot write the partial log".into(),
            };
        }
        let not_a_stream = measured_step(&measured)
            .filter(|s| s.level() == self.first_level)
            .and_then(llm::not_a_stream);
        if let Some(e) = not_a_stream.or_else(|| hopeless(&measured, self.first_level, &self.url)) {
            let reason = e.to_string();
            self.fatal = Some(e);
            return Measured::Abort {
                step: measured_step(&measured).cloned(),
                reason,
            };
        }
        measured
    }
}

/// The table, the verdict, and CloudWatch's figures beside the client's at the peak.
fn show(results: &FindResults, session: &Session) {
    let out = &session.out;
    out.emit(&report::find_table(results, out.color()));
    out.emit("\n\n");
    out.emit(&report::find_verdict(results));
    if let (Some(figures), Some(peak)) = (&results.cloudwatch, &results.peak) {
        let l = &peak.latency_ms;
        let client = format!(
            "at the peak p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            l.p50, l.p99, l.max
        );
        out.emit("\n");
        out.emit(&report::cloudwatch_lines(figures, &client));
    }
}

/// A search that ends in an error still writes `--json FILE`: the steps measured, and the
/// error as `error` (and, when it stopped the search, as `stop_reason`). Returns the error.
fn keep_what_was_measured(results: &mut FindResults, error: Error, session: &mut Session) -> Error {
    results.error = Some(error.to_string());
    session.keep_what_was_measured(results, error)
}

/// Appends a finished (or interrupted) step to `FILE.partial.jsonl`.
fn log_step(log: Option<&mut PartialLog>, measured: &Measured) -> Result<(), Error> {
    match (log, measured_step(measured)) {
        (Some(log), Some(step)) => log.append(step),
        _ => Ok(()),
    }
}

/// The step a measurement produced, finished or cut short.
fn measured_step(measured: &Measured) -> Option<&Step> {
    match measured {
        Measured::Step(step)
        | Measured::Abort {
            step: Some(step), ..
        } => Some(step),
        Measured::Abort { step: None, .. } => None,
    }
}

fn mode_name(mode: Mode) -> &'static str {
    match mode {
        Mode::Concurrency => "concurrency",
        Mode::Rate => "rate",
    }
}

/// A step judges stability on its last three windows, so it measures at least three: a
/// --step-duration shorter than that would be silently stretched, so it is refused.
fn check_step_time(args: &FindArgs) -> Result<(), Error> {
    let needed = args.window * 3;
    if args.step_duration >= needed {
        return Ok(());
    }
    let show = |d: std::time::Duration| humantime::format_duration(d).to_string();
    Err(Error::Input(format!(
        "--step-duration {} is shorter than the three --window {} windows a step needs to judge stability; give --step-duration {} or more, or a shorter --window",
        show(args.step_duration),
        show(args.window),
        show(needed)
    )))
}

/// The levels to step through: concurrencies, or offered rates in req/s.
fn schedule(args: &FindArgs) -> Result<Schedule, Error> {
    let (start, max, what) = match args.mode {
        Mode::Concurrency => (
            u64::from(args.start_concurrency),
            u64::from(args.max_concurrency),
            ("--start-concurrency", "--max-concurrency"),
        ),
        Mode::Rate => (
            args.start_rate.round().max(1.0) as u64,
            args.max_rps.round().max(1.0) as u64,
            ("--start-rate", "--max-rps"),
        ),
    };
    if start > max {
        return Err(Error::Input(format!(
            "{} {start} is above {} {max}",
            what.0, what.1
        )));
    }
    Ok(Schedule {
        start,
        max,
        precision: args.precision,
        strategy: match args.search.search {
            SearchStrategy::Guided => Strategy::Guided,
            SearchStrategy::Doubling => Strategy::Doubling,
        },
        closed_loop: args.mode == Mode::Concurrency,
        shortfall: args.min_gain,
    })
}

/// `--instance-type` and `--instance-price`, when either was given.
fn instance(args: &FindArgs) -> Option<InstanceInfo> {
    let g = &args.search;
    (g.instance_type.is_some() || g.instance_price.is_some()).then(|| InstanceInfo {
        type_name: g.instance_type.clone(),
        price_per_hour: g.instance_price,
    })
}

fn rules(args: &FindArgs) -> PassRules {
    PassRules {
        min_success: args.min_success,
        percentile: args.percentile,
        max_latency: args.max_latency,
        min_gain: args.min_gain,
        latency_tolerance: args.stability,
    }
}

fn settings(args: &FindArgs, api: &str) -> FindSettings {
    FindSettings {
        window_s: args.window.as_secs_f64(),
        warmup_s: args.warmup.as_secs_f64(),
        step_duration_s: args.step_duration.as_secs_f64(),
        stability: args.stability,
        min_success: args.min_success,
        percentile: args.percentile,
        max_latency_ms: args.max_latency.map(|d| d.as_secs_f64() * 1000.0),
        min_gain: args.min_gain,
        precision: args.precision,
        max_concurrency: args.max_concurrency,
        timeout_s: args.target.timeout.as_secs_f64(),
        arrival: (args.mode == Mode::Rate).then_some(args.arrival),
        max_inflight: (args.mode == Mode::Rate).then_some(args.max_inflight),
        search: Some(
            match args.search.search {
                SearchStrategy::Guided => "guided",
                SearchStrategy::Doubling => "doubling",
            }
            .into(),
        ),
        stream: llm::settings(args, api),
    }
}

/// A failure worth one line the first time it happens: a SageMaker ModelError with the
/// container's own message, or a request that could not be signed.
fn notable_error(sample: Option<&ErrorSample>) -> Option<String> {
    let sample = sample?;
    if sample.kind == ErrorKind::Signing {
        return Some(format!(
            "{} (shown once; counted as signing, and not sent)",
            sample.detail
        ));
    }
    let parsed = parse_error(sample)?;
    (parsed.code == "ModelError")
        .then(|| describe_error(sample))
        .flatten()
        .map(|text| format!("{text} (shown once; counted as server_error)"))
}

/// A first step whose every request was rejected with 4xx means a wrong URL or payload,
/// not a load limit: stop at once and show what the server said.
fn hopeless(measured: &Measured, first_level: u64, url: &str) -> Option<Error> {
    let step = measured_step(measured)?;
    let s = &step.summary;
    let all_rejected = s.requests > 0 && s.errors.client_error == s.requests;
    if !all_rejected || step.level() != first_level {
        return None;
    }
    Some(rejected_error(
        "every request at the first step",
        step.first_error.as_ref(),
        url,
    ))
}

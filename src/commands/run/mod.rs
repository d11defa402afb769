//! `peakrps run`: one fixed load for a duration or a number of requests, or a traffic
//! profile played minute by minute (`profile.rs`).

mod profile;
mod shard;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde::Serialize;

use super::output::Output;
use super::prepare::{Prepared, prepare};
use super::{Completion, Interrupt};
use crate::Error;
use crate::aws::runtime::{describe_error, parse_error};
use crate::cli::RunArgs;
use crate::endpoint::{Connector, RequestTemplate};
use crate::load::{Load, StepPlan, StepRun, Verdict, run_step_at};
use crate::report::{self, Progress};
use crate::results::{self, ErrorKind, LoadInfo, PartialLog, RunResults, Summary};
use crate::scaling::TrafficProfile;
use crate::scaling::live::Watch;
use crate::stats::{Windows, run_stream_figures, summary_of};

/// How long a `--requests N` run may take at most.
const REQUESTS_RUN_LIMIT: Duration = Duration::from_secs(24 * 3600);

pub fn run(args: &RunArgs) -> Result<Completion, Error> {
    let out = Output::of(args.target.json.as_deref(), &args.target.reports)?;
    let sharding = super::shard::resolve(&args.target, SystemTime::now())?;
    super::limits::check(&super::limits::Connections::of_run(args))?;
    let mut progress = Progress::new(args.target.quiet);
    // A bad profile is bad input: say so before any load is sent.
    let profile = args
        .profile
        .as_deref()
        .map(TrafficProfile::load)
        .transpose()?;
    let predicts = profile.is_some()
        && args
            .target
            .target
            .as_deref()
            .is_some_and(|t| t.starts_with(crate::endpoint::sagemaker::SCHEME));
    if let (false, Some(flag)) = (predicts, args.timing.given()) {
        return Err(Error::Input(format!(
            "{flag} only applies to run --profile on a sagemaker:// target (it times the predicted instance counts)"
        )));
    }
    let Prepared {
        template,
        connector,
        info,
        _server,
        sagemaker,
        mut partial,
    } = prepare(&args.target, &progress)?;
    let interrupt = Interrupt::install();
    let started_at = results::now_rfc3339();
    let mut target = Target {
        template: &template,
        connector: &connector,
        interrupt: &interrupt,
        partial: partial.as_mut(),
        failure: None,
        sharding: &sharding,
    };
    if let Some(note) = sharding.waiting_note() {
        progress.note(&note);
    }
    let mut watch = match (&profile, &sagemaker) {
        // One shard watches the endpoint for all: `merge` takes its counts.
        (Some(_), Some(session)) if sharding.process.index == 0 => {
            match Watch::start(&session.aws, session.signer(), &session.target, args.speed) {
                Ok(watch) => Some(watch),
                Err(e) => {
                    progress.note(&format!(
                        "warning: cannot watch the endpoint's instance count ({e}); the minutes will show none"
                    ));
                    None
                }
            }
        }
        _ => None,
    };
    for note in watch.iter().flat_map(Watch::notes) {
        progress.note(&format!("note: {note}"));
    }
    let started = SystemTime::now();
    let (run, mut minutes) = match &profile {
        Some(profile) => profile::play(&mut target, args, profile, watch.as_mut(), &mut progress),
        None => (fixed_load(&mut target, args, &mut progress)?, Vec::new()),
    };
    if let Some(e) = target.failure.take() {
        return Err(e);
    }
    let scaling = watch.map(|w| w.finish(&mut minutes, args.timing.timing()));
    let ended = SystemTime::now();
    let tally = run.windows.total();
    let mut results = RunResults {
        schema: RunResults::SCHEMA.into(),
        version: env!("CARGO_PKG_VERSION").into(),
        started_at,
        target: info,
        load: load_info(args),
        summary: run.windows.summary(),
        minutes,
        interrupted: run.interrupted,
        cloudwatch: None,
        shard: None,
        scaling,
        stream: run_stream_figures(tally, run.windows.span()),
        error: None,
    };
    shard::mark_shard(&mut results, &run, &sharding)?;
    out.emit(&report::run_report(&results, out.color()));
    out.emit("\n");
    if let Some(f) = &results.stream {
        out.emit(&report::stream_run_line(f));
    }
    let summary = &results.summary;
    if let Some(rate) = results.load.rate.filter(|_| args.rate.is_some()) {
        out.emit(&format!(
            "Offered {rate:.1} req/s, achieved {:.1} req/s ({:.1}%), dropped {} (--max-inflight were outstanding).\n",
            summary.rps,
            summary.rps / rate * 100.0,
            summary.dropped
        ));
    }
    if let Some(e) = &tally.first_error {
        out.emit(&format!(
            "First error: {}{}: {}\n",
            e.kind.name(),
            e.status.map(|s| format!(" (HTTP {s})")).unwrap_or_default(),
            describe_error(e).unwrap_or_else(|| e.detail.trim().replace('\n', " "))
        ));
    }
    // A run that ends in an error still writes its document, with the reason in `error`.
    let mut failure = rejected_by_validation(&run.windows).then(|| {
        let text = tally
            .first_error
            .as_ref()
            .and_then(describe_error)
            .unwrap_or_default();
        Error::Run(format!("SageMaker rejected the requests: {text}"))
    });
    if let (None, true, Some(session)) = (&failure, args.target.sagemaker.cloudwatch, &sagemaker) {
        match super::read_cloudwatch(
            &session.aws,
            &args.target,
            started,
            ended,
            tally.successes,
            &progress,
        ) {
            Ok(figures) => {
                let l = &results.summary.latency_ms;
                let client = format!(
                    "p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
                    l.p50, l.p99, l.max
                );
                out.emit("\n");
                out.emit(&report::cloudwatch_lines(&figures, &client));
                results.cloudwatch = Some(figures);
            }
            Err(e) => failure = Some(e),
        }
    }
    if failure.is_none() && !run.interrupted && results.summary.requests > 0 && tally.successes == 0
    {
        failure = Some(Error::Failed(format!(
            "no request succeeded ({})",
            results.summary.errors.describe()
        )));
    }
    results.error = failure.as_ref().map(Error::to_string);
    super::write_results(
        &results,
        &args.target,
        sharding.sharded(),
        partial,
        &progress,
    )?;
    match (failure, run.interrupted) {
        (Some(e), _) => Err(e),
        (None, true) => Ok(Completion::Interrupted),
        (None, false) => Ok(Completion::Done),
    }
}

/// What load the run applied, as the results file records it.
fn load_info(args: &RunArgs) -> LoadInfo {
    let open_loop = args.rate.is_some() || args.profile.is_some();
    LoadInfo {
        mode: match (&args.profile, args.rate) {
            (Some(_), _) => "profile",
            (None, Some(_)) => "rate",
            (None, None) => "concurrency",
        }
        .into(),
        concurrency: (!open_loop).then(|| args.concurrency.unwrap_or(1)),
        rate: args.rate,
        arrival: open_loop.then_some(args.arrival),
        max_inflight: open_loop.then_some(args.max_inflight),
        profile: args.profile.as_ref().map(|p| p.display().to_string()),
        speed: args.profile.as_ref().map(|_| args.speed),
        duration_s: args.duration.map(|d| d.as_secs_f64()),
        requests: args.requests,
    }
}

fn load(args: &RunArgs) -> Load {
    match args.rate {
        Some(rate) => Load::Rate {
            rate,
            arrival: args.arrival,
            max_inflight: args.max_inflight,
        },
        None => Load::Concurrency(args.concurrency.unwrap_or(1)),
    }
}

fn label(args: &RunArgs) -> String {
    match args.rate {
        Some(rate) => format!("rate {rate}/s"),
        None => format!("concurrency {}", args.concurrency.unwrap_or(1)),
    }
}

/// What every load of a run goes to, and where finished stretches are logged.
struct Target<'a> {
    template: &'a Arc<RequestTemplate>,
    connector: &'a Connector,
    interrupt: &'a Interrupt,
    /// `FILE.partial.jsonl`: each finished window (fixed load) or minute (profile).
    partial: Option<&'a mut PartialLog>,
    /// Writing the partial log failed: the run stopped, and this is why.
    failure: Option<Error>,
    /// Which part of the load this process sends, and from when.
    sharding: &'a super::shard::Sharding,
}

impl Target<'_> {
    /// Appends `record` to the partial log; a failure stops the run.
    fn log<T: Serialize>(&mut self, record: &T) -> Verdict {
        let Some(log) = self.partial.as_deref_mut() else {
            return Verdict::Continue;
        };
        match log.append(record) {
            Ok(()) => Verdict::Continue,
            Err(e) => {
                self.failure = Some(e);
                Verdict::Stop
            }
        }
    }
}

/// One window of a fixed-load run, as `FILE.partial.jsonl` records it.
#[derive(Serialize)]
struct WindowRecord {
    window: u32,
    #[serde(flatten)]
    summary: Summary,
}

/// One load (--concurrency or --rate) for --duration or --requests.
fn fixed_load(
    target: &mut Target,
    args: &RunArgs,
    progress: &mut Progress,
) -> Result<StepRun, Error> {
    let duration = match (args.duration, args.requests) {
        (Some(d), _) => d,
        (None, Some(_)) => REQUESTS_RUN_LIMIT,
        (None, None) => Duration::from_secs(10),
    };
    if duration.is_zero() {
        return Err(Error::Input("--duration must be longer than 0s".into()));
    }
    let plan = StepPlan {
        load: load(args),
        warmup: args.warmup,
        window: Duration::from_secs(1),
        max_duration: duration,
        max_requests: args.requests,
        timeout: args.target.timeout,
        drain: args.target.drain_limit(),
    };
    progress.start(&label(args));
    let (template, connector, flag) = (target.template, target.connector, target.interrupt.flag());
    let (process, start) = (target.sharding.process, target.sharding.start_instant());
    let run = run_step_at(
        template,
        connector,
        &plan,
        process,
        start,
        flag,
        |windows| {
            progress.window(windows);
            let Some(last) = windows.last() else {
                return Verdict::Continue;
            };
            let record = WindowRecord {
                window: last.index,
                summary: summary_of(&last.tally, last.duration),
            };
            if target.log(&record) == Verdict::Stop || rejected_by_validation(windows) {
                Verdict::Stop
            } else {
                Verdict::Continue
            }
        },
    );
    progress.abandon();
    Ok(run)
}

/// Every request so far failed with a SageMaker ValidationError (the run stops after the
/// first window that shows it): the request is wrong (endpoint name, payload, variant), so
/// more load would only repeat it.
fn rejected_by_validation(windows: &Windows) -> bool {
    let t = windows.total();
    let requests = t.successes + t.errors.total();
    requests > 0
        && t.errors.get(ErrorKind::ClientError) == requests
        && t.first_error
            .as_ref()
            .and_then(parse_error)
            .is_some_and(|e| e.code == "ValidationError")
}

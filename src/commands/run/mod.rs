//! `peakrps run`: one fixed load for a duration or a number of requests, or a traffic
//! profile played minute by minute (`profile.rs`).

mod profile;
mod shard;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde::Serialize;

use super::Completion;
use crate::Error;
use crate::aws::runtime::{describe_error, parse_error};
use crate::cli::RunArgs;
use crate::endpoint::{Connector, RequestTemplate};
use crate::load::{Load, StepPlan, StepRun, Verdict, run_step_at};
use crate::pipeline::limits::Connections;
use crate::pipeline::rejected::{FIRST_ANSWERS, all_rejected, rejected_error};
use crate::pipeline::shard::Sharding;
use crate::pipeline::{self, Ended, Interrupt, Measure, Session};
use crate::report::{self, Progress};
use crate::results::{self, ErrorKind, LoadInfo, PartialLog, RunResults, Summary, TargetInfo};
use crate::scaling::TrafficProfile;
use crate::scaling::live::Watch;
use crate::stats::{Windows, run_stream_figures, summary_of};

/// How long a `--requests N` run may take at most.
const REQUESTS_RUN_LIMIT: Duration = Duration::from_secs(24 * 3600);

pub fn run(args: &RunArgs) -> Result<Completion, Error> {
    let run = Run {
        args,
        profile: None,
    };
    pipeline::measure(&args.target, Connections::of_run(args), run)
}

/// `run`'s part of the pipeline: one fixed load, or a profile played minute by minute.
struct Run<'a> {
    args: &'a RunArgs,
    /// `--profile`, read before any load is sent.
    profile: Option<TrafficProfile>,
}

impl Measure for Run<'_> {
    type Document = RunResults;

    fn check(&mut self, _: &Sharding) -> Result<(), Error> {
        let args = self.args;
        // A bad profile is bad input: say so before any load is sent.
        self.profile = args
            .profile
            .as_deref()
            .map(TrafficProfile::load)
            .transpose()?;
        let predicts = self.profile.is_some()
            && args
                .target
                .target
                .as_deref()
                .is_some_and(|t| t.starts_with(crate::endpoint::sagemaker::SCHEME));
        match (predicts, args.timing.given()) {
            (false, Some(flag)) => Err(Error::Input(format!(
                "{flag} only applies to run --profile on a sagemaker:// target (it times the predicted instance counts)"
            ))),
            _ => Ok(()),
        }
    }

    fn announce(&self, _: &TargetInfo) -> Option<String> {
        None
    }

    fn measure(&mut self, session: &mut Session) -> Result<Ended<RunResults>, Error> {
        let started_at = results::now_rfc3339();
        let mut watch = self.watch(session);
        for note in watch.iter().flat_map(Watch::notes) {
            session.progress.note(&format!("note: {note}"));
        }
        let started = SystemTime::now();
        let (run, mut minutes) = self.apply(session, watch.as_mut())?;
        let scaling = watch.map(|w| w.finish(&mut minutes, self.args.timing.timing()));
        let ended = SystemTime::now();
        let mut results = RunResults {
            schema: RunResults::SCHEMA.into(),
            version: env!("CARGO_PKG_VERSION").into(),
            started_at,
            target: session.target.info.clone(),
            load: load_info(self.args),
            summary: run.windows.summary(),
            minutes,
            interrupted: run.interrupted,
            cloudwatch: None,
            shard: None,
            scaling,
            stream: run_stream_figures(run.windows.total(), run.windows.span()),
            error: None,
        };
        shard::mark_shard(&mut results, &run, &session.sharding)?;
        show(&results, &run, self.args, &session.out);
        let failure = failure(&mut results, &run, started, ended, session);
        results.error = failure.as_ref().map(Error::to_string);
        Ok(Ended {
            document: results,
            failure,
            interrupted: run.interrupted,
        })
    }
}

impl Run<'_> {
    /// On a `sagemaker://` target with a profile, the endpoint's instance count watched
    /// while the profile plays (one shard watches for all: `merge` takes its counts).
    fn watch(&self, session: &Session) -> Option<Watch> {
        let aws = session.target.sagemaker.as_ref();
        let (_, session_aws) = self.profile.as_ref().zip(aws)?;
        if session.sharding.process.index != 0 {
            return None;
        }
        let started = Watch::start(
            &session_aws.aws,
            session_aws.signer(),
            &session_aws.target,
            self.args.speed,
        );
        match started {
            Ok(watch) => Some(watch),
            Err(e) => {
                session.progress.note(&format!(
                    "warning: cannot watch the endpoint's instance count ({e}); the minutes will show none"
                ));
                None
            }
        }
    }

    /// Applies the load: the profile, or one fixed load. A partial log that cannot be
    /// written stops the run, and nothing more is written.
    fn apply(
        &self,
        session: &mut Session,
        watch: Option<&mut Watch>,
    ) -> Result<(StepRun, Vec<crate::results::ProfileMinute>), Error> {
        let Session {
            target: prepared,
            progress,
            interrupt,
            sharding,
            ..
        } = session;
        let mut target = Target {
            template: &prepared.template,
            connector: &prepared.connector,
            interrupt,
            partial: prepared.partial.as_mut(),
            failure: None,
            sharding,
        };
        let played = match &self.profile {
            Some(profile) => profile::play(&mut target, self.args, profile, watch, progress),
            None => (fixed_load(&mut target, self.args, progress)?, Vec::new()),
        };
        match target.failure.take() {
            Some(e) => Err(e),
            None => Ok(played),
        }
    }
}

/// The report, the streaming line, the offered and achieved rates, the first error.
fn show(results: &RunResults, run: &StepRun, args: &RunArgs, out: &pipeline::output::Output) {
    out.emit(&report::run_report(results, out.color()));
    out.emit("\n");
    if let Some(f) = &results.stream {
        out.emit(&report::stream_run_line(f));
    }
    let summary = &results.summary;
    if let Some(rate) = results.load.rate.filter(|_| args.rate.is_some()) {
        let achieved = achieved_rate(summary);
        out.emit(&format!(
            "Offered {rate:.1} req/s, achieved {achieved:.1} req/s ({:.1}%), dropped {} (--max-inflight were outstanding).\n",
            achieved / rate * 100.0,
            summary.dropped
        ));
    }
    if let Some(e) = &run.windows.total().first_error {
        out.emit(&format!(
            "First error: {}{}: {}\n",
            e.kind.name(),
            e.status.map(|s| format!(" (HTTP {s})")).unwrap_or_default(),
            describe_error(e).unwrap_or_else(|| e.detail.trim().replace('\n', " "))
        ));
    }
}

/// The rate an open-loop run achieved: every request that fell due in it and succeeded,
/// answered during the drain too, per second of the run. (`rps` counts answers as they
/// arrive within the run, so requests a few seconds long answered after its end are
/// missing from it.)
fn achieved_rate(summary: &Summary) -> f64 {
    if summary.duration_s > 0.0 {
        summary.successes() as f64 / summary.duration_s
    } else {
        0.0
    }
}

/// Why the run failed, if it did: SageMaker rejected the requests, CloudWatch could not be
/// read (its figures, when read, go into `results` and are shown), or nothing succeeded. A
/// run that ends in an error still writes its document, with the reason in `error`.
fn failure(
    results: &mut RunResults,
    run: &StepRun,
    started: SystemTime,
    ended: SystemTime,
    session: &Session,
) -> Option<Error> {
    let tally = run.windows.total();
    if !rejected_by_validation(&run.windows) && every_answer_rejected(&run.windows) {
        return Some(rejected_error(
            &format!("every one of the first {} requests", tally.requests()),
            tally.first_error.as_ref(),
            &results.target.url,
        ));
    }
    if rejected_by_validation(&run.windows) {
        let text = tally
            .first_error
            .as_ref()
            .and_then(describe_error)
            .unwrap_or_default();
        return Some(Error::Run(format!(
            "SageMaker rejected the requests: {text}"
        )));
    }
    match session.cloudwatch(started, ended, tally.successes) {
        Some(Ok(figures)) => {
            let l = &results.summary.latency_ms;
            let client = format!(
                "p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
                l.p50, l.p99, l.max
            );
            session.out.emit("\n");
            session
                .out
                .emit(&report::cloudwatch_lines(&figures, &client));
            results.cloudwatch = Some(figures);
        }
        Some(Err(e)) => return Some(e),
        None => {}
    }
    (!run.interrupted && results.summary.requests > 0 && tally.successes == 0).then(|| {
        let cut = results.summary.cut;
        let cut = if cut > 0 {
            format!("; {cut} cut at the --drain limit, still in flight")
        } else {
            String::new()
        };
        Error::Failed(format!(
            "no request succeeded ({}{cut})",
            results.summary.errors.describe()
        ))
    })
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
    sharding: &'a Sharding,
}

impl<'a> Target<'a> {
    /// Runs `plan` on this process's part of the load from the common start, calling
    /// `on_window` (with the target, to log) as each window closes.
    fn run(
        &mut self,
        plan: &StepPlan,
        mut on_window: impl FnMut(&mut Self, &Windows) -> Verdict,
    ) -> StepRun {
        let (template, connector) = (self.template, self.connector);
        let (flag, sharding): (&'a _, &'a Sharding) = (self.interrupt.flag(), self.sharding);
        let (process, start) = (sharding.process, sharding.start_instant());
        run_step_at(template, connector, plan, process, start, flag, |windows| {
            on_window(self, windows)
        })
    }

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
    let run = target.run(&plan, |target, windows| {
        progress.window(windows);
        let Some(last) = windows.last() else {
            return Verdict::Continue;
        };
        let record = WindowRecord {
            window: last.index,
            summary: summary_of(&last.tally, last.duration),
        };
        if target.log(&record) == Verdict::Stop || hopeless(windows) {
            Verdict::Stop
        } else {
            Verdict::Continue
        }
    });
    progress.abandon();
    Ok(run)
}

/// The answers so far show the requests are wrong, so the run stops after the window that
/// shows it: a SageMaker ValidationError, or every answer (at least `FIRST_ANSWERS`) a 4xx.
fn hopeless(windows: &Windows) -> bool {
    rejected_by_validation(windows) || every_answer_rejected(windows)
}

/// At least `FIRST_ANSWERS` answers, every one a 4xx rejection.
fn every_answer_rejected(windows: &Windows) -> bool {
    let t = windows.total();
    t.requests() >= FIRST_ANSWERS && all_rejected(t)
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

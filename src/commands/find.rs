//! `peakrps find`: step the load up, find the peak, print the scaling target.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::output::{self, Output};
use super::prepare::{Prepared, prepare};
use super::{Completion, Interrupt};
use crate::Error;
use crate::aws::runtime::{describe_error, parse_error};
use crate::cli::{FindArgs, Mode};
use crate::load::{Load, StepPlan, Verdict, run_step};
use crate::report::{self, Progress};
use crate::results::{
    self, ErrorKind, ErrorSample, FindResults, FindSettings, PartialLog, Recommendation, Step,
};
use crate::search::{Measured, PassRules, Schedule, judge, search};
use crate::stats::{Window, Windows, percentile_ms};
use crate::target::{Connector, RequestTemplate};

pub fn find(args: &FindArgs) -> Result<Completion, Error> {
    let schedule = schedule(args)?;
    let out = Output::of(args.target.json.as_deref(), &args.target.reports)?;
    super::limits::check(&super::limits::Connections::of_find(args))?;
    let mut progress = Progress::new(args.target.quiet);
    let Prepared {
        template,
        connector,
        info,
        _server,
        sagemaker,
    } = prepare(&args.target, &progress)?;
    // Only once the target is ready: bad input leaves no partial file behind.
    let mut partial = args
        .target
        .json
        .as_deref()
        .filter(|path| !results::is_stdio(path))
        .map(PartialLog::create)
        .transpose()?;
    progress.note(&format!(
        "Finding the peak of {} (Ctrl-C stops and keeps what was measured)",
        info.url
    ));
    let interrupt = Interrupt::install();
    let started_at = results::now_rfc3339();
    let started = SystemTime::now();
    let mut model_error_shown = false;

    let runner = StepRunner {
        template: &template,
        connector: &connector,
        args,
        rules: rules(args),
        interrupt: &interrupt,
        first_level: schedule.start,
    };
    let mut fatal: Option<Error> = None;
    let outcome = search(&schedule, |level, reference| {
        let measured = runner.measure(level, reference, &mut progress);
        if !model_error_shown
            && let Some(text) =
                model_error(measured_step(&measured).and_then(|s| s.first_error.as_ref()))
        {
            progress.note(&format!("{text} (shown once; counted as server_error)"));
            model_error_shown = true;
        }
        if let Err(e) = log_step(partial.as_mut(), &measured) {
            fatal = Some(e);
            return Measured::Abort {
                step: None,
                reason: "cannot write the partial log".into(),
            };
        }
        if let Some(e) = runner.hopeless(&measured) {
            let reason = e.to_string();
            fatal = Some(e);
            return Measured::Abort {
                step: measured_step(&measured).cloned(),
                reason,
            };
        }
        measured
    });

    let recommendation = outcome
        .peak
        .as_ref()
        .map(|p| Recommendation::new(p.rps, args.safety_factor))
        .transpose()?;
    let ended = SystemTime::now();
    let mut results = FindResults {
        schema: FindResults::SCHEMA.into(),
        version: env!("CARGO_PKG_VERSION").into(),
        started_at,
        target: info,
        mode: mode_name(args.mode).into(),
        settings: settings(args),
        steps: outcome.steps,
        peak: outcome.peak,
        recommendation,
        stop_reason: outcome.reason,
        interrupted: interrupt.is_set(),
        cloudwatch: None,
        error: None,
    };
    if let Some(e) = fatal {
        return Err(keep_what_was_measured(
            &mut results,
            e,
            args,
            partial,
            &progress,
        ));
    }
    if let (true, Some(session)) = (args.target.sagemaker.cloudwatch, &sagemaker) {
        let successes = results.steps.iter().map(|s| s.summary.successes()).sum();
        match super::read_cloudwatch(
            &session.aws,
            &args.target,
            started,
            ended,
            successes,
            &progress,
        ) {
            Ok(figures) => results.cloudwatch = Some(figures),
            Err(e) => {
                return Err(keep_what_was_measured(
                    &mut results,
                    e,
                    args,
                    partial,
                    &progress,
                ));
            }
        }
    }
    let failure = (results.peak.is_none() && !results.interrupted)
        .then(|| Error::Failed(format!("no load level passed: {}", results.stop_reason)));
    results.error = failure.as_ref().map(Error::to_string);
    out.emit(&report::find_table(&results, out.color()));
    out.emit("\n\n");
    out.emit(&report::find_verdict(&results));
    if let (Some(figures), Some(peak)) = (&results.cloudwatch, &results.peak) {
        let l = &peak.latency_ms;
        let client = format!(
            "at the peak p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            l.p50, l.p99, l.max
        );
        out.emit("\n");
        out.emit(&report::cloudwatch_lines(figures, &client));
    }
    if let Some(path) = &args.target.json {
        results::write_json(path, &results)?;
        if let Some(log) = partial {
            log.remove();
        }
        progress.note(&output::written("Results", path));
    }
    for line in report::write_reports(&results, args.target.report_files())? {
        progress.note(&line);
    }
    if results.interrupted {
        return Ok(Completion::Interrupted);
    }
    match failure {
        None => Ok(Completion::Done),
        Some(e) => Err(e),
    }
}

/// A search that ends in an error still writes `--json FILE`: the steps measured, and the
/// error as `error` (and, when it stopped the search, as `stop_reason`). Returns the error.
fn keep_what_was_measured(
    results: &mut FindResults,
    error: Error,
    args: &FindArgs,
    partial: Option<PartialLog>,
    progress: &Progress,
) -> Error {
    results.error = Some(error.to_string());
    if let Some(path) = &args.target.json {
        match results::write_json(path, results) {
            Ok(()) => {
                if let Some(log) = partial {
                    log.remove();
                }
                progress.note(&output::written("What was measured until then", path));
            }
            Err(e) => progress.note(&format!("warning: {e}")),
        }
    }
    error
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

fn settings(args: &FindArgs) -> FindSettings {
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
    }
}

/// Measures one load level: runs the step until stable or out of time, then judges it.
struct StepRunner<'a> {
    template: &'a Arc<RequestTemplate>,
    connector: &'a Connector,
    args: &'a FindArgs,
    rules: PassRules,
    interrupt: &'a Interrupt,
    /// The level of the first step.
    first_level: u64,
}

impl StepRunner<'_> {
    /// The load of a level, and its label ("concurrency 8", "rate 400/s").
    fn load(&self, level: u64) -> (Load, String) {
        match self.args.mode {
            Mode::Concurrency => {
                let concurrency = u32::try_from(level).unwrap_or(u32::MAX);
                (
                    Load::Concurrency(concurrency),
                    format!("concurrency {concurrency}"),
                )
            }
            Mode::Rate => (
                Load::Rate {
                    rate: level as f64,
                    arrival: self.args.arrival,
                    max_inflight: self.args.max_inflight,
                },
                format!("rate {level}/s"),
            ),
        }
    }

    fn measure(&self, level: u64, reference: Option<&Step>, progress: &mut Progress) -> Measured {
        let (load, label) = self.load(level);
        if level == self.first_level
            && let Some(step) = self.first_answers(load, &label)
        {
            progress.finish(&step);
            let reason = step.failure.clone().unwrap_or_default();
            return Measured::Abort {
                step: Some(step),
                reason,
            };
        }
        let plan = StepPlan {
            load,
            warmup: self.args.warmup,
            window: self.args.window,
            max_duration: self.args.step_duration.max(self.args.window * 3),
            max_requests: None,
            timeout: self.args.target.timeout,
        };
        progress.start(&label);
        let mut failed_outright = false;
        let run = run_step(
            self.template,
            self.connector,
            &plan,
            self.interrupt.flag(),
            |windows| {
                progress.window(windows);
                failed_outright = windows.last().is_some_and(every_request_failed);
                if failed_outright || windows.is_stable(self.args.stability) {
                    Verdict::Stop
                } else {
                    Verdict::Continue
                }
            },
        );
        let mut step = self.step(load, &label, &run.windows, reference, run.interrupted);
        if failed_outright {
            step.passed = false;
            step.failure = Some(format!(
                "the target failed outright at {label}: every request of a whole window failed ({})",
                run.windows
                    .last()
                    .map(|w| w.tally.errors.describe())
                    .unwrap_or_default()
            ));
        }
        progress.finish(&step);
        if run.interrupted {
            Measured::Abort {
                step: Some(step),
                reason: "interrupted by the user".into(),
            }
        } else if failed_outright {
            // Climbing further would only hammer a target that already fails everything.
            let reason = step.failure.clone().unwrap_or_default();
            Measured::Abort {
                step: Some(step),
                reason,
            }
        } else {
            Measured::Step(step)
        }
    }

    fn step(
        &self,
        load: Load,
        label: &str,
        windows: &Windows,
        reference: Option<&Step>,
        partial: bool,
    ) -> Step {
        let summary = windows.summary();
        let tally = windows.total();
        let latency = percentile_ms(&tally.latency, self.rules.percentile);
        let (concurrency, offered_rps, level) = match load {
            Load::Concurrency(c) => (Some(c), None, u64::from(c)),
            Load::Rate { rate, .. } => (None, Some(rate), rate.round() as u64),
        };
        let verdict = judge(
            &self.rules,
            level,
            label,
            &summary,
            latency,
            offered_rps,
            reference,
        );
        Step {
            concurrency,
            offered_rps,
            latency_at_percentile_ms: latency,
            stable: windows.is_stable(self.args.stability),
            passed: verdict.passed && !partial,
            failure: verdict.failure,
            windows: windows.len(),
            partial,
            summary,
            first_error: tally.first_error.clone(),
        }
    }

    /// Before the first step warms up: its first answers, up to `FIRST_ANSWERS`, within one
    /// window. All of them rejected with 4xx means a wrong URL, payload or content type, not
    /// a load limit: they come back as a step cut short (for `hopeless` to stop the search),
    /// so a wrong request costs the server 20 requests, not a whole step of them. Any other
    /// answer ends this at once and the step runs as usual.
    fn first_answers(&self, load: Load, label: &str) -> Option<Step> {
        let users = match load {
            Load::Concurrency(users) => users.min(FIRST_ANSWERS as u32),
            Load::Rate { .. } => 1,
        };
        let plan = StepPlan {
            load: Load::Concurrency(users),
            warmup: Duration::ZERO,
            window: Duration::from_millis(100),
            max_duration: self.args.window,
            max_requests: Some(FIRST_ANSWERS),
            timeout: self.args.target.timeout,
        };
        let all_rejected = |t: &crate::stats::Tally| {
            t.requests() > 0 && t.errors.get(ErrorKind::ClientError) == t.requests()
        };
        let run = run_step(
            self.template,
            self.connector,
            &plan,
            self.interrupt.flag(),
            |windows| {
                if all_rejected(windows.total()) {
                    Verdict::Continue
                } else {
                    Verdict::Stop
                }
            },
        );
        let tally = run.windows.total();
        if run.interrupted || tally.requests() < FIRST_ANSWERS || !all_rejected(tally) {
            return None;
        }
        let mut step = self.step(load, label, &run.windows, None, true);
        step.failure = Some(format!(
            "the first {} answers at {label} were all rejected ({})",
            tally.requests(),
            tally.errors.describe()
        ));
        Some(step)
    }

    /// A first step whose every request was rejected with 4xx means a wrong URL or payload,
    /// not a load limit: stop at once and show what the server said.
    fn hopeless(&self, measured: &Measured) -> Option<Error> {
        let step = measured_step(measured)?;
        let s = &step.summary;
        let all_rejected = s.requests > 0 && s.errors.client_error == s.requests;
        if !all_rejected || step.level() != self.first_level {
            return None;
        }
        Some(rejected_error(
            step.first_error.as_ref(),
            &self.template.endpoint.url(),
        ))
    }
}

/// How many answers, all rejected with 4xx, stop `find` before its first step.
const FIRST_ANSWERS: u64 = 20;

/// A window in which requests completed and none succeeded.
fn every_request_failed(window: &Window) -> bool {
    window.tally.requests() > 0 && window.tally.successes == 0
}

/// A SageMaker ModelError as one line, with the container's own message.
fn model_error(sample: Option<&ErrorSample>) -> Option<String> {
    let sample = sample?;
    let parsed = parse_error(sample)?;
    (parsed.code == "ModelError")
        .then(|| describe_error(sample))
        .flatten()
}

fn rejected_error(sample: Option<&ErrorSample>, url: &str) -> Error {
    if let Some(text) = sample.and_then(describe_error) {
        return Error::Run(format!(
            "every request at the first step was rejected: {text}"
        ));
    }
    let status = sample
        .and_then(|e| e.status)
        .map_or("4xx".to_string(), |s| s.to_string());
    let body = sample
        .map(|e| e.detail.trim().replace('\n', " "))
        .unwrap_or_default();
    let hint = if url.ends_with('/') || !url.contains("/invocations") && status == "404" {
        " (SageMaker containers serve POST /invocations)"
    } else {
        ""
    };
    Error::Run(format!(
        "every request at the first step was rejected with HTTP {status}: \"{body}\"; check the URL{hint}, --payload and --content-type"
    ))
}

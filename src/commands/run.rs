//! `peakrps run`: one fixed load for a duration or a number of requests.

use std::time::{Duration, SystemTime};

use super::prepare::{Prepared, prepare};
use super::{Completion, Interrupt};
use crate::Error;
use crate::cli::RunArgs;
use crate::load::{Load, StepPlan, Verdict, run_step};
use crate::report::{self, LoadInfo, Progress, RunResults};
use crate::stats::{ErrorKind, Window, summarize};
use crate::target::sagemaker::{describe_error, parse_error};

/// How long a `--requests N` run may take at most.
const REQUESTS_RUN_LIMIT: Duration = Duration::from_secs(24 * 3600);

pub fn run(args: &RunArgs) -> Result<Completion, Error> {
    let mut progress = Progress::new(args.target.quiet);
    let Prepared {
        template,
        connector,
        info,
        _server,
        aws,
    } = prepare(&args.target, &progress)?;
    let duration = match (args.duration, args.requests) {
        (Some(d), _) => d,
        (None, Some(_)) => REQUESTS_RUN_LIMIT,
        (None, None) => Duration::from_secs(10),
    };
    if duration.is_zero() {
        return Err(Error::Input("--duration must be longer than 0s".into()));
    }
    let plan = StepPlan {
        load: Load::Concurrency(args.concurrency),
        warmup: args.warmup,
        window: Duration::from_secs(1),
        max_duration: duration,
        max_requests: args.requests,
        timeout: args.target.timeout,
    };
    let interrupt = Interrupt::install();
    let started_at = report::now_rfc3339();
    let started = SystemTime::now();
    progress.start(&format!("concurrency {}", args.concurrency));
    let run = run_step(&template, &connector, &plan, interrupt.flag(), |windows| {
        progress.window(windows);
        if rejected_by_validation(windows) {
            Verdict::Stop
        } else {
            Verdict::Continue
        }
    });
    progress.abandon();
    let ended = SystemTime::now();
    let (summary, tally) = summarize(&run.windows);
    print!("{}", report::run_summary(&summary, report::color_enabled()));
    println!();
    if let Some(e) = &tally.first_error {
        println!(
            "First error: {}{}: {}",
            e.kind.name(),
            e.status.map(|s| format!(" (HTTP {s})")).unwrap_or_default(),
            describe_error(e).unwrap_or_else(|| e.detail.trim().replace('\n', " "))
        );
    }
    if rejected_by_validation(&run.windows) {
        let text = tally
            .first_error
            .as_ref()
            .and_then(describe_error)
            .unwrap_or_default();
        return Err(Error::Run(format!(
            "SageMaker rejected the requests: {text}"
        )));
    }
    let results = RunResults {
        schema: RunResults::SCHEMA.into(),
        version: env!("CARGO_PKG_VERSION").into(),
        started_at,
        target: info,
        load: LoadInfo {
            mode: "concurrency".into(),
            concurrency: Some(args.concurrency),
            duration_s: args.duration.map(|d| d.as_secs_f64()),
            requests: args.requests,
        },
        summary,
        interrupted: run.interrupted,
        cloudwatch: None,
    };
    let mut results = results;
    if let (true, Some(aws)) = (args.target.sagemaker.cloudwatch, &aws) {
        let figures = super::read_cloudwatch(
            aws,
            &args.target,
            started,
            ended,
            tally.successes,
            &progress,
        )?;
        let l = &results.summary.latency_ms;
        let client = format!(
            "p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            l.p50, l.p99, l.max
        );
        println!();
        print!("{}", crate::target::cloudwatch::describe(&figures, &client));
        results.cloudwatch = Some(figures);
    }
    if let Some(path) = &args.target.json {
        report::write_json(path, &results)?;
        progress.note(&format!("Results written to {}", path.display()));
    }
    if run.interrupted {
        return Ok(Completion::Interrupted);
    }
    if results.summary.requests > 0 && tally.successes == 0 {
        return Err(Error::Failed(format!(
            "no request succeeded ({})",
            results.summary.errors.describe()
        )));
    }
    Ok(Completion::Done)
}

/// The first window's requests all failed with a SageMaker ValidationError: the request is
/// wrong (endpoint name, payload, variant), so more load would only repeat it.
fn rejected_by_validation(windows: &[Window]) -> bool {
    let Some(first) = windows.first() else {
        return false;
    };
    let t = &first.tally;
    let requests = t.successes + t.errors.total();
    requests > 0
        && t.errors.get(ErrorKind::ClientError) == requests
        && t.first_error
            .as_ref()
            .and_then(parse_error)
            .is_some_and(|e| e.code == "ValidationError")
}

//! `peakrps run`: one fixed load for a duration or a number of requests.

use std::time::Duration;

use super::prepare::{Prepared, prepare};
use super::{Completion, Interrupt};
use crate::Error;
use crate::cli::RunArgs;
use crate::load::{Load, StepPlan, Verdict, run_step};
use crate::report::{self, LoadInfo, Progress, RunResults};
use crate::stats::summarize;

/// How long a `--requests N` run may take at most.
const REQUESTS_RUN_LIMIT: Duration = Duration::from_secs(24 * 3600);

pub fn run(args: &RunArgs) -> Result<Completion, Error> {
    let mut progress = Progress::new(args.target.quiet);
    let Prepared {
        template,
        connector,
        info,
        _server,
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
    progress.start(&format!("concurrency {}", args.concurrency));
    let run = run_step(&template, &connector, &plan, interrupt.flag(), |windows| {
        progress.window(windows);
        Verdict::Continue
    });
    progress.abandon();
    let (summary, tally) = summarize(&run.windows);
    print!("{}", report::run_summary(&summary, report::color_enabled()));
    println!();
    if let Some(e) = &tally.first_error {
        println!(
            "First error: {}{}: {}",
            e.kind.name(),
            e.status.map(|s| format!(" (HTTP {s})")).unwrap_or_default(),
            e.detail.trim().replace('\n', " ")
        );
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
    };
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

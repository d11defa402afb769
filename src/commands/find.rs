//! `peakrps find`: step the load up, find the peak, print the scaling target.

use std::sync::Arc;
use std::time::SystemTime;

use super::prepare::{Prepared, prepare};
use super::{Completion, Interrupt};
use crate::Error;
use crate::cli::FindArgs;
use crate::load::{Connector, Load, StepPlan, Verdict, run_step};
use crate::report::{self, FindResults, FindSettings, PartialLog, Progress};
use crate::scaling::Recommendation;
use crate::search::{Measured, PassRules, Schedule, Step, judge, search};
use crate::stats::{ErrorSample, Window, is_stable, percentile_ms, summarize};
use crate::target::RequestTemplate;
use crate::target::sagemaker::{describe_error, parse_error};

pub fn find(args: &FindArgs) -> Result<Completion, Error> {
    if args.start_concurrency > args.max_concurrency {
        return Err(Error::Input(format!(
            "--start-concurrency {} is above --max-concurrency {}",
            args.start_concurrency, args.max_concurrency
        )));
    }
    let mut partial = args
        .target
        .json
        .as_deref()
        .map(PartialLog::create)
        .transpose()?;
    let mut progress = Progress::new(args.target.quiet);
    let Prepared {
        template,
        connector,
        info,
        _server,
        aws,
    } = prepare(&args.target, &progress)?;
    progress.note(&format!(
        "Finding the peak of {} (Ctrl-C stops and keeps what was measured)",
        info.url
    ));
    let interrupt = Interrupt::install();
    let started_at = report::now_rfc3339();
    let started = SystemTime::now();
    let mut model_error_shown = false;

    let runner = StepRunner {
        template: &template,
        connector: &connector,
        args,
        rules: rules(args),
        interrupt: &interrupt,
    };
    let schedule = Schedule {
        start: u64::from(args.start_concurrency),
        max: u64::from(args.max_concurrency),
        precision: args.precision,
    };
    let mut fatal: Option<Error> = None;
    let outcome = search(&schedule, |level, reference| {
        let measured = runner.measure(level, reference, &mut progress);
        if let Measured::Step(step)
        | Measured::Abort {
            step: Some(step), ..
        } = &measured
        {
            if !model_error_shown && let Some(text) = model_error(step.first_error.as_ref()) {
                progress.note(&format!("{text} (shown once; counted as server_error)"));
                model_error_shown = true;
            }
            if let Some(log) = partial.as_mut()
                && let Err(e) = log.append(step)
            {
                fatal = Some(e);
                return Measured::Abort {
                    step: None,
                    reason: "cannot write the partial log".into(),
                };
            }
        }
        if let Some(e) = runner.hopeless(&measured) {
            fatal = Some(e);
        }
        measured
    });
    if let Some(e) = fatal {
        return Err(e);
    }

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
        mode: "concurrency".into(),
        settings: settings(args),
        steps: outcome.steps,
        peak: outcome.peak,
        recommendation,
        stop_reason: outcome.reason,
        interrupted: interrupt.is_set(),
        cloudwatch: None,
    };
    if let (true, Some(aws)) = (args.target.sagemaker.cloudwatch, &aws) {
        let successes = results
            .steps
            .iter()
            .map(|s| (s.summary.requests as f64 * s.summary.success_ratio).round() as u64)
            .sum();
        results.cloudwatch = Some(super::read_cloudwatch(
            aws,
            &args.target,
            started,
            ended,
            successes,
            &progress,
        )?);
    }
    print!("{}", report::find_table(&results, report::color_enabled()));
    println!();
    print!("{}", report::find_verdict(&results));
    if let (Some(figures), Some(peak)) = (&results.cloudwatch, &results.peak) {
        println!();
        let l = &peak.latency_ms;
        let client = format!(
            "at the peak p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            l.p50, l.p99, l.max
        );
        print!("{}", crate::target::cloudwatch::describe(figures, &client));
    }
    if let Some(path) = &args.target.json {
        report::write_json(path, &results)?;
        if let Some(log) = partial {
            log.remove();
        }
        progress.note(&format!("Results written to {}", path.display()));
    }
    if results.interrupted {
        return Ok(Completion::Interrupted);
    }
    match results.peak {
        Some(_) => Ok(Completion::Done),
        None => Err(Error::Failed(format!(
            "no load level passed: {}",
            results.stop_reason
        ))),
    }
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
    }
}

/// Measures one load level: runs the step until stable or out of time, then judges it.
struct StepRunner<'a> {
    template: &'a Arc<RequestTemplate>,
    connector: &'a Connector,
    args: &'a FindArgs,
    rules: PassRules,
    interrupt: &'a Interrupt,
}

impl StepRunner<'_> {
    fn measure(&self, level: u64, reference: Option<&Step>, progress: &mut Progress) -> Measured {
        let concurrency = u32::try_from(level).unwrap_or(u32::MAX);
        let plan = StepPlan {
            load: Load::Concurrency(concurrency),
            warmup: self.args.warmup,
            window: self.args.window,
            max_duration: self.args.step_duration.max(self.args.window * 3),
            max_requests: None,
            timeout: self.args.target.timeout,
        };
        progress.start(&format!("concurrency {concurrency}"));
        let run = run_step(
            self.template,
            self.connector,
            &plan,
            self.interrupt.flag(),
            |windows| {
                progress.window(windows);
                if is_stable(windows, self.args.stability) {
                    Verdict::Stop
                } else {
                    Verdict::Continue
                }
            },
        );
        let step = self.step(concurrency, &run.windows, reference, run.interrupted);
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

    fn step(
        &self,
        concurrency: u32,
        windows: &[Window],
        reference: Option<&Step>,
        partial: bool,
    ) -> Step {
        let (summary, tally) = summarize(windows);
        let latency = percentile_ms(&tally.latency, self.rules.percentile);
        let label = format!("concurrency {concurrency}");
        let verdict = judge(
            &self.rules,
            u64::from(concurrency),
            &label,
            &summary,
            latency,
            reference,
        );
        Step {
            concurrency: Some(concurrency),
            offered_rps: None,
            latency_at_percentile_ms: latency,
            stable: is_stable(windows, self.args.stability),
            passed: verdict.passed && !partial,
            failure: verdict.failure,
            windows: windows.len() as u32,
            partial,
            summary,
            first_error: tally.first_error,
        }
    }

    /// A first step whose every request was rejected with 4xx means a wrong URL or payload,
    /// not a load limit: stop at once and show what the server said.
    fn hopeless(&self, measured: &Measured) -> Option<Error> {
        let Measured::Step(step) = measured else {
            return None;
        };
        let s = &step.summary;
        let all_rejected = s.requests > 0 && s.errors.client_error == s.requests;
        if !all_rejected || step.level() != u64::from(self.args.start_concurrency) {
            return None;
        }
        Some(rejected_error(
            step.first_error.as_ref(),
            &self.template.endpoint.url(),
        ))
    }
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

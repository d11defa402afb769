//! `peakrps simulate`: replay a traffic profile through the target-tracking policy on the
//! measured capacity of one instance; with `--recommend`, search the safety factor first.

use std::path::Path;
use std::time::Duration;

use super::Completion;
use crate::Error;
use crate::cli::{PolicyMetric, SimulateArgs};
use crate::pipeline::output::Output;
use crate::report;
use crate::results::{
    self, Capacity, ConcurrencyTarget, DEFAULT_SAFETY_FACTOR, Datapoints, FactorSearch,
    FindResults, Policy, PolicyDoc, Recommendation, SimulateResults, Traffic,
};
use crate::scaling::recommend::chosen;
use crate::scaling::{
    Cadence, ConcurrencyModel, InstanceModel, Setting, Simulation, TrafficProfile, recommend,
    simulate as run_simulation, simulate_concurrency,
};

/// The concurrency metric's default delay: one 10-second period (AWS documents none).
const HIGH_RESOLUTION_DELAY: Duration = Duration::from_secs(10);

/// One instance's capacity and where it came from.
struct InstanceCapacity {
    model: InstanceModel,
    /// The safety factor of the results file, if any.
    results_factor: Option<f64>,
    source: String,
    /// `--metric concurrency`: requests in flight against rate.
    concurrency: Option<ConcurrencyModel>,
}

pub fn simulate(args: &SimulateArgs) -> Result<Completion, Error> {
    let out = Output::new(&[
        ("--json", args.json.as_deref()),
        ("--html", args.reports.html.as_deref()),
        ("--csv", args.reports.csv.as_deref()),
    ])?;
    if args.from.as_deref().is_some_and(results::is_stdio) && results::is_stdio(&args.traffic) {
        return Err(Error::Input(
            "--from - and --traffic -: only one of them can read standard input".into(),
        ));
    }
    if let Some(path) = &args.json {
        check_writable_dir(path)?;
    }
    report::check_report_files(args.reports.files())?;
    let capacity = capacity(args)?;
    let profile = TrafficProfile::load(&args.traffic)?;
    let (policy, factor) = policy(args, &capacity)?;
    let setting = Setting {
        profile: &profile,
        model: &capacity.model,
        timing: args.timing.timing(),
        instance_price: args.instance_price,
    };
    let (policy, factor, search) = if args.recommend && capacity.concurrency.is_some() {
        return Err(Error::Input(
            "--recommend searches the invocations target only; with --metric concurrency give --safety-factor or --target-value".into(),
        ));
    } else if args.recommend {
        let search = recommend(&setting, &policy, capacity.model.max_rps);
        out.emit(&report::recommendation_report(&search, out.color()));
        let (picked, picked_factor) = chosen(&search, &policy, capacity.model.max_rps);
        out.emit(&format!(
            "\nSimulating the pick (safety factor {picked_factor:.2}, --min-capacity {}):\n\n",
            picked.min_capacity
        ));
        (picked, Some(picked_factor), Some(search))
    } else {
        (policy, factor, None)
    };
    let doc = document(args, &capacity, &profile, &setting, &policy, factor, search);
    out.emit(&report::simulation_report(&doc));
    if let Some(path) = &args.json {
        results::write_json(path, &doc)?;
    }
    for line in report::write_reports(&doc, args.reports.files())? {
        eprintln!("{line}");
    }
    Ok(Completion::Done)
}

fn document(
    args: &SimulateArgs,
    capacity: &InstanceCapacity,
    profile: &TrafficProfile,
    setting: &Setting,
    policy: &Policy,
    factor: Option<f64>,
    search: Option<FactorSearch>,
) -> SimulateResults {
    let (sim, policy_doc, datapoints): (Simulation, _, _) = match &capacity.concurrency {
        None => (
            run_simulation(setting, policy),
            PolicyDoc::new(policy),
            None,
        ),
        Some(model) => {
            let delay = args.timing.metric_delay.unwrap_or(HIGH_RESOLUTION_DELAY);
            let cadence = Cadence::high_resolution(delay);
            let datapoints = Datapoints {
                period_s: cadence.period_s,
                high_datapoints: u32::try_from(cadence.high_datapoints).unwrap_or(u32::MAX),
                low_datapoints: u32::try_from(cadence.low_datapoints).unwrap_or(u32::MAX),
                metric_delay_s: u64::from(cadence.delay_periods) * u64::from(cadence.period_s),
            };
            (
                simulate_concurrency(setting, policy, model, cadence),
                PolicyDoc::concurrency(policy),
                Some(datapoints),
            )
        }
    };
    SimulateResults {
        schema: SimulateResults::SCHEMA.into(),
        version: env!("CARGO_PKG_VERSION").into(),
        started_at: results::now_rfc3339(),
        policy: policy_doc,
        capacity: Capacity {
            max_rps: capacity.model.max_rps,
            safety_factor: factor,
            source: capacity.source.clone(),
            latency_curve: capacity.model.has_curve(),
            max_concurrency: capacity
                .concurrency
                .as_ref()
                .map(|c| f64::from(c.max_concurrency)),
        },
        timing: setting.timing,
        datapoints,
        traffic: Traffic {
            file: args.traffic.display().to_string(),
            minutes: u32::try_from(profile.minutes()).unwrap_or(u32::MAX),
            peak_rps: profile.peak(),
        },
        instance_price: args.instance_price,
        timeline: sim.timeline,
        events: sim.events,
        summary: sim.summary,
        recommendation: search,
    }
}

fn capacity(args: &SimulateArgs) -> Result<InstanceCapacity, Error> {
    match (&args.from, args.max_rps) {
        (Some(path), _) => {
            let source = path.display().to_string();
            let results = results::read_find_results(path, "simulate")?;
            let concurrency = match metric(args, Some(&results))? {
                PolicyMetric::Concurrency => {
                    Some(ConcurrencyModel::from_results(&results, &source)?)
                }
                PolicyMetric::Invocations => None,
            };
            Ok(InstanceCapacity {
                model: InstanceModel::from_results(&results, &source)?,
                results_factor: results.recommendation.map(|r| r.safety_factor),
                source,
                concurrency,
            })
        }
        (None, Some(max_rps)) => {
            let concurrency = match (metric(args, None)?, args.max_concurrency) {
                (PolicyMetric::Concurrency, Some(n)) => {
                    Some(ConcurrencyModel::from_limits(max_rps, n)?)
                }
                (PolicyMetric::Concurrency, None) => {
                    return Err(Error::Input(
                        "--metric concurrency with --max-rps needs --max-concurrency N too (requests in flight at MAX_RPS: Little's law takes the latency as N / MAX_RPS)".into(),
                    ));
                }
                (PolicyMetric::Invocations, _) => None,
            };
            Ok(InstanceCapacity {
                model: InstanceModel::from_max_rps(max_rps)?,
                results_factor: None,
                source: if concurrency.is_some() {
                    "--max-rps and --max-concurrency".into()
                } else {
                    "--max-rps".into()
                },
                concurrency,
            })
        }
        (None, None) => Err(Error::Input("give --from RESULTS or --max-rps N".into())),
    }
}

/// The metric of `--metric`, else concurrency for a streaming result or with
/// `--max-concurrency`, else invocations.
fn metric(args: &SimulateArgs, results: Option<&FindResults>) -> Result<PolicyMetric, Error> {
    let stream = results
        .and_then(|r| r.peak.as_ref())
        .is_some_and(|p| p.is_stream());
    match (args.metric, args.max_concurrency) {
        (Some(PolicyMetric::Invocations), Some(_)) => Err(Error::Input(
            "--max-concurrency only applies to --metric concurrency".into(),
        )),
        (Some(m), _) => Ok(m),
        (None, Some(_)) => Ok(PolicyMetric::Concurrency),
        (None, None) if stream => Ok(PolicyMetric::Concurrency),
        (None, None) => Ok(PolicyMetric::Invocations),
    }
}

/// The policy of the flags, and the safety factor its target came from (`None` when
/// `--target-value` set it).
fn policy(
    args: &SimulateArgs,
    capacity: &InstanceCapacity,
) -> Result<(Policy, Option<f64>), Error> {
    if args.min_capacity > args.max_capacity {
        return Err(Error::Input(format!(
            "--min-capacity {} is above --max-capacity {}",
            args.min_capacity, args.max_capacity
        )));
    }
    let (target_value, factor) = match args.target_value {
        Some(t) => (t, None),
        None => {
            let factor = args
                .safety_factor
                .or(capacity.results_factor)
                .unwrap_or(DEFAULT_SAFETY_FACTOR);
            let r = Recommendation::new(capacity.model.max_rps, factor)?;
            match &capacity.concurrency {
                // The target `policy --metric concurrency` writes: the peak's concurrency × factor.
                Some(c) => {
                    let t = ConcurrencyTarget::new(c.max_concurrency, factor);
                    (t.concurrent_requests_per_model, Some(factor))
                }
                None => (r.invocations_per_instance, Some(factor)),
            }
        }
    };
    if !(target_value.is_finite() && target_value > 0.0) {
        return Err(Error::Input(format!(
            "the target value {target_value} must be above 0"
        )));
    }
    let policy = Policy {
        target_value,
        min_capacity: args.min_capacity,
        max_capacity: args.max_capacity,
        scale_in_cooldown_s: args.cooldowns.scale_in_cooldown.as_secs(),
        scale_out_cooldown_s: args.cooldowns.scale_out_cooldown.as_secs(),
        disable_scale_in: args.cooldowns.disable_scale_in,
    };
    Ok((policy, factor))
}

/// `--json FILE` must go to an existing directory (checked before any work is done).
fn check_writable_dir(path: &Path) -> Result<(), Error> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if dir.is_dir() {
        Ok(())
    } else {
        Err(Error::Input(format!(
            "--json {}: the directory {} does not exist",
            path.display(),
            dir.display()
        )))
    }
}

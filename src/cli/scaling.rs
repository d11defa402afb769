//! The flags of the scaling commands: `policy` (the Application Auto Scaling documents),
//! `simulate` (a traffic profile through the policy) and the autoscaler timing they share.

use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgGroup, Args};

use super::{AwsArgs, ReportFileArgs};
use crate::units::{
    parse_duration, parse_positive, parse_positive_rate, parse_price, parse_safety_factor,
};

/// What `policy --format` prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum PolicyFormat {
    /// {"RegisterScalableTarget": {...}, "PutScalingPolicy": {...}}: each part is what
    /// `aws application-autoscaling ... --cli-input-json` takes.
    CliInput,
    /// A CloudFormation template with an AWS::ApplicationAutoScaling::ScalableTarget and an
    /// AWS::ApplicationAutoScaling::ScalingPolicy.
    Cloudformation,
}

/// Which metric the target-tracking policy follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum PolicyMetric {
    /// SageMakerVariantInvocationsPerInstance, target MAX_RPS × SAFETY_FACTOR × 60 (per minute).
    Invocations,
    /// SageMakerVariantConcurrentRequestsPerModelHighResolution, target the concurrency at
    /// the peak × SAFETY_FACTOR.
    Concurrency,
}

#[derive(Debug, Args)]
pub struct PolicyArgs {
    /// A results file written by `peakrps find --json`.
    #[arg(long, value_name = "RESULTS")]
    pub from: PathBuf,

    /// The SageMaker endpoint to scale.
    #[arg(long, value_name = "NAME")]
    pub endpoint: String,

    /// Its production variant.
    #[arg(long, default_value = "AllTraffic", value_name = "VARIANT")]
    pub variant: String,

    /// The fewest instances the variant may scale in to.
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub min_capacity: u32,

    /// The most instances the variant may scale out to.
    #[arg(long, default_value_t = 4, value_name = "N")]
    pub max_capacity: u32,

    /// SAFETY_FACTOR in (0, 1]; default: the one the results were computed with.
    #[arg(long, value_parser = parse_safety_factor, value_name = "FACTOR")]
    pub safety_factor: Option<f64>,

    /// The metric to track [default: concurrency for a `find --stream` result, else
    /// invocations].
    #[arg(long, value_enum)]
    pub metric: Option<PolicyMetric>,

    #[command(flatten)]
    pub cooldowns: CooldownArgs,

    /// The policy's name (default: peakrps-ENDPOINT-VARIANT-METRIC).
    #[arg(long, value_name = "NAME")]
    pub policy_name: Option<String>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = PolicyFormat::CliInput)]
    pub format: PolicyFormat,

    /// Send the documents to Application Auto Scaling (RegisterScalableTarget, then
    /// PutScalingPolicy) and print what AWS then holds.
    #[arg(long, conflicts_with = "format")]
    pub apply: bool,

    #[command(flatten)]
    pub aws: AwsArgs,
}
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("capacity").required(true).args(["from", "max_rps"])))]
pub struct SimulateArgs {
    /// A results file of `peakrps find --json`: MAX_RPS, the measured latency curve and the
    /// safety factor.
    #[arg(long, value_name = "RESULTS")]
    pub from: Option<PathBuf>,

    /// MAX_RPS of one instance, instead of a results file (then no latency is predicted).
    #[arg(long, value_parser = parse_positive_rate, value_name = "RPS")]
    pub max_rps: Option<f64>,

    /// Requests in flight on one instance at MAX_RPS, with --max-rps instead of a results
    /// file: simulates the concurrency metric, the latency taken as N ÷ MAX_RPS at any load.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..), value_name = "N", conflicts_with = "from")]
    pub max_concurrency: Option<u32>,

    /// The metric the policy tracks [default: concurrency for a `find --stream` result or
    /// with --max-concurrency, else invocations]. Concurrency runs the controller on the
    /// 10-second datapoints of SageMakerVariantConcurrentRequestsPerModelHighResolution.
    #[arg(long, value_enum)]
    pub metric: Option<PolicyMetric>,

    /// The traffic: a CSV with header `minute,rps` (one row per minute), or a TOML list of
    /// `[[stage]]` with `duration` and `rps` (or `from_rps` and `to_rps` for a ramp).
    #[arg(long, value_name = "FILE")]
    pub traffic: PathBuf,

    /// SAFETY_FACTOR in MAX_RPS × SAFETY_FACTOR × 60, in (0, 1]. Default: the one in RESULTS,
    /// else 0.5.
    #[arg(long, value_parser = parse_safety_factor, value_name = "FACTOR")]
    pub safety_factor: Option<f64>,

    /// The policy's target value (invocations per instance per minute, or requests in
    /// flight per instance for the concurrency metric), instead of the one the safety factor
    /// gives.
    #[arg(long, value_parser = parse_positive, value_name = "N", conflicts_with = "safety_factor")]
    pub target_value: Option<f64>,

    /// The scalable target's MinCapacity.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..), value_name = "N")]
    pub min_capacity: u32,

    /// The scalable target's MaxCapacity.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..), value_name = "N")]
    pub max_capacity: u32,

    #[command(flatten)]
    pub cooldowns: CooldownArgs,

    #[command(flatten)]
    pub timing: TimingArgs,

    /// Price of one instance in dollars per hour, to put a cost on instance-hours.
    #[arg(long, value_parser = parse_price, value_name = "DOLLARS", allow_negative_numbers = true)]
    pub instance_price: Option<f64>,

    /// Search the safety factor for the cheapest setting with no overloaded minute, show the
    /// trade-off, and simulate the pick.
    #[arg(long, conflicts_with_all = ["safety_factor", "target_value"])]
    pub recommend: bool,

    /// Write the simulation document (peakrps.simulate/v1) to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,

    #[command(flatten)]
    pub reports: ReportFileArgs,
}

/// How late the simulated autoscaler sees and acts: shared by `simulate` and by `run
/// --profile` on a `sagemaker://` target (for its predicted instance counts).
#[derive(Debug, Args, Clone)]
pub struct TimingArgs {
    /// How late CloudWatch datapoints reach the alarms (rounded up to whole minutes; to
    /// 10-second periods for the concurrency metric) [default: 1m; 10s for concurrency].
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    pub metric_delay: Option<Duration>,

    /// How long a new instance takes before it serves traffic (rounded up to whole minutes)
    /// [default: 5m].
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    pub provisioning: Option<Duration>,
}

impl TimingArgs {
    pub fn timing(&self) -> crate::results::Timing {
        crate::results::Timing::from_durations(
            self.metric_delay.unwrap_or(Duration::from_secs(60)),
            self.provisioning.unwrap_or(Duration::from_secs(300)),
        )
    }

    /// The first of these flags given, to refuse it where it does not apply.
    pub fn given(&self) -> Option<&'static str> {
        [
            ("--metric-delay", self.metric_delay.is_some()),
            ("--provisioning", self.provisioning.is_some()),
        ]
        .into_iter()
        .find_map(|(flag, set)| set.then_some(flag))
    }
}

/// The cooldowns and scale-in switch of a target-tracking policy (PutScalingPolicy's
/// parameters), shared by `policy` and `simulate`.
#[derive(Debug, Args, Clone)]
pub struct CooldownArgs {
    /// ScaleInCooldown: after a scale-in, the time before another scale-in.
    #[arg(long, default_value = "300s", value_parser = parse_duration, value_name = "DURATION")]
    pub scale_in_cooldown: Duration,

    /// ScaleOutCooldown: after a scale-out completes, only a larger scale-out for this long.
    #[arg(long, default_value = "300s", value_parser = parse_duration, value_name = "DURATION")]
    pub scale_out_cooldown: Duration,

    /// DisableScaleIn: the policy never removes instances (it only adds them).
    #[arg(long)]
    pub disable_scale_in: bool,
}

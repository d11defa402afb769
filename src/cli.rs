//! The command line (DESIGN.md "Command line"): every subcommand, flag, default and help text.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::Error;
use crate::endpoint::TlsOptions;
use crate::results::Arrival;
use crate::server::WhenFull;
use crate::units::{
    parse_duration, parse_fraction, parse_nonzero_duration, parse_percentile, parse_rate,
    parse_safety_factor, parse_speed,
};

mod compare;
mod merge;
mod plan;
mod scaling;
mod search;
mod shard;
mod stream;

pub use compare::CompareArgs;
pub use merge::MergeArgs;
pub use plan::PlanArgs;
pub use scaling::{CooldownArgs, PolicyArgs, PolicyFormat, PolicyMetric, SimulateArgs, TimingArgs};
pub use search::{SearchArgs, SearchStrategy};
pub use shard::{ShardArgs, ShardSpec, StartAt};
pub use stream::{
    ApiArg, DEFAULT_MAX_ITL, DEFAULT_MAX_TTFT, LlmServeArgs, StreamArgs, StreamSloArgs,
};

/// What `peakrps --version` prints after the name: the version and the commit it was built
/// from, e.g. "0.1.0 (ed007e7a1b2c 2026-12-01)" (see build.rs).
pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (", env!("PEAKRPS_BUILD"), ")");

/// Find the peak sustainable request rate of one instance of an inference endpoint, and the
/// autoscaling target that follows from it (SageMakerVariantInvocationsPerInstance).
#[derive(Debug, Parser)]
#[command(name = "peakrps", version = VERSION, about, long_about = None)]
#[command(
    after_help = "Exit codes: 0 success; 1 the run failed or a gate failed; 2 bad usage or input; 130 interrupted.\n\
Start with `peakrps find`: with no TARGET it runs the whole procedure against an embedded model server."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// The command line as the binary parses it: the derived definition, with values that
    /// start with '-' handed to their flag's parser, which says what is wrong with them
    /// (`--rate -10`: "-10 is not a usable rate"), rather than read as the short flags `-1`.
    pub fn command_line() -> clap::Command {
        hyphen_values(<Cli as clap::CommandFactory>::command())
    }
}

/// In every (sub)command: a negative number is the value of the flag before it, and so is
/// anything after a flag that takes a duration (`-5s` is a negative duration, not `-5 -s`).
fn hyphen_values(command: clap::Command) -> clap::Command {
    command
        .mut_args(|arg| {
            if arg.is_positional() || !arg.get_action().takes_values() {
                return arg;
            }
            let duration = arg
                .get_value_names()
                .is_some_and(|names| names.iter().any(|n| n == "DURATION"));
            arg.allow_negative_numbers(true)
                .allow_hyphen_values(duration)
        })
        .mut_subcommands(hyphen_values)
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Step the load up on one instance, find the peak, print the scaling target.
    Find(FindArgs),
    /// Apply one fixed load (--concurrency N or --rate R) for a duration or a number of
    /// requests, or play a traffic profile (--profile).
    Run(RunArgs),
    /// The Application Auto Scaling documents for a find result (--apply sends them to AWS).
    Policy(PolicyArgs),
    /// Replay a traffic profile through the target-tracking policy (same rules as AWS) and
    /// predict overloaded minutes, failures, instance-hours and cost.
    Simulate(SimulateArgs),
    /// Render a results file again: the terminal table, or --html / --csv reports.
    Report(ReportArgs),
    /// Compare find results of several instance types or configurations: MAX_RPS, cost per
    /// million requests, instances for a traffic peak, and the cheapest.
    Compare(CompareArgs),
    /// Add up the documents of a run's shards (--shard K/N) exactly into one ordinary
    /// find or run document.
    Merge(MergeArgs),
    /// Run the embedded model server (SageMaker container contract: GET /ping, POST /invocations).
    Serve(ServeArgs),
    /// Print the shell completion script for bash, zsh, fish, powershell or elvish.
    Completions(CompletionsArgs),
    /// Print the man page (roff) of peakrps or of one subcommand, or write them all to --dir.
    Man(ManArgs),
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// The subcommand whose page to print (e.g. `find`); default: the page of peakrps itself.
    #[arg(value_name = "COMMAND", conflicts_with = "dir")]
    pub command: Option<String>,

    /// Write every page (peakrps.1, peakrps-find.1, …) into this folder instead.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// The --help heading of the flags that shape each request and how long it is waited for.
const REQUESTS: &str = "Requests";
/// The --help heading of the flags that say where results go and how much is shown.
const OUTPUT: &str = "Output";

/// What to send requests to and what they carry (shared by `find` and `run`).
#[derive(Debug, Args)]
pub struct TargetArgs {
    /// http(s)://HOST:PORT/PATH to POST to, or sagemaker://ENDPOINT (InvokeEndpoint, signed
    /// with the standard AWS credentials). Absent: an embedded model server is started on
    /// 127.0.0.1 and used.
    pub target: Option<String>,

    /// Request body: a file, a directory (each file a body, in turn) or a .jsonl file (each
    /// line a body). Default: the embedded model's sample request.
    #[arg(help_heading = REQUESTS, long, value_name = "FILE|DIR|JSONL")]
    pub payload: Option<PathBuf>,

    /// Content-Type of the requests (default: from the payload's extension, or from its bytes
    /// when the extension names no format: JSON or CSV).
    #[arg(help_heading = REQUESTS, long, value_name = "TYPE")]
    pub content_type: Option<String>,

    /// Accept header of the requests.
    #[arg(help_heading = REQUESTS, long, value_name = "TYPE")]
    pub accept: Option<String>,

    /// Extra request header, repeatable: -H 'Name: value'.
    #[arg(help_heading = REQUESTS, short = 'H', long = "header", value_name = "'NAME: VALUE'")]
    pub headers: Vec<String>,

    /// Per-request timeout (SageMaker gives a model 60 s).
    #[arg(help_heading = REQUESTS, long, default_value = "60s", value_parser = parse_nonzero_duration, value_name = "DURATION")]
    pub timeout: Duration,

    /// How long requests still in flight at the end of a step or run are waited for (default
    /// and at most: --timeout); one cut then counts as `cut`, not as the server's timeout.
    #[arg(help_heading = REQUESTS, long, value_parser = parse_duration, value_name = "DURATION")]
    pub drain: Option<Duration>,

    /// Write the results document (JSON) to FILE; each finished step (find), window or
    /// minute (run) is appended to FILE.partial.jsonl as it ends.
    #[arg(help_heading = OUTPUT, long, value_name = "FILE")]
    pub json: Option<PathBuf>,

    #[command(flatten, next_help_heading = OUTPUT)]
    pub reports: ReportFileArgs,

    /// No progress on stderr; only the final table and verdict on stdout.
    #[arg(help_heading = OUTPUT, short, long)]
    pub quiet: bool,

    #[command(flatten)]
    pub tls: TlsArgs,

    #[command(flatten)]
    pub sagemaker: SageMakerArgs,

    #[command(flatten)]
    pub stream: StreamArgs,

    #[command(flatten)]
    pub shard: ShardArgs,
}

/// How an https:// target's certificate is checked (by default: against the public roots).
#[derive(Debug, Args, Default)]
#[command(next_help_heading = "TLS (https:// targets)")]
pub struct TlsArgs {
    /// Also trust the CA certificates in this PEM file (a private CA, or the server's own
    /// self-signed certificate).
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,

    /// Accept any certificate: the connection is encrypted but the server's identity is not
    /// checked.
    #[arg(long, conflicts_with = "ca_cert")]
    pub insecure: bool,
}

impl TlsArgs {
    /// The flag given, if any (for messages).
    pub fn given(&self) -> Option<&'static str> {
        if self.ca_cert.is_some() {
            Some("--ca-cert")
        } else if self.insecure {
            Some("--insecure")
        } else {
            None
        }
    }

    /// The options these flags ask for (reads the --ca-cert file).
    pub fn options(&self) -> Result<TlsOptions, Error> {
        TlsOptions::load(self.ca_cert.as_deref(), self.insecure)
    }
}

/// Flags of `sagemaker://` targets (InvokeEndpoint).
#[derive(Debug, Args, Default)]
#[command(next_help_heading = "SageMaker (sagemaker:// targets)")]
pub struct SageMakerArgs {
    #[command(flatten)]
    pub aws: AwsArgs,

    /// Send requests here instead of AWS's regional runtime endpoint (also read from
    /// AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME, then AWS_ENDPOINT_URL); http:// works too.
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,

    /// The model to invoke on a multi-model endpoint (X-Amzn-SageMaker-Target-Model).
    #[arg(long, value_name = "MODEL")]
    pub target_model: Option<String>,

    /// Send every request to this production variant (X-Amzn-SageMaker-Target-Variant);
    /// to load one instance, name a variant of one instance.
    #[arg(long, value_name = "VARIANT")]
    pub target_variant: Option<String>,

    /// The container to invoke on a multi-container endpoint with direct invocation.
    #[arg(long, value_name = "HOSTNAME")]
    pub target_container_hostname: Option<String>,

    /// The inference component to invoke (X-Amzn-SageMaker-Inference-Component).
    #[arg(long, value_name = "NAME")]
    pub inference_component: Option<String>,

    /// Passed to the model unchanged (X-Amzn-SageMaker-Custom-Attributes, at most 1024 characters).
    #[arg(long, value_name = "TEXT")]
    pub custom_attributes: Option<String>,

    /// An identifier for the requests, kept by SageMaker for data capture (X-Amzn-SageMaker-Inference-Id).
    #[arg(long, value_name = "ID")]
    pub inference_id: Option<String>,

    /// After the run, read the endpoint's ModelLatency and OverheadLatency from CloudWatch
    /// (AWS/SageMaker, per minute) for the test's time span and show them beside the client's figures.
    #[arg(long)]
    pub cloudwatch: bool,

    /// How long --cloudwatch waits for the last minute's datapoints to arrive (they come 1-3 minutes late).
    #[arg(long, default_value = "3m", value_parser = parse_duration, value_name = "DURATION")]
    pub cloudwatch_wait: Duration,
}

/// Where AWS settings come from: these flags, then the standard chain (environment,
/// ~/.aws/config and credentials, SSO, web identity, ECS, IMDS).
#[derive(Debug, Args, Default, Clone)]
pub struct AwsArgs {
    /// AWS region (default: AWS_REGION, AWS_DEFAULT_REGION or the profile's region).
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,

    /// Named profile from ~/.aws/config (default: AWS_PROFILE or "default"). Named
    /// --aws-profile because `run --profile` is a traffic profile.
    #[arg(long = "aws-profile", id = "aws_profile", value_name = "NAME")]
    pub profile: Option<String>,
}

impl TargetArgs {
    /// --drain (by default --timeout: every request sent is waited for), but never longer
    /// than --timeout.
    pub fn drain_limit(&self) -> Duration {
        self.drain.unwrap_or(self.timeout).min(self.timeout)
    }
    /// The --html and --csv files.
    pub fn report_files(&self) -> crate::report::ReportFiles<'_> {
        self.reports.files()
    }
}

/// `peakrps report RESULTS`: with no flags the table and verdict are printed again.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A results file written by `find --json`, `run --json` or `simulate --json`.
    #[arg(value_name = "RESULTS")]
    pub results: PathBuf,

    #[command(flatten)]
    pub reports: ReportFileArgs,
}

#[derive(Debug, Args)]
pub struct FindArgs {
    /// What to step up: `concurrency` (closed loop: N users back to back) or `rate` (open
    /// loop: requests due at a rate whatever the server does; latency from the due time).
    #[arg(long, value_enum, default_value_t = Mode::Concurrency)]
    pub mode: Mode,

    /// The highest concurrency any step may use.
    #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..), value_name = "N")]
    pub max_concurrency: u32,

    /// The concurrency of the first step; later steps double it.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..), value_name = "N")]
    pub start_concurrency: u32,

    /// Rate mode: the offered rate (req/s) of the first step; later steps double it.
    #[arg(long, default_value_t = 10.0, value_parser = parse_rate, value_name = "REQ/S")]
    pub start_rate: f64,

    /// Rate mode: the highest offered rate (req/s) any step may use.
    #[arg(long, default_value_t = 100_000.0, value_parser = parse_rate, value_name = "REQ/S")]
    pub max_rps: f64,

    /// Rate mode: arrivals evenly spaced (`constant`) or a Poisson process (`poisson`).
    #[arg(long, value_enum, default_value_t = Arrival::Constant)]
    pub arrival: Arrival,

    /// Rate mode: the most requests outstanding at once; one that cannot go out on time
    /// because of it is dropped and counted (a step with drops fails).
    #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..), value_name = "N")]
    pub max_inflight: u32,

    /// Bisection stops when failing and passing levels are within this fraction of each other
    /// (and always at a difference of one).
    #[arg(long, default_value_t = 0.1, value_parser = parse_fraction, value_name = "FRACTION")]
    pub precision: f64,

    /// Length of one measurement window.
    #[arg(long, default_value = "2s", value_parser = parse_nonzero_duration, value_name = "DURATION")]
    pub window: Duration,

    /// Load sent at each step before measuring starts.
    #[arg(long, default_value = "1s", value_parser = parse_duration, value_name = "DURATION")]
    pub warmup: Duration,

    /// A step is stable when its last 3 windows agree within this fraction.
    #[arg(long, default_value_t = 0.10, value_parser = parse_fraction, value_name = "FRACTION")]
    pub stability: f64,

    /// The longest a step measures before it is marked unstable and judged as it is.
    #[arg(long, default_value = "30s", value_parser = parse_nonzero_duration, value_name = "DURATION")]
    pub step_duration: Duration,

    /// A step passes only if at least this share of its requests succeed.
    #[arg(long, default_value_t = 0.99, value_parser = parse_fraction, value_name = "RATIO")]
    pub min_success: f64,

    /// The latency percentile steps are judged at (e.g. 50, 90, 99, 99.9).
    #[arg(long, default_value_t = 99.0, value_parser = parse_percentile, value_name = "P")]
    pub percentile: f64,

    /// A step fails if its latency at --percentile exceeds this (an SLO), e.g. 200ms.
    #[arg(long, value_parser = parse_nonzero_duration, value_name = "DURATION")]
    pub max_latency: Option<Duration>,

    /// The knee: once latency rises beyond --stability, a doubling of load must add this much
    /// throughput (smaller steps proportionally less), and at least 1% per 10% of added latency.
    #[arg(long, default_value_t = 0.05, value_parser = parse_fraction, value_name = "FRACTION")]
    pub min_gain: f64,

    /// SAFETY_FACTOR in MAX_RPS × SAFETY_FACTOR × 60; in (0, 1], AWS suggests 0.5 to start.
    #[arg(long, default_value_t = 0.5, value_parser = parse_safety_factor, value_name = "FACTOR")]
    pub safety_factor: f64,

    #[command(flatten)]
    pub search: SearchArgs,

    // After the load and search flags, so those come first in --help under "Options".
    #[command(flatten)]
    pub target: TargetArgs,

    #[command(flatten)]
    pub slo: StreamSloArgs,

    #[command(flatten)]
    pub plan: PlanArgs,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Concurrent virtual users, each on its own keep-alive connection (closed loop; the
    /// default, with 1 user).
    #[arg(short, long, value_parser = clap::value_parser!(u32).range(1..), value_name = "N", conflicts_with_all = ["rate", "profile"])]
    pub concurrency: Option<u32>,

    /// Drive the target with a traffic profile (CSV `minute,rps` or TOML stages, as
    /// `simulate --traffic` reads), open loop, and report minute by minute.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["rate", "duration", "requests"])]
    pub profile: Option<PathBuf>,

    /// With --profile: compress time K-fold (a 60-minute profile in 6 minutes at 10); each
    /// minute keeps its request rate.
    #[arg(long, default_value_t = 1.0, value_parser = parse_speed, value_name = "K", requires = "profile")]
    pub speed: f64,

    /// Open loop: requests due at this rate (req/s) whatever the server does; latency is
    /// measured from each request's due time (no coordinated omission).
    #[arg(short, long, value_parser = parse_rate, value_name = "REQ/S")]
    pub rate: Option<f64>,

    /// With --rate: arrivals evenly spaced (`constant`) or a Poisson process (`poisson`).
    #[arg(long, value_enum, default_value_t = Arrival::Constant)]
    pub arrival: Arrival,

    /// With --rate: the most requests outstanding at once; one that cannot go out on time
    /// because of it is counted as dropped.
    #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..), value_name = "N")]
    pub max_inflight: u32,

    /// How long to apply the load (default 10s unless --requests is given).
    #[arg(short, long, value_parser = parse_nonzero_duration, value_name = "DURATION")]
    pub duration: Option<Duration>,

    /// Stop after this many requests.
    #[arg(short = 'n', long, value_parser = clap::value_parser!(u64).range(1..), value_name = "N")]
    pub requests: Option<u64>,

    /// Load sent before measuring starts (not counted).
    #[arg(long, default_value = "0s", value_parser = parse_duration, value_name = "DURATION")]
    pub warmup: Duration,

    // After the load flags, so those come first in --help under "Options".
    #[command(flatten)]
    pub target: TargetArgs,

    /// With --profile on a sagemaker:// target: the simulated autoscaler's timing, for the
    /// instance counts it predicts beside the endpoint's own.
    #[command(
        flatten,
        next_help_heading = "Predicted instances (--profile on a sagemaker:// target)"
    )]
    pub timing: TimingArgs,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,

    /// Port to listen on (SageMaker containers use 8080; 0 picks a free one).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,

    /// Inference workers (requests served at once, a thread each; at most 4096). Default: the
    /// number of CPUs.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=4096), value_name = "N")]
    pub workers: Option<u32>,

    /// Requests that may wait for a free worker; past that the server answers 503.
    #[arg(long, default_value_t = 64, value_name = "N")]
    pub max_queue: usize,

    /// Forward passes per input row (test-time augmentation): scales the CPU work per request.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..), value_name = "N")]
    pub work_per_request: u32,

    /// The least time a worker spends on a request, like an accelerator's fixed latency
    /// (e.g. 20ms); with it, capacity is workers / service time.
    #[arg(long, default_value = "0s", value_parser = parse_duration, value_name = "DURATION")]
    pub service_time: Duration,

    /// How to refuse a request when the queue is full: 503, or `throttle` (HTTP 400 with
    /// x-amzn-ErrorType ThrottlingException, as SageMaker does).
    #[arg(long, default_value = "503", value_name = "503|throttle")]
    pub when_full: WhenFull,

    #[command(flatten)]
    pub llm: LlmServeArgs,
}

/// What `find` steps up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    Concurrency,
    Rate,
}

/// `--html FILE` and `--csv FILE`, shared by find, run, simulate and report.
#[derive(Debug, Args, Default, Clone)]
pub struct ReportFileArgs {
    /// Write a self-contained HTML report (charts inline, loads nothing) to FILE.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,

    /// Write the figures as CSV (a row per step, or per minute of a simulation; units in the
    /// header) to FILE.
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
}

impl ReportFileArgs {
    /// The --html and --csv files.
    pub fn files(&self) -> crate::report::ReportFiles<'_> {
        crate::report::ReportFiles {
            html: self.html.as_deref(),
            csv: self.csv.as_deref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}

//! `peakrps policy`: the Application Auto Scaling documents for a find result, printed for
//! `--cli-input-json` or CloudFormation, or sent to AWS with `--apply`.

use super::Completion;
use crate::Error;
use crate::aws::autoscaling::{Metric, apply};
use crate::aws::{Aws, AwsOptions};
use crate::cli::{PolicyArgs, PolicyFormat, PolicyMetric};
use crate::scaling::policy::{PolicyChoices, policy_spec, read_find_results};

pub fn policy(args: &PolicyArgs) -> Result<Completion, Error> {
    let source = args.from.display().to_string();
    let text = crate::results::read_text(&args.from)
        .map_err(|e| Error::Input(format!("--from {source}: cannot read it ({e})")))?;
    let results = read_find_results(&text, &source)?;
    // LLM endpoints scale on concurrency (REFERENCE.md §7): a streaming result says so.
    let streaming = results.peak.as_ref().is_some_and(|p| p.is_stream());
    let metric = args.metric.unwrap_or(if streaming {
        PolicyMetric::Concurrency
    } else {
        PolicyMetric::Invocations
    });
    let choices = PolicyChoices {
        endpoint: args.endpoint.clone(),
        variant: args.variant.clone(),
        policy_name: args.policy_name.clone(),
        min_capacity: args.min_capacity,
        max_capacity: args.max_capacity,
        metric: match metric {
            PolicyMetric::Invocations => Metric::Invocations,
            PolicyMetric::Concurrency => Metric::Concurrency,
        },
        safety_factor: args.safety_factor,
        scale_in_cooldown_s: args.cooldowns.scale_in_cooldown.as_secs(),
        scale_out_cooldown_s: args.cooldowns.scale_out_cooldown.as_secs(),
        disable_scale_in: args.cooldowns.disable_scale_in,
    };
    let spec = policy_spec(&results, &choices)?;
    // The explanation goes to stderr so stdout stays one JSON document for jq and the AWS CLI.
    eprintln!("# {}", spec.explanation);
    if streaming && args.metric.is_none() {
        eprintln!(
            "# (a streaming result: the concurrency metric by default; --metric invocations tracks InvocationsPerInstance)"
        );
    }
    if args.apply {
        let aws = Aws::load(&AwsOptions {
            region: args.aws.region.clone(),
            profile: args.aws.profile.clone(),
        })?;
        let applied = apply(&aws, &spec)?;
        eprintln!(
            "# Applied to {} in {}: Application Auto Scaling now holds:",
            spec.resource_id(),
            aws.region()
        );
        println!("{}", to_json(&applied)?);
        return Ok(Completion::Done);
    }
    let document = match args.format {
        PolicyFormat::CliInput => spec.cli_input(),
        PolicyFormat::Cloudformation => spec.cloudformation(),
    };
    println!("{}", to_json(&document)?);
    Ok(Completion::Done)
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, Error> {
    serde_json::to_string_pretty(value).map_err(|e| Error::Run(format!("cannot write JSON: {e}")))
}

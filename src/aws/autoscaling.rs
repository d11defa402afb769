//! Application Auto Scaling for a SageMaker variant (REFERENCE.md §4): the request documents
//! of a target-tracking policy (`--cli-input-json` and CloudFormation), sending them
//! (`policy --apply`) and reading back what a variant holds (`run --profile`).

use aws_sdk_applicationautoscaling::Client;
use aws_sdk_applicationautoscaling::operation::describe_scalable_targets::DescribeScalableTargetsOutput;
use aws_sdk_applicationautoscaling::operation::describe_scaling_policies::DescribeScalingPoliciesOutput;
use aws_sdk_applicationautoscaling::types::{
    MetricType, PredefinedMetricSpecification, ScalableDimension, ServiceNamespace,
    TargetTrackingScalingPolicyConfiguration,
};
use serde::Serialize;
use serde_json::{Value, json};

use super::{Aws, sdk_error};
use crate::Error;

pub const SERVICE_NAMESPACE: &str = "sagemaker";
pub const SCALABLE_DIMENSION: &str = "sagemaker:variant:DesiredInstanceCount";
pub use crate::results::CONCURRENCY_METRIC;
pub use crate::results::INVOCATIONS_METRIC;

/// Which predefined metric the policy tracks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    /// Invocations per instance per minute: MAX_RPS × SAFETY_FACTOR × 60.
    Invocations,
    /// In-flight requests per model copy: concurrency at the peak × SAFETY_FACTOR.
    Concurrency,
}

impl Metric {
    pub fn predefined_type(self) -> &'static str {
        match self {
            Metric::Invocations => INVOCATIONS_METRIC,
            Metric::Concurrency => CONCURRENCY_METRIC,
        }
    }

    pub fn short(self) -> &'static str {
        match self {
            Metric::Invocations => "invocations",
            Metric::Concurrency => "concurrency",
        }
    }
}

/// Everything a policy is made of.
#[derive(Clone, Debug, PartialEq)]
pub struct PolicySpec {
    pub endpoint: String,
    pub variant: String,
    pub policy_name: String,
    pub min_capacity: u32,
    pub max_capacity: u32,
    pub metric: Metric,
    pub target_value: f64,
    pub scale_in_cooldown_s: u64,
    pub scale_out_cooldown_s: u64,
    pub disable_scale_in: bool,
    /// One line saying where the target value comes from.
    pub explanation: String,
}

/// `endpoint/NAME/variant/VARIANT`.
pub fn resource_id(endpoint: &str, variant: &str) -> String {
    format!("endpoint/{endpoint}/variant/{variant}")
}

impl PolicySpec {
    /// `endpoint/NAME/variant/VARIANT`.
    pub fn resource_id(&self) -> String {
        resource_id(&self.endpoint, &self.variant)
    }

    fn target_tracking(&self) -> Value {
        json!({
            "TargetValue": self.target_value,
            "PredefinedMetricSpecification": {"PredefinedMetricType": self.metric.predefined_type()},
            "ScaleInCooldown": self.scale_in_cooldown_s,
            "ScaleOutCooldown": self.scale_out_cooldown_s,
            "DisableScaleIn": self.disable_scale_in,
        })
    }

    /// The RegisterScalableTarget request (`register-scalable-target --cli-input-json`).
    pub fn register_scalable_target(&self) -> Value {
        json!({
            "ServiceNamespace": SERVICE_NAMESPACE,
            "ResourceId": self.resource_id(),
            "ScalableDimension": SCALABLE_DIMENSION,
            "MinCapacity": self.min_capacity,
            "MaxCapacity": self.max_capacity,
        })
    }

    /// The PutScalingPolicy request (`put-scaling-policy --cli-input-json`).
    pub fn put_scaling_policy(&self) -> Value {
        json!({
            "PolicyName": self.policy_name,
            "ServiceNamespace": SERVICE_NAMESPACE,
            "ResourceId": self.resource_id(),
            "ScalableDimension": SCALABLE_DIMENSION,
            "PolicyType": "TargetTrackingScaling",
            "TargetTrackingScalingPolicyConfiguration": self.target_tracking(),
        })
    }

    /// Both requests, keyed by operation name.
    pub fn cli_input(&self) -> Value {
        json!({
            "RegisterScalableTarget": self.register_scalable_target(),
            "PutScalingPolicy": self.put_scaling_policy(),
        })
    }

    /// A CloudFormation template: the scalable target and the policy that refers to it.
    pub fn cloudformation(&self) -> Value {
        json!({
            "AWSTemplateFormatVersion": "2010-09-09",
            "Description": format!("Autoscaling of SageMaker variant {} (peakrps). {}", self.resource_id(), self.explanation),
            "Resources": {
                "ScalableTarget": {
                    "Type": "AWS::ApplicationAutoScaling::ScalableTarget",
                    "Properties": {
                        "ServiceNamespace": SERVICE_NAMESPACE,
                        "ResourceId": self.resource_id(),
                        "ScalableDimension": SCALABLE_DIMENSION,
                        "MinCapacity": self.min_capacity,
                        "MaxCapacity": self.max_capacity,
                    }
                },
                "ScalingPolicy": {
                    "Type": "AWS::ApplicationAutoScaling::ScalingPolicy",
                    "Properties": {
                        "PolicyName": self.policy_name,
                        "PolicyType": "TargetTrackingScaling",
                        "ScalingTargetId": {"Ref": "ScalableTarget"},
                        "TargetTrackingScalingPolicyConfiguration": self.target_tracking(),
                    }
                }
            }
        })
    }
}

/// What Application Auto Scaling holds after `--apply` (read back with the Describe calls).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AppliedPolicy {
    pub scalable_targets: Vec<Value>,
    pub scaling_policies: Vec<Value>,
}

fn capacity(flag: &str, n: u32) -> Result<i32, Error> {
    i32::try_from(n).map_err(|_| Error::Input(format!("{flag} {n} is too large")))
}

fn seconds(flag: &str, n: u64) -> Result<i32, Error> {
    i32::try_from(n).map_err(|_| Error::Input(format!("{flag} {n}s is too long")))
}

/// Registers the target, puts the policy and returns what the Describe calls report.
pub fn apply(aws: &Aws, spec: &PolicySpec) -> Result<AppliedPolicy, Error> {
    let client = Client::new(&aws.config);
    let namespace = ServiceNamespace::from(SERVICE_NAMESPACE);
    let dimension = ScalableDimension::from(SCALABLE_DIMENSION);
    let resource_id = spec.resource_id();
    let metric = PredefinedMetricSpecification::builder()
        .predefined_metric_type(MetricType::from(spec.metric.predefined_type()))
        .build()
        .map_err(|e| Error::setup("cannot build the metric specification", e))?;
    let tracking = TargetTrackingScalingPolicyConfiguration::builder()
        .target_value(spec.target_value)
        .predefined_metric_specification(metric)
        .scale_in_cooldown(seconds("--scale-in-cooldown", spec.scale_in_cooldown_s)?)
        .scale_out_cooldown(seconds("--scale-out-cooldown", spec.scale_out_cooldown_s)?)
        .disable_scale_in(spec.disable_scale_in)
        .build()
        .map_err(|e| Error::setup("cannot build the policy configuration", e))?;
    let min = capacity("--min-capacity", spec.min_capacity)?;
    let max = capacity("--max-capacity", spec.max_capacity)?;

    aws.block_on(async {
        client
            .register_scalable_target()
            .service_namespace(namespace.clone())
            .resource_id(&resource_id)
            .scalable_dimension(dimension.clone())
            .min_capacity(min)
            .max_capacity(max)
            .send()
            .await
            .map_err(|e| sdk_error("RegisterScalableTarget", e))?;
        client
            .put_scaling_policy()
            .policy_name(&spec.policy_name)
            .service_namespace(namespace.clone())
            .resource_id(&resource_id)
            .scalable_dimension(dimension.clone())
            .policy_type(aws_sdk_applicationautoscaling::types::PolicyType::TargetTrackingScaling)
            .target_tracking_scaling_policy_configuration(tracking)
            .send()
            .await
            .map_err(|e| sdk_error("PutScalingPolicy", e))?;
        let (targets, policies) = describe(&client, &resource_id, Some(&spec.policy_name)).await?;
        Ok(AppliedPolicy {
            scalable_targets: targets
                .scalable_targets()
                .iter()
                .map(|t| {
                    json!({
                        "ServiceNamespace": t.service_namespace().as_str(),
                        "ResourceId": t.resource_id(),
                        "ScalableDimension": t.scalable_dimension().as_str(),
                        "MinCapacity": t.min_capacity(),
                        "MaxCapacity": t.max_capacity(),
                        "RoleARN": t.role_arn(),
                    })
                })
                .collect(),
            scaling_policies: policies
                .scaling_policies()
                .iter()
                .map(policy_json)
                .collect(),
        })
    })
}

fn policy_json(p: &aws_sdk_applicationautoscaling::types::ScalingPolicy) -> Value {
    let tracking = p.target_tracking_scaling_policy_configuration().map(|t| {
        json!({
            "TargetValue": t.target_value(),
            "PredefinedMetricSpecification": t.predefined_metric_specification().map(|m| {
                json!({"PredefinedMetricType": m.predefined_metric_type().as_str()})
            }),
            "ScaleInCooldown": t.scale_in_cooldown(),
            "ScaleOutCooldown": t.scale_out_cooldown(),
            "DisableScaleIn": t.disable_scale_in(),
        })
    });
    json!({
        "PolicyARN": p.policy_arn(),
        "PolicyName": p.policy_name(),
        "ServiceNamespace": p.service_namespace().as_str(),
        "ResourceId": p.resource_id(),
        "ScalableDimension": p.scalable_dimension().as_str(),
        "PolicyType": p.policy_type().as_str(),
        "TargetTrackingScalingPolicyConfiguration": tracking,
        "Alarms": p.alarms().iter().map(|a| a.alarm_name()).collect::<Vec<_>>(),
    })
}

/// What the variant's registration says (DescribeScalableTargets).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct ScalableTarget {
    pub min_capacity: u32,
    pub max_capacity: u32,
    pub scale_out_suspended: bool,
    pub scale_in_suspended: bool,
}

/// One scaling policy on the variant (DescribeScalingPolicies).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct ScalingPolicy {
    pub name: String,
    /// `TargetTrackingScaling`, `StepScaling`, `PredictiveScaling`.
    pub policy_type: String,
    /// The predefined metric of a target-tracking policy (None for a customized metric).
    pub metric: Option<String>,
    pub target_value: Option<f64>,
    pub scale_in_cooldown_s: Option<u64>,
    pub scale_out_cooldown_s: Option<u64>,
    pub disable_scale_in: bool,
}

/// What Application Auto Scaling holds for a variant: DescribeScalableTargets, then
/// DescribeScalingPolicies (all of them, or only `policy_name`).
async fn describe(
    client: &Client,
    resource_id: &str,
    policy_name: Option<&str>,
) -> Result<(DescribeScalableTargetsOutput, DescribeScalingPoliciesOutput), Error> {
    let namespace = ServiceNamespace::from(SERVICE_NAMESPACE);
    let dimension = ScalableDimension::from(SCALABLE_DIMENSION);
    let targets = client
        .describe_scalable_targets()
        .service_namespace(namespace.clone())
        .resource_ids(resource_id)
        .scalable_dimension(dimension.clone())
        .send()
        .await
        .map_err(|e| sdk_error("DescribeScalableTargets", e))?;
    let policies = client
        .describe_scaling_policies()
        .service_namespace(namespace)
        .resource_id(resource_id)
        .scalable_dimension(dimension)
        .set_policy_names(policy_name.map(|p| vec![p.to_string()]))
        .send()
        .await
        .map_err(|e| sdk_error("DescribeScalingPolicies", e))?;
    Ok((targets, policies))
}

/// A variant's registration and scaling policies, as Application Auto Scaling holds them.
pub fn read_variant(
    aws: &Aws,
    endpoint: &str,
    variant: &str,
) -> Result<(Option<ScalableTarget>, Vec<ScalingPolicy>), Error> {
    let client = Client::new(&aws.config);
    let id = resource_id(endpoint, variant);
    let (targets, policies) = aws.block_on(describe(&client, &id, None))?;
    let target = targets.scalable_targets().first().map(|t| {
        let suspended = t.suspended_state();
        ScalableTarget {
            min_capacity: u32::try_from(t.min_capacity()).unwrap_or(0),
            max_capacity: u32::try_from(t.max_capacity()).unwrap_or(0),
            scale_out_suspended: suspended
                .and_then(|s| s.dynamic_scaling_out_suspended())
                .unwrap_or(false),
            scale_in_suspended: suspended
                .and_then(|s| s.dynamic_scaling_in_suspended())
                .unwrap_or(false),
        }
    });
    let seconds = |s: Option<i32>| s.and_then(|s| u64::try_from(s).ok());
    let policies: Vec<ScalingPolicy> = policies
        .scaling_policies()
        .iter()
        .map(|p| {
            let tracking = p.target_tracking_scaling_policy_configuration();
            ScalingPolicy {
                name: p.policy_name().to_string(),
                policy_type: p.policy_type().as_str().to_string(),
                metric: tracking
                    .and_then(|t| t.predefined_metric_specification())
                    .map(|m| m.predefined_metric_type().as_str().to_string()),
                target_value: tracking.map(|t| t.target_value()),
                scale_in_cooldown_s: seconds(tracking.and_then(|t| t.scale_in_cooldown())),
                scale_out_cooldown_s: seconds(tracking.and_then(|t| t.scale_out_cooldown())),
                disable_scale_in: tracking.and_then(|t| t.disable_scale_in()).unwrap_or(false),
            }
        })
        .collect();
    Ok((target, policies))
}

//! `policy --apply`: sends the scalable target and the policy to Application Auto Scaling,
//! then reads both back (DescribeScalableTargets, DescribeScalingPolicies) so the user sees
//! what AWS now holds, not what we meant to send.

use aws_sdk_applicationautoscaling::Client;
use aws_sdk_applicationautoscaling::types::{
    MetricType, PredefinedMetricSpecification, ScalableDimension, ServiceNamespace,
    TargetTrackingScalingPolicyConfiguration,
};
use serde_json::{Value, json};

use super::policy::{AppliedPolicy, PolicySpec, SCALABLE_DIMENSION, SERVICE_NAMESPACE};
use crate::Error;
use crate::aws::{Aws, sdk_error};

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
        .map_err(|e| Error::Run(format!("cannot build the metric specification: {e}")))?;
    let tracking = TargetTrackingScalingPolicyConfiguration::builder()
        .target_value(spec.target_value)
        .predefined_metric_specification(metric)
        .scale_in_cooldown(seconds("--scale-in-cooldown", spec.scale_in_cooldown_s)?)
        .scale_out_cooldown(seconds("--scale-out-cooldown", spec.scale_out_cooldown_s)?)
        .disable_scale_in(spec.disable_scale_in)
        .build()
        .map_err(|e| Error::Run(format!("cannot build the policy configuration: {e}")))?;
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
            .map_err(|e| sdk_error("RegisterScalableTarget", &e))?;
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
            .map_err(|e| sdk_error("PutScalingPolicy", &e))?;
        let (targets, policies) =
            super::live::describe(&client, &resource_id, Some(&spec.policy_name)).await?;
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

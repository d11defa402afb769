//! The scaling configuration live on a SageMaker variant, read from Application Auto Scaling
//! (DescribeScalableTargets, DescribeScalingPolicies) and turned into the controller's
//! `Policy`, so `run --profile` can predict what the real autoscaler should do.

use aws_sdk_applicationautoscaling::Client;
use aws_sdk_applicationautoscaling::operation::describe_scalable_targets::DescribeScalableTargetsOutput;
use aws_sdk_applicationautoscaling::operation::describe_scaling_policies::DescribeScalingPoliciesOutput;
use aws_sdk_applicationautoscaling::types::{ScalableDimension, ServiceNamespace};

use super::policy::{INVOCATIONS_METRIC, SCALABLE_DIMENSION, SERVICE_NAMESPACE};
use crate::Error;
use crate::aws::{Aws, sdk_error};
use crate::results::Policy;

/// Application Auto Scaling's default cooldowns for SageMaker variants (PutScalingPolicy
/// reference: 300 s when the policy gives none).
const DEFAULT_COOLDOWN_S: u64 = 300;

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

/// The policy the simulator can follow, and what the user should know about the rest.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct LivePolicy {
    /// A target-tracking policy on SageMakerVariantInvocationsPerInstance with its
    /// capacity range; None when the variant has no such policy.
    pub policy: Option<Policy>,
    pub notes: Vec<String>,
}

/// `endpoint/NAME/variant/VARIANT`.
pub fn resource_id(endpoint: &str, variant: &str) -> String {
    format!("endpoint/{endpoint}/variant/{variant}")
}

/// What Application Auto Scaling holds for a variant: DescribeScalableTargets, then
/// DescribeScalingPolicies (all of them, or only `policy_name`).
pub(super) async fn describe(
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
        .map_err(|e| sdk_error("DescribeScalableTargets", &e))?;
    let policies = client
        .describe_scaling_policies()
        .service_namespace(namespace)
        .resource_id(resource_id)
        .scalable_dimension(dimension)
        .set_policy_names(policy_name.map(|p| vec![p.to_string()]))
        .send()
        .await
        .map_err(|e| sdk_error("DescribeScalingPolicies", &e))?;
    Ok((targets, policies))
}

/// Reads the variant's registration and policies from Application Auto Scaling.
pub fn read(aws: &Aws, endpoint: &str, variant: &str) -> Result<LivePolicy, Error> {
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
    Ok(interpret(target.as_ref(), &policies, &id))
}

/// Picks the policy the simulator can follow and says what it cannot model.
pub fn interpret(
    target: Option<&ScalableTarget>,
    policies: &[ScalingPolicy],
    resource_id: &str,
) -> LivePolicy {
    let Some(target) = target else {
        return LivePolicy {
            policy: None,
            notes: vec![format!(
                "{resource_id} is not registered with Application Auto Scaling: nothing scales it, so the prediction keeps the starting count"
            )],
        };
    };
    let mut notes = Vec::new();
    let followed = policies.iter().find(|p| {
        p.policy_type == "TargetTrackingScaling"
            && p.metric.as_deref() == Some(INVOCATIONS_METRIC)
            && p.target_value.is_some_and(|v| v > 0.0)
    });
    for p in policies.iter().filter(|p| Some(*p) != followed) {
        notes.push(format!(
            "policy {} ({}{}) also acts on the variant; the prediction leaves it out",
            p.name,
            p.policy_type,
            p.metric
                .as_deref()
                .map(|m| format!(" on {m}"))
                .unwrap_or_default()
        ));
    }
    if target.scale_out_suspended || target.scale_in_suspended {
        notes.push(format!(
            "dynamic scaling is suspended on {resource_id} ({}); the prediction assumes it is not",
            match (target.scale_out_suspended, target.scale_in_suspended) {
                (true, true) => "out and in",
                (true, false) => "out",
                _ => "in",
            }
        ));
    }
    let Some(p) = followed else {
        notes.push(format!(
            "{resource_id} has no target-tracking policy on {INVOCATIONS_METRIC}: the prediction keeps the starting count"
        ));
        return LivePolicy {
            policy: None,
            notes,
        };
    };
    LivePolicy {
        policy: Some(Policy {
            target_value: p.target_value.unwrap_or_default(),
            min_capacity: target.min_capacity,
            max_capacity: target.max_capacity.max(target.min_capacity),
            scale_in_cooldown_s: p.scale_in_cooldown_s.unwrap_or(DEFAULT_COOLDOWN_S),
            scale_out_cooldown_s: p.scale_out_cooldown_s.unwrap_or(DEFAULT_COOLDOWN_S),
            disable_scale_in: p.disable_scale_in,
        }),
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "endpoint/ep/variant/AllTraffic";

    fn target(min: u32, max: u32) -> ScalableTarget {
        ScalableTarget {
            min_capacity: min,
            max_capacity: max,
            ..Default::default()
        }
    }

    fn tracking(name: &str, metric: &str, value: f64) -> ScalingPolicy {
        ScalingPolicy {
            name: name.into(),
            policy_type: "TargetTrackingScaling".into(),
            metric: Some(metric.into()),
            target_value: Some(value),
            ..Default::default()
        }
    }

    #[test]
    fn the_invocations_policy_is_followed_with_default_cooldowns() {
        let live = interpret(
            Some(&target(2, 8)),
            &[tracking("p", INVOCATIONS_METRIC, 4710.0)],
            ID,
        );
        assert_eq!(
            live.policy,
            Some(Policy {
                target_value: 4710.0,
                min_capacity: 2,
                max_capacity: 8,
                scale_in_cooldown_s: 300,
                scale_out_cooldown_s: 300,
                disable_scale_in: false,
            })
        );
        assert!(live.notes.is_empty(), "{:?}", live.notes);
    }

    #[test]
    fn policies_it_cannot_model_are_named() {
        let mut step = tracking("steps", "", 0.0);
        step.policy_type = "StepScaling".into();
        step.metric = None;
        let mut given = tracking("p", INVOCATIONS_METRIC, 600.0);
        given.scale_in_cooldown_s = Some(120);
        given.disable_scale_in = true;
        let live = interpret(
            Some(&target(1, 4)),
            &[
                tracking(
                    "gpu",
                    "SageMakerVariantConcurrentRequestsPerModelHighResolution",
                    5.0,
                ),
                given,
                step,
            ],
            ID,
        );
        let policy = live.policy.unwrap();
        assert_eq!(policy.scale_in_cooldown_s, 120);
        assert!(policy.disable_scale_in);
        assert_eq!(live.notes.len(), 2, "{:?}", live.notes);
        assert!(live.notes[0].contains("gpu") && live.notes[0].contains("ConcurrentRequests"));
        assert!(live.notes[1].contains("steps (StepScaling)"));
    }

    #[test]
    fn no_registration_or_no_policy_predicts_no_change() {
        let none = interpret(None, &[], ID);
        assert_eq!(none.policy, None);
        assert!(none.notes[0].contains("not registered"), "{:?}", none.notes);
        let mut suspended = target(1, 4);
        suspended.scale_out_suspended = true;
        let other = interpret(
            Some(&suspended),
            &[tracking(
                "cpu",
                "SageMakerVariantConcurrentRequestsPerModelHighResolution",
                5.0,
            )],
            ID,
        );
        assert_eq!(other.policy, None);
        assert!(
            other
                .notes
                .iter()
                .any(|n| n.contains("suspended on") && n.contains("(out)"))
        );
        assert!(
            other
                .notes
                .iter()
                .any(|n| n.contains("no target-tracking policy"))
        );
    }
}

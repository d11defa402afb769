//! The scaling configuration live on a SageMaker variant, as the simulator can follow it: a
//! target-tracking policy on invocations per instance, and notes on whatever else acts on it.

use crate::aws::autoscaling::{INVOCATIONS_METRIC, ScalableTarget, ScalingPolicy};
use crate::results::Policy;

/// Application Auto Scaling's default cooldowns for SageMaker variants (PutScalingPolicy
/// reference: 300 s when the policy gives none).
const DEFAULT_COOLDOWN_S: u64 = 300;

/// The policy the simulator can follow, and what the user should know about the rest.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct LivePolicy {
    /// A target-tracking policy on SageMakerVariantInvocationsPerInstance with its
    /// capacity range; None when the variant has no such policy.
    pub policy: Option<Policy>,
    pub notes: Vec<String>,
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

//! From a find result to a target-tracking policy for one SageMaker variant: the target
//! value for the chosen metric, with every value checked against Application Auto Scaling's limits.

use crate::Error;
use crate::aws::autoscaling::{Metric, PolicySpec};
use crate::aws::runtime::validate_name;
use crate::results::{DEFAULT_SAFETY_FACTOR, FindResults, Recommendation};

/// What the user chose beyond the results file.
#[derive(Clone, Debug)]
pub struct PolicyChoices {
    pub endpoint: String,
    pub variant: String,
    pub policy_name: Option<String>,
    pub min_capacity: u32,
    pub max_capacity: u32,
    pub metric: Metric,
    pub safety_factor: Option<f64>,
    pub scale_in_cooldown_s: u64,
    pub scale_out_cooldown_s: u64,
    pub disable_scale_in: bool,
}

/// Reads a `peakrps.find/v1` results file's text; other documents are refused by name.
pub fn read_find_results(text: &str, source: &str) -> Result<FindResults, Error> {
    crate::results::find_results_from(text, source, "policy")
}

/// Builds the policy from a find result and the user's choices, checking every value
/// against Application Auto Scaling's limits.
pub fn policy_spec(results: &FindResults, choices: &PolicyChoices) -> Result<PolicySpec, Error> {
    validate_name("--endpoint", &choices.endpoint)?;
    validate_name("--variant", &choices.variant)?;
    if choices.max_capacity < choices.min_capacity {
        return Err(Error::Input(format!(
            "--max-capacity {} is below --min-capacity {}",
            choices.max_capacity, choices.min_capacity
        )));
    }
    if choices.max_capacity == 0 {
        return Err(Error::Input("--max-capacity must be at least 1".into()));
    }
    let peak = results.peak.as_ref().ok_or_else(|| {
        Error::Input(format!(
            "the results have no peak ({}); there is nothing to scale on",
            results.stop_reason
        ))
    })?;
    let safety_factor = match (choices.safety_factor, &results.recommendation) {
        (Some(f), _) => f,
        (None, Some(r)) => r.safety_factor,
        (None, None) => DEFAULT_SAFETY_FACTOR,
    };
    let recommendation = Recommendation::new(peak.rps, safety_factor)?;
    let (target_value, explanation) = match choices.metric {
        Metric::Invocations => (
            recommendation.invocations_per_instance,
            format!(
                "TargetValue {} = MAX_RPS {} × SAFETY_FACTOR {} × 60 (invocations per instance per minute)",
                recommendation.invocations_per_instance, peak.rps, safety_factor
            ),
        ),
        Metric::Concurrency => {
            let concurrency = peak.concurrency.ok_or_else(|| {
                Error::Input(
                    "the peak has no concurrency (an open-loop run); use --metric invocations"
                        .into(),
                )
            })?;
            let target = (f64::from(concurrency) * safety_factor * 100.0).round() / 100.0;
            (
                target,
                format!(
                    "TargetValue {target} = concurrency at the peak {concurrency} × SAFETY_FACTOR {safety_factor} (in-flight requests per model copy)"
                ),
            )
        }
    };
    if target_value <= 0.0 {
        return Err(Error::Input(format!(
            "the target value would be {target_value}; the peak is too small to scale on"
        )));
    }
    let policy_name = choices.policy_name.clone().unwrap_or_else(|| {
        format!(
            "peakrps-{}-{}-{}",
            choices.endpoint,
            choices.variant,
            choices.metric.short()
        )
    });
    if policy_name.is_empty()
        || policy_name.len() > 256
        || policy_name.chars().any(|c| c.is_control())
    {
        return Err(Error::Input(
            "--policy-name must be 1 to 256 printable characters".into(),
        ));
    }
    Ok(PolicySpec {
        endpoint: choices.endpoint.clone(),
        variant: choices.variant.clone(),
        policy_name,
        min_capacity: choices.min_capacity,
        max_capacity: choices.max_capacity,
        metric: choices.metric,
        target_value,
        scale_in_cooldown_s: choices.scale_in_cooldown_s,
        scale_out_cooldown_s: choices.scale_out_cooldown_s,
        disable_scale_in: choices.disable_scale_in,
        explanation,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::aws::autoscaling::{CONCURRENCY_METRIC, INVOCATIONS_METRIC};

    fn results(schema: &str) -> String {
        json!({
            "schema": schema, "version": "0.1.0", "started_at": "2026-11-29T17:00:00Z",
            "target": {"kind": "http", "url": "http://127.0.0.1:8080/invocations", "payload": "x"},
            "mode": "concurrency",
            "settings": {"window_s": 2.0, "warmup_s": 1.0, "step_duration_s": 30.0, "stability": 0.1,
                         "min_success": 0.99, "percentile": 99.0, "max_latency_ms": null, "min_gain": 0.05,
                         "precision": 0.1, "max_concurrency": 1024, "timeout_s": 60.0},
            "steps": [],
            "peak": {"rps": 301.7, "concurrency": 8, "offered_rps": null,
                     "latency_ms": {"p50": 26.1, "p90": 26.9, "p99": 29.8, "max": 31.2},
                     "reason": "r", "success_ratio": 1.0},
            "recommendation": {"safety_factor": 0.5, "max_rps": 301.7, "invocations_per_instance": 9051.0, "per_minute": true},
            "stop_reason": "done", "interrupted": false
        })
        .to_string()
    }

    fn choices() -> PolicyChoices {
        PolicyChoices {
            endpoint: "my-endpoint".into(),
            variant: "AllTraffic".into(),
            policy_name: None,
            min_capacity: 1,
            max_capacity: 4,
            metric: Metric::Invocations,
            safety_factor: None,
            scale_in_cooldown_s: 300,
            scale_out_cooldown_s: 300,
            disable_scale_in: false,
        }
    }

    fn keys(v: &Value) -> Vec<&str> {
        let mut k: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        k.sort_unstable();
        k
    }

    #[test]
    fn cli_input_documents_have_the_api_shape() {
        let r = read_find_results(&results("peakrps.find/v1"), "r.json").unwrap();
        let p = policy_spec(&r, &choices()).unwrap();
        let register = p.register_scalable_target();
        // RegisterScalableTarget request members (Application Auto Scaling API reference).
        assert_eq!(
            keys(&register),
            [
                "MaxCapacity",
                "MinCapacity",
                "ResourceId",
                "ScalableDimension",
                "ServiceNamespace"
            ]
        );
        assert_eq!(
            register["ResourceId"],
            "endpoint/my-endpoint/variant/AllTraffic"
        );
        assert_eq!(
            register["ScalableDimension"],
            "sagemaker:variant:DesiredInstanceCount"
        );
        assert_eq!(register["ServiceNamespace"], "sagemaker");
        assert!(register["MinCapacity"].is_u64() && register["MaxCapacity"].is_u64());
        let put = p.put_scaling_policy();
        assert_eq!(
            keys(&put),
            [
                "PolicyName",
                "PolicyType",
                "ResourceId",
                "ScalableDimension",
                "ServiceNamespace",
                "TargetTrackingScalingPolicyConfiguration"
            ]
        );
        assert_eq!(put["PolicyType"], "TargetTrackingScaling");
        let tt = &put["TargetTrackingScalingPolicyConfiguration"];
        assert_eq!(
            keys(tt),
            [
                "DisableScaleIn",
                "PredefinedMetricSpecification",
                "ScaleInCooldown",
                "ScaleOutCooldown",
                "TargetValue"
            ]
        );
        assert_eq!(tt["TargetValue"].as_f64(), Some(9051.0));
        assert_eq!(
            tt["PredefinedMetricSpecification"]["PredefinedMetricType"],
            INVOCATIONS_METRIC
        );
        assert!(tt["ScaleInCooldown"].is_u64() && tt["DisableScaleIn"].is_boolean());
        assert_eq!(
            put["PolicyName"],
            "peakrps-my-endpoint-AllTraffic-invocations"
        );
        assert!(p.explanation.contains("301.7 × SAFETY_FACTOR 0.5 × 60"));
    }

    #[test]
    fn cloudformation_pairs_target_and_policy() {
        let r = read_find_results(&results("peakrps.find/v1"), "r.json").unwrap();
        let p = policy_spec(&r, &choices()).unwrap();
        let t = p.cloudformation();
        let res = &t["Resources"];
        assert_eq!(
            res["ScalableTarget"]["Type"],
            "AWS::ApplicationAutoScaling::ScalableTarget"
        );
        assert_eq!(
            res["ScalingPolicy"]["Type"],
            "AWS::ApplicationAutoScaling::ScalingPolicy"
        );
        assert_eq!(
            res["ScalingPolicy"]["Properties"]["ScalingTargetId"]["Ref"],
            "ScalableTarget"
        );
        // With ScalingTargetId, CloudFormation forbids ResourceId and its siblings on the policy.
        assert!(
            res["ScalingPolicy"]["Properties"]
                .get("ResourceId")
                .is_none()
        );
        assert_eq!(
            res["ScalingPolicy"]["Properties"]["TargetTrackingScalingPolicyConfiguration"]["TargetValue"].as_f64(),
            Some(9051.0)
        );
        serde_json::from_str::<Value>(&serde_json::to_string_pretty(&t).unwrap()).unwrap();
    }

    #[test]
    fn safety_factor_and_metric_choices() {
        let r = read_find_results(&results("peakrps.find/v1"), "r.json").unwrap();
        let mut c = choices();
        c.safety_factor = Some(0.25);
        let p = policy_spec(&r, &c).unwrap();
        assert_eq!(p.target_value, 4525.5);
        c.metric = Metric::Concurrency;
        let p = policy_spec(&r, &c).unwrap();
        assert_eq!(p.target_value, 2.0);
        assert_eq!(
            p.put_scaling_policy()["TargetTrackingScalingPolicyConfiguration"]["PredefinedMetricSpecification"]
                ["PredefinedMetricType"],
            CONCURRENCY_METRIC
        );
        c.safety_factor = Some(1.5);
        assert!(policy_spec(&r, &c).is_err());
    }

    #[test]
    fn refuses_other_documents_and_bad_limits() {
        let e = read_find_results(&results("peakrps.run/v1"), "r.json").unwrap_err();
        assert!(
            e.to_string().contains("is a peakrps.run/v1 document"),
            "{e}"
        );
        assert!(
            read_find_results("{}", "r.json")
                .unwrap_err()
                .to_string()
                .contains("no \"schema\"")
        );
        assert!(
            read_find_results("nope", "r.json")
                .unwrap_err()
                .to_string()
                .contains("invalid JSON")
        );
        let r = read_find_results(&results("peakrps.find/v1"), "r.json").unwrap();
        let mut c = choices();
        c.min_capacity = 5;
        assert!(
            policy_spec(&r, &c)
                .unwrap_err()
                .to_string()
                .contains("below --min-capacity")
        );
        let mut c = choices();
        c.endpoint = "bad_name".into();
        assert!(matches!(policy_spec(&r, &c), Err(Error::Input(_))));
    }
}

//! The Application Auto Scaling documents for one SageMaker variant (REFERENCE.md §4): the
//! RegisterScalableTarget and PutScalingPolicy requests as `--cli-input-json` takes them, and
//! the same pair as a CloudFormation template.

use serde::Serialize;
use serde_json::{Value, json};

use crate::Error;
use crate::results::FindResults;
use crate::results::Recommendation;
use crate::target::sagemaker::validate_name;

pub const SERVICE_NAMESPACE: &str = "sagemaker";
pub const SCALABLE_DIMENSION: &str = "sagemaker:variant:DesiredInstanceCount";
pub const INVOCATIONS_METRIC: &str = "SageMakerVariantInvocationsPerInstance";
pub const CONCURRENCY_METRIC: &str = "SageMakerVariantConcurrentRequestsPerModelHighResolution";

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

    fn short(self) -> &'static str {
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

impl PolicySpec {
    /// Builds the policy from a find result and the user's choices, checking every value
    /// against Application Auto Scaling's limits.
    pub fn new(results: &FindResults, choices: &PolicyChoices) -> Result<Self, Error> {
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
            (None, None) => crate::results::DEFAULT_SAFETY_FACTOR,
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

    /// `endpoint/NAME/variant/VARIANT`.
    pub fn resource_id(&self) -> String {
        format!("endpoint/{}/variant/{}", self.endpoint, self.variant)
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

#[cfg(test)]
mod tests {
    use super::*;

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
        let p = PolicySpec::new(&r, &choices()).unwrap();
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
        let p = PolicySpec::new(&r, &choices()).unwrap();
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
        let p = PolicySpec::new(&r, &c).unwrap();
        assert_eq!(p.target_value, 4525.5);
        c.metric = Metric::Concurrency;
        let p = PolicySpec::new(&r, &c).unwrap();
        assert_eq!(p.target_value, 2.0);
        assert_eq!(
            p.put_scaling_policy()["TargetTrackingScalingPolicyConfiguration"]["PredefinedMetricSpecification"]
                ["PredefinedMetricType"],
            CONCURRENCY_METRIC
        );
        c.safety_factor = Some(1.5);
        assert!(PolicySpec::new(&r, &c).is_err());
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
            PolicySpec::new(&r, &c)
                .unwrap_err()
                .to_string()
                .contains("below --min-capacity")
        );
        let mut c = choices();
        c.endpoint = "bad_name".into();
        assert!(matches!(PolicySpec::new(&r, &c), Err(Error::Input(_))));
    }
}

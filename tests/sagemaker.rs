//! sagemaker:// targets, `peakrps policy` and `--cloudwatch`, end to end through the binary.
//! Tests marked "moto" need moto's server (`moto_server`, PyPI `moto[server]`) at
//! PEAKRPS_MOTO_URL and python3 with boto3; without it they print a notice and pass, so
//! `cargo test` works anywhere (.ci/run starts moto and sets the variable). The rest use a
//! small fake runtime on 127.0.0.1. Nothing here reaches real AWS.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};

use assert_cmd::cargo::CommandCargoExt;
use serde_json::Value;

const SECRET: &str = "peakrpsTestSecretKey0123456789abcdefSECRET";

fn moto_url() -> Option<String> {
    match std::env::var("PEAKRPS_MOTO_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            eprintln!(
                "notice: PEAKRPS_MOTO_URL is unset: skipping this moto test (.ci/run starts moto and sets it)"
            );
            None
        }
    }
}

/// The binary with throwaway credentials and no access to the user's AWS config.
fn peakrps(endpoint_url: &str) -> Command {
    let mut cmd = Command::cargo_bin("peakrps").unwrap();
    for var in [
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME",
        "AWS_ENDPOINT_URL_SAGEMAKER",
        "AWS_ENDPOINT_URL_APPLICATION_AUTO_SCALING",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("AWS_ACCESS_KEY_ID", "AKIDPEAKRPSTEST")
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL", endpoint_url)
        .env("AWS_CONFIG_FILE", "/nonexistent/peakrps-test-config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/peakrps-test-credentials",
        )
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("NO_COLOR", "1");
    cmd
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Runs a python3 snippet with boto3 against moto.
fn python(moto: &str, code: &str) -> String {
    let out = Command::new("python3")
        .arg("-c")
        .arg(code)
        .env("AWS_ACCESS_KEY_ID", "AKIDPEAKRPSTEST")
        .env("AWS_SECRET_ACCESS_KEY", "x")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("MOTO", moto)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn assert_no_secret(what: &str, haystack: &str) {
    assert!(
        !haystack.contains(SECRET),
        "the secret key appears in {what}"
    );
}

#[test]
fn moto_run_is_signed_and_succeeds_without_leaking_the_secret() {
    let Some(moto) = moto_url() else { return };
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("run.json");
    let out = peakrps(&moto)
        .args([
            "run",
            "sagemaker://peakrps-run-ep",
            "-c",
            "2",
            "-n",
            "40",
            "--target-variant",
            "AllTraffic",
        ])
        .args([
            "--custom-attributes",
            "test=1",
            "--inference-id",
            "peakrps-test",
            "--json",
        ])
        .arg(&json)
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "stdout: {stdout}\nstderr: {stderr}");
    assert!(
        stderr.contains("real users"),
        "the production warning is printed: {stderr}"
    );
    let doc = read_json(&json);
    assert_eq!(doc["target"]["kind"], "sagemaker");
    assert_eq!(doc["target"]["sagemaker"]["endpoint"], "peakrps-run-ep");
    assert_eq!(
        doc["target"]["url"],
        format!("{moto}/endpoints/peakrps-run-ep/invocations")
    );
    assert_eq!(doc["summary"]["requests"], 40);
    assert_eq!(doc["summary"]["success_ratio"], 1.0);
    assert_no_secret("stdout", &stdout);
    assert_no_secret("stderr", &stderr);
    assert_no_secret("the results file", &std::fs::read_to_string(&json).unwrap());
}

#[test]
fn moto_find_then_policy_apply_holds_the_target_value() {
    let Some(moto) = moto_url() else { return };
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("find.json");
    let out = peakrps(&moto)
        .args([
            "find",
            "sagemaker://peakrps-find-ep",
            "--max-concurrency",
            "2",
            "--window",
            "250ms",
        ])
        .args([
            "--warmup",
            "100ms",
            "--step-duration",
            "1s",
            "--quiet",
            "--json",
        ])
        .arg(&json)
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "stdout: {stdout}\nstderr: {stderr}");
    assert_no_secret("find stdout", &stdout);
    assert_no_secret("find stderr", &stderr);
    assert_no_secret("the find results", &std::fs::read_to_string(&json).unwrap());
    let doc = read_json(&json);
    let max_rps = doc["peak"]["rps"].as_f64().unwrap();
    let expected = (max_rps * 0.4 * 60.0 * 10.0).round() / 10.0;

    let out = peakrps(&moto)
        .args(["policy", "--from"])
        .arg(&json)
        .args([
            "--endpoint",
            "peakrps-find-ep",
            "--variant",
            "AllTraffic",
            "--safety-factor",
            "0.4",
        ])
        .args(["--max-capacity", "3", "--apply"])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "stdout: {stdout}\nstderr: {stderr}");
    assert_no_secret("policy stdout", &stdout);
    assert_no_secret("policy stderr", &stderr);
    let applied: Value = serde_json::from_str(&stdout).unwrap();
    let policy = &applied["ScalingPolicies"][0];
    assert_eq!(
        policy["TargetTrackingScalingPolicyConfiguration"]["TargetValue"].as_f64(),
        Some(expected)
    );

    // Independently of peakrps: what moto holds, read with boto3.
    let held = python(
        &moto,
        r#"
import boto3, json, os
c = boto3.client("application-autoscaling", endpoint_url=os.environ["MOTO"])
rid = "endpoint/peakrps-find-ep/variant/AllTraffic"
t = c.describe_scalable_targets(ServiceNamespace="sagemaker", ResourceIds=[rid])["ScalableTargets"]
p = c.describe_scaling_policies(ServiceNamespace="sagemaker", ResourceId=rid)["ScalingPolicies"]
print(json.dumps({"targets": [[x["MinCapacity"], x["MaxCapacity"], x["ScalableDimension"]] for x in t],
                  "policies": [[x["PolicyName"], x["PolicyType"], x["TargetTrackingScalingPolicyConfiguration"]] for x in p]}))
"#,
    );
    let held: Value = serde_json::from_str(held.trim()).unwrap();
    assert_eq!(
        held["targets"],
        serde_json::json!([[1, 3, "sagemaker:variant:DesiredInstanceCount"]])
    );
    let p = &held["policies"][0];
    assert_eq!(p[0], "peakrps-peakrps-find-ep-AllTraffic-invocations");
    assert_eq!(p[1], "TargetTrackingScaling");
    assert_eq!(p[2]["TargetValue"].as_f64(), Some(expected));
    assert_eq!(
        p[2]["PredefinedMetricSpecification"]["PredefinedMetricType"],
        "SageMakerVariantInvocationsPerInstance"
    );
}

/// A 6-minute profile at 30 req/s under a live policy with target 600 (one instance takes
/// 1800 a minute, three times the target). With no metric delay and no provisioning the
/// simulator scales out at the end of minute 2 to ceil(1 × 1800 / 600) = 3, serving from
/// minute 3: predicted [1, 1, 1, 3, 3, 3]. moto has no autoscaler, so the test plays it:
/// 5 s in, it sets the variant to 3 instances, and the counts polled each minute must show
/// 1 first, 3 last, and never go down.
#[test]
fn moto_run_profile_puts_the_endpoints_instances_beside_the_prediction() {
    let Some(moto) = moto_url() else { return };
    python(
        &moto,
        r#"
import boto3, botocore, os
u = os.environ["MOTO"]
sm = boto3.client("sagemaker", endpoint_url=u)
def once(call, **kw):  # the test may run again against the same moto
    try:
        call(**kw)
    except botocore.exceptions.ClientError:
        pass
once(sm.create_model, ModelName="peakrps-watch-model", ExecutionRoleArn="arn:aws:iam::123456789012:role/x",
     PrimaryContainer={"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/m:latest"})
once(sm.create_endpoint_config, EndpointConfigName="peakrps-watch-config", ProductionVariants=[
    {"VariantName": "AllTraffic", "ModelName": "peakrps-watch-model", "InitialInstanceCount": 1,
     "InstanceType": "ml.m5.large"}])
once(sm.create_endpoint, EndpointName="peakrps-watch-ep", EndpointConfigName="peakrps-watch-config")
sm.update_endpoint_weights_and_capacities(EndpointName="peakrps-watch-ep",
    DesiredWeightsAndCapacities=[{"VariantName": "AllTraffic", "DesiredInstanceCount": 1}])
aas = boto3.client("application-autoscaling", endpoint_url=u)
rid = "endpoint/peakrps-watch-ep/variant/AllTraffic"
dim = "sagemaker:variant:DesiredInstanceCount"
aas.register_scalable_target(ServiceNamespace="sagemaker", ResourceId=rid, ScalableDimension=dim,
                             MinCapacity=1, MaxCapacity=4)
aas.put_scaling_policy(PolicyName="peakrps-watch", ServiceNamespace="sagemaker", ResourceId=rid,
    ScalableDimension=dim, PolicyType="TargetTrackingScaling",
    TargetTrackingScalingPolicyConfiguration={"TargetValue": 600.0,
        "PredefinedMetricSpecification": {"PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"},
        "ScaleInCooldown": 120, "ScaleOutCooldown": 60})
"#,
    );
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("profile.csv");
    std::fs::write(&profile, "minute,rps\n0,30\n1,30\n2,30\n3,30\n4,30\n5,30\n").unwrap();
    let json = dir.path().join("run.json");
    let autoscaler = Command::new("python3")
        .arg("-c")
        .arg(
            r#"
import boto3, os, time
time.sleep(5)
boto3.client("sagemaker", endpoint_url=os.environ["MOTO"]).update_endpoint_weights_and_capacities(
    EndpointName="peakrps-watch-ep",
    DesiredWeightsAndCapacities=[{"VariantName": "AllTraffic", "DesiredInstanceCount": 3}])
"#,
        )
        .env("AWS_ACCESS_KEY_ID", "AKIDPEAKRPSTEST")
        .env("AWS_SECRET_ACCESS_KEY", "x")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("MOTO", &moto)
        .spawn()
        .unwrap();
    let out = peakrps(&moto)
        .args(["run", "sagemaker://peakrps-watch-ep", "--profile"])
        .arg(&profile)
        .args([
            "--speed",
            "30",
            "--metric-delay",
            "0s",
            "--provisioning",
            "0s",
        ])
        .arg("--json")
        .arg(&json)
        .output()
        .unwrap();
    let finished = autoscaler.wait_with_output().unwrap();
    assert!(finished.status.success(), "the scripted autoscaler failed");
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "stdout: {stdout}\nstderr: {stderr}");
    assert_no_secret("stdout", &stdout);
    assert_no_secret("stderr", &stderr);
    let doc = read_json(&json);
    let scaling = &doc["scaling"];
    assert_eq!(scaling["variant"], "AllTraffic");
    assert_eq!(scaling["initial_instances"], 1);
    assert_eq!(scaling["policy"]["target_value"].as_f64(), Some(600.0));
    assert_eq!(scaling["policy"]["max_capacity"], 4);
    assert_eq!(scaling["policy"]["scale_in_cooldown_s"], 120);
    assert!(
        scaling["notes"][0].as_str().unwrap().contains("--speed 30"),
        "{scaling}"
    );
    let minutes = doc["minutes"].as_array().unwrap();
    let column = |key: &str| -> Vec<u64> {
        minutes
            .iter()
            .map(|m| m[key].as_u64().unwrap_or_else(|| panic!("{key} in {m}")))
            .collect()
    };
    assert_eq!(column("predicted_instances"), [1, 1, 1, 3, 3, 3]);
    let seen = column("instances");
    eprintln!("instances the endpoint had as each minute began: {seen:?}");
    assert_eq!(seen.first(), Some(&1), "{seen:?}");
    assert_eq!(seen.last(), Some(&3), "{seen:?}");
    assert!(seen.windows(2).all(|w| w[0] <= w[1]), "{seen:?}");
}

/// A SageMaker control plane on 127.0.0.1 that answers DescribeEndpoint with 2 instances,
/// except call number `failing` (0 is the one before the traffic), which gets a 500.
fn fake_control_plane(failing: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for (call, stream) in listener.incoming().flatten().enumerate() {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut writer = stream;
            let mut length = 0usize;
            let mut describe = false;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                let lower = line.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                describe |= lower.starts_with("x-amz-target: sagemaker.describeendpoint");
                if line == "\r\n" {
                    break;
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let (status, answer) = match (describe, call == failing) {
                (false, _) => (400, r#"{"__type":"UnknownOperationException"}"#),
                (true, true) => (500, r#"{"__type":"InternalFailure","message":"boom"}"#),
                (true, false) => (
                    200,
                    r#"{"EndpointStatus":"InService","ProductionVariants":[{"VariantName":"AllTraffic","CurrentInstanceCount":2,"DesiredInstanceCount":2}]}"#,
                ),
            };
            let _ = write!(
                writer,
                "HTTP/1.1 {status} X\r\ncontent-type: application/x-amz-json-1.1\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
                answer.len()
            );
        }
    });
    url
}

/// A poll that fails costs that minute its count, with one warning, and nothing else: the
/// load goes on and every minute is measured.
#[test]
fn a_failed_describe_endpoint_costs_one_minutes_count_not_the_run() {
    let runtime = fake_runtime(200, "none", r#"{"predictions":[0]}"#);
    let control = fake_control_plane(2);
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("profile.csv");
    std::fs::write(&profile, "minute,rps\n0,10\n1,10\n2,10\n3,10\n").unwrap();
    let json = dir.path().join("run.json");
    let out = peakrps(&runtime)
        .env("AWS_ENDPOINT_URL_SAGEMAKER", &control)
        .args(["run", "sagemaker://ep", "--profile"])
        .arg(&profile)
        .args(["--speed", "60", "--json"])
        .arg(&json)
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "stdout: {stdout}\nstderr: {stderr}");
    assert_eq!(
        stderr
            .matches("DescribeEndpoint failed: InternalFailure: boom")
            .count(),
        1,
        "{stderr}"
    );
    let doc = read_json(&json);
    let minutes = doc["minutes"].as_array().unwrap();
    assert_eq!(minutes.len(), 4);
    let seen: Vec<Option<u64>> = minutes.iter().map(|m| m["instances"].as_u64()).collect();
    assert_eq!(seen, [Some(2), None, Some(2), Some(2)]);
    for m in minutes {
        assert_eq!(m["success_ratio"].as_f64(), Some(1.0), "{m}");
        assert_eq!(
            m["predicted_instances"], 2,
            "no readable policy: the count stays"
        );
    }
    let notes = doc["scaling"]["notes"].to_string();
    assert!(notes.contains("failed in 1 of 4 minutes"), "{notes}");
}

#[test]
fn moto_cloudwatch_figures_are_read_back() {
    let Some(moto) = moto_url() else { return };
    python(
        &moto,
        r#"
import boto3, datetime, os
c = boto3.client("cloudwatch", endpoint_url=os.environ["MOTO"])
now = datetime.datetime.now(datetime.timezone.utc)
dims = [{"Name": "EndpointName", "Value": "peakrps-cw-ep"}, {"Name": "VariantName", "Value": "AllTraffic"}]
def stat(n, total, lo, hi):
    return {"SampleCount": n, "Sum": total, "Minimum": lo, "Maximum": hi}
c.put_metric_data(Namespace="AWS/SageMaker", MetricData=[
    {"MetricName": "ModelLatency", "Dimensions": dims, "Timestamp": now, "Unit": "Microseconds",
     "StatisticValues": stat(40, 40 * 15000.0, 5000.0, 42000.0)},
    {"MetricName": "OverheadLatency", "Dimensions": dims, "Timestamp": now, "Unit": "Microseconds",
     "StatisticValues": stat(40, 40 * 2000.0, 1000.0, 3500.0)}])
"#,
    );
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("cw.json");
    let out = peakrps(&moto)
        .args([
            "run",
            "sagemaker://peakrps-cw-ep",
            "-n",
            "20",
            "--cloudwatch",
            "--cloudwatch-wait",
            "0s",
            "--json",
        ])
        .arg(&json)
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "stdout: {stdout}\nstderr: {stderr}");
    assert!(stdout.contains("AllTraffic: ModelLatency avg 15.0 ms, max 42.0 ms; OverheadLatency avg 2.0 ms, max 3.5 ms"), "{stdout}");
    assert!(
        stdout.contains("client (whole round trip): p50"),
        "{stdout}"
    );
    let doc = read_json(&json);
    let cw = &doc["cloudwatch"];
    assert_eq!(cw["namespace"], "AWS/SageMaker");
    assert_eq!(cw["variants"][0]["variant"], "AllTraffic");
    assert_eq!(
        cw["variants"][0]["model_latency"]["average_ms"].as_f64(),
        Some(15.0)
    );
    assert_eq!(
        cw["variants"][0]["model_latency"]["samples"].as_f64(),
        Some(40.0)
    );
    assert_eq!(
        cw["variants"][0]["overhead_latency"]["maximum_ms"].as_f64(),
        Some(3.5)
    );
    assert_no_secret("stdout", &stdout);
    assert_no_secret("stderr", &stderr);
}

/// A fake SageMaker runtime: answers every request with `status`, `x-amzn-ErrorType: kind`
/// and `body`, on keep-alive connections. Returns its base URL.
fn fake_runtime(status: u16, kind: &'static str, body: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut writer = stream;
                loop {
                    let mut length = 0usize;
                    let mut authorized = false;
                    loop {
                        let mut line = String::new();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        let lower = line.to_ascii_lowercase();
                        if let Some(v) = lower.strip_prefix("content-length:") {
                            length = v.trim().parse().unwrap_or(0);
                        }
                        authorized |= lower.starts_with(
                            "authorization: aws4-hmac-sha256 credential=akidpeakrpstest/",
                        );
                        if line == "\r\n" {
                            break;
                        }
                    }
                    let mut buf = vec![0; length];
                    if reader.read_exact(&mut buf).is_err() {
                        return;
                    }
                    let (status, kind, body) = if authorized {
                        (status, kind, body)
                    } else {
                        (403, "MissingAuthenticationToken", "{}")
                    };
                    let reply = format!(
                        "HTTP/1.1 {status} X\r\nx-amzn-ErrorType: {kind}:http://internal.amazon.com/coral/com.amazon.sagemaker/\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    if writer.write_all(reply.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    url
}

#[test]
fn validation_error_stops_the_run_with_aws_message() {
    let url = fake_runtime(
        400,
        "ValidationError",
        r#"{"message":"Endpoint nope of account 123456789012 not found."}"#,
    );
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("run.json");
    let out = peakrps(&url)
        .args(["run", "sagemaker://nope", "-d", "20s", "--json"])
        .arg(&json)
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "stdout: {stdout}\nstderr: {stderr}"
    );
    assert!(
        stderr.contains("error: SageMaker rejected the requests: ValidationError: Endpoint nope of account 123456789012 not found."),
        "{stderr}"
    );
    // The run still leaves its document: what was sent, and why it stopped.
    let doc = read_json(&json);
    assert!(
        doc["summary"]["errors"]["client_error"].as_u64() > Some(0),
        "{doc}"
    );
    assert!(
        doc["error"]
            .as_str()
            .is_some_and(|e| e.contains("ValidationError")),
        "{doc}"
    );
    let out = peakrps(&url)
        .args([
            "find",
            "sagemaker://nope",
            "--window",
            "200ms",
            "--warmup",
            "0s",
        ])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "stdout: {stdout}\nstderr: {stderr}"
    );
    assert!(
        stderr.contains("rejected: ValidationError: Endpoint nope of account"),
        "{stderr}"
    );
}

#[test]
fn model_error_is_a_server_error_shown_once() {
    let url = fake_runtime(
        424,
        "ModelError",
        r#"{"ErrorCode":"CLIENT_ERROR_FROM_MODEL","Message":"Received client error (400) from primary","OriginalMessage":"input shape mismatch","OriginalStatusCode":400}"#,
    );
    let out = peakrps(&url)
        .args([
            "find",
            "sagemaker://flaky",
            "--max-concurrency",
            "2",
            "--window",
            "200ms",
            "--warmup",
            "0s",
        ])
        .args(["--step-duration", "600ms"])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "no level passes: stdout: {stdout}\nstderr: {stderr}"
    );
    let line = "ModelError: the model container answered HTTP 400: input shape mismatch";
    assert_eq!(stderr.matches(line).count(), 1, "{stderr}");
    assert!(
        stdout.contains("server_error") || stdout.contains("server"),
        "{stdout}"
    );
}

#[test]
fn bad_endpoint_names_and_stray_flags_are_usage_errors() {
    let out = peakrps("http://127.0.0.1:9")
        .args(["run", "sagemaker://bad_name"])
        .output()
        .unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("may only hold letters, digits and hyphens"),
        "{stderr}"
    );
    let long = format!("sagemaker://{}", "a".repeat(64));
    assert_eq!(
        peakrps("http://127.0.0.1:9")
            .args(["run", &long])
            .output()
            .unwrap()
            .status
            .code(),
        Some(2)
    );
    let out = peakrps("http://127.0.0.1:9")
        .args([
            "run",
            "http://127.0.0.1:9/invocations",
            "--target-variant",
            "A",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).1.contains("only applies to sagemaker://"));
    let out = peakrps("http://127.0.0.1:9")
        .args([
            "run",
            "sagemaker://ok",
            "--custom-attributes",
            &"x".repeat(1025),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

fn find_results(dir: &Path, schema: &str) -> std::path::PathBuf {
    let doc = serde_json::json!({
        "schema": schema, "version": "0.1.0", "started_at": "2026-11-29T17:00:00Z",
        "target": {"kind": "http", "url": "http://127.0.0.1:8080/invocations", "payload": "x"},
        "mode": "concurrency",
        "settings": {"window_s": 2.0, "warmup_s": 1.0, "step_duration_s": 30.0, "stability": 0.1,
                     "min_success": 0.99, "percentile": 99.0, "max_latency_ms": null, "min_gain": 0.05,
                     "precision": 0.1, "max_concurrency": 1024, "timeout_s": 60.0},
        "steps": [],
        "peak": {"rps": 301.7, "concurrency": 8, "offered_rps": null, "success_ratio": 1.0,
                 "latency_ms": {"p50": 26.1, "p90": 26.9, "p99": 29.8, "max": 31.2}, "reason": "r"},
        "recommendation": {"safety_factor": 0.5, "max_rps": 301.7, "invocations_per_instance": 9051.0, "per_minute": true},
        "stop_reason": "done", "interrupted": false
    });
    let path = dir.join(format!("{}.json", schema.replace(['/', '.'], "-")));
    std::fs::write(&path, doc.to_string()).unwrap();
    path
}

#[test]
fn policy_prints_cli_input_and_cloudformation_documents() {
    let dir = tempfile::tempdir().unwrap();
    let results = find_results(dir.path(), "peakrps.find/v1");
    let out = peakrps("http://127.0.0.1:9")
        .args(["policy", "--from"])
        .arg(&results)
        .args([
            "--endpoint",
            "my-endpoint",
            "--scale-in-cooldown",
            "600s",
            "--disable-scale-in",
        ])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        stderr.trim(),
        "# TargetValue 9051 = MAX_RPS 301.7 × SAFETY_FACTOR 0.5 × 60 (invocations per instance per minute)"
    );
    let doc: Value = serde_json::from_str(&stdout).expect("stdout is one JSON document");
    let register = &doc["RegisterScalableTarget"];
    assert_eq!(
        register,
        &serde_json::json!({"ServiceNamespace": "sagemaker", "ResourceId": "endpoint/my-endpoint/variant/AllTraffic",
                            "ScalableDimension": "sagemaker:variant:DesiredInstanceCount", "MinCapacity": 1, "MaxCapacity": 4})
    );
    let put = &doc["PutScalingPolicy"];
    assert_eq!(put["PolicyType"], "TargetTrackingScaling");
    assert_eq!(
        put["TargetTrackingScalingPolicyConfiguration"],
        serde_json::json!({"TargetValue": 9051.0,
                           "PredefinedMetricSpecification": {"PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"},
                           "ScaleInCooldown": 600, "ScaleOutCooldown": 300, "DisableScaleIn": true})
    );

    let out = peakrps("http://127.0.0.1:9")
        .args(["policy", "--from"])
        .arg(&results)
        .args([
            "--endpoint",
            "my-endpoint",
            "--format",
            "cloudformation",
            "--metric",
            "concurrency",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let cfn: Value = serde_json::from_slice(&out.stdout).expect("CloudFormation output is JSON");
    assert_eq!(cfn["AWSTemplateFormatVersion"], "2010-09-09");
    let policy = &cfn["Resources"]["ScalingPolicy"];
    assert_eq!(policy["Type"], "AWS::ApplicationAutoScaling::ScalingPolicy");
    assert_eq!(
        cfn["Resources"]["ScalableTarget"]["Type"],
        "AWS::ApplicationAutoScaling::ScalableTarget"
    );
    let tt = &policy["Properties"]["TargetTrackingScalingPolicyConfiguration"];
    assert_eq!(tt["TargetValue"].as_f64(), Some(4.0));
    assert_eq!(
        tt["PredefinedMetricSpecification"]["PredefinedMetricType"],
        "SageMakerVariantConcurrentRequestsPerModelHighResolution"
    );

    let run_doc = find_results(dir.path(), "peakrps.run/v1");
    let out = peakrps("http://127.0.0.1:9")
        .args(["policy", "--from"])
        .arg(&run_doc)
        .args(["--endpoint", "my-endpoint"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).1.contains("is a peakrps.run/v1 document"));
}

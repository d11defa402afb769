//! Fixed results documents for the report tests: a find that doubled to concurrency 8 and
//! bisected back to a peak at 4, a run, and a simulate in the shape of DESIGN.md.
#![allow(dead_code)]

use peakrps::report::{FindResults, FindSettings, LoadInfo, RunResults, TargetInfo};
use peakrps::scaling::Recommendation;
use peakrps::search::{Peak, Step};
use peakrps::stats::{ErrorCounts, LatencySummary, Summary};

fn latency(p50: f64, p90: f64, p99: f64, max: f64) -> LatencySummary {
    LatencySummary { p50, p90, p99, max }
}

struct Figures {
    concurrency: u32,
    rps: f64,
    successes: u64,
    errors: ErrorCounts,
    latency: LatencySummary,
    stable: bool,
    failure: Option<&'static str>,
}

fn step(f: Figures) -> Step {
    let requests = f.successes + f.errors.total();
    let ratio = (f.successes as f64 / requests as f64 * 10_000.0).round() / 10_000.0;
    Step {
        concurrency: Some(f.concurrency),
        offered_rps: None,
        summary: Summary {
            rps: f.rps,
            requests,
            success_ratio: ratio,
            errors: f.errors,
            latency_ms: f.latency,
            dropped: 0,
            duration_s: 6.0,
        },
        latency_at_percentile_ms: f.latency.p99,
        stable: f.stable,
        passed: f.failure.is_none(),
        failure: f.failure.map(String::from),
        windows: 3,
        partial: false,
        first_error: None,
    }
}

fn ok(concurrency: u32, rps: f64, successes: u64, latency: LatencySummary) -> Figures {
    Figures {
        concurrency,
        rps,
        successes,
        errors: ErrorCounts::default(),
        latency,
        stable: true,
        failure: None,
    }
}

pub const STOP_REASON: &str = "p99 latency rose 1.3x at concurrency 5 while throughput grew 0.1%";

/// A find against the embedded server (4 workers × 25 ms: capacity 160 req/s).
pub fn find_fixture() -> FindResults {
    let overload_errors = ErrorCounts {
        throttled: 5,
        server_error: 12,
        timeout: 3,
        ..ErrorCounts::default()
    };
    let steps = vec![
        step(ok(1, 39.6, 238, latency(25.2, 25.6, 26.9, 28.4))),
        step(ok(2, 79.2, 475, latency(25.3, 25.8, 27.4, 29.9))),
        step(ok(4, 158.43, 951, latency(25.4, 26.1, 28.2, 31.7))),
        step(Figures {
            errors: overload_errors,
            failure: Some("success 97.9% is below --min-success 99.0%"),
            ..ok(8, 158.9, 954, latency(50.3, 51.2, 62.8, 80.1))
        }),
        step(Figures {
            failure: Some("p99 latency rose 1.6x at concurrency 6 while throughput grew 0.2%"),
            ..ok(6, 158.7, 952, latency(37.8, 38.6, 45.1, 52.0))
        }),
        step(Figures {
            stable: false,
            failure: Some(STOP_REASON),
            ..ok(5, 158.6, 952, latency(31.5, 32.4, 36.3, 41.0))
        }),
    ];
    let peak = Peak {
        rps: 158.43,
        concurrency: Some(4),
        offered_rps: None,
        latency_ms: latency(25.4, 26.1, 28.2, 31.7),
        success_ratio: 1.0,
        reason: STOP_REASON.into(),
    };
    FindResults {
        schema: FindResults::SCHEMA.into(),
        version: "0.1.0".into(),
        started_at: "2026-01-15T10:00:00Z".into(),
        target: target(),
        mode: "concurrency".into(),
        settings: FindSettings {
            window_s: 2.0,
            warmup_s: 1.0,
            step_duration_s: 30.0,
            stability: 0.1,
            min_success: 0.99,
            percentile: 99.0,
            max_latency_ms: None,
            min_gain: 0.05,
            precision: 0.1,
            max_concurrency: 1024,
            timeout_s: 60.0,
        },
        steps,
        peak: Some(peak),
        recommendation: Recommendation::new(158.43, 0.5).ok(),
        stop_reason: STOP_REASON.into(),
        interrupted: false,
    }
}

fn target() -> TargetInfo {
    TargetInfo {
        kind: "embedded".into(),
        url: "http://127.0.0.1:40123/invocations".into(),
        payload: "embedded sample (text/csv, 1 row)".into(),
    }
}

/// A 10-second run at concurrency 4.
pub fn run_fixture() -> RunResults {
    RunResults {
        schema: RunResults::SCHEMA.into(),
        version: "0.1.0".into(),
        started_at: "2026-01-15T10:05:00Z".into(),
        target: target(),
        load: LoadInfo {
            mode: "concurrency".into(),
            concurrency: Some(4),
            duration_s: Some(10.0),
            requests: None,
        },
        summary: Summary {
            rps: 158.2,
            requests: 1583,
            success_ratio: 0.9994,
            errors: ErrorCounts {
                timeout: 1,
                ..ErrorCounts::default()
            },
            latency_ms: latency(25.4, 26.0, 28.9, 61.2),
            dropped: 0,
            duration_s: 10.0,
        },
        interrupted: false,
    }
}

/// Two hours of a morning ramp, with a five-minute burst, against a policy with target 4752.9 (MAX_RPS 158.43 × 0.5 × 60).
pub fn simulate_fixture_json() -> String {
    let mut minutes = Vec::new();
    let mut instances = 1u32;
    for minute in 0..120u32 {
        let ramp = 40.0
            + 560.0 * (f64::from(minute) / 60.0).min(1.0) * if minute < 90 { 1.0 } else { 0.5 };
        // A burst at minutes 71-75 that the instances in service cannot carry.
        let offered = if (71..76).contains(&minute) {
            1500.0
        } else {
            ramp
        };
        let desired = ((offered / 79.2).ceil() as u32).clamp(1, 10);
        if minute % 5 == 0 {
            instances = desired.max(1);
        }
        let overloaded = offered / f64::from(instances) > 158.43;
        minutes.push(format!(
            r#"{{"minute": {minute}, "offered_rps": {offered:.1}, "instances": {instances}, "desired": {desired}, "invocations_per_instance": {:.1}, "overloaded": {overloaded}, "p99_ms": 30.0, "failed": 0}}"#,
            offered * 60.0 / f64::from(instances)
        ));
    }
    format!(
        r#"{{"schema": "peakrps.simulate/v1", "version": "0.1.0", "started_at": "2026-01-15T11:00:00Z", "max_rps": 158.43,
 "policy": {{"metric": "SageMakerVariantInvocationsPerInstance", "target_value": 4752.9,
            "min_capacity": 1, "max_capacity": 10, "scale_in_cooldown_s": 300, "scale_out_cooldown_s": 300}},
 "timeline": [{}],
 "summary": {{"max_instances": 8, "overloaded_minutes": 6, "requests_at_risk": 52000,
             "instance_minutes": 640, "scale_out_events": 7, "scale_in_events": 2}}}}"#,
        minutes.join(",\n")
    )
}

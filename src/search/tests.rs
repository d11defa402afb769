//! The search against synthetic servers whose figures are known exactly.

use super::*;
use crate::results::{Summary, testing};
use crate::search::testing::rules;

/// W workers, S ms per request: throughput min(c, W)/S, latency S·max(1, c/W).
fn server(workers: f64, service_ms: f64) -> impl Fn(u64) -> (f64, f64) {
    move |c| {
        let c = c as f64;
        let rps = c.min(workers) * 1000.0 / service_ms;
        let latency = service_ms * (c / workers).max(1.0);
        (rps, latency)
    }
}

fn step(level: u64, rps: f64, latency: f64, success_ratio: f64) -> Step {
    let summary = Summary {
        success_ratio,
        ..testing::summary(rps, testing::latency(latency, latency))
    };
    Step {
        concurrency: Some(level as u32),
        ..testing::step(summary, latency)
    }
}

/// Judges `summary` at `level` against `reference` (no interval, no curve).
fn judged(
    rules: &PassRules,
    level: u64,
    label: &str,
    summary: &Summary,
    latency: f64,
    offered_rps: Option<f64>,
    reference: Option<&Step>,
) -> Judgement {
    let m = Measurement {
        level,
        label,
        summary,
        latency_ms: latency,
        offered_rps,
        rps_ci: None,
    };
    judge(
        rules,
        &m,
        &Basis {
            reference,
            scatter: None,
        },
    )
}

fn run(schedule: &Schedule, model: impl Fn(u64) -> (f64, f64, f64)) -> (Outcome, Vec<u64>) {
    let mut tried = Vec::new();
    let outcome = search(schedule, |level, basis| {
        tried.push(level);
        let (rps, latency, ok) = model(level);
        let mut s = step(level, rps, latency, ok);
        let label = s.level_label();
        let j = judged(
            &rules(),
            level,
            &label,
            &s.summary,
            latency,
            None,
            basis.reference,
        );
        s.passed = j.passed;
        s.failure = j.failure;
        Measured::Step(s)
    });
    (outcome, tried)
}

fn schedule(max: u64) -> Schedule {
    Schedule {
        start: 1,
        max,
        precision: 0.0,
        strategy: Strategy::Doubling,
        closed_loop: true,
        shortfall: 0.05,
    }
}

#[test]
fn doubling_levels_end_at_the_max() {
    assert_eq!(schedule(16).doubling(), vec![1, 2, 4, 8, 16]);
    assert_eq!(schedule(100).doubling(), vec![1, 2, 4, 8, 16, 32, 64, 100]);
    assert_eq!(schedule(1).doubling(), vec![1]);
}

#[test]
fn finds_the_knee_of_a_saturating_server_by_bisection() {
    let s = server(6.0, 10.0); // capacity 600 req/s at 6 users
    let (outcome, tried) = run(&schedule(1024), |c| {
        let (r, l) = s(c);
        (r, l, 1.0)
    });
    // 8 users still gain 50% over 4, 16 gain nothing: bisect 8..16 down to one user.
    assert_eq!(tried, vec![1, 2, 4, 8, 16, 12, 10, 9]);
    let peak = outcome.peak.unwrap();
    assert_eq!(peak.rps, 600.0);
    assert_eq!(peak.concurrency, Some(8));
    assert!(
        peak.reason
            .starts_with("latency rose 1.1x at concurrency 9 while throughput grew 0.0%"),
        "{}",
        peak.reason
    );
}

#[test]
fn precision_stops_bisection_early() {
    let s = server(100.0, 10.0);
    let sched = Schedule {
        precision: 0.25,
        ..schedule(1024)
    };
    let (outcome, tried) = run(&sched, |c| {
        let (r, l) = s(c);
        (r, l, 1.0)
    });
    // 256 gains nothing over 128; bisect 192 and 160 (both fail): gap 32 <= 128 × 0.25.
    assert_eq!(tried, vec![1, 2, 4, 8, 16, 32, 64, 128, 256, 192, 160]);
    assert_eq!(outcome.peak.unwrap().rps, 10000.0);
}

#[test]
fn a_drop_in_success_fails_the_step() {
    let s = server(1000.0, 10.0);
    let (outcome, _) = run(&schedule(64), |c| {
        let (r, l) = s(c);
        (r, l, if c >= 32 { 0.9 } else { 1.0 })
    });
    let peak = outcome.peak.unwrap();
    assert_eq!(peak.concurrency, Some(31));
    assert!(
        outcome.reason.contains("success ratio fell to 90.0%"),
        "{}",
        outcome.reason
    );
    assert!(
        outcome
            .steps
            .iter()
            .filter(|s| s.passed)
            .all(|s| s.summary.success_ratio >= 0.99)
    );
}

#[test]
fn no_failure_up_to_the_limit_says_the_peak_may_be_higher() {
    let s = server(1000.0, 10.0);
    let (outcome, tried) = run(&schedule(8), |c| {
        let (r, l) = s(c);
        (r, l, 1.0)
    });
    assert_eq!(tried, vec![1, 2, 4, 8]);
    assert_eq!(outcome.peak.unwrap().concurrency, Some(8));
    assert!(outcome.reason.contains("peak may lie higher"));
}

#[test]
fn a_failing_first_step_gives_no_peak() {
    let (outcome, tried) = run(&schedule(64), |_| (10.0, 5.0, 0.0));
    assert_eq!(tried, vec![1]);
    assert!(outcome.peak.is_none());
    assert!(
        outcome
            .reason
            .starts_with("the first step failed: success ratio fell to 0.0%")
    );
}

#[test]
fn the_gain_must_pay_for_the_load_and_the_latency() {
    let mut reference = step(32, 1000.0, 10.0, 1.0);
    reference.passed = true;
    let passes = |level: u64, rps: f64, latency: f64| {
        let s = step(level, rps, latency, 1.0);
        judged(
            &rules(),
            level,
            "x",
            &s.summary,
            latency,
            None,
            Some(&reference),
        )
        .passed
    };
    // 25% more load must add 1.25% throughput once latency rises beyond the 10% band.
    assert!(!passes(40, 1010.0, 11.2));
    // Latency within the band: no knee, whatever the gain.
    assert!(passes(40, 1000.0, 10.9));
    // 3% more load: 3% more throughput pays for 12% more latency (1.2% needed)...
    assert!(passes(33, 1030.0, 11.2));
    // ...but not for 50% more latency (5% needed).
    assert!(!passes(33, 1030.0, 15.0));
    // A batching server: 40% more throughput for 43% more latency on a doubling is worth it.
    assert!(passes(64, 1400.0, 14.3));
}

#[test]
fn max_latency_fails_the_step() {
    let mut r = rules();
    r.max_latency = Some(std::time::Duration::from_millis(20));
    let s = step(4, 100.0, 25.0, 1.0);
    let j = judged(&r, 4, "concurrency 4", &s.summary, 25.0, None, None);
    assert_eq!(
        j.failure.as_deref(),
        Some("p99 latency 25.0 ms at concurrency 4 exceeded --max-latency 20 ms")
    );
}

#[test]
fn abort_keeps_the_steps_so_far() {
    let mut calls = 0;
    let outcome = search(&schedule(64), |level, _| {
        calls += 1;
        let mut s = step(level, level as f64 * 100.0, 10.0, 1.0);
        s.passed = true;
        if level == 4 {
            s.partial = true;
            return Measured::Abort {
                step: Some(s),
                reason: "interrupted".into(),
            };
        }
        Measured::Step(s)
    });
    assert_eq!(calls, 3);
    assert_eq!(outcome.steps.len(), 3);
    assert_eq!(outcome.reason, "interrupted");
    // a partial step is never the peak
    assert_eq!(outcome.peak.unwrap().concurrency, Some(2));
}

#[test]
fn rate_steps_must_achieve_the_offered_rate_and_drop_nothing() {
    let judge_step = |s: &Step| {
        judged(
            &rules(),
            1000,
            "rate 1000/s",
            &s.summary,
            10.0,
            Some(1000.0),
            None,
        )
    };
    let mut s = step(1000, 985.0, 10.0, 1.0);
    s.concurrency = None;
    s.offered_rps = Some(1000.0);
    assert!(judge_step(&s).passed);
    s.summary.rps = 975.0;
    assert_eq!(
        judge_step(&s).failure.as_deref(),
        Some(
            "achieved 975.0 req/s at rate 1000/s, 97.5% of the 1000.0 req/s that fell due (at least 98% needed)"
        )
    );
    s.summary.rps = 1000.0;
    s.summary.dropped = 3;
    assert!(
        judge_step(&s)
            .failure
            .unwrap()
            .starts_with("3 requests could not be sent at rate 1000/s")
    );
}

/// A Poisson schedule at 10 req/s for 30 s put 290 requests due, not 300: all answered is
/// 9.67 req/s, which is every request that fell due and passes, though it is 96.7 % of 10.
#[test]
fn rate_steps_are_judged_on_the_requests_that_fell_due() {
    let judge_step = |s: &Step| {
        judged(
            &rules(),
            10,
            "rate 10/s",
            &s.summary,
            10.0,
            Some(10.0),
            None,
        )
    };
    let mut s = step(10, 290.0 / 30.0, 10.0, 1.0);
    s.concurrency = None;
    s.offered_rps = Some(10.0);
    s.summary.duration_s = 30.0;
    s.summary.scheduled = Some(290);
    let j = judge_step(&s);
    assert!(j.passed, "{j:?}");
    s.summary.rps = 280.0 / 30.0;
    assert!(
        !judge_step(&s).passed,
        "10 of 290 unanswered in time is short"
    );
}

/// A passing step that never settled is not the peak while a settled one passed; it is
/// when it is the only passing one, and the reason says so.
#[test]
fn an_unsettled_step_is_the_peak_only_when_no_settled_one_passed() {
    let mut steps = Vec::new();
    for (level, rps, stable) in [(1, 40.0, true), (2, 80.0, false), (4, 81.0, false)] {
        let mut s = step(level, rps, 25.0, 1.0);
        s.passed = level < 4;
        s.stable = stable;
        steps.push(s);
    }
    let outcome = conclude(steps.clone(), "stopped".into());
    assert_eq!(outcome.peak.map(|p| p.concurrency), Some(Some(1)));
    steps[0].stable = false;
    let outcome = conclude(steps, "stopped".into());
    let peak = outcome.peak.expect("a passing step");
    assert_eq!(peak.concurrency, Some(2));
    assert!(
        peak.reason.contains("no passing step settled"),
        "{}",
        peak.reason
    );
}

/// Levels 1, 2, 4 settle and pass; 8 passes its rules but never settles: it is not a level
/// the target sustains, so the search bisects below it (6, then 5) instead of climbing on.
#[test]
fn an_unsettled_step_after_a_settled_one_is_a_failure_to_bisect_below() {
    let mut tried = Vec::new();
    let outcome = search(&schedule(64), |level, _| {
        tried.push(level);
        let mut s = step(level, 40.0 * level as f64, 25.0, 1.0);
        s.passed = true;
        s.stable = level < 8;
        Measured::Step(s)
    });
    assert_eq!(tried, vec![1, 2, 4, 8, 6, 7]);
    let peak = outcome.peak.expect("a peak");
    assert_eq!(peak.concurrency, Some(7));
    let eight = &outcome.steps[3];
    assert!(!eight.passed);
    assert!(
        eight
            .failure
            .as_deref()
            .is_some_and(|f| f.contains("did not settle"))
    );
}

/// The knee judged on the median as well as the percentile, and a gain counted only beyond
/// the noise: MLflow's scoring server gave 5-10 % more at concurrency 32 than at 16 while its
/// median went from 80 to 150 ms, and its p99 (already high) rose only 10 %.
mod noise {
    use super::*;
    use crate::results::Interval;

    fn at(level: u64, rps: f64, p50: f64, p99: f64, half_width: f64) -> Step {
        let mut s = step(level, rps, p99, 1.0);
        s.summary.latency_ms.p50 = p50;
        s.rps_ci = Some(Interval {
            half_width,
            confidence: 0.95,
            windows: 3,
        });
        s.passed = true;
        s
    }

    fn verdict(reference: &Step, s: &Step, scatter: Option<f64>) -> Judgement {
        let label = s.level_label();
        let m = Measurement {
            level: s.level(),
            label: &label,
            summary: &s.summary,
            latency_ms: s.latency_at_percentile_ms,
            offered_rps: None,
            rps_ci: s.rps_ci.as_ref(),
        };
        let basis = Basis {
            reference: Some(reference),
            scatter,
        };
        judge(&rules(), &m, &basis)
    }

    #[test]
    fn a_median_that_rose_calls_the_knee_the_percentile_missed() {
        let sixteen = at(16, 191.0, 80.0, 300.0, 1.0);
        // 7 % more throughput for twice the load: the p99 rose 10 % (no knee by it alone),
        // the median 1.9x, which asks for 8.8 %.
        let j = verdict(&sixteen, &at(32, 204.4, 150.0, 330.0, 1.0), None);
        assert_eq!(
            j.failure.as_deref(),
            Some("median latency rose 1.9x at concurrency 32 while throughput grew 7.0%")
        );
        // The same gain with the median flat passes: 5 % per doubling is all it needs.
        assert!(verdict(&sixteen, &at(32, 204.4, 84.0, 330.0, 1.0), None).passed);
    }

    #[test]
    fn a_gain_within_the_noise_of_the_two_steps_is_no_gain() {
        // ±25 req/s on each (three windows): standard errors of 25/4.303 = 5.81, Welch's
        // 4 degrees of freedom, so the gain must pass 2.132 × √2 × 5.81 = 17.5 req/s, 9.2 %.
        let sixteen = at(16, 191.0, 80.0, 300.0, 25.0);
        let j = verdict(&sixteen, &at(24, 205.0, 100.0, 330.0, 25.0), None);
        assert!(!j.passed);
        let why = j.failure.unwrap_or_default();
        assert!(
            why.ends_with("grew 7.3%, within the 9.2% a real gain must pass"),
            "{why}"
        );
        // The same figures measured to ±2 req/s: a real gain, and worth the latency.
        let sixteen = at(16, 191.0, 80.0, 300.0, 2.0);
        assert!(verdict(&sixteen, &at(24, 205.0, 100.0, 330.0, 2.0), None).passed);
        // The curve's scatter between steps counts as noise too: 4 % makes
        // 1.645 × √2 × 4 = 9.3 %.
        assert!(!verdict(&sixteen, &at(24, 205.0, 100.0, 330.0, 2.0), Some(0.04)).passed);
    }

    #[test]
    fn latency_that_did_not_rise_calls_no_knee_whatever_the_throughput_did() {
        let sixteen = at(16, 191.0, 80.0, 300.0, 10.0);
        let j = verdict(&sixteen, &at(17, 190.0, 84.0, 320.0, 10.0), None);
        assert!(j.passed, "{j:?}");
    }
}

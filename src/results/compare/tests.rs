//! The comparison's arithmetic and its refusals, over results built here.

use super::*;
use crate::results::{InstanceInfo, Interval, Peak, Recommendation};

/// A find result whose peak is `max_rps` (safety factor 0.5), optionally priced.
fn input(name: &str, max_rps: f64, recorded_price: Option<f64>) -> Input {
    let text = include_str!("../../../examples/find-results.json");
    let mut results: FindResults = serde_json::from_str(text).expect("the example reads");
    let peak = results.peak.as_mut().expect("the example has a peak");
    peak.rps = max_rps;
    peak.rps_ci = Some(Interval {
        half_width: 3.0,
        confidence: 0.95,
        windows: 3,
    });
    results.recommendation = Recommendation::new(max_rps, 0.5).ok();
    results.instance = recorded_price
        .map(|p| InstanceInfo {
            type_name: Some(name.into()),
            price_per_hour: Some(p),
        })
        .map(Box::new);
    Input {
        name: name.into(),
        source: format!("{name}.json"),
        results,
    }
}

fn terms<'a>(prices: &'a [(String, f64)], traffic: Option<f64>) -> Terms<'a> {
    Terms {
        prices,
        safety_factor: None,
        traffic,
    }
}

#[test]
fn cost_per_million_and_instances_follow_from_the_operating_point() {
    let prices = [("small".to_string(), 0.36)];
    let r = compare(
        vec![input("small", 200.0, None)],
        &terms(&prices, Some(1000.0)),
    )
    .expect("compares");
    let c = &r.candidates[0];
    // 200 × 0.5 = 100 req/s = 360,000 requests an hour for $0.36: $1 a million.
    assert_eq!(c.operating_rps, 100.0);
    assert!((c.cost_per_million.expect("priced") - 1.0).abs() < 1e-12);
    // 1000 req/s at 100 each: 10 instances, $3.60 an hour.
    assert_eq!(c.instances, Some(10));
    assert!((c.cost_per_hour.expect("priced") - 3.6).abs() < 1e-12);
    assert_eq!(c.max_rps_ci, Some(3.0));
}

/// Three candidates: the fastest is not the cheapest per request, and a traffic peak that
/// rounds instances up can change the pick.
#[test]
fn the_cheapest_is_judged_per_request_or_per_hour_of_the_traffic() {
    let inputs = || {
        vec![
            input("ml.c5.xlarge", 150.0, Some(0.204)),
            input("ml.g4dn.xlarge", 600.0, Some(0.736)),
            input("ml.g5.xlarge", 1000.0, Some(1.408)),
        ]
    };
    // Operating at 75, 300 and 500 req/s: $0.756, $0.681 and $0.782 a million requests.
    let r = compare(inputs(), &terms(&[], None)).expect("compares");
    assert_eq!(r.cheapest.as_deref(), Some("ml.g4dn.xlarge"));
    assert!(r.judged_by.contains("per million"));
    // 310 req/s: 5 c5 ($1.02), 2 g4dn ($1.472), 1 g5 ($1.408): c5.
    let r = compare(inputs(), &terms(&[], Some(310.0))).expect("compares");
    assert_eq!(r.cheapest.as_deref(), Some("ml.c5.xlarge"));
    let counts: Vec<Option<u64>> = r.candidates.iter().map(|c| c.instances).collect();
    assert_eq!(counts, [Some(5), Some(2), Some(1)]);
    // --price overrides what a result recorded: g5 at $0.50 wins both ways.
    let prices = [("ml.g5.xlarge".to_string(), 0.5)];
    let r = compare(inputs(), &terms(&prices, Some(310.0))).expect("compares");
    assert_eq!(r.cheapest.as_deref(), Some("ml.g5.xlarge"));
}

#[test]
fn unpriced_candidates_are_compared_but_never_cheapest() {
    let r = compare(
        vec![input("a", 100.0, None), input("b", 200.0, Some(1.0))],
        &terms(&[], None),
    )
    .expect("compares");
    assert_eq!(r.candidates[0].cost_per_million, None);
    assert_eq!(r.cheapest.as_deref(), Some("b"));
    let r = compare(vec![input("a", 100.0, None)], &terms(&[], None)).expect("compares");
    assert_eq!(r.cheapest, None);
}

#[test]
fn names_that_clash_prices_for_no_one_and_results_without_a_peak_are_refused() {
    let err = compare(
        vec![input("a", 100.0, None), input("a", 200.0, None)],
        &terms(&[], None),
    )
    .expect_err("two named a");
    assert!(err.to_string().contains("both named a"), "{err}");
    assert_eq!(err.exit_code(), 2);
    let prices = [("c".to_string(), 1.0)];
    let err =
        compare(vec![input("a", 100.0, None)], &terms(&prices, None)).expect_err("no candidate c");
    assert_eq!(
        err.to_string(),
        "--price c=…: no candidate is named c (they are: a)"
    );
    let mut no_peak = input("a", 100.0, None);
    no_peak.results.peak = None::<Peak>;
    let err = compare(vec![no_peak], &terms(&[], None)).expect_err("no peak");
    assert!(
        err.to_string().starts_with("a.json: no load level passed"),
        "{err}"
    );
}

//! The fitted curves drawn on the `find` page's throughput chart: the USL through the
//! measured points with N* marked, and the bounds when they placed the probes.

use super::style::{BOUNDS, MODEL, MODEL_RULE, rule};
use crate::report::format::sig3;
use crate::report::svg::{LineChart, Point, Series};
use crate::results::CurveModel;

/// More points than the chart draws markers for: a curve, not data.
const CURVE_POINTS: usize = 81;

/// Adds the curves (over the measured levels, `lo` to `hi`) and the N* rule to `chart`;
/// N* only when it lies within twice the highest level measured, so the axis keeps the
/// steps readable.
pub(super) fn add_model(chart: &mut LineChart, model: &CurveModel, lo: f64, hi: f64) {
    if !(lo > 0.0 && hi > lo) {
        return;
    }
    if let Some(u) = &model.usl {
        let curve = |n: f64| u.lambda * n / (1.0 + u.sigma * (n - 1.0) + u.kappa * n * (n - 1.0));
        let name = format!("USL fit (R² {:.3})", u.r_squared);
        chart
            .series
            .push(Series::new(name, MODEL, sample(lo, hi, curve)));
        if let (Some(n), Some(x)) = (u.peak_concurrency, u.peak_rps)
            && n <= 2.0 * hi
        {
            let label = format!("USL N* {} (X {} req/s)", sig3(n), sig3(x));
            chart.rules.push(rule(true, n, label, MODEL_RULE));
        }
    }
    if let (Some(b), Some("bounds")) = (&model.bounds, model.guide.as_deref()) {
        let curve = |n: f64| (b.slope * n).min(b.ceiling_rps);
        let name = format!("bounds (knee {})", sig3(b.knee));
        chart
            .series
            .push(Series::new(name, BOUNDS, sample(lo, hi, curve)));
    }
}

/// `curve` at levels spaced evenly on a log scale from `lo` to `hi`.
fn sample(lo: f64, hi: f64, curve: impl Fn(f64) -> f64) -> Vec<Point> {
    let ratio = (hi / lo).ln();
    (0..CURVE_POINTS)
        .map(|i| {
            let x = lo * (ratio * i as f64 / (CURVE_POINTS - 1) as f64).exp();
            let y = curve(x);
            Point {
                x,
                y,
                title: format!("fitted: {} req/s at {}", sig3(y), sig3(x)),
            }
        })
        .collect()
}

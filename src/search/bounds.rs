//! The asymptotic bounds of operational analysis fitted to throughput against load:
//! `X ≤ slope × level` (each user, or each offered req/s, adds a fixed throughput) and
//! `X ≤ ceiling` (the most the server gives). A server of fixed workers follows them to the
//! knee where they cross: a hard knee, which the USL can only bend around.

use super::usl::Observation;

/// `X = min(slope × level, ceiling)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bounds {
    pub slope: f64,
    pub ceiling: f64,
}

impl Bounds {
    pub fn throughput(&self, level: f64) -> f64 {
        (self.slope * level).min(self.ceiling)
    }

    /// Where the line meets the ceiling.
    pub fn knee(&self) -> f64 {
        self.ceiling / self.slope
    }
}

/// The bounds fitted, and how well they fit.
#[derive(Clone, Debug, PartialEq)]
pub struct Fit {
    pub bounds: Bounds,
    pub points: usize,
    /// Coefficients fitted: 2, or 1 when the slope was given.
    pub parameters: usize,
    pub r_squared: f64,
    /// Measured minus predicted throughput, one per point in the order given.
    pub residuals: Vec<f64>,
    /// The residuals' typical size relative to the curve, per degree of freedom.
    pub scatter: f64,
}

/// Fits the bounds: every split of the points (by level) into a rising part and a plateau
/// is tried, the slope by weighted least squares through the origin on the rising part
/// (or `slope` when it is known: 1 for offered rates), the ceiling as the weighted mean of
/// the plateau; the split with the least weighted squared error wins. A plateau must lie at
/// least `margin` below the line, so a curve still rising shows none: `None` then, and with
/// fewer points than coefficients plus one.
pub fn fit(points: &[Observation], slope: Option<f64>, margin: f64) -> Option<Fit> {
    let mut sorted: Vec<Observation> = points
        .iter()
        .copied()
        .filter(|p| p.n > 0.0 && p.x.is_finite() && p.sd > 0.0)
        .collect();
    sorted.sort_by(|a, b| a.n.total_cmp(&b.n));
    let parameters = if slope.is_some() { 1 } else { 2 };
    if sorted.len() < parameters + 1 {
        return None;
    }
    let best = (1..sorted.len())
        .filter_map(|split| candidate(&sorted, split, slope, margin))
        .min_by(|a, b| cost(&sorted, a).total_cmp(&cost(&sorted, b)))?;
    Some(quality(points, best, parameters))
}

/// The bounds of one split: `sorted[..split]` rising, `sorted[split..]` the plateau.
fn candidate(
    sorted: &[Observation],
    split: usize,
    slope: Option<f64>,
    margin: f64,
) -> Option<Bounds> {
    let (rising, plateau) = sorted.split_at(split);
    let weight = |p: &Observation| 1.0 / (p.sd * p.sd);
    let slope = slope.unwrap_or_else(|| {
        let nx: f64 = rising.iter().map(|p| weight(p) * p.n * p.x).sum();
        let nn: f64 = rising.iter().map(|p| weight(p) * p.n * p.n).sum();
        nx / nn
    });
    let total: f64 = plateau.iter().map(weight).sum();
    let ceiling = plateau.iter().map(|p| weight(p) * p.x).sum::<f64>() / total;
    let bounds = Bounds { slope, ceiling };
    if !(slope > 0.0 && ceiling > 0.0 && slope.is_finite() && ceiling.is_finite()) {
        return None;
    }
    let knee = bounds.knee();
    let (last_rising, first_flat) = (rising.last()?.n, plateau.first()?.n);
    // The plateau lies clearly below the line, and the rising part not far past the knee.
    (knee * (1.0 + margin) <= first_flat && knee * (1.0 + margin) >= last_rising).then_some(bounds)
}

fn cost(points: &[Observation], b: &Bounds) -> f64 {
    points
        .iter()
        .map(|p| ((p.x - b.throughput(p.n)) / p.sd).powi(2))
        .sum()
}

fn quality(points: &[Observation], bounds: Bounds, parameters: usize) -> Fit {
    let n = points.len();
    let mean = points.iter().map(|p| p.x).sum::<f64>() / n as f64;
    let residuals: Vec<f64> = points
        .iter()
        .map(|p| p.x - bounds.throughput(p.n))
        .collect();
    let ss_res: f64 = residuals.iter().map(|r| r * r).sum();
    let ss_tot: f64 = points.iter().map(|p| (p.x - mean).powi(2)).sum();
    let relative: f64 = points
        .iter()
        .zip(&residuals)
        .map(|(p, r)| (r / bounds.throughput(p.n).max(f64::MIN_POSITIVE)).powi(2))
        .sum();
    Fit {
        bounds,
        points: n,
        parameters,
        r_squared: if ss_tot > 0.0 {
            1.0 - ss_res / ss_tot
        } else {
            0.0
        },
        residuals,
        scatter: (relative / n.saturating_sub(parameters).max(1) as f64).sqrt(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn points(data: &[(f64, f64)]) -> Vec<Observation> {
        data.iter()
            .map(|&(n, x)| Observation { n, x, sd: 0.01 * x })
            .collect()
    }

    #[test]
    fn a_server_of_fixed_workers_has_its_knee_at_the_workers() {
        // 6 workers of 10 ms: 100 req/s a user up to 600.
        let data = [
            (1.0, 100.0),
            (2.0, 200.0),
            (4.0, 400.0),
            (8.0, 600.0),
            (16.0, 600.0),
        ];
        let f = fit(&points(&data), None, 0.05).expect("a plateau");
        assert!((f.bounds.knee() - 6.0).abs() < 1e-9, "{f:?}");
        assert!(f.r_squared > 0.999_999, "{f:?}");
    }

    #[test]
    fn a_curve_still_rising_has_no_plateau() {
        let data = [(1.0, 100.0), (2.0, 200.0), (4.0, 400.0)];
        assert_eq!(fit(&points(&data), None, 0.05), None);
        // 8 users at 780 (97.5 % of the line): within the margin, not a plateau.
        let data = [(1.0, 100.0), (2.0, 200.0), (4.0, 400.0), (8.0, 780.0)];
        assert_eq!(fit(&points(&data), None, 0.05), None);
    }

    #[test]
    fn offered_rates_rise_one_for_one_to_the_ceiling() {
        // 100 req/s achieved, 200 offered: 157 achieved.
        let data = [(100.0, 100.0), (200.0, 157.0)];
        let f = fit(&points(&data), Some(1.0), 0.05).expect("a ceiling");
        assert!((f.bounds.knee() - 157.0).abs() < 1e-9, "{f:?}");
        assert_eq!(
            fit(&points(&data), None, 0.05),
            None,
            "two points, two coefficients"
        );
    }
}

//! Confidence intervals for a step's throughput: batch means, each measurement window one
//! batch, with Student's t for the few windows a settled step keeps (three), so MAX_RPS comes
//! with the uncertainty its own windows show.

use super::window::Window;
use crate::results::Interval;

/// The confidence level of every interval peakrps reports.
pub const CONFIDENCE: f64 = 0.95;

/// Two-sided 95 % quantiles of Student's t, for 1 to 30 degrees of freedom.
const T95: [f64; 30] = [
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
    2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
    2.052, 2.048, 2.045, 2.042,
];

/// The two-sided 95 % quantile of Student's t with `df` degrees of freedom (`None` for 0).
/// Past 30, `1.96 + 2.5/df` is within 0.003 of the exact value (2.021 at 40, 1.980 at 120).
pub fn t95(df: usize) -> Option<f64> {
    match df {
        0 => None,
        1..=30 => Some(T95[df - 1]),
        _ => Some(1.96 + 2.5 / df as f64),
    }
}

/// The 95 % interval of the mean of `samples` (independent batch means): half-width
/// `t(n−1) · s / √n`. `None` with fewer than two samples.
pub fn mean_half_width(samples: &[f64]) -> Option<f64> {
    let n = samples.len();
    let t = t95(n.checked_sub(1)?)?;
    let mean = samples.iter().sum::<f64>() / n as f64;
    let variance = samples.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let half = t * (variance / n as f64).sqrt();
    half.is_finite().then_some(half)
}

/// The interval of the throughput measured over `windows` (a settled step's last three):
/// each window's successful answers per second is one batch mean.
pub fn rate_interval(windows: &[Window]) -> Option<Interval> {
    let rates: Vec<f64> = windows.iter().map(Window::rps).collect();
    Some(Interval {
        half_width: mean_half_width(&rates)?,
        confidence: CONFIDENCE,
        windows: u32::try_from(rates.len()).unwrap_or(u32::MAX),
    })
}

/// One standard error of the mean an interval was made from: its half-width over t.
pub fn standard_error(interval: &Interval) -> Option<f64> {
    let df = usize::try_from(interval.windows).ok()?.checked_sub(1)?;
    Some(interval.half_width / t95(df)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_match_the_tables() {
        assert_eq!(t95(0), None);
        assert_eq!(t95(2), Some(4.303));
        // Beyond the table the approximation stays within 0.003 of the exact quantiles.
        for (df, exact) in [(40, 2.021), (60, 2.000), (120, 1.980)] {
            let t = t95(df).expect("df > 0");
            assert!((t - exact).abs() < 0.003, "{df}: {t}");
        }
    }

    #[test]
    fn three_windows_give_a_student_t_interval() {
        // mean 100, s = 2: half-width 4.303 × 2 / √3 = 4.969.
        let half = mean_half_width(&[98.0, 100.0, 102.0]).expect("three samples");
        assert!((half - 4.303 * 2.0 / 3f64.sqrt()).abs() < 1e-9, "{half}");
        assert_eq!(mean_half_width(&[100.0]), None);
        assert_eq!(mean_half_width(&[100.0, 100.0, 100.0]), Some(0.0));
    }

    /// The interval covers the true mean about 95 % of the time: 2,000 sets of three
    /// normal samples (a seeded generator), coverage within 93.5-96.5 % (three binomial
    /// standard deviations of 0.49 % around 95 %).
    #[test]
    fn the_interval_covers_the_mean_as_often_as_it_claims() {
        let mut rng = fastrand::Rng::with_seed(7);
        let mut normal = || {
            let u1 = rng.f64().max(f64::MIN_POSITIVE);
            let u2 = rng.f64();
            (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
        };
        let trials = 2000;
        let covered = (0..trials)
            .filter(|_| {
                let s = [
                    100.0 + 3.0 * normal(),
                    100.0 + 3.0 * normal(),
                    100.0 + 3.0 * normal(),
                ];
                let mean = s.iter().sum::<f64>() / 3.0;
                (mean - 100.0).abs() <= mean_half_width(&s).expect("three samples")
            })
            .count();
        let share = covered as f64 / trials as f64;
        assert!((0.935..=0.965).contains(&share), "{share}");
    }
}

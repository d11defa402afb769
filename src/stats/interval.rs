//! Confidence intervals for a step's throughput: batch means, each measurement window one
//! batch, with Student's t for the few windows a settled step keeps (three), so MAX_RPS comes
//! with the uncertainty its own windows show, and never less than counting whole answers
//! leaves.

use super::window::Window;
use crate::results::Interval;

/// The confidence level of every interval peakrps reports.
pub const CONFIDENCE: f64 = 0.95;

/// 95 % quantiles of Student's t for 1 to 30 degrees of freedom: (two-sided, one-sided).
const T95: [(f64, f64); 30] = [
    (12.706, 6.314),
    (4.303, 2.920),
    (3.182, 2.353),
    (2.776, 2.132),
    (2.571, 2.015),
    (2.447, 1.943),
    (2.365, 1.895),
    (2.306, 1.860),
    (2.262, 1.833),
    (2.228, 1.812),
    (2.201, 1.796),
    (2.179, 1.782),
    (2.160, 1.771),
    (2.145, 1.761),
    (2.131, 1.753),
    (2.120, 1.746),
    (2.110, 1.740),
    (2.101, 1.734),
    (2.093, 1.729),
    (2.086, 1.725),
    (2.080, 1.721),
    (2.074, 1.717),
    (2.069, 1.714),
    (2.064, 1.711),
    (2.060, 1.708),
    (2.056, 1.706),
    (2.052, 1.703),
    (2.048, 1.701),
    (2.045, 1.699),
    (2.042, 1.697),
];

/// The two-sided 95 % quantile of Student's t with `df` degrees of freedom (`None` for 0).
/// Past 30, `1.96 + 2.5/df` is within 0.003 of the exact value (2.021 at 40, 1.980 at 120).
pub fn t95(df: usize) -> Option<f64> {
    quantile(df, |row| row.0, 1.96, 2.5)
}

/// A quantile of Student's t, `side` of the table's row for 1 to 30 degrees of freedom,
/// past it `normal + slope/df`; `None` for 0.
fn quantile(df: usize, side: fn(&(f64, f64)) -> f64, normal: f64, slope: f64) -> Option<f64> {
    match df {
        0 => None,
        1..=30 => Some(side(&T95[df - 1])),
        _ => Some(normal + slope / df as f64),
    }
}

/// The 95 % interval of the mean of `samples` (independent batch means): half-width
/// `t(n−1) · s / √n`. `None` with fewer than two samples.
pub fn mean_half_width(samples: &[f64]) -> Option<f64> {
    half_width_at_least(samples, 0.0)
}

/// `mean_half_width` with the samples' variance taken as at least `min_variance`.
fn half_width_at_least(samples: &[f64], min_variance: f64) -> Option<f64> {
    let n = samples.len();
    let t = t95(n.checked_sub(1)?)?;
    let mean = samples.iter().sum::<f64>() / n as f64;
    let variance = samples.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let half = t * (variance.max(min_variance) / n as f64).sqrt();
    half.is_finite().then_some(half)
}

/// The interval of the throughput measured over `windows` (a settled step's last three):
/// each window's successful answers per second is one batch mean. A window counts whole
/// answers, so its rate is known only to one answer over its duration d: windows that agree
/// exactly (a closed loop can phase-lock) still leave the variance of that rounding,
/// 1/(12·d²), and the interval is never narrower than it gives.
pub fn rate_interval(windows: &[Window]) -> Option<Interval> {
    let rates: Vec<f64> = windows.iter().map(Window::rps).collect();
    let seconds = windows
        .iter()
        .map(|w| w.duration.as_secs_f64())
        .sum::<f64>();
    let mean_duration = seconds / windows.len().max(1) as f64;
    let rounding = match mean_duration > 0.0 {
        true => 1.0 / (12.0 * mean_duration * mean_duration),
        false => 0.0,
    };
    Some(Interval {
        half_width: half_width_at_least(&rates, rounding)?,
        confidence: CONFIDENCE,
        windows: u32::try_from(rates.len()).unwrap_or(u32::MAX),
    })
}

/// The one-sided 95 % quantile of Student's t with `df` degrees of freedom (`None` for 0).
/// Past 30, `1.645 + 1.6/df` is within 0.002 of the exact value (1.684 at 40, 1.658 at 120).
pub fn t95_one_sided(df: usize) -> Option<f64> {
    quantile(df, |row| row.1, 1.645, 1.6)
}

/// How much larger `b`'s mean must be than `a`'s for the difference to be real: Welch's
/// one-sided test at 95 %, `t(0.95, ν) × √(se_a² + se_b²)` with the Welch–Satterthwaite ν
/// (rounded down), the standard errors recovered from the intervals. 0 when neither mean
/// varied; `None` when an interval says nothing (fewer than two windows).
pub fn real_difference(a: &Interval, b: &Interval) -> Option<f64> {
    let (se_a, se_b) = (standard_error(a)?, standard_error(b)?);
    let (va, vb) = (se_a * se_a, se_b * se_b);
    if va + vb <= 0.0 {
        return Some(0.0);
    }
    let df_of = |i: &Interval| f64::from(i.windows.saturating_sub(1).max(1));
    let welch = (va + vb).powi(2) / (va * va / df_of(a) + vb * vb / df_of(b));
    let t = t95_one_sided((welch.floor() as usize).max(1))?;
    Some(t * (va + vb).sqrt())
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

    /// Two steps of three windows each with the same spread: ν = 4, so the difference must
    /// pass t(0.95, 4) = 2.132 standard errors of it; a step whose windows agreed exactly
    /// adds nothing, and leaves the other's 2 degrees of freedom (t = 2.920).
    #[test]
    fn a_difference_is_real_past_welchs_one_sided_threshold() {
        let ci = |half_width| Interval {
            half_width,
            confidence: CONFIDENCE,
            windows: 3,
        };
        let se = 4.303_f64.recip() * 10.0;
        let both = real_difference(&ci(10.0), &ci(10.0)).expect("intervals");
        assert!(
            (both - 2.132 * (2.0 * se * se).sqrt()).abs() < 1e-9,
            "{both}"
        );
        let one = real_difference(&ci(0.0), &ci(10.0)).expect("intervals");
        assert!((one - 2.920 * se).abs() < 1e-9, "{one}");
        assert_eq!(real_difference(&ci(0.0), &ci(0.0)), Some(0.0));
        let single = Interval {
            windows: 1,
            ..ci(1.0)
        };
        assert_eq!(real_difference(&single, &ci(1.0)), None);
    }

    /// Three 2 s windows of 312 answers each: the rates agree exactly, yet each is known
    /// only to one answer in 2 s; the interval is t(2) × √(1/48 / 3) = 0.358, not 0. Windows
    /// that disagree more than rounding keep their own spread.
    #[test]
    fn windows_that_agree_exactly_keep_the_doubt_of_counting() {
        let window = |index, answered| {
            let mut tally = crate::stats::Tally::new();
            tally.answered = answered;
            Window {
                index,
                duration: std::time::Duration::from_secs(2),
                tally,
            }
        };
        let same = [window(0, 312), window(1, 312), window(2, 312)];
        let interval = rate_interval(&same).expect("three windows");
        let expected = 4.303 * (1.0 / 48.0 / 3.0_f64).sqrt();
        assert!(
            (interval.half_width - expected).abs() < 1e-9,
            "{interval:?}"
        );
        let spread = [window(0, 308), window(1, 312), window(2, 316)];
        let interval = rate_interval(&spread).expect("three windows");
        assert!((interval.half_width - 4.303 * 2.0 / 3f64.sqrt()).abs() < 1e-9);
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

//! Where values land on an axis: the mapping of a value range onto pixels (linear or log)
//! and the domain and round-numbered ticks an axis gets for its data.

use super::{Axis, Scale};

/// Maps a value range onto a pixel range, linearly or logarithmically.
#[derive(Clone, Copy, Debug)]
pub(super) struct Mapping {
    pub scale: Scale,
    pub lo: f64,
    pub hi: f64,
    pub from_px: f64,
    pub to_px: f64,
}

impl Mapping {
    fn transform(&self, v: f64) -> f64 {
        match self.scale {
            Scale::Linear => v,
            Scale::Log2 => v.max(f64::MIN_POSITIVE).log2(),
            Scale::Log10 => v.max(f64::MIN_POSITIVE).log10(),
        }
    }

    pub fn px(&self, v: f64) -> f64 {
        let v = v.clamp(self.lo, self.hi);
        let (a, b) = (self.transform(self.lo), self.transform(self.hi));
        let t = if b > a {
            (self.transform(v) - a) / (b - a)
        } else {
            0.5
        };
        self.from_px + t * (self.to_px - self.from_px)
    }
}

/// The domain and ticks of an axis for the given values.
pub(super) fn domain(axis: &Axis, values: &[f64]) -> (f64, f64, Vec<f64>) {
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    match axis.scale {
        Scale::Linear => linear_domain(&finite, axis.from_zero),
        Scale::Log2 => log_domain(&finite, &[1.0], 2.0),
        Scale::Log10 => log_domain(&finite, &[1.0, 2.0, 5.0], 10.0),
    }
}

/// Values beyond this are drawn at it: no real figure is that large, and a hand-edited file
/// with 1e308 must not make the tick arithmetic overflow.
const LIMIT: f64 = 1e15;

pub(super) fn linear_domain(values: &[f64], from_zero: bool) -> (f64, f64, Vec<f64>) {
    let values: Vec<f64> = values
        .iter()
        .filter(|v| v.is_finite())
        .map(|v| v.clamp(-LIMIT, LIMIT))
        .collect();
    let max = values.iter().copied().fold(f64::MIN, f64::max);
    let min = values.iter().copied().fold(f64::MAX, f64::min);
    let (mut lo, mut hi) = if values.is_empty() {
        (0.0, 1.0)
    } else {
        (min, max)
    };
    if from_zero {
        lo = lo.min(0.0);
        hi = hi.max(0.0);
    }
    if hi - lo < 1e-9 {
        hi = lo + lo.abs().max(1.0);
    }
    let step = nice_step((hi - lo) / 5.0);
    let lo = (lo / step).floor() * step;
    let hi = (hi / step).ceil() * step;
    let count = ((hi - lo) / step).round().clamp(1.0, 20.0) as usize;
    let ticks = (0..=count).map(|i| lo + i as f64 * step).collect();
    (lo, hi, ticks)
}

/// 1, 2, 2.5 or 5 × 10^k, the nearest at or above `raw`.
fn nice_step(raw: f64) -> f64 {
    let raw = if raw.is_finite() && raw > 0.0 {
        raw
    } else {
        1.0
    };
    let magnitude = 10f64.powf(raw.log10().floor());
    let fraction = raw / magnitude;
    let nice = [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .find(|n| *n >= fraction - 1e-9)
        .unwrap_or(10.0);
    nice * magnitude
}

fn log_domain(values: &[f64], mantissas: &[f64], base: f64) -> (f64, f64, Vec<f64>) {
    let positive: Vec<f64> = values.iter().copied().filter(|v| *v > 0.0).collect();
    let min = positive.iter().copied().fold(f64::MAX, f64::min);
    let max = positive.iter().copied().fold(f64::MIN, f64::max);
    let (min, max) = if positive.is_empty() {
        (1.0, base)
    } else {
        (min, max)
    };
    let mut lo = base.powf(min.log(base).floor());
    let mut hi = base.powf(max.log(base).ceil());
    if hi <= lo {
        hi = lo * base;
    }
    let mut ticks = Vec::new();
    let mut decade = lo;
    while decade <= hi * (1.0 + 1e-9) && ticks.len() < 64 {
        ticks.extend(
            mantissas
                .iter()
                .map(|m| m * decade)
                .filter(|t| *t <= hi * (1.0 + 1e-9)),
        );
        decade *= base;
    }
    // Tighten to the ticks around the data so the plot is not mostly empty.
    if let Some(t) = ticks.iter().rev().find(|t| **t <= min * (1.0 + 1e-9)) {
        lo = *t;
    }
    if let Some(t) = ticks.iter().find(|t| **t >= max * (1.0 - 1e-9)) {
        hi = *t;
    }
    ticks.retain(|t| *t >= lo * (1.0 - 1e-9) && *t <= hi * (1.0 + 1e-9));
    (lo, hi, ticks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_ticks_are_round_numbers() {
        let (lo, hi, ticks) = linear_domain(&[3.0, 158.4], true);
        assert_eq!((lo, hi), (0.0, 200.0));
        assert_eq!(ticks, vec![0.0, 50.0, 100.0, 150.0, 200.0]);
    }

    #[test]
    fn log2_ticks_cover_doubling_levels() {
        let (lo, hi, ticks) = log_domain(&[1.0, 6.0, 16.0], &[1.0], 2.0);
        assert_eq!((lo, hi), (1.0, 16.0));
        assert_eq!(ticks, vec![1.0, 2.0, 4.0, 8.0, 16.0]);
    }

    #[test]
    fn log10_ticks_use_one_two_five() {
        let (lo, hi, ticks) = log_domain(&[25.0, 400.0], &[1.0, 2.0, 5.0], 10.0);
        assert_eq!((lo, hi), (20.0, 500.0));
        assert_eq!(ticks, vec![20.0, 50.0, 100.0, 200.0, 500.0]);
    }

    #[test]
    fn absurd_values_give_a_few_ticks() {
        for values in [
            vec![-1e308, 1e308],
            vec![f64::INFINITY, 3.0],
            vec![1e300],
            vec![],
        ] {
            let (lo, hi, ticks) = linear_domain(&values, true);
            assert!(lo.is_finite() && hi.is_finite() && lo < hi, "{values:?}");
            assert!((2..=21).contains(&ticks.len()), "{values:?}: {ticks:?}");
        }
        let (_, _, ticks) = log_domain(&[1e-300, 1e300], &[1.0, 2.0, 5.0], 10.0);
        assert!(ticks.len() <= 64 * 3);
    }
}

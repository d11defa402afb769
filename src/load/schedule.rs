//! Open-loop arrival schedules: when each request of a shard is due. Due times are computed
//! from the start (`start + i / rate`), never as "now + 1/rate", so timer lateness never
//! accumulates into a lower rate.

use std::time::{Duration, Instant};

use crate::results::Arrival;

/// The due times of one shard's share of an arrival process, up to `end`.
#[derive(Debug)]
pub struct Schedule {
    arrival: Arrival,
    start: Instant,
    end: Instant,
    /// Seconds from `start` to this shard's first arrival (constant) .
    offset: f64,
    /// Mean seconds between this shard's arrivals.
    gap: f64,
    index: u64,
    /// Seconds from `start` of the next Poisson arrival.
    poisson_at: f64,
    rng: fastrand::Rng,
}

impl Schedule {
    /// Shard `shard` of `shards` takes every `shards`-th arrival of a process at `rate`
    /// (constant), or an independent Poisson process at `rate / shards` (their sum is a
    /// Poisson process at `rate`).
    pub fn new(
        arrival: Arrival,
        rate: f64,
        shard: usize,
        shards: usize,
        start: Instant,
        end: Instant,
    ) -> Self {
        let rate = rate.max(1e-9);
        let mut rng = fastrand::Rng::with_seed(0x5eed_0000 + shard as u64);
        let gap = shards as f64 / rate;
        let poisson_at = exponential(&mut rng, gap);
        Schedule {
            arrival,
            start,
            end,
            offset: shard as f64 / rate,
            gap,
            index: 0,
            poisson_at,
            rng,
        }
    }

    /// The next due time, or `None` once the schedule reaches `end`.
    pub fn next_due(&mut self) -> Option<Instant> {
        let at = match self.arrival {
            Arrival::Constant => self.offset + self.index as f64 * self.gap,
            Arrival::Poisson => {
                let at = self.poisson_at;
                self.poisson_at += exponential(&mut self.rng, self.gap);
                at
            }
        };
        self.index += 1;
        let due = self.start + Duration::from_secs_f64(at);
        (due < self.end).then_some(due)
    }
}

fn exponential(rng: &mut fastrand::Rng, mean: f64) -> f64 {
    // 1 - f64() lies in (0, 1], so the logarithm is finite.
    -(1.0 - rng.f64()).ln() * mean
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dues(arrival: Arrival, rate: f64, shards: usize, secs: u64) -> Vec<f64> {
        let start = Instant::now();
        let end = start + Duration::from_secs(secs);
        let mut all: Vec<f64> = (0..shards)
            .flat_map(|s| {
                let mut sched = Schedule::new(arrival, rate, s, shards, start, end);
                std::iter::from_fn(move || sched.next_due()).map(move |d| (d - start).as_secs_f64())
            })
            .collect();
        all.sort_by(f64::total_cmp);
        all
    }

    #[test]
    fn constant_arrivals_interleave_evenly_across_shards() {
        let d = dues(Arrival::Constant, 1000.0, 3, 2);
        assert_eq!(d.len(), 2000);
        for (i, t) in d.iter().enumerate() {
            assert!((t - i as f64 / 1000.0).abs() < 1e-9, "arrival {i} at {t}");
        }
    }

    #[test]
    fn poisson_arrivals_have_the_rate_and_exponential_gaps() {
        let d = dues(Arrival::Poisson, 2000.0, 2, 10);
        let n = d.len() as f64;
        assert!((n - 20_000.0).abs() < 20_000.0 * 0.03, "{n} arrivals");
        // For a Poisson process the gaps' coefficient of variation is 1.
        let gaps: Vec<f64> = d.windows(2).map(|w| w[1] - w[0]).collect();
        let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
        let var = gaps.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / gaps.len() as f64;
        let cv = var.sqrt() / mean;
        assert!((cv - 1.0).abs() < 0.05, "coefficient of variation {cv}");
    }
}

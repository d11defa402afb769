//! Open-loop arrival schedules: when each request of a shard is due. Due times are computed
//! from the start (`start + i / rate`), never as "now + 1/rate", so timer lateness never
//! accumulates into a lower rate.

use std::time::{Duration, Instant};

use crate::results::Arrival;

/// The due times of one shard's share of an arrival process whose rate is constant over
/// each segment of time (one segment for a fixed `--rate`, one per minute for a profile).
///
/// Arrivals are points of the cumulative expected count Λ(t) (the integral of the rate):
/// the whole process has one at every whole Λ (constant) or at Poisson points of unit rate,
/// and its due time is Λ⁻¹ of that point. A rate of zero over a segment puts nothing in it.
#[derive(Debug)]
pub struct Schedule {
    arrival: Arrival,
    start: Instant,
    /// Seconds per segment.
    segment: f64,
    /// Requests per second in each segment.
    rates: Vec<f64>,
    /// The segment the next arrival falls in, and Λ at its start.
    cursor: usize,
    count_before: f64,
    /// Λ of this shard's next arrival.
    next: f64,
    /// Shards share the process: each takes every `shards`-th point (constant) or a Poisson
    /// process of `1 / shards` the intensity (their sum is the whole).
    shards: f64,
    rng: fastrand::Rng,
}

impl Schedule {
    /// A constant `rate` from `start` to `end`.
    pub fn new(
        arrival: Arrival,
        rate: f64,
        shard: usize,
        shards: usize,
        start: Instant,
        end: Instant,
    ) -> Self {
        let span = end.saturating_duration_since(start);
        Schedule::piecewise(arrival, vec![rate], span, shard, shards, start)
    }

    /// `rates[m]` requests per second over segment m, each `segment` long, from `start`.
    pub fn piecewise(
        arrival: Arrival,
        rates: Vec<f64>,
        segment: Duration,
        shard: usize,
        shards: usize,
        start: Instant,
    ) -> Self {
        let mut rng = fastrand::Rng::with_seed(0x5eed_0000 + shard as u64);
        let shards = shards.max(1) as f64;
        let next = match arrival {
            Arrival::Constant => shard as f64,
            Arrival::Poisson => exponential(&mut rng, shards),
        };
        Schedule {
            arrival,
            start,
            segment: segment.as_secs_f64(),
            rates: rates
                .into_iter()
                .map(|r| if r.is_finite() { r.max(0.0) } else { 0.0 })
                .collect(),
            cursor: 0,
            count_before: 0.0,
            next,
            shards,
            rng,
        }
    }

    /// The next due time, or `None` once the schedule has no more.
    pub fn next_due(&mut self) -> Option<Instant> {
        let point = self.next;
        self.next += match self.arrival {
            Arrival::Constant => self.shards,
            Arrival::Poisson => exponential(&mut self.rng, self.shards),
        };
        let at = self.invert(point)?;
        Some(self.start + Duration::from_secs_f64(at))
    }

    /// Λ⁻¹(point) in seconds from the start; `None` past the last segment.
    fn invert(&mut self, point: f64) -> Option<f64> {
        loop {
            let rate = *self.rates.get(self.cursor)?;
            let in_segment = rate * self.segment;
            if point < self.count_before + in_segment {
                return Some(
                    self.cursor as f64 * self.segment + (point - self.count_before) / rate,
                );
            }
            self.count_before += in_segment;
            self.cursor += 1;
        }
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

    /// A profile of 10, 0 and 30 req/s over three 1 s segments: 10 evenly in the first,
    /// none in the second, 30 evenly in the third, across two shards.
    #[test]
    fn piecewise_rates_put_each_segments_count_in_it() {
        let start = Instant::now();
        let mut all: Vec<f64> = (0..2)
            .flat_map(|s| {
                let mut sched = Schedule::piecewise(
                    Arrival::Constant,
                    vec![10.0, 0.0, 30.0],
                    Duration::from_secs(1),
                    s,
                    2,
                    start,
                );
                std::iter::from_fn(move || sched.next_due()).map(move |d| (d - start).as_secs_f64())
            })
            .collect();
        all.sort_by(f64::total_cmp);
        assert_eq!(all.len(), 40);
        assert!(all[..10].iter().all(|t| *t < 1.0));
        assert!(all[10..].iter().all(|t| *t >= 2.0 && *t < 3.0));
        assert!((all[1] - 0.1).abs() < 1e-9 && (all[11] - (2.0 + 1.0 / 30.0)).abs() < 1e-9);
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

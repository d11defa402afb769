//! A process's part of a load that several processes (machines, pods) send together with no
//! coordinator: process K of N takes its share of the users, of `--requests`, of the
//! in-flight cap, and every N-th point of the arrival process, which its threads split
//! further. The union over all processes is the load one process would have sent.

/// Which part of the whole load this process sends: `index` (0-based) of `count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProcessShard {
    pub index: u32,
    pub count: u32,
}

impl ProcessShard {
    /// The whole load, in one process.
    pub const WHOLE: ProcessShard = ProcessShard { index: 0, count: 1 };

    /// This process's part of `total` (users, requests, the in-flight cap): `total / count`,
    /// and one more for the first `total % count` processes.
    pub fn share(&self, total: u64) -> u64 {
        let (k, n) = (u64::from(self.index), u64::from(self.count.max(1)));
        total / n + u64::from(k < total % n)
    }

    /// The parts of `total` the processes before this one take: the global number of this
    /// process's first user.
    pub fn first(&self, total: u64) -> u64 {
        let (k, n) = (u64::from(self.index), u64::from(self.count.max(1)));
        k * (total / n) + k.min(total % n)
    }

    /// The arrivals thread `thread` of `threads` (in this process) takes: the points
    /// `offset, offset + stride, …` of the whole arrival process's cumulative count, where
    /// this process has the points `index + count·i` and its thread t every `threads`-th of
    /// those. For Poisson arrivals, a process of 1/stride the rate, seeded by `offset`. The
    /// union is the whole process whatever the thread count of each process.
    pub fn arrivals(&self, thread: usize, threads: usize) -> (usize, usize) {
        let (k, n) = (self.index as usize, self.count.max(1) as usize);
        (k + n * thread, n * threads.max(1))
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;
    use crate::load::Schedule;
    use crate::results::Arrival;

    #[test]
    fn shares_add_up_and_do_not_overlap() {
        for count in 1..7u32 {
            for total in [0u64, 1, 2, 5, 7, 32, 1000] {
                let shards: Vec<ProcessShard> = (0..count)
                    .map(|index| ProcessShard { index, count })
                    .collect();
                let sum: u64 = shards.iter().map(|s| s.share(total)).sum();
                assert_eq!(sum, total, "{total} over {count}");
                for pair in shards.windows(2) {
                    assert_eq!(
                        pair[0].first(total) + pair[0].share(total),
                        pair[1].first(total)
                    );
                }
                let spread = shards.iter().map(|s| s.share(total)).max().unwrap()
                    - shards.iter().map(|s| s.share(total)).min().unwrap();
                assert!(spread <= 1, "the remainder is spread");
            }
        }
    }

    /// Three processes with 2, 1 and 3 threads: their constant arrivals together are
    /// exactly one process's schedule, each due time once.
    #[test]
    fn processes_with_different_thread_counts_send_the_whole_schedule() {
        let start = Instant::now();
        let end = start + Duration::from_secs(1);
        let rate = 997.0;
        let mut due: Vec<f64> = Vec::new();
        for (index, threads) in [(0u32, 2usize), (1, 1), (2, 3)] {
            let process = ProcessShard { index, count: 3 };
            for t in 0..threads {
                let (offset, stride) = process.arrivals(t, threads);
                let mut s = Schedule::new(Arrival::Constant, rate, offset, stride, start, end);
                due.extend(std::iter::from_fn(|| s.next_due()).map(|d| (d - start).as_secs_f64()));
            }
        }
        due.sort_by(f64::total_cmp);
        let mut whole = Schedule::new(Arrival::Constant, rate, 0, 1, start, end);
        let expected: Vec<f64> = std::iter::from_fn(|| whole.next_due())
            .map(|d| (d - start).as_secs_f64())
            .collect();
        assert_eq!(due.len(), expected.len());
        for (got, want) in due.iter().zip(&expected) {
            assert!((got - want).abs() < 1e-9, "{got} vs {want}");
        }
    }

    /// Poisson shards are independent processes whose rates add up to the whole.
    #[test]
    fn poisson_processes_add_up_to_the_rate() {
        let start = Instant::now();
        let end = start + Duration::from_secs(20);
        let mut count = 0usize;
        let mut seeds = std::collections::BTreeSet::new();
        for index in 0..4u32 {
            let process = ProcessShard { index, count: 4 };
            for t in 0..2 {
                let (offset, stride) = process.arrivals(t, 2);
                assert!(
                    seeds.insert(offset),
                    "each thread of each process its own stream"
                );
                let mut s = Schedule::new(Arrival::Poisson, 1000.0, offset, stride, start, end);
                count += std::iter::from_fn(|| s.next_due()).count();
            }
        }
        // 20,000 expected; a Poisson count's standard deviation is √20000 ≈ 141.
        assert!((count as f64 - 20_000.0).abs() < 600.0, "{count}");
    }
}

//! Between steps, let the server recover before measuring again: probe with single requests
//! until three in a row answer near the latency the first step measured, or a bounded wait
//! runs out (then the next step may measure the last one's backlog, and its verdict says so).

use std::time::Duration;

/// Probes in a row that must answer near the baseline.
const IN_A_ROW: usize = 3;
/// The pause between probes.
pub const PROBE_GAP: Duration = Duration::from_millis(100);

/// How the wait ended.
#[derive(Clone, Debug, PartialEq)]
pub struct Recovery {
    pub recovered: bool,
    /// Time spent waiting.
    pub waited: Duration,
    /// The last probe's latency in ms; `None` when it failed.
    pub last_ms: Option<f64>,
}

impl Recovery {
    /// The note a step measured after an unfinished recovery carries.
    pub fn note(&self, baseline_ms: f64) -> Option<String> {
        (!self.recovered).then(|| {
            let last = self
                .last_ms
                .map_or("failed".to_string(), |ms| format!("took {ms:.1} ms"));
            format!(
                "the server had not recovered from the step before after {:.0} s (the last single request {last}, against {baseline_ms:.1} ms at the first step): this step may measure that backlog",
                self.waited.as_secs_f64()
            )
        })
    }
}

/// Whether one probe's latency counts as back to normal: within 50 % (and 2 ms) of the
/// baseline, the median latency of the first step.
pub fn near(latency_ms: f64, baseline_ms: f64) -> bool {
    latency_ms <= baseline_ms * 1.5 + 2.0
}

/// Probes (each returns its latency in ms, `None` on failure) until `IN_A_ROW` in a row are
/// near `baseline_ms` or `limit` has passed; `pause` waits between probes and returns how
/// long it waited, `elapsed` is the time since the wait began.
pub fn recover(
    baseline_ms: f64,
    limit: Duration,
    mut probe: impl FnMut() -> Option<f64>,
    mut pause: impl FnMut(),
    elapsed: impl Fn() -> Duration,
) -> Recovery {
    let mut good = 0;
    loop {
        let last_ms = probe();
        good = match last_ms {
            Some(ms) if near(ms, baseline_ms) => good + 1,
            _ => 0,
        };
        if good == IN_A_ROW {
            return Recovery {
                recovered: true,
                waited: elapsed(),
                last_ms,
            };
        }
        if elapsed() >= limit {
            return Recovery {
                recovered: false,
                waited: elapsed(),
                last_ms,
            };
        }
        pause();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    fn run(latencies: &[Option<f64>], limit_probes: u32) -> (Recovery, usize) {
        let i = Cell::new(0usize);
        let probe = || {
            let v = latencies.get(i.get()).copied().flatten();
            i.set(i.get() + 1);
            v
        };
        let r = recover(
            25.0,
            Duration::from_secs(u64::from(limit_probes)),
            probe,
            || {},
            || Duration::from_secs(i.get() as u64),
        );
        (r, i.get())
    }

    #[test]
    fn three_answers_in_a_row_near_the_baseline_end_the_wait() {
        let backlog = [
            Some(900.0),
            Some(400.0),
            None,
            Some(30.0),
            Some(26.0),
            Some(25.0),
        ];
        let (r, probes) = run(&backlog, 60);
        assert!(r.recovered);
        assert_eq!(probes, 6);
        assert_eq!(r.note(25.0), None);
        // One good answer among slow ones is not recovery.
        let (r, probes) = run(
            &[Some(25.0), Some(900.0), Some(25.0), Some(25.0), Some(25.0)],
            60,
        );
        assert!(r.recovered);
        assert_eq!(probes, 5);
    }

    #[test]
    fn a_server_that_stays_slow_is_waited_for_only_so_long_and_said_so() {
        let slow = [Some(500.0); 100];
        let (r, probes) = run(&slow, 10);
        assert!(!r.recovered);
        assert_eq!(probes, 10);
        let note = r.note(25.0).expect("a note");
        assert!(
            note.contains("500.0 ms") && note.contains("25.0 ms"),
            "{note}"
        );
    }
}

//! The windows of a step by due time: every request counts in the window it fell due in
//! (closed loop: the window it was sent in), wherever its answer lands, so a window is
//! complete once its last request ended and nothing is lost at a window's or a step's end.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::StepPlan;
use crate::stats::Tally;

/// Window boundaries, shared by all shards: window k spans `[boundary(k), boundary(k+1))`,
/// after the warm-up.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    pub start: Instant,
    pub warmup: Duration,
    pub window: Duration,
    pub max_duration: Duration,
}

impl Clock {
    pub fn new(start: Instant, plan: &StepPlan) -> Self {
        Clock {
            start,
            warmup: plan.warmup,
            window: plan.window.max(Duration::from_millis(10)),
            max_duration: plan.max_duration,
        }
    }

    /// How many windows the plan holds at most.
    pub fn windows(&self) -> u32 {
        let nanos = |d: Duration| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX).max(1);
        let n = nanos(self.max_duration).div_ceil(nanos(self.window));
        u32::try_from(n).unwrap_or(u32::MAX).max(1)
    }

    pub fn boundary(&self, k: u32) -> Instant {
        self.start + self.warmup + (self.window * k).min(self.max_duration)
    }

    /// When the plan ends: nothing falls due after it.
    pub fn end(&self) -> Instant {
        self.start + self.warmup + self.max_duration
    }

    /// The window running at `t`; `None` during the warm-up and after the plan's end.
    pub fn running_window(&self, t: Instant) -> Option<u32> {
        (t < self.end()).then(|| self.window_of(t)).flatten()
    }

    /// The window a request due at `due` belongs to; `None` during the warm-up.
    pub fn window_of(&self, due: Instant) -> Option<u32> {
        let since = due.checked_duration_since(self.start + self.warmup)?;
        // Whole nanoseconds fit u64 for 584 years: no 128-bit division on the hot path.
        let window = u64::try_from(self.window.as_nanos())
            .unwrap_or(u64::MAX)
            .max(1);
        let k = u64::try_from(since.as_nanos()).unwrap_or(u64::MAX) / window;
        Some(u32::try_from(k).unwrap_or(u32::MAX).min(self.windows() - 1))
    }
}

/// One window's tally and how many of its requests are still out.
#[derive(Default)]
struct Slot {
    tally: Tally,
    pending: u32,
}

/// A shard's windows that it has not reported yet, oldest first, and the warm-up's (whose
/// figures are dropped).
pub struct Slots {
    /// The index of `open[0]`.
    first: u32,
    open: VecDeque<Slot>,
    warmup: Slot,
    open_loop: bool,
}

impl Slots {
    pub fn new(open_loop: bool) -> Self {
        Slots {
            first: 0,
            open: VecDeque::new(),
            warmup: Slot::default(),
            open_loop,
        }
    }

    fn slot(&mut self, index: Option<u32>) -> &mut Slot {
        let Some(index) = index else {
            return &mut self.warmup;
        };
        // A window already reported takes nothing more; count in the oldest open one.
        let at = index.saturating_sub(self.first) as usize;
        while self.open.len() <= at {
            let mut slot = Slot::default();
            slot.tally.open_loop = self.open_loop;
            self.open.push_back(slot);
        }
        &mut self.open[at]
    }

    /// The tally of window `index` (`None`: the warm-up).
    pub fn tally(&mut self, index: Option<u32>) -> &mut Tally {
        &mut self.slot(index).tally
    }

    /// A request of window `index` went out.
    pub fn begin(&mut self, index: Option<u32>) {
        self.slot(index).pending += 1;
    }

    /// A request of window `index` ended (its outcome is in the tally); true when none of
    /// that window's requests is still out.
    pub fn end(&mut self, index: Option<u32>) -> bool {
        let slot = self.slot(index);
        slot.pending = slot.pending.saturating_sub(1);
        slot.pending == 0
    }

    /// Requests still out, warm-up included.
    pub fn pending(&self) -> u32 {
        self.warmup.pending + self.open.iter().map(|s| s.pending).sum::<u32>()
    }

    /// The oldest window when it is over (its index is below `sealed`) and none of its
    /// requests is still out.
    pub fn pop_ready(&mut self, sealed: u32) -> Option<(u32, Tally)> {
        let ready = self.first < sealed && self.open.front().is_none_or(|s| s.pending == 0);
        ready.then(|| self.pop())
    }

    /// The oldest window whatever its state (at the end of the step), while any is left
    /// below `until`.
    pub fn pop_before(&mut self, until: u32) -> Option<(u32, Tally)> {
        (self.first < until).then(|| self.pop())
    }

    fn pop(&mut self) -> (u32, Tally) {
        let index = self.first;
        self.first += 1;
        let mut tally = self.open.pop_front().map(|s| s.tally).unwrap_or_default();
        tally.open_loop = self.open_loop;
        (index, tally)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clock() -> Clock {
        Clock {
            start: Instant::now(),
            warmup: Duration::from_secs(1),
            window: Duration::from_secs(2),
            max_duration: Duration::from_secs(5),
        }
    }

    #[test]
    fn requests_belong_to_the_window_they_fell_due_in() {
        let c = clock();
        let at = |s: f64| c.start + Duration::from_secs_f64(s);
        assert_eq!(c.windows(), 3);
        assert_eq!(c.window_of(at(0.5)), None);
        assert_eq!(c.window_of(at(1.0)), Some(0));
        assert_eq!(c.window_of(at(2.999)), Some(0));
        assert_eq!(c.window_of(at(3.0)), Some(1));
        assert_eq!(c.window_of(at(5.5)), Some(2));
        assert_eq!(c.window_of(at(60.0)), Some(2), "clamped to the last window");
        assert_eq!(c.end(), at(6.0));
        assert_eq!(c.running_window(at(5.9)), Some(2));
        assert_eq!(
            c.running_window(at(6.0)),
            None,
            "answers after the end are not throughput"
        );
    }

    #[test]
    fn a_window_is_reported_once_over_and_its_requests_ended() {
        let mut slots = Slots::new(false);
        slots.begin(Some(0));
        slots.begin(Some(1));
        slots.begin(None);
        assert_eq!(slots.pending(), 3);
        assert!(
            slots.pop_ready(1).is_none(),
            "window 0 still has a request out"
        );
        slots.tally(Some(0)).successes += 1;
        slots.end(Some(0));
        assert!(slots.pop_ready(0).is_none(), "window 0 is not over yet");
        let (index, tally) = slots.pop_ready(1).expect("window 0 is ready");
        assert_eq!((index, tally.successes), (0, 1));
        assert!(
            slots.pop_ready(2).is_none(),
            "window 1 still has a request out"
        );
        // At the end every window goes, finished or not, in order.
        assert_eq!(slots.pop_before(3).map(|(i, _)| i), Some(1));
        assert_eq!(slots.pop_before(3).map(|(i, _)| i), Some(2));
        assert!(slots.pop_before(3).is_none());
        assert_eq!(slots.pending(), 1, "the warm-up request is still out");
    }
}

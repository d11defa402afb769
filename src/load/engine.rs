//! Runs one load level (a "step") and hands its measurement windows to the caller as they
//! close. Shards are OS threads, each a single-threaded tokio runtime owning its users (or
//! its arrival schedule), their connections and its windows; a shard reports each window once
//! it is over and its last request ended (one message per shard per window, never one per
//! request). At the end every request still out is waited for, up to the drain limit, and
//! one cut there counts as `cut` (sent, no outcome; not the server's timeout): none vanish.

use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio::task::LocalSet;

use super::conn::Link;
use super::schedule::Schedule;
use super::shard::ProcessShard;
use super::slots::{Clock, Slots};
use super::users::{self, ShardState};
use crate::endpoint::{Connector, RequestTemplate};
use crate::results::Arrival;
use crate::stats::{Tally, Window, Windows};

/// How much load a step applies.
#[derive(Clone, Debug, PartialEq)]
pub enum Load {
    /// Closed loop: N virtual users, each sending its next request as soon as the last one
    /// is answered, each on its own keep-alive connection.
    Concurrency(u32),
    /// Open loop: requests fall due at `rate` per second whatever the server does; latency
    /// counts from the due time. At most `max_inflight` are outstanding; a request due when
    /// that many are out is dropped and counted.
    Rate {
        rate: f64,
        arrival: Arrival,
        max_inflight: u32,
    },
    /// Open loop along a traffic profile: `rates[k]` requests per second over window k.
    Profile {
        rates: Arc<[f64]>,
        arrival: Arrival,
        max_inflight: u32,
    },
}

impl Load {
    /// Open loop: an arrival schedule, whatever the server does.
    pub fn open_loop(&self) -> bool {
        !matches!(self, Load::Concurrency(_))
    }
}

/// The shape of one step.
#[derive(Clone, Debug)]
pub struct StepPlan {
    pub load: Load,
    /// Load sent before measuring starts; its results are discarded.
    pub warmup: Duration,
    /// The length of one measurement window.
    pub window: Duration,
    /// The longest the step measures (after warm-up).
    pub max_duration: Duration,
    /// Stop after this many requests in all (warm-up included).
    pub max_requests: Option<u64>,
    /// Per-request timeout.
    pub timeout: Duration,
    /// How long requests still out when the step ends are waited for.
    pub drain: Duration,
}

/// What the caller decides after each window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Continue,
    Stop,
}

/// The windows a step measured.
#[derive(Debug)]
pub struct StepRun {
    pub windows: Windows,
    /// The step was cut short by `interrupt`.
    pub interrupted: bool,
}

/// Runs one step to the end of its plan, until `on_window` says stop, or until `interrupt`
/// is set. Blocks the calling thread; every shard has stopped when it returns. After a
/// `Stop` the windows that were running are dropped (the caller judged the step on those
/// before); after an interruption they are kept, so a run keeps what it measured.
pub fn run_step(
    template: &Arc<RequestTemplate>,
    connector: &Connector,
    plan: &StepPlan,
    interrupt: &AtomicBool,
    on_window: impl FnMut(&Windows) -> Verdict,
) -> StepRun {
    // Time for the shards to start their runtimes before anything is due.
    let start = Instant::now() + Duration::from_millis(20);
    let whole = ProcessShard::WHOLE;
    run_step_at(
        template, connector, plan, whole, start, interrupt, on_window,
    )
}

/// [`run_step`] for process `process`'s part of the load (see [`ProcessShard`]), on a clock
/// that starts at `start` (which may lie ahead: the threads wait for it).
pub fn run_step_at(
    template: &Arc<RequestTemplate>,
    connector: &Connector,
    plan: &StepPlan,
    process: ProcessShard,
    start: Instant,
    interrupt: &AtomicBool,
    mut on_window: impl FnMut(&Windows) -> Verdict,
) -> StepRun {
    let (units, capacity, first_user) = match plan.load {
        Load::Concurrency(users) => {
            let users = u64::from(users);
            (
                process.share(users) as usize,
                0,
                process.first(users) as usize,
            )
        }
        Load::Rate { max_inflight, .. } | Load::Profile { max_inflight, .. } => {
            let cap = process.share(u64::from(max_inflight)).max(1) as usize;
            (cap, cap, 0)
        }
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let shards = units.clamp(1, cores);
    let clock = Clock::new(start, plan);
    let budget = plan
        .max_requests
        .map(|n| Arc::new(Budget::new(process.share(n))));
    let (report_tx, report_rx) = mpsc::channel::<Report>();
    let (stop_tx, stop_rx) = watch::channel(false);
    let link = Link {
        template: Arc::clone(template),
        connector: connector.clone(),
        timeout: plan.timeout,
        until_first_token: false,
    };
    let handles: Vec<_> = (0..shards)
        .map(|s| {
            let shard = Shard {
                id: s,
                first_user: first_user + s * (units / shards + 1),
                arrivals: process.arrivals(s, shards),
                users: share(units, shards, s),
                inflight_cap: share(capacity, shards, s).max(1),
                load: plan.load.clone(),
                link: link.clone(),
                clock,
                drain: plan.drain,
                budget: budget.clone(),
                reports: report_tx.clone(),
                stop: stop_rx.clone(),
            };
            std::thread::Builder::new()
                .name(format!("peakrps-shard-{s}"))
                .spawn(move || shard.run())
        })
        .collect();
    drop(report_tx);

    let mut collector = Collector::new(shards, clock);
    let mut interrupted = false;
    let mut keep_rest = true;
    while !collector.all_reported() {
        if interrupt.load(Ordering::Relaxed) && !interrupted {
            interrupted = true;
            let _ = stop_tx.send(true);
        }
        match report_rx.recv_timeout(Duration::from_millis(50)) {
            Ok(report) => {
                collector.add(report, keep_rest);
                // The caller sees every window, one at a time, in order.
                while keep_rest && collector.complete_one() {
                    if on_window(&collector.windows) == Verdict::Stop && !interrupted {
                        keep_rest = false;
                        let _ = stop_tx.send(true);
                    }
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => continue,
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    let _ = stop_tx.send(true);
    for handle in handles.into_iter().flatten() {
        let _ = handle.join();
    }
    StepRun {
        windows: collector.windows,
        interrupted,
    }
}

/// Shard `s`'s part of `total` spread over `shards` (the remainder to the first ones).
fn share(total: usize, shards: usize, s: usize) -> usize {
    total / shards + usize::from(s < total % shards)
}

/// A shared request budget for `--requests N`.
pub struct Budget {
    limit: u64,
    taken: AtomicU64,
}

impl Budget {
    fn new(limit: u64) -> Self {
        Budget {
            limit,
            taken: AtomicU64::new(0),
        }
    }

    /// Takes one request from the budget; false when it is spent.
    pub fn take(&self) -> bool {
        self.taken.fetch_add(1, Ordering::Relaxed) < self.limit
    }
}

/// One shard's tally for one window (none when the shard ends without one). `last` says
/// the shard sends nothing after it.
struct Report {
    shard: usize,
    index: u32,
    tally: Option<Tally>,
    /// When the window's load ended: its boundary, or earlier when the step stopped in it.
    end: Instant,
    last: bool,
}

/// Merges shard reports into windows, in order.
struct Collector {
    clock: Clock,
    /// Per shard: the next window index it will report, or `None` once it sent its last.
    next: Vec<Option<u32>>,
    pending: Vec<(Tally, Instant)>,
    windows: Windows,
}

impl Collector {
    fn new(shards: usize, clock: Clock) -> Self {
        Collector {
            clock,
            next: vec![Some(0); shards],
            pending: Vec::new(),
            windows: Windows::default(),
        }
    }

    fn all_reported(&self) -> bool {
        self.next.iter().all(Option::is_none)
    }

    /// Adds a report (its tally only when `keep`).
    fn add(&mut self, report: Report, keep: bool) {
        self.next[report.shard] = if report.last {
            None
        } else {
            Some(report.index + 1)
        };
        let Some(report_tally) = report.tally.filter(|_| keep) else {
            return;
        };
        let slot = report.index.saturating_sub(self.windows.len()) as usize;
        if self.pending.len() <= slot {
            self.pending
                .resize_with(slot + 1, || (Tally::new(), self.clock.start));
        }
        let (tally, end) = &mut self.pending[slot];
        tally.merge(&report_tally);
        *end = (*end).max(report.end);
    }

    /// Completes the next window when every shard has reported it; false when none is due.
    fn complete_one(&mut self) -> bool {
        let index = self.windows.len();
        let all_in = self.next.iter().all(|n| n.is_none_or(|n| n > index));
        if self.pending.is_empty() || !all_in {
            return false;
        }
        let (tally, end) = self.pending.remove(0);
        let from = self.clock.boundary(index);
        self.windows.push(Window {
            index,
            duration: end.saturating_duration_since(from),
            tally,
        });
        true
    }
}

/// One OS thread's share of the users (closed loop) or of the arrivals (open loop).
struct Shard {
    id: usize,
    first_user: usize,
    /// Open loop: the first point of the arrival process this thread takes and the stride
    /// between its points (see [`ProcessShard::arrivals`]).
    arrivals: (usize, usize),
    users: usize,
    /// Open loop: this shard's part of `--max-inflight`.
    inflight_cap: usize,
    load: Load,
    link: Link,
    clock: Clock,
    drain: Duration,
    budget: Option<Arc<Budget>>,
    reports: mpsc::Sender<Report>,
    stop: watch::Receiver<bool>,
}

impl Shard {
    fn run(self) {
        let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            // Without a runtime the shard cannot send; report an empty last window.
            self.send(0, None, Instant::now(), true);
            return;
        };
        LocalSet::new().block_on(&runtime, self.drive());
    }

    async fn drive(mut self) {
        let open_loop = self.load.open_loop();
        let state = Rc::new(ShardState::new(self.clock, Slots::new(open_loop)));
        self.spawn_load(&state);
        let windows = self.clock.windows();
        // Windows below `sealed` are over: nothing more falls due in them.
        let mut sealed = 0;
        loop {
            let next = self.clock.boundary(sealed + 1);
            tokio::select! {
                _ = tokio::time::sleep_until(next.into()), if sealed < windows => {}
                _ = state.changed.notified() => {}
                _ = self.stop.changed() => break,
            }
            sealed = state.sealed(windows);
            if !self.report_ready(&state, sealed) {
                return;
            }
            if sealed == windows || state.load_done() {
                break;
            }
        }
        let stopped = Instant::now().min(self.clock.end());
        state.stop_load(stopped);
        self.drain(&state).await;
        self.report_rest(&state, stopped);
    }

    /// Starts the users (closed loop) or the arrival schedule (open loop).
    fn spawn_load(&self, state: &Rc<ShardState>) {
        match self.load {
            Load::Concurrency(_) => {
                state.live.set(self.users);
                for u in 0..self.users {
                    tokio::task::spawn_local(users::closed_loop(
                        Rc::clone(state),
                        self.link.clone(),
                        self.first_user + u,
                        self.budget.clone(),
                    ));
                }
            }
            Load::Rate { rate, arrival, .. } => {
                let schedule = Schedule::new(
                    arrival,
                    rate,
                    self.arrivals.0,
                    self.arrivals.1,
                    self.clock.start,
                    self.clock.end(),
                );
                self.spawn_dispatcher(state, schedule);
            }
            Load::Profile {
                ref rates, arrival, ..
            } => {
                let schedule = Schedule::piecewise(
                    arrival,
                    rates.to_vec(),
                    self.clock.window,
                    self.arrivals.0,
                    self.arrivals.1,
                    self.clock.start,
                );
                self.spawn_dispatcher(state, schedule);
            }
        }
    }

    fn spawn_dispatcher(&self, state: &Rc<ShardState>, schedule: Schedule) {
        state.live.set(1);
        tokio::task::spawn_local(users::open_loop(
            Rc::clone(state),
            self.link.clone(),
            schedule,
            self.arrivals,
            self.inflight_cap,
            self.budget.clone(),
        ));
    }

    /// Reports every window that is over and complete; false when the caller went away.
    fn report_ready(&self, state: &ShardState, sealed: u32) -> bool {
        while let Some((index, tally)) = state.slots.borrow_mut().pop_ready(sealed) {
            let end = self.clock.boundary(index + 1);
            if !self.send(index, Some(tally), end, false) {
                return false;
            }
        }
        true
    }

    /// Waits for the requests still out, up to the drain limit; then cuts the rest, which
    /// count as cut in the window they fell due in.
    async fn drain(&self, state: &ShardState) {
        let deadline = Instant::now() + self.drain;
        while state.slots.borrow().pending() > 0 {
            tokio::select! {
                _ = tokio::time::sleep_until(deadline.into()) => break,
                _ = state.changed.notified() => {}
            }
        }
        state.cut_in_flight();
    }

    /// Reports every window left, in order; the last one says so.
    fn report_rest(&self, state: &ShardState, stopped: Instant) {
        let until = self.clock.window_of(stopped).map_or(0, |k| k + 1);
        let mut rest = Vec::new();
        while let Some(window) = state.slots.borrow_mut().pop_before(until) {
            rest.push(window);
        }
        if rest.is_empty() {
            self.send(0, None, stopped, true);
        }
        let count = rest.len();
        for (i, (index, tally)) in rest.into_iter().enumerate() {
            let end = self.clock.boundary(index + 1).min(stopped);
            if !self.send(index, Some(tally), end, i + 1 == count) {
                return;
            }
        }
    }

    fn send(&self, index: u32, tally: Option<Tally>, end: Instant, last: bool) -> bool {
        let report = Report {
            shard: self.id,
            index,
            tally,
            end,
            last,
        };
        self.reports.send(report).is_ok()
    }
}

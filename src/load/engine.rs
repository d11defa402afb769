//! Runs one load level (a "step") and hands its measurement windows to the caller as they
//! close. Shards are OS threads, each a single-threaded tokio runtime owning its users, their
//! connections and one tally; at every window boundary a shard sends its tally to the caller
//! (one message per shard per window, never one per request).

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use tokio::sync::{Notify, watch};
use tokio::task::LocalSet;

use super::schedule::Schedule;
use super::wire::{self, WireError};
use crate::results::{Arrival, ErrorKind, ErrorSample};
use crate::stats::{Tally, Window, Windows};
use crate::target::{Connector, Io, RequestTemplate, classify_response, error_detail};

/// How much load a step applies.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Load {
    /// Closed loop: N virtual users, each sending its next request as soon as the last one
    /// is answered.
    Concurrency(u32),
    /// Open loop: requests fall due at `rate` per second whatever the server does; latency
    /// counts from the due time. At most `max_inflight` are outstanding; a request that
    /// cannot go out on time because of that is dropped and counted.
    Rate {
        rate: f64,
        arrival: Arrival,
        max_inflight: u32,
    },
}

impl Load {
    /// Connections (and so tasks) the load needs at most.
    fn connections(&self) -> usize {
        match *self {
            Load::Concurrency(users) => users as usize,
            Load::Rate { max_inflight, .. } => max_inflight as usize,
        }
    }
}

/// A request due later than this when a connection frees up is dropped, not sent late.
const LATE_SLACK: Duration = Duration::from_millis(1);

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
/// is set. Blocks the calling thread; every shard has stopped when it returns.
pub fn run_step(
    template: &Arc<RequestTemplate>,
    connector: &Connector,
    plan: &StepPlan,
    interrupt: &AtomicBool,
    mut on_window: impl FnMut(&Windows) -> Verdict,
) -> StepRun {
    let users = plan.load.connections().max(1);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let shards = users.clamp(1, cores);
    // Time for the shards to start their runtimes and spawn their users before anything is due.
    let start = Instant::now() + Duration::from_millis(20);
    let clock = Clock::new(start, plan);
    let budget = plan.max_requests.map(|n| Arc::new(Budget::new(n)));
    let (report_tx, report_rx) = mpsc::channel::<Report>();
    let (stop_tx, stop_rx) = watch::channel(false);

    let handles: Vec<_> = (0..shards)
        .map(|s| {
            let shard = Shard {
                id: s,
                shards,
                first_user: s * (users / shards + 1),
                users: users / shards + usize::from(s < users % shards),
                load: plan.load,
                template: Arc::clone(template),
                connector: connector.clone(),
                clock,
                timeout: plan.timeout,
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
    loop {
        if interrupt.load(Ordering::Relaxed) {
            interrupted = true;
            break;
        }
        match report_rx.recv_timeout(Duration::from_millis(50)) {
            Ok(report) => {
                if collector.add(report) && on_window(&collector.windows) == Verdict::Stop {
                    break;
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

/// Window boundaries, shared by all shards: window k spans `[boundary(k), boundary(k+1))`.
#[derive(Clone, Copy, Debug)]
struct Clock {
    start: Instant,
    warmup: Duration,
    window: Duration,
    max_duration: Duration,
}

impl Clock {
    fn new(start: Instant, plan: &StepPlan) -> Self {
        Clock {
            start,
            warmup: plan.warmup,
            window: plan.window.max(Duration::from_millis(10)),
            max_duration: plan.max_duration,
        }
    }

    /// How many windows the plan holds at most.
    fn windows(&self) -> u32 {
        let n = self
            .max_duration
            .as_nanos()
            .div_ceil(self.window.as_nanos());
        u32::try_from(n).unwrap_or(u32::MAX).max(1)
    }

    fn boundary(&self, k: u32) -> Instant {
        self.start + self.warmup + (self.window * k).min(self.max_duration)
    }

    /// When the plan ends.
    fn end(&self) -> Instant {
        self.start + self.warmup + self.max_duration
    }
}

/// A shared request budget for `--requests N`.
struct Budget {
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

    fn take(&self) -> bool {
        self.taken.fetch_add(1, Ordering::Relaxed) < self.limit
    }
}

/// One shard's tally for one window. `last` says the shard sends nothing after it.
struct Report {
    shard: usize,
    index: u32,
    tally: Tally,
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

    /// Adds a report; true when it completed a new window.
    fn add(&mut self, report: Report) -> bool {
        let slot = (report.index - self.windows.len()) as usize;
        if self.pending.len() <= slot {
            self.pending
                .resize_with(slot + 1, || (Tally::new(), self.clock.start));
        }
        let (tally, end) = &mut self.pending[slot];
        tally.merge(&report.tally);
        *end = (*end).max(report.end);
        self.next[report.shard] = if report.last {
            None
        } else {
            Some(report.index + 1)
        };
        self.complete_windows()
    }

    fn complete_windows(&mut self) -> bool {
        let mut completed = false;
        loop {
            let index = self.windows.len();
            let all_in = self.next.iter().all(|n| n.is_none_or(|n| n > index));
            if self.pending.is_empty() || !all_in {
                return completed;
            }
            let (tally, end) = self.pending.remove(0);
            let from = self.clock.boundary(index);
            let nominal_end = self.clock.boundary(index + 1);
            let until = if end < nominal_end { end } else { nominal_end };
            self.windows.push(Window {
                index,
                duration: until.saturating_duration_since(from),
                tally,
            });
            completed = true;
        }
    }
}

/// One OS thread's share of the users (closed loop) or of the arrivals (open loop).
struct Shard {
    id: usize,
    shards: usize,
    first_user: usize,
    users: usize,
    load: Load,
    template: Arc<RequestTemplate>,
    connector: Connector,
    clock: Clock,
    timeout: Duration,
    budget: Option<Arc<Budget>>,
    reports: mpsc::Sender<Report>,
    stop: watch::Receiver<bool>,
}

/// What the users of one shard share.
struct ShardState {
    tally: RefCell<Tally>,
    live_users: Cell<usize>,
    all_done: Notify,
    /// The open-loop due times of this shard (unused in closed loop).
    schedule: RefCell<Option<Schedule>>,
}

impl ShardState {
    fn user_done(&self) {
        let live = self.live_users.get() - 1;
        self.live_users.set(live);
        if live == 0 {
            self.all_done.notify_one();
        }
    }
}

impl Shard {
    fn run(self) {
        let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            // Without a runtime the shard cannot send; report an empty last window.
            let _ = self.reports.send(Report {
                shard: self.id,
                index: 0,
                tally: Tally::new(),
                end: Instant::now(),
                last: true,
            });
            return;
        };
        LocalSet::new().block_on(&runtime, self.drive());
    }

    async fn drive(mut self) {
        let schedule = match self.load {
            Load::Concurrency(_) => None,
            Load::Rate { rate, arrival, .. } => Some(Schedule::new(
                arrival,
                rate,
                self.id,
                self.shards,
                self.clock.start,
                self.clock.end(),
            )),
        };
        let state = Rc::new(ShardState {
            tally: RefCell::new(Tally::new()),
            live_users: Cell::new(self.users),
            all_done: Notify::new(),
            schedule: RefCell::new(schedule),
        });
        for u in 0..self.users {
            let user = User {
                payload_index: self.first_user + u,
                connection: Connection::new(
                    Arc::clone(&self.template),
                    self.connector.clone(),
                    self.timeout,
                ),
                budget: self.budget.clone(),
                state: Rc::clone(&state),
            };
            match self.load {
                Load::Concurrency(_) => tokio::task::spawn_local(user.closed_loop()),
                Load::Rate { .. } => tokio::task::spawn_local(user.open_loop()),
            };
        }
        if !self.clock.warmup.is_zero() {
            tokio::select! {
                _ = tokio::time::sleep_until(self.clock.boundary(0).into()) => {}
                _ = self.stop.changed() => return,
            }
            state.tally.replace(Tally::new());
        }
        let windows = self.clock.windows();
        for index in 0..windows {
            let finished = tokio::select! {
                _ = tokio::time::sleep_until(self.clock.boundary(index + 1).into()) => false,
                _ = state.all_done.notified(), if state.live_users.get() > 0 => true,
                _ = std::future::ready(()), if state.live_users.get() == 0 => true,
                _ = self.stop.changed() => return,
            };
            let last = finished || index + 1 == windows;
            let end = match (self.load, &self.budget) {
                // Open loop without --requests ends when the schedule reaches the plan's end,
                // so the load was offered over the whole window even if the last answer came
                // early: the rate is counted over all of it, not up to that answer.
                (Load::Rate { .. }, None) if finished => {
                    Instant::now().max(self.clock.boundary(index + 1))
                }
                _ => Instant::now(),
            };
            let report = Report {
                shard: self.id,
                index,
                tally: state.tally.replace(Tally::new()),
                end,
                last,
            };
            if self.reports.send(report).is_err() || last {
                return;
            }
        }
    }
}

/// One virtual user: one connection, one request at a time.
struct User {
    payload_index: usize,
    connection: Connection,
    budget: Option<Arc<Budget>>,
    state: Rc<ShardState>,
}

/// How one request ended.
enum Outcome {
    Success,
    Failure(ErrorKind, ErrorSample),
}

impl User {
    /// Closed loop: send the next request as soon as the last one is answered.
    async fn closed_loop(mut self) {
        while self.budget.as_ref().is_none_or(|b| b.take()) {
            let started = Instant::now();
            let outcome = self.connection.send(self.payload_index).await;
            self.finish(outcome, started).await;
        }
        self.state.user_done();
    }

    /// Open loop: take the shard's next due time; wait for it, or drop it when it has
    /// already passed (every connection was busy), and measure latency from the due time.
    /// Requests due before the shard was running are sent, not dropped: no connection was
    /// busy, the shard was starting.
    async fn open_loop(mut self) {
        let running = Instant::now();
        loop {
            let Some(due) = self
                .state
                .schedule
                .borrow_mut()
                .as_mut()
                .and_then(Schedule::next_due)
            else {
                break;
            };
            if self.budget.as_ref().is_some_and(|b| !b.take()) {
                break;
            }
            let now = Instant::now();
            if due > now {
                tokio::time::sleep_until(due.into()).await;
            } else if now - due > LATE_SLACK && due > running {
                self.state.tally.borrow_mut().dropped += 1;
                continue;
            }
            let outcome = self.connection.send(self.payload_index).await;
            self.finish(outcome, due).await;
        }
        self.state.user_done();
    }

    /// Records the outcome with latency counted from `since`, and moves to the next body.
    async fn finish(&mut self, outcome: Outcome, since: Instant) {
        let latency = since.elapsed();
        let connect_failed = matches!(outcome, Outcome::Failure(ErrorKind::Connect, _));
        {
            let mut tally = self.state.tally.borrow_mut();
            match outcome {
                Outcome::Success => tally.record_success(latency),
                Outcome::Failure(kind, s) => tally.record_error(kind, || s),
            }
        }
        self.payload_index = self.payload_index.wrapping_add(1);
        if connect_failed {
            // Do not spin on a refusing peer; try again shortly.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// One keep-alive connection, reopened when it breaks or a request times out on it.
struct Connection {
    stream: Option<Box<dyn Io>>,
    /// The read buffer, kept across requests.
    buf: BytesMut,
    template: Arc<RequestTemplate>,
    connector: Connector,
    timeout: Duration,
}

impl Connection {
    fn new(template: Arc<RequestTemplate>, connector: Connector, timeout: Duration) -> Self {
        Connection {
            stream: None,
            buf: BytesMut::with_capacity(8192),
            template,
            connector,
            timeout,
        }
    }

    /// Forgets the connection: the next request opens a new one.
    fn drop_stream(&mut self) {
        self.stream = None;
        self.buf.clear();
    }

    /// Sends body `payload_index` and reads the whole response, within the timeout.
    async fn send(&mut self, payload_index: usize) -> Outcome {
        let timeout = self.timeout;
        match tokio::time::timeout(timeout, self.exchange(payload_index)).await {
            Ok(outcome) => outcome,
            Err(_) => {
                self.drop_stream(); // the answer may still arrive on it: never reuse
                let detail = format!("no response within {timeout:?}");
                Outcome::Failure(ErrorKind::Timeout, sample(ErrorKind::Timeout, None, detail))
            }
        }
    }

    async fn exchange(&mut self, payload_index: usize) -> Outcome {
        if self.stream.is_none() {
            match self.connector.connect().await {
                Ok(s) => self.stream = Some(s),
                Err(e) => {
                    return Outcome::Failure(
                        ErrorKind::Connect,
                        sample(ErrorKind::Connect, None, e.to_string()),
                    );
                }
            }
        }
        let Some(stream) = self.stream.as_mut() else {
            unreachable!("a connection was just opened")
        };
        let request = self.template.wire(payload_index);
        match wire::exchange(stream.as_mut(), &request, &mut self.buf).await {
            Ok(response) => {
                if response.closes {
                    self.drop_stream();
                }
                outcome(response)
            }
            Err(e) => {
                self.drop_stream();
                let kind = match e {
                    WireError::Io(_) => ErrorKind::Connect,
                    WireError::Protocol(_) => ErrorKind::Other,
                };
                Outcome::Failure(kind, sample(kind, None, e.to_string()))
            }
        }
    }
}

/// Classifies a complete response.
fn outcome(response: wire::Response) -> Outcome {
    let headers = response.headers.unwrap_or_default();
    match classify_response(response.status, &headers) {
        None => Outcome::Success,
        Some(kind) => {
            let text = error_detail(&headers, &response.body_sample);
            Outcome::Failure(kind, sample(kind, Some(response.status.as_u16()), text))
        }
    }
}

fn sample(kind: ErrorKind, status: Option<u16>, detail: String) -> ErrorSample {
    ErrorSample {
        kind,
        status,
        detail,
    }
}

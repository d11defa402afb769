//! The load a shard applies: closed-loop users, each sending its next request when the last
//! one is answered on its own keep-alive connection, or one open-loop dispatcher that sends
//! each request when it falls due on a pooled connection (late if it must, dropped only when
//! `--max-inflight` are out). Every request counts in the window it fell due in.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use super::conn::{Conn, Link, Outcome, Pool};
use super::engine::Budget;
use super::schedule::Schedule;
use super::slots::{Clock, Slots};
use crate::results::ErrorKind;

/// What one request left behind: its connection, when it may carry another, and whether
/// the peer could not be reached at all (connect failed or reset before any answer).
struct Answer {
    conn: Option<Conn>,
    refused: bool,
}
use crate::stats::StreamRecord;

/// What a shard's users, its dispatcher and its driver share.
pub struct ShardState {
    clock: Clock,
    pub slots: RefCell<Slots>,
    /// Wakes the driver: a window may be complete, or the load finished.
    pub changed: Notify,
    /// The requests out now: their window and due time, so that those still out when the
    /// drain limit passes can be counted as cut in their window.
    in_flight: RefCell<InFlight>,
    /// Users (or the dispatcher) still running.
    pub live: Cell<usize>,
    /// Set when the step ends: nothing more is sent.
    stopped: Cell<Option<Instant>>,
    /// Open loop: the due time the dispatcher has reached; nothing due before it is still
    /// to be sent. `None` in closed loop (requests are due when sent).
    horizon: Cell<Option<Instant>>,
    /// Open loop: requests out, and the shard's cap on them.
    inflight: Cell<usize>,
    pool: RefCell<Pool>,
}

impl ShardState {
    pub fn new(clock: Clock, slots: Slots) -> Self {
        ShardState {
            clock,
            slots: RefCell::new(slots),
            changed: Notify::new(),
            in_flight: RefCell::new(InFlight::default()),
            live: Cell::new(0),
            stopped: Cell::new(None),
            horizon: Cell::new(None),
            inflight: Cell::new(0),
            pool: RefCell::new(Pool::default()),
        }
    }

    /// How many windows are over: their time has passed and (open loop) the dispatcher has
    /// sent or dropped everything due in them.
    pub fn sealed(&self, windows: u32) -> u32 {
        let now = self
            .horizon
            .get()
            .map_or(Instant::now(), |h| h.min(Instant::now()));
        let mut sealed = 0;
        while sealed < windows && self.clock.boundary(sealed + 1) <= now {
            sealed += 1;
        }
        sealed
    }

    /// Every user (or the dispatcher) has finished.
    pub fn load_done(&self) -> bool {
        self.live.get() == 0
    }

    /// Ends the load at `at`: users and the dispatcher send nothing more.
    pub fn stop_load(&self, at: Instant) {
        self.stopped.set(Some(at));
    }

    fn stopping(&self) -> bool {
        self.stopped.get().is_some()
    }

    fn user_done(&self) {
        self.live.set(self.live.get().saturating_sub(1));
        self.changed.notify_one();
    }

    /// Sends one request due at `due` on `conn` (or a new connection) and records it in
    /// the window it fell due in, latency counted from `due`. Returns the connection when it
    /// may carry another request.
    async fn request(&self, link: &Link, conn: Option<Conn>, body: usize, due: Instant) -> Answer {
        let index = self.clock.window_of(due);
        self.slots.borrow_mut().begin(index);
        let key = self.in_flight.borrow_mut().insert(index, due);
        let mut sent = link.send(conn, body).await;
        self.in_flight.borrow_mut().remove(key);
        let now = Instant::now();
        let mut slots = self.slots.borrow_mut();
        if link.template.stream().is_some() {
            let record = std::mem::take(&mut sent.stream);
            self.record_stream(&mut slots, index, due, &record);
        }
        let tally = slots.tally(index);
        tally.connections += u64::from(sent.opened);
        tally.reconnects += u64::from(sent.retried);
        let success = matches!(sent.outcome, Outcome::Success);
        let refused = matches!(sent.outcome, Outcome::Failure(ErrorKind::Connect, _));
        let latency = now.saturating_duration_since(due);
        match sent.outcome {
            Outcome::Success => tally.record_success(latency),
            Outcome::Failure(kind, sample) => tally.record_error(kind, latency, || sample),
        }
        let window_done = slots.end(index);
        // Answers after the load stopped (while draining) are not throughput.
        let answered_in = self.clock.running_window(now).filter(|_| !self.stopping());
        if success && let Some(now) = answered_in {
            slots.tally(Some(now)).answered += 1;
        }
        if window_done {
            // The driver may report that window now.
            self.changed.notify_one();
        }
        Answer {
            conn: sent.conn,
            refused,
        }
    }

    /// The drain limit passed: every request still out is cut. It counts as sent, with no
    /// outcome (not as the server's timeout). Their tasks are never polled again (they go
    /// with the shard's runtime).
    pub fn cut_in_flight(&self) {
        let mut slots = self.slots.borrow_mut();
        for (index, _due) in self.in_flight.borrow_mut().take_all() {
            slots.tally(index).record_cut();
            slots.end(index);
        }
    }
}

/// The requests out, in a slab: inserting and removing one costs a few instructions, so
/// every request can be registered.
#[derive(Default)]
struct InFlight {
    entries: Vec<Option<(Option<u32>, Instant)>>,
    free: Vec<usize>,
}

impl InFlight {
    fn insert(&mut self, window: Option<u32>, due: Instant) -> usize {
        match self.free.pop() {
            Some(key) => {
                self.entries[key] = Some((window, due));
                key
            }
            None => {
                self.entries.push(Some((window, due)));
                self.entries.len() - 1
            }
        }
    }

    fn remove(&mut self, key: usize) {
        if let Some(entry) = self.entries.get_mut(key)
            && entry.take().is_some()
        {
            self.free.push(key);
        }
    }

    /// Every request still out, emptying the slab.
    fn take_all(&mut self) -> Vec<(Option<u32>, Instant)> {
        self.free.clear();
        self.entries.drain(..).flatten().collect()
    }
}

impl ShardState {
    /// A streamed request's tokens: its TTFT in the window it fell due in, the gaps between
    /// its tokens and (up to when the load stopped) the tokens themselves in the windows
    /// they arrived in.
    fn record_stream(
        &self,
        slots: &mut Slots,
        index: Option<u32>,
        due: Instant,
        record: &StreamRecord,
    ) {
        slots
            .tally(index)
            .stream_mut()
            .record(due, Instant::now(), record);
        let scale = record.scale();
        let stopped = self.stopped.get();
        for (i, &(at, n)) in record.reads.iter().enumerate() {
            // Gaps count in the window they ended in (the last one past the end).
            let window = self.clock.window_of(at).or(index);
            slots.tally(window).stream_mut().record_gaps(record, i);
            let running = self
                .clock
                .running_window(at)
                .filter(|_| stopped.is_none_or(|s| at < s));
            if let Some(w) = running {
                slots.tally(Some(w)).stream_mut().tokens_arrived += f64::from(n) * scale;
            }
        }
    }
}

/// A closed-loop user: one request at a time on its own keep-alive connection, replaced
/// when the server closed it while idle.
pub async fn closed_loop(
    state: Rc<ShardState>,
    link: Link,
    mut body: usize,
    budget: Option<Arc<Budget>>,
) {
    // Requests sent before the step's clock starts would count nowhere.
    tokio::time::sleep_until(state.clock.start.into()).await;
    let mut conn: Option<Conn> = None;
    while !state.stopping() && budget.as_ref().is_none_or(|b| b.take()) {
        let now = Instant::now();
        if conn.as_mut().is_some_and(|c| c.is_stale(now)) {
            conn = None;
        }
        let reconnecting = conn.is_none();
        let answer = state.request(&link, conn.take(), body, now).await;
        conn = answer.conn;
        body = body.wrapping_add(1);
        if reconnecting && answer.refused {
            // A fresh connection failed: do not spin on a refusing peer. (A server that
            // answers and then closes, as gunicorn's sync workers do, is not waited for.)
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    state.user_done();
}

/// The open-loop dispatcher: each request goes out when it falls due, on the most recently
/// used idle connection or a new one, as long as fewer than `cap` are out; a request due
/// while `cap` are out is dropped. A request due in the past (the shard was busy) is sent
/// late, its latency counted from its due time. `(first, stride)` are the arrival points
/// the schedule holds: arrival i of the whole process carries body i, so shards do not all
/// start with the first body.
pub async fn open_loop(
    state: Rc<ShardState>,
    link: Link,
    mut schedule: Schedule,
    (first, stride): (usize, usize),
    cap: usize,
    budget: Option<Arc<Budget>>,
) {
    let mut body = first;
    let mut spent = false;
    while let Some(due) = schedule.next_due() {
        if budget.as_ref().is_some_and(|b| !b.take()) {
            spent = true;
            break;
        }
        // Nothing due before `due` is left to send: windows that end before it may close
        // while the dispatcher sleeps (at a low rate the driver would otherwise wake at every
        // window boundary it cannot yet seal and spin until the next request goes out).
        state.horizon.set(Some(due));
        if due > Instant::now() {
            tokio::time::sleep_until(due.into()).await;
        }
        if state.stopping() {
            break;
        }
        let index = state.clock.window_of(due);
        {
            let mut slots = state.slots.borrow_mut();
            let tally = slots.tally(index);
            tally.scheduled += 1;
            if state.inflight.get() >= cap {
                tally.dropped += 1;
                continue;
            }
        }
        state.inflight.set(state.inflight.get() + 1);
        let conn = state.pool.borrow_mut().take(Instant::now());
        let task_state = Rc::clone(&state);
        let task_link = link.clone();
        tokio::task::spawn_local(async move {
            let conn = task_state.request(&task_link, conn, body, due).await.conn;
            if let Some(conn) = conn.filter(|_| !task_state.stopping()) {
                task_state.pool.borrow_mut().put(conn);
            }
            task_state.inflight.set(task_state.inflight.get() - 1);
        });
        body = body.wrapping_add(stride);
    }
    if !spent && !state.stopping() {
        // The schedule covers the step up to its end: the load was offered over all of it,
        // even if the last request is due a little before. Nothing more is due before it.
        state.horizon.set(Some(state.clock.end()));
        tokio::time::sleep_until(state.clock.end().into()).await;
    }
    state.horizon.set(None);
    state.user_done();
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};

    use bytes::Bytes;

    use super::*;
    use crate::endpoint::{Connector, Endpoint, PayloadSet, RequestTemplate, TlsOptions};
    use crate::results::Arrival;

    /// A server on 127.0.0.1 that answers every request at once with an empty 200.
    fn quick_server() -> String {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                std::thread::spawn(move || {
                    let mut stream = stream;
                    let mut buf = [0u8; 4096];
                    while let Ok(n) = stream.read(&mut buf) {
                        // Each request here is one small read (headers and a 1-byte body).
                        if n == 0
                            || stream
                                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                                .is_err()
                        {
                            break;
                        }
                    }
                });
            }
        });
        format!("http://{addr}/invocations")
    }

    /// The shard's event loop stalls for 300 ms (as a busy client's does): the requests
    /// that fell due meanwhile are sent late, their latency counted from their due time,
    /// and none is dropped, since nothing like `--max-inflight` was outstanding.
    #[test]
    fn requests_due_while_the_client_was_busy_are_sent_late_not_dropped() {
        let url = quick_server();
        let endpoint = Endpoint::parse(&url).unwrap();
        let payloads = PayloadSet::from_bodies(vec![Bytes::from_static(b"x")], "text/plain");
        let template = RequestTemplate::new(endpoint.clone(), payloads, None, None, &[]).unwrap();
        let link = Link {
            template: Arc::new(template),
            connector: Connector::new(&endpoint, &TlsOptions::default()).unwrap(),
            timeout: Duration::from_secs(5),
            until_first_token: false,
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let start = Instant::now() + Duration::from_millis(50);
        let clock = Clock {
            start,
            warmup: Duration::ZERO,
            window: Duration::from_secs(1),
            max_duration: Duration::from_secs(1),
        };
        let state = Rc::new(ShardState::new(clock, Slots::new(true)));
        let schedule = Schedule::new(Arrival::Constant, 100.0, 0, 1, start, clock.end());
        tokio::task::LocalSet::new().block_on(&rt, async {
            tokio::task::spawn_local(open_loop(
                Rc::clone(&state),
                link,
                schedule,
                (0, 1),
                1024,
                None,
            ));
            tokio::time::sleep_until((start + Duration::from_millis(200)).into()).await;
            std::thread::sleep(Duration::from_millis(300)); // the stall
            tokio::time::sleep_until((clock.end() + Duration::from_millis(300)).into()).await;
        });
        let mut slots = state.slots.borrow_mut();
        let (_, tally) = slots.pop_before(1).expect("the window");
        assert_eq!(tally.scheduled, 100);
        assert_eq!(
            tally.dropped, 0,
            "nothing was outstanding: late is not dropped"
        );
        assert_eq!(tally.successes, 100);
        let slowest_ms = tally.latency.max() as f64 / 1000.0;
        assert!(
            slowest_ms >= 250.0,
            "the stall shows, counted from due: {slowest_ms} ms"
        );
    }
}

//! The embedded model server, speaking the SageMaker container contract (REFERENCE.md §2):
//! `GET /ping`, `POST /invocations`. Like a model container it runs a pool of inference
//! workers behind a bounded queue: past the queue it answers 503, so its throughput
//! saturates at a real capacity and latency climbs as the queue fills. `llm` is the LLM
//! server of `serve --llm`: tokens streamed from a continuously batched engine.

mod iris;
pub mod llm;

pub use iris::Model;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::serve::ListenerExt;
use tokio::sync::oneshot;

use crate::Error;

/// A sample request body for the demo model (one Iris flower, JSON).
pub const SAMPLE_PAYLOAD: &str = "{\"instances\": [[5.9, 3.0, 4.2, 1.5]]}";

/// How the server behaves (flags of `peakrps serve`).
#[derive(Clone, Debug)]
pub struct ServerConfig {
    pub host: String,
    pub port: u16,
    /// Inference workers: requests served at the same time.
    pub workers: usize,
    /// Requests that may wait for a worker; past that, 503.
    pub max_queue: usize,
    /// Forward passes per input row (test-time augmentation copies).
    pub work_per_request: u32,
    /// The least time a worker spends on a request, like an accelerator's fixed latency.
    pub service_time: Duration,
    /// How a request past the queue is refused.
    pub when_full: WhenFull,
}

/// How the server refuses a request when every worker is busy and the queue is full.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum WhenFull {
    /// HTTP 503, as a model container whose queue is full.
    #[value(name = "503")]
    Unavailable,
    /// HTTP 400 with `x-amzn-ErrorType: ThrottlingException`, as SageMaker throttles.
    Throttle,
}

impl ServerConfig {
    /// Requests per second the server can serve when `service_time` dominates the work.
    pub fn nominal_capacity(&self) -> Option<f64> {
        (!self.service_time.is_zero())
            .then(|| self.workers as f64 / self.service_time.as_secs_f64())
    }
}

/// A server running on its own threads; dropped, it shuts down.
pub struct RunningServer {
    pub addr: SocketAddr,
    work: Arc<WorkLedger>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl RunningServer {
    /// What the inference workers have done so far (nothing for the LLM server).
    pub fn work_done(&self) -> WorkDone {
        self.work.read()
    }
}

/// Requests the workers answered and the time they held them, as the server itself
/// measured it: a sleep or a busy machine that stretches `service_time` shows here, so
/// `capacity` is what the pool really served, not what its settings promise.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WorkDone {
    pub workers: usize,
    pub requests: u64,
    pub held: Duration,
}

impl WorkDone {
    /// The work done between `earlier` and this reading.
    pub fn since(self, earlier: WorkDone) -> WorkDone {
        WorkDone {
            workers: self.workers,
            requests: self.requests.saturating_sub(earlier.requests),
            held: self.held.saturating_sub(earlier.held),
        }
    }

    /// The mean time a request held a worker; None before any request.
    pub fn mean_held(&self) -> Option<Duration> {
        (self.requests > 0)
            .then(|| Duration::from_secs_f64(self.held.as_secs_f64() / self.requests as f64))
    }

    /// Requests per second all workers kept busy serve at the mean time a request held one.
    pub fn capacity(&self) -> Option<f64> {
        let mean = self.mean_held()?.as_secs_f64();
        (mean > 0.0).then(|| self.workers as f64 / mean)
    }

    /// "4173 requests held a worker 25.2 ms on average, so its 4 workers serve at most
    /// 158.6 req/s"; None before any request.
    pub fn describe(&self) -> Option<String> {
        let (held, capacity) = (self.mean_held()?, self.capacity()?);
        Some(format!(
            "{} requests held a worker {:.1} ms on average, so its {} workers serve at most {capacity:.1} req/s",
            self.requests,
            held.as_secs_f64() * 1000.0,
            self.workers
        ))
    }
}

/// The workers' shared tally behind `WorkDone`.
#[derive(Default)]
struct WorkLedger {
    workers: usize,
    requests: AtomicU64,
    held_nanos: AtomicU64,
}

impl WorkLedger {
    fn add(&self, held: Duration) {
        let nanos = u64::try_from(held.as_nanos()).unwrap_or(u64::MAX);
        self.held_nanos.fetch_add(nanos, Ordering::Relaxed);
        self.requests.fetch_add(1, Ordering::Relaxed);
    }

    fn read(&self) -> WorkDone {
        WorkDone {
            workers: self.workers,
            requests: self.requests.load(Ordering::Relaxed),
            held: Duration::from_nanos(self.held_nanos.load(Ordering::Relaxed)),
        }
    }
}

/// One request handed to the worker pool.
struct Job {
    body: Bytes,
    csv_in: bool,
    csv_out: bool,
    reply: oneshot::Sender<Result<String, String>>,
}

#[derive(Clone)]
struct App {
    jobs: mpsc::Sender<Job>,
    admitted: Arc<AtomicUsize>,
    limit: usize,
    when_full: WhenFull,
}

/// Starts the server in the background (its own threads) and returns once it listens.
pub fn start(config: &ServerConfig) -> Result<RunningServer, Error> {
    let ledger = Arc::new(WorkLedger {
        workers: config.workers.max(1),
        ..WorkLedger::default()
    });
    let app = router(config, Arc::clone(&ledger));
    serve_in_background(&config.host, config.port, app, ledger)
}

/// Serves `app` on `host:port` from a thread of its own; returns once it listens.
fn serve_in_background(
    host: &str,
    port: u16,
    app: Router,
    work: Arc<WorkLedger>,
) -> Result<RunningServer, Error> {
    let listener = std::net::TcpListener::bind((host, port)).map_err(|source| Error::Network {
        message: format!(
            "cannot listen on {host}:{port} ({source}); choose another --port or --host"
        ),
        source,
    })?;
    listener
        .set_nonblocking(true)
        .map_err(|e| Error::setup("cannot set up the listener", e))?;
    let addr = listener
        .local_addr()
        .map_err(|e| Error::setup("cannot read the listening address", e))?;
    let (tx, rx) = oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("peakrps-server".into())
        .spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async move {
                let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                    return;
                };
                // Each token goes out as it is made, as model servers do: without this,
                // Nagle holds a small chunk until the client acknowledges the last one.
                let listener = listener.tap_io(|stream| {
                    let _ = stream.set_nodelay(true);
                });
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = rx.await;
                    })
                    .await;
            });
        })
        .map_err(|e| Error::setup("cannot start the server thread", e))?;
    Ok(RunningServer {
        addr,
        work,
        shutdown: Some(tx),
        thread: Some(thread),
    })
}

/// Builds the routes and starts the worker pool (its threads end when the router is dropped).
fn router(config: &ServerConfig, ledger: Arc<WorkLedger>) -> Router {
    let model = Model::train();
    let (jobs_tx, jobs_rx) = mpsc::channel::<Job>();
    let jobs_rx = Arc::new(Mutex::new(jobs_rx));
    for i in 0..config.workers.max(1) {
        let jobs = Arc::clone(&jobs_rx);
        let model = model.clone();
        let pace = Pace {
            work: config.work_per_request,
            service_time: config.service_time,
            ledger: Arc::clone(&ledger),
        };
        let _ = std::thread::Builder::new()
            .name(format!("peakrps-model-{i}"))
            .spawn(move || worker(&jobs, &model, &pace));
    }
    let app = App {
        jobs: jobs_tx,
        admitted: Arc::new(AtomicUsize::new(0)),
        limit: config.workers.max(1) + config.max_queue,
        when_full: config.when_full,
    };
    Router::new()
        .route("/ping", get(|| async { StatusCode::OK }))
        .route("/invocations", post(invoke))
        .layer(DefaultBodyLimit::max(6 * 1024 * 1024))
        .with_state(app)
}

/// How a worker spends a request, and where it books the time.
struct Pace {
    work: u32,
    service_time: Duration,
    ledger: Arc<WorkLedger>,
}

fn worker(jobs: &Mutex<mpsc::Receiver<Job>>, model: &Model, pace: &Pace) {
    loop {
        let job = {
            let Ok(rx) = jobs.lock() else { return };
            match rx.recv() {
                Ok(job) => job,
                Err(_) => return, // the server is gone
            }
        };
        let started = Instant::now();
        let result = iris::parse_rows(&job.body, job.csv_in).map(|rows| {
            let predictions: Vec<[f64; 3]> = rows
                .iter()
                .map(|r| model.predict_augmented(r, pace.work))
                .collect();
            iris::render(&predictions, job.csv_out)
        });
        if let Some(rest) = pace.service_time.checked_sub(started.elapsed()) {
            std::thread::sleep(rest);
        }
        let _ = job.reply.send(result);
        pace.ledger.add(started.elapsed());
    }
}

/// Releases a queue slot when the request ends, however it ends.
struct Admission(Arc<AtomicUsize>);

impl Drop for Admission {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

fn refuse(when_full: WhenFull) -> Response {
    match when_full {
        WhenFull::Unavailable => {
            (StatusCode::SERVICE_UNAVAILABLE, "model server busy: the request queue is full").into_response()
        }
        WhenFull::Throttle => (
            StatusCode::BAD_REQUEST,
            [("x-amzn-ErrorType", "ThrottlingException:http://internal.amazon.com/coral/com.amazon.coral.availability/")],
            "{\"message\":\"Rate exceeded\"}",
        )
            .into_response(),
    }
}

async fn invoke(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    let header_str = |name| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    };
    let content_type = header_str(header::CONTENT_TYPE);
    let csv_in = content_type.starts_with("text/csv");
    if !csv_in && !content_type.is_empty() && !content_type.starts_with("application/json") {
        return (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!(
                "content type '{content_type}' is not supported; send application/json or text/csv"
            ),
        )
            .into_response();
    }
    let csv_out = header_str(header::ACCEPT).starts_with("text/csv");

    if app.admitted.fetch_add(1, Ordering::AcqRel) >= app.limit {
        app.admitted.fetch_sub(1, Ordering::AcqRel);
        return refuse(app.when_full);
    }
    let _slot = Admission(Arc::clone(&app.admitted));
    let (reply, answer) = oneshot::channel();
    if app
        .jobs
        .send(Job {
            body,
            csv_in,
            csv_out,
            reply,
        })
        .is_err()
    {
        return (StatusCode::SERVICE_UNAVAILABLE, "model workers are gone").into_response();
    }
    match answer.await {
        Ok(Ok(text)) => {
            let ct = if csv_out {
                "text/csv"
            } else {
                "application/json"
            };
            ([(header::CONTENT_TYPE, ct)], text).into_response()
        }
        Ok(Err(why)) => (StatusCode::BAD_REQUEST, why).into_response(),
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "the model worker failed").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    /// One `POST /invocations` over a fresh connection; the response's status line.
    fn invoke_once(addr: SocketAddr) -> String {
        let mut stream = std::net::TcpStream::connect(addr).expect("connect");
        let request = format!(
            "POST /invocations HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{SAMPLE_PAYLOAD}",
            SAMPLE_PAYLOAD.len()
        );
        stream.write_all(request.as_bytes()).expect("write");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("read");
        response.lines().next().unwrap_or_default().to_string()
    }

    #[test]
    fn the_server_counts_the_time_its_workers_held_each_request() {
        let server = start(&ServerConfig {
            host: "127.0.0.1".into(),
            port: 0,
            workers: 2,
            max_queue: 4,
            work_per_request: 1,
            service_time: Duration::from_millis(20),
            when_full: WhenFull::Unavailable,
        })
        .expect("starts");
        let before = server.work_done();
        for _ in 0..5 {
            assert_eq!(invoke_once(server.addr), "HTTP/1.1 200 OK");
        }
        let done = server.work_done().since(before);
        assert_eq!((done.workers, done.requests), (2, 5));
        let held = done.mean_held().expect("requests were held");
        assert!(
            held >= Duration::from_millis(20) && held < Duration::from_millis(200),
            "{held:?}"
        );
        let capacity = done.capacity().expect("a capacity");
        assert!((10.0..=100.0).contains(&capacity), "{capacity}");
    }
}

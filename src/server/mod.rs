//! The embedded model server, speaking the SageMaker container contract (REFERENCE.md §2):
//! `GET /ping`, `POST /invocations`. Like a model container it runs a pool of inference
//! workers behind a bounded queue: past the queue it answers 503, so its throughput
//! saturates at a real capacity and latency climbs as the queue fills. `llm` is the LLM
//! server of `serve --llm`: tokens streamed from a continuously batched engine.

pub mod llm;
mod model;

pub use model::Model;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
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
    serve_in_background(&config.host, config.port, router(config))
}

/// Serves `app` on `host:port` from a thread of its own; returns once it listens.
fn serve_in_background(host: &str, port: u16, app: Router) -> Result<RunningServer, Error> {
    let listener = std::net::TcpListener::bind((host, port)).map_err(|e| {
        Error::Run(format!(
            "cannot listen on {host}:{port} ({e}); choose another --port or --host"
        ))
    })?;
    listener
        .set_nonblocking(true)
        .map_err(|e| Error::Run(format!("cannot set up the listener: {e}")))?;
    let addr = listener
        .local_addr()
        .map_err(|e| Error::Run(format!("cannot read the listening address: {e}")))?;
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
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = rx.await;
                    })
                    .await;
            });
        })
        .map_err(|e| Error::Run(format!("cannot start the server thread: {e}")))?;
    Ok(RunningServer {
        addr,
        shutdown: Some(tx),
        thread: Some(thread),
    })
}

/// Builds the routes and starts the worker pool (its threads end when the router is dropped).
fn router(config: &ServerConfig) -> Router {
    let model = Model::train();
    let (jobs_tx, jobs_rx) = mpsc::channel::<Job>();
    let jobs_rx = Arc::new(Mutex::new(jobs_rx));
    for i in 0..config.workers.max(1) {
        let jobs = Arc::clone(&jobs_rx);
        let model = model.clone();
        let work = config.work_per_request;
        let service_time = config.service_time;
        let _ = std::thread::Builder::new()
            .name(format!("peakrps-model-{i}"))
            .spawn(move || worker(&jobs, &model, work, service_time));
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

fn worker(jobs: &Mutex<mpsc::Receiver<Job>>, model: &Model, work: u32, service_time: Duration) {
    loop {
        let job = {
            let Ok(rx) = jobs.lock() else { return };
            match rx.recv() {
                Ok(job) => job,
                Err(_) => return, // the server is gone
            }
        };
        let started = Instant::now();
        let result = model::parse_rows(&job.body, job.csv_in).map(|rows| {
            let predictions: Vec<[f64; 3]> = rows
                .iter()
                .map(|r| model.predict_augmented(r, work))
                .collect();
            model::render(&predictions, job.csv_out)
        });
        if let Some(rest) = service_time.checked_sub(started.elapsed()) {
            std::thread::sleep(rest);
        }
        let _ = job.reply.send(result);
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

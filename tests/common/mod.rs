//! Helpers for the integration tests: servers of known capacity on 127.0.0.1 (ports chosen
//! by the OS), the peakrps binary, and a lock so load tests do not share the CPU.

#![allow(dead_code)]

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use peakrps::server::{self, RunningServer, ServerConfig, WhenFull};

static LOAD: Mutex<()> = Mutex::new(());

/// Held by every test that sends load, so timings are not disturbed by another test's load.
pub fn exclusive() -> MutexGuard<'static, ()> {
    LOAD.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The embedded model server with `workers` workers each holding a request `service` long:
/// capacity workers / service.
pub fn model_server(
    workers: usize,
    service: Duration,
    max_queue: usize,
    when_full: WhenFull,
) -> RunningServer {
    server::start(&ServerConfig {
        host: "127.0.0.1".into(),
        port: 0,
        workers,
        max_queue,
        work_per_request: 1,
        service_time: service,
        when_full,
    })
    .expect("test server starts")
}

pub fn url(server: &RunningServer) -> String {
    format!("http://{}/invocations", server.addr)
}

pub fn peakrps() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("peakrps").expect("binary built");
    cmd.env("NO_COLOR", "1").timeout(Duration::from_secs(300));
    cmd
}

/// Short windows so a whole search takes seconds, not minutes.
pub const FAST: &[&str] = &[
    "--window",
    "500ms",
    "--warmup",
    "300ms",
    "--step-duration",
    "4s",
    "--quiet",
];

/// What one `peakrps` command did: its exit code, its output and the results document it
/// wrote with `--json` (`Null` when it wrote none).
pub struct Outcome {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub doc: serde_json::Value,
}

/// Runs `peakrps ARGS… --json FILE` with FILE in a fresh folder.
pub fn with_json(args: &[&str]) -> Outcome {
    let dir = tempfile::tempdir().expect("temp dir");
    let json = dir.path().join("results.json");
    let out = peakrps()
        .args(args)
        .arg("--json")
        .arg(&json)
        .output()
        .expect("peakrps runs");
    let doc = read_json(&json).unwrap_or(serde_json::Value::Null);
    // Every find and run document of every test holds the invariants.
    if doc.get("steps").is_some() || doc.get("summary").is_some() {
        assert_step_invariants(&doc);
    }
    Outcome {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        doc,
    }
}

/// Runs `peakrps run ARGS… --quiet --json FILE`, which must succeed, and returns its document.
pub fn run_json(args: &[&str]) -> serde_json::Value {
    let mut all = vec!["run"];
    all.extend_from_slice(args);
    all.push("--quiet");
    let out = with_json(&all);
    assert_eq!(out.code, 0, "{}", out.stderr);
    out.doc
}

/// Runs `find URL FAST… extra…` with `--json` and returns the exit code, stdout, stderr and
/// the results document.
pub fn find(url: &str, extra: &[&str]) -> (i32, String, String, serde_json::Value) {
    let mut all = vec!["find", url];
    all.extend_from_slice(FAST);
    all.extend_from_slice(extra);
    let out = with_json(&all);
    (out.code, out.stdout, out.stderr, out.doc)
}

/// A JSON file read back; None when it is missing or not JSON.
pub fn read_json(path: &std::path::Path) -> Option<serde_json::Value> {
    let text = std::fs::read_to_string(path).ok()?;
    serde_json::from_str(&text).ok()
}

/// Serves on 127.0.0.1 (a port the OS picks) from a thread of its own: `serve` gets the
/// listener and runs for the rest of the test process.
pub fn serve_in_background<F, Fut>(serve: F) -> std::net::SocketAddr
where
    F: FnOnce(tokio::net::TcpListener) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()>,
{
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            serve(listener).await;
        });
    });
    addr
}

/// A server that answers at once, except that it freezes for `freeze` at the start of every
/// `period`: requests arriving during a freeze are held until it ends.
pub fn freezing_server(period: Duration, freeze: Duration) -> std::net::SocketAddr {
    use axum::routing::post;
    let start = std::time::Instant::now();
    serve_in_background(move |listener| async move {
        let app = axum::Router::new().route(
            "/invocations",
            post(move || async move {
                let phase =
                    Duration::from_secs_f64(start.elapsed().as_secs_f64() % period.as_secs_f64());
                if let Some(rest) = freeze.checked_sub(phase) {
                    tokio::time::sleep(rest).await;
                }
                "ok"
            }),
        );
        let _ = axum::serve(listener, app).await;
    })
}

/// What the fault server does with one request.
#[derive(Clone, Copy, Debug)]
pub enum Fault {
    /// 200 with a short body.
    Ok,
    /// Answers with this status.
    Status(u16),
    /// Starts answering, then resets the connection (RST) halfway through the answer.
    Reset,
    /// Resets the connection (RST) before a single byte of the answer: on a reused
    /// connection a client retries such a request once on a fresh one.
    ResetUnanswered,
    /// Waits this long, then answers 200.
    Stall(Duration),
    /// Answers with bytes that are not HTTP, then closes.
    Garbage,
    /// Sends the head of a 200, then its 10-byte body one byte per 200 ms.
    SlowBody,
}

/// A raw HTTP/1.1 server whose n-th request (counted over all connections) gets
/// `plan[n % plan.len()]`.
pub fn fault_server(plan: Vec<Fault>) -> std::net::SocketAddr {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let plan = Arc::new(plan);
    let counter = Arc::new(AtomicUsize::new(0));
    let addr = serve_in_background(move |listener| async move {
        while let Ok((stream, _)) = listener.accept().await {
            let plan = Arc::clone(&plan);
            let counter = Arc::clone(&counter);
            tokio::spawn(async move {
                let _ = serve_faults(stream, &plan, &counter).await;
            });
        }
    });

    async fn serve_faults(
        mut stream: tokio::net::TcpStream,
        plan: &[Fault],
        counter: &AtomicUsize,
    ) -> std::io::Result<()> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut buf = Vec::new();
        loop {
            // Read one request: the head, then Content-Length bytes of body.
            let head_end = loop {
                if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    break i + 4;
                }
                let mut chunk = [0u8; 4096];
                let n = stream.read(&mut chunk).await?;
                if n == 0 {
                    return Ok(());
                }
                buf.extend_from_slice(&chunk[..n]);
            };
            let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            while buf.len() < head_end + length {
                let mut chunk = [0u8; 4096];
                let n = stream.read(&mut chunk).await?;
                if n == 0 {
                    return Ok(());
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            buf.drain(..head_end + length);
            let fault = plan[counter.fetch_add(1, Ordering::SeqCst) % plan.len()];
            match fault {
                Fault::Ok => {
                    stream
                        .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                        .await?
                }
                Fault::Status(code) => {
                    let response =
                        format!("HTTP/1.1 {code} Fault\r\ncontent-length: 5\r\n\r\nfault");
                    stream.write_all(response.as_bytes()).await?
                }
                Fault::Reset => {
                    stream.write_all(b"HTTP/1.1 200 OK\r\n").await?;
                    stream.flush().await?;
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    stream.set_zero_linger()?;
                    return Ok(()); // dropped with linger 0: the peer gets a RST
                }
                Fault::ResetUnanswered => {
                    stream.set_zero_linger()?;
                    return Ok(());
                }
                Fault::Stall(d) => {
                    tokio::time::sleep(d).await;
                    stream
                        .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                        .await?
                }
                Fault::Garbage => {
                    stream.write_all(b"this is not HTTP at all\r\n\r\n").await?;
                    return Ok(());
                }
                Fault::SlowBody => {
                    stream
                        .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n")
                        .await?;
                    for _ in 0..10 {
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        stream.write_all(b"x").await?;
                    }
                }
            }
        }
    }
    addr
}

/// Starts `peakrps ARGS…` (a shard, say) with its output captured.
pub fn spawn(args: &[String]) -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_peakrps"))
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("peakrps starts")
}

/// A time all shards of one test share, for `--start-base`.
pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string()
}

/// Checks what every step of a find document (or the summary of a run document) must
/// hold, whatever the server: `requests = successes + errors + cut`; in the closed loop,
/// no more in flight than users and no more throughput than users ÷ median end-to-end
/// time, each plus the counting allowance at a window's edges (one request per user over
/// the measured time); tokens/s = req/s × output tokens a request, within 2 % plus that
/// allowance.
pub fn assert_step_invariants(doc: &serde_json::Value) {
    let steps = doc["steps"]
        .as_array()
        .cloned()
        .unwrap_or_else(|| vec![doc.clone()]);
    for (i, step) in steps.iter().enumerate() {
        let s = &step["summary"];
        let requests = s["requests"].as_u64().unwrap_or(0);
        let cut = s["cut"].as_u64().unwrap_or(0);
        let errors: u64 = s["errors"].as_object().map_or(0, |e| {
            e.values().filter_map(serde_json::Value::as_u64).sum()
        });
        // The successes are not in the document, only their ratio to the answered requests,
        // written to 4 decimals: it gives them to within half its last digit.
        let ratio = s["success_ratio"].as_f64().unwrap_or(0.0);
        let answered = requests.checked_sub(cut + errors);
        assert!(
            answered.is_some(),
            "step {i}: more errors and cut than requests: {s}"
        );
        let successes = answered.unwrap_or(0) as f64;
        let implied = ratio * (requests - cut) as f64;
        let rounding = 0.00005 * (requests - cut) as f64 + 0.5;
        assert!(
            (successes - implied).abs() <= rounding,
            "step {i}: requests - errors - cut = {successes} successes, the ratio says {implied:.1}: {s}"
        );
        let rps = s["rps"].as_f64().unwrap_or(0.0);
        let secs = s["duration_s"].as_f64().unwrap_or(0.0).max(1e-3);
        let Some(users) = step["concurrency"].as_f64() else {
            continue;
        };
        let edge = users / secs;
        let p50_s = s["latency_ms_ok"]["p50"].as_f64().unwrap_or(0.0) / 1000.0;
        if p50_s > 0.0 {
            let most = users / p50_s * 1.1 + edge;
            assert!(rps <= most, "step {i}: {rps} req/s > {most}: {s}");
        }
        let f = &step["stream"];
        if f.is_object() {
            let in_flight = f["concurrency"].as_f64().unwrap_or(0.0);
            let mean_s = in_flight / rps.max(1e-9);
            let most = users * (1.0 + mean_s / secs);
            assert!(
                in_flight <= most,
                "step {i}: in flight {in_flight} > {most}: {f}"
            );
            let tokens = f["output_tokens_per_s"].as_f64().unwrap_or(0.0);
            let per_request = f["mean_output_tokens"].as_f64().unwrap_or(0.0);
            let expected = rps * per_request;
            let allowance = expected * 0.02 + edge * per_request;
            assert!(
                (tokens - expected).abs() <= allowance,
                "step {i}: {tokens} tok/s vs {rps} req/s × {per_request}: {f}"
            );
        }
    }
}

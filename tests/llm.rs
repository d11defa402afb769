//! LLM endpoints (`--stream`) against servers whose figures are known: `find --stream`
//! against the embedded LLM server (its peak and TTFT follow from its formula), a stand-in
//! for SageMaker's InvokeEndpointWithResponseStream that frames that server's stream as an
//! event stream (with a ModelStreamError now and then), an open-loop run against a stream
//! that stalls, shards of a streaming `find --plan` and `run` merged, and the errors of the
//! new flags.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{exclusive, model_server, now_rfc3339, peakrps, spawn, url, with_json};
use peakrps::aws::eventstream::{encode_exception, encode_payload_part};
use peakrps::server::WhenFull;
use peakrps::server::llm::{EngineConfig, LlmConfig, start};
use serde_json::Value;

/// Batch 4; a 256-token prompt's first step takes 20 + 1 + 25.6 = 46.6 ms, and prefill
/// stays a small share of a request's time (so tokens per second settle within a window).
/// A request of 16 tokens lasts about 0.4 s: short enough for 1 s windows to hold several.
fn engine() -> EngineConfig {
    EngineConfig {
        batch: 4,
        prefill_per_token: Duration::from_micros(100),
        decode_step: Duration::from_millis(20),
        decode_per_seq: Duration::from_millis(1),
    }
}

fn llm_server(engine: EngineConfig) -> peakrps::server::RunningServer {
    start(&LlmConfig {
        host: "127.0.0.1".into(),
        port: 0,
        engine,
        max_waiting: 256,
        default_max_tokens: 32,
    })
    .expect("the LLM server starts")
}

fn f64_at(v: &Value, pointer: &str) -> f64 {
    v.pointer(pointer)
        .and_then(Value::as_f64)
        .unwrap_or_else(|| panic!("{pointer} in {v}"))
}

#[test]
fn find_stream_lands_on_the_formulas_peak_and_ttft() {
    let _guard = exclusive();
    let engine = engine();
    let server = llm_server(engine.clone());
    let target = format!("http://{}/v1/chat/completions", server.addr);
    let out = with_json(&[
        "find",
        &target,
        "--stream",
        "--prompt-tokens",
        "256",
        "--output-tokens",
        "16",
        "--window",
        "2s",
        "--warmup",
        "500ms",
        "--step-duration",
        "7s",
        "--max-concurrency",
        "6",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let doc = &out.doc;
    let formula = engine.peak_concurrency(256, Duration::from_millis(200), Duration::from_secs(2));
    let found = f64_at(doc, "/peak/concurrency") as usize;
    eprintln!("peak concurrency {found} against the formula's {formula}");
    assert!(found.abs_diff(formula) <= 1, "{}", out.stdout);

    // TTFT at concurrency 1: the idle step of the formula.
    let first = &doc["steps"][0];
    let ttft = f64_at(first, "/stream/ttft_ms/p50");
    let expected = engine.idle_ttft(256).as_secs_f64() * 1000.0;
    eprintln!("TTFT p50 at concurrency 1: {ttft:.1} ms against the formula's {expected:.1} ms");
    assert!((ttft / expected - 1.0).abs() <= 0.10, "{first}");
    // Every request asked for 16 tokens and the server's usage said so.
    assert_eq!(first["stream"]["tokens_from"], "usage");
    assert_eq!(f64_at(first, "/stream/mean_output_tokens"), 16.0);
    // Both targets: the concurrency one is the peak's concurrency × the safety factor.
    let target_c = f64_at(
        doc,
        "/recommendation/concurrency/concurrent_requests_per_model",
    );
    assert_eq!(target_c, found as f64 * 0.5);
    assert!(
        out.stdout
            .contains("ConcurrentRequestsPerModelHighResolution"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("TTFT p50"), "{}", out.stdout);

    // policy picks the concurrency metric for a streaming result by itself.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("stream.json");
    std::fs::write(&file, doc.to_string()).unwrap();
    let policy = peakrps()
        .args(["policy", "--from"])
        .arg(&file)
        .args(["--endpoint", "llm"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&policy.stdout);
    let json: Value = serde_json::from_str(&text).expect("policy JSON");
    let tt = &json["PutScalingPolicy"]["TargetTrackingScalingPolicyConfiguration"];
    assert_eq!(
        tt["PredefinedMetricSpecification"]["PredefinedMetricType"],
        "SageMakerVariantConcurrentRequestsPerModelHighResolution"
    );
    assert_eq!(tt["TargetValue"].as_f64(), Some(target_c));

    // simulate takes the same metric and target for it, on 10-second datapoints.
    let (traffic, sim_json) = (dir.path().join("t.csv"), dir.path().join("sim.json"));
    std::fs::write(&traffic, "minute,rps\n0,1\n1,4\n2,4\n").unwrap();
    let sim = peakrps()
        .args(["simulate", "--from"])
        .arg(&file)
        .arg("--traffic")
        .arg(&traffic)
        .arg("--json")
        .arg(&sim_json)
        .output()
        .unwrap();
    assert!(
        sim.status.success(),
        "{}",
        String::from_utf8_lossy(&sim.stderr)
    );
    let sim: Value = serde_json::from_str(&std::fs::read_to_string(&sim_json).unwrap()).unwrap();
    assert_eq!(
        sim["policy"]["metric"],
        tt["PredefinedMetricSpecification"]["PredefinedMetricType"]
    );
    assert_eq!(sim["policy"]["target_value"].as_f64(), Some(target_c));
    assert_eq!(sim["datapoints"]["period_s"], 10);

    // The reports draw TTFT and ITL against concurrency, and the CSV has their columns.
    let (html, csv) = (
        dir.path().join("stream.html"),
        dir.path().join("stream.csv"),
    );
    let report = peakrps()
        .arg("report")
        .arg(&file)
        .arg("--html")
        .arg(&html)
        .arg("--csv")
        .arg(&csv)
        .output()
        .unwrap();
    assert!(
        report.status.success(),
        "{}",
        String::from_utf8_lossy(&report.stderr)
    );
    let page = std::fs::read_to_string(&html).unwrap();
    for title in [
        "Time to first token vs concurrency",
        "Inter-token latency vs concurrency",
        "--max-ttft",
    ] {
        assert!(page.contains(title), "{title} missing from the page");
    }
    let mut table = csv::Reader::from_path(&csv).unwrap();
    let header = table.headers().unwrap().clone();
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (ttft, itl) = (column("ttft_p50_ms"), column("itl_p99_ms"));
    let rows: Vec<csv::StringRecord> = table.records().map(Result::unwrap).collect();
    let steps = doc["steps"].as_array().unwrap();
    assert_eq!(rows.len(), steps.len());
    for (row, step) in rows.iter().zip(steps) {
        let value = |i: usize| row.get(i).and_then(|v| v.parse::<f64>().ok());
        assert_eq!(value(ttft), step["stream"]["ttft_ms"]["p50"].as_f64());
        assert_eq!(value(itl), step["stream"]["itl_ms"]["p99"].as_f64());
    }
}

/// A stand-in for SageMaker's runtime: `POST /endpoints/NAME/invocations-response-stream`
/// answers with the LLM server's `/invocations` stream, each chunk of it one PayloadPart;
/// every `error_every`-th request gets a ModelStreamError after its third part.
fn sagemaker_stub(upstream: SocketAddr, error_every: usize) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let count = Arc::clone(&count);
            std::thread::spawn(move || {
                let _ = serve_stub(client, upstream, &count, error_every);
            });
        }
    });
    addr
}

fn serve_stub(
    client: TcpStream,
    upstream: SocketAddr,
    count: &AtomicUsize,
    error_every: usize,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(client.try_clone()?);
    let mut out = client;
    loop {
        let (path, body) = read_request(&mut reader)?;
        if !path.ends_with("/invocations-response-stream") {
            out.write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n")?;
            continue;
        }
        let n = count.fetch_add(1, Ordering::Relaxed);
        let fail_after = (n % error_every == error_every - 1).then_some(3);
        out.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/vnd.amazon.eventstream\r\nx-amzn-sagemaker-content-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n")?;
        for (parts, chunk) in upstream_chunks(upstream, &body)?.enumerate() {
            if fail_after == Some(parts) {
                write_chunk(
                    &mut out,
                    &encode_exception(true, "ModelInvocationTimeExceeded"),
                )?;
                break;
            }
            write_chunk(&mut out, &encode_payload_part(&chunk))?;
        }
        out.write_all(b"0\r\n\r\n")?;
    }
}

fn write_chunk(out: &mut TcpStream, bytes: &[u8]) -> std::io::Result<()> {
    write!(out, "{:x}\r\n", bytes.len())?;
    out.write_all(bytes)?;
    out.write_all(b"\r\n")?;
    out.flush()
}

/// Reads one request: its path and body (Content-Length).
fn read_request(reader: &mut BufReader<TcpStream>) -> std::io::Result<(String, Vec<u8>)> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    }
    let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
    let mut length = 0;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header)?;
        if header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    Ok((path, body))
}

/// The chunks of the upstream's chunked answer, as they arrive.
fn upstream_chunks(
    upstream: SocketAddr,
    body: &[u8],
) -> std::io::Result<impl Iterator<Item = Vec<u8>>> {
    let mut stream = TcpStream::connect(upstream)?;
    write!(
        stream,
        "POST /invocations HTTP/1.1\r\nhost: llm\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    )?;
    stream.write_all(body)?;
    let mut reader = BufReader::new(stream);
    loop {
        let mut header = String::new();
        reader.read_line(&mut header)?;
        if header.trim().is_empty() {
            break;
        }
    }
    Ok(std::iter::from_fn(move || {
        let mut size = String::new();
        reader.read_line(&mut size).ok()?;
        let size = usize::from_str_radix(size.trim(), 16)
            .ok()
            .filter(|n| *n > 0)?;
        let mut chunk = vec![0; size + 2];
        reader.read_exact(&mut chunk).ok()?;
        chunk.truncate(size);
        Some(chunk)
    }))
}

#[test]
fn sagemaker_streams_count_model_stream_errors_and_keep_their_first_tokens() {
    let _guard = exclusive();
    let server = llm_server(engine());
    let stub = sagemaker_stub(server.addr, 5);
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("run.json");
    let out = peakrps()
        .env("AWS_ACCESS_KEY_ID", "AKIDPEAKRPSTEST")
        .env("AWS_SECRET_ACCESS_KEY", "peakrps-test-secret")
        .env("AWS_CONFIG_FILE", "/nonexistent/peakrps-test-config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/peakrps-test-credentials",
        )
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME")
        .args([
            "run",
            "sagemaker://llm-endpoint",
            "--stream",
            "--region",
            "us-east-1",
        ])
        .args(["--endpoint-url", &format!("http://{stub}")])
        .args([
            "--prompt-tokens",
            "64",
            "--output-tokens",
            "16",
            "-c",
            "2",
            "-d",
            "3s",
            "--quiet",
            "--json",
        ])
        .arg(&json)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let s = &doc["summary"];
    let requests = f64_at(s, "/requests");
    let failed = f64_at(s, "/errors/model_stream_error");
    let successes = requests - failed;
    eprintln!("{requests} requests, {failed} ModelStreamError");
    assert!(requests >= 10.0, "{doc}");
    // One request in five failed mid-stream, and only those.
    assert!((failed / requests - 0.2).abs() <= 0.1, "{doc}");
    assert_eq!(
        f64_at(s, "/errors/server_error") + f64_at(s, "/errors/other"),
        0.0
    );
    // The failed ones streamed a few tokens first: they count, so more tokens than the
    // successes' 16 each arrived.
    let tokens = f64_at(&doc, "/stream/output_tokens");
    assert!(
        tokens > successes * 16.0,
        "{tokens} tokens for {successes} successes: {doc}"
    );
    assert_eq!(doc["stream"]["tokens_from"], "mixed");
}

/// SSE answers of five events 10 ms apart, held while the server is frozen (from 1.0 s to
/// 1.6 s after it started).
fn stalling_stream_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let started = Instant::now();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut reader = BufReader::new(client.try_clone().unwrap());
                let mut out = client;
                while read_request(&mut reader).is_ok() {
                    let at = started.elapsed();
                    let (from, to) = (Duration::from_millis(1000), Duration::from_millis(1600));
                    if at >= from && at < to {
                        std::thread::sleep(to - at);
                    }
                    let head = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n";
                    if out.write_all(head).is_err() {
                        return;
                    }
                    for _ in 0..5 {
                        let _ = write_chunk(&mut out, b"data: token\n\n");
                        std::thread::sleep(Duration::from_millis(10));
                    }
                    let _ = out.write_all(b"0\r\n\r\n");
                }
            });
        }
    });
    addr
}

#[test]
fn open_loop_a_stalled_stream_shows_in_ttft_p99() {
    let _guard = exclusive();
    let addr = stalling_stream_server();
    let out = with_json(&[
        "run",
        &format!("http://{addr}/generate"),
        "--stream",
        "--api",
        "raw",
        "--rate",
        "40",
        "--duration",
        "3s",
        "--quiet",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let f = &out.doc["stream"];
    let (p50, p99) = (f64_at(f, "/ttft_ms/p50"), f64_at(f, "/ttft_ms/p99"));
    eprintln!("TTFT p50 {p50} ms, p99 {p99} ms");
    // About 24 of 120 requests fell due in the 600 ms freeze: counted from their due time.
    assert!(p99 >= 400.0, "{f}");
    assert!(p50 < 100.0, "{f}");
    assert_eq!(f64_at(&out.doc, "/summary/dropped"), 0.0);
}

#[test]
fn stream_against_a_server_that_does_not_stream_says_what_came_back() {
    let _guard = exclusive();
    let server = model_server(2, Duration::from_millis(5), 16, WhenFull::Unavailable);
    let dir = tempfile::tempdir().unwrap();
    let body = dir.path().join("iris.json");
    std::fs::write(&body, peakrps::server::SAMPLE_PAYLOAD).unwrap();
    let out = peakrps()
        .args([
            "find",
            &url(&server),
            "--stream",
            "--api",
            "raw",
            "--quiet",
            "--payload",
        ])
        .arg(&body)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("does not stream"), "{stderr}");
    assert!(stderr.contains("Content-Type application/json"), "{stderr}");
    assert!(stderr.contains("predictions"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
}

#[test]
fn new_flags_refuse_bad_input_in_one_line() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["find", "--max-ttft", "1s"],
            "--max-ttft only applies with --stream",
        ),
        (
            &["run", "--output-tokens", "8"],
            "--output-tokens only applies with --stream",
        ),
        (
            &["find", "--stream", "--mode", "rate"],
            "--mode rate is not supported",
        ),
        (&["find", "--stream", "--max-itl", "0s"], "--max-itl"),
        (
            &["find", "--stream", "--prompt-tokens", "0"],
            "--prompt-tokens",
        ),
        (
            &["serve", "--batch", "4"],
            "--batch only applies to serve --llm",
        ),
        (
            &["serve", "--llm", "--workers", "2"],
            "serve --llm takes --batch",
        ),
        (&["find", "--stream", "--api", "grpc"], "--api"),
        (
            &[
                "find",
                "--stream",
                "--mode",
                "rate",
                "--plan-rates",
                "10,20",
            ],
            "use --plan 1,2,4,… instead of --plan-rates",
        ),
    ];
    for (args, expected) in cases {
        let out = peakrps().args(*args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
    // A JSONL line without a prompt names its place.
    let dir = tempfile::tempdir().unwrap();
    let jsonl = dir.path().join("prompts.jsonl");
    std::fs::write(&jsonl, "{\"prompt\": \"hi\"}\n{\"question\": \"x\"}\n").unwrap();
    let out = peakrps()
        .args(["find", "--stream", "--payload"])
        .arg(&jsonl)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("body 2") && stderr.contains("no prompt"),
        "{stderr}"
    );
}

/// Runs `shards` processes of `peakrps ARGS… --shard K/N` sharing a start 1 s from now, each
/// writing its document to `dir/sK.json`; every one must succeed.
fn run_shards(dir: &Path, shards: u32, args: &[&str]) -> Vec<PathBuf> {
    let base = now_rfc3339();
    let files: Vec<PathBuf> = (0..shards)
        .map(|k| dir.join(format!("s{k}.json")))
        .collect();
    let children: Vec<Child> = files
        .iter()
        .enumerate()
        .map(|(k, file)| {
            let mut all: Vec<String> = args.iter().map(|a| a.to_string()).collect();
            let shard = format!("{k}/{shards}");
            let file = file.display().to_string();
            let flags = [
                "--shard",
                &shard,
                "--start-at",
                "+1s",
                "--start-base",
                &base,
            ];
            all.extend(flags.map(String::from));
            all.extend(["--quiet", "--json", &file].map(String::from));
            spawn(&all)
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().expect("peakrps ends");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "a shard failed: {stderr}");
    }
    files
}

/// `peakrps merge FILES… --json -`: the merged document.
fn merged(files: &[String]) -> Value {
    let out = peakrps()
        .arg("merge")
        .args(files)
        .args(["--json", "-"])
        .output()
        .expect("merge runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let json = stdout.find("\n{").map_or(&stdout[..], |i| &stdout[i + 1..]);
    serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

fn read_doc(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).expect("document written");
    serde_json::from_str(&text).expect("the document is JSON")
}

fn u64_at(v: &Value, pointer: &str) -> u64 {
    v.pointer(pointer)
        .and_then(Value::as_u64)
        .unwrap_or_else(|| panic!("{pointer} in {v}"))
}

/// A histogram a shard's tally carries, read back.
fn histogram(v: &Value, pointer: &str) -> hdrhistogram::Histogram<u64> {
    let text = v
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default();
    peakrps::stats::interchange::decode(text).unwrap_or_else(|e| panic!("{pointer}: {e}"))
}

/// What the shards' tallies of step `i` say the merged step's figures come from: the
/// latest windows of every shard when the merged step settled, all its windows otherwise.
fn streaming_tallies<'a>(shards: &'a [Value], i: usize, settled: bool) -> Vec<&'a Value> {
    let tally = |doc: &'a Value| &doc["steps"][i]["tally"];
    let all: Vec<&Value> = if settled {
        // A shard that sent nothing at a level (1 user of 2 shards) has no windows.
        let windows = |doc: &'a Value| tally(doc)["windows"].as_array().into_iter().flatten();
        shards
            .iter()
            .flat_map(windows)
            .map(|w| &w["stream"])
            .collect()
    } else {
        shards.iter().map(|doc| &tally(doc)["stream"]).collect()
    };
    // A shard with no user at a level (1 user of 2 shards) streamed nothing.
    all.into_iter().filter(|s| !s.is_null()).collect()
}

/// Two shards of `find --stream --plan 1,2,4` against the embedded LLM server (batch 2, so
/// 4 users queue), merged: every merged step's tokens are the sum of the shards' and its
/// TTFT and ITL percentiles those of the shards' histograms added; the steps are judged on
/// tokens, and the peak and recommendation are a concurrency one. A non-streaming shard
/// does not merge with them.
#[test]
fn two_shard_streaming_find_plan_merges_exactly() {
    let _guard = exclusive();
    let engine = EngineConfig {
        batch: 2,
        ..engine()
    };
    let server = llm_server(engine);
    let target = format!("http://{}/v1/chat/completions", server.addr);
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "find",
        &target,
        "--stream",
        "--prompt-tokens",
        "64",
        "--output-tokens",
        "8",
        "--plan",
        "1,2,4",
        "--max-ttft",
        "120ms",
        "--window",
        "1s",
        "--warmup",
        "300ms",
        "--step-duration",
        "3s",
        "--drain",
        "500ms",
    ];
    let files = run_shards(dir.path(), 2, &args);
    let shards: Vec<Value> = files.iter().map(|f| read_doc(f)).collect();
    let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    let doc = merged(&names);

    let steps = doc["steps"].as_array().expect("steps");
    assert_eq!(steps.len(), 3, "{doc}");
    for (i, step) in steps.iter().enumerate() {
        let figures = &step["stream"];
        assert!(
            figures.is_object(),
            "merged step {i} has no streaming figures"
        );
        let settled = step["stable"].as_bool().unwrap_or(false);
        let parts = streaming_tallies(&shards, i, settled);
        let tokens: u64 = parts.iter().map(|t| u64_at(t, "/output_tokens")).sum();
        assert!(tokens > 0, "step {i}");
        assert_eq!(u64_at(figures, "/output_tokens"), tokens, "step {i}");
        // TTFT: the percentile of the shards' histograms added, not of any one shard's.
        let mut ttft = histogram(parts[0], "/ttft");
        let mut itl = histogram(parts[0], "/itl");
        for part in &parts[1..] {
            ttft.add(histogram(part, "/ttft")).unwrap();
            itl.add(histogram(part, "/itl")).unwrap();
        }
        let ms = |h: &hdrhistogram::Histogram<u64>, q: f64| h.value_at_quantile(q) as f64 / 1000.0;
        let near = |a: f64, b: f64| (a - b).abs() <= b * 0.002 + 0.01;
        let (p99_ttft, p50_itl) = (
            f64_at(figures, "/ttft_ms/p99"),
            f64_at(figures, "/itl_ms/p50"),
        );
        assert!(
            near(p99_ttft, ms(&ttft, 0.99)),
            "step {i}: {p99_ttft} {figures}"
        );
        assert!(
            near(p50_itl, ms(&itl, 0.5)),
            "step {i}: {p50_itl} {figures}"
        );
        assert!(
            near(f64_at(figures, "/ttft_ms/max"), ms(&ttft, 1.0)),
            "step {i}"
        );
        // The level is the whole run's: the shards' parts added.
        let users: u64 = shards
            .iter()
            .map(|s| u64_at(s, &format!("/steps/{i}/concurrency")))
            .sum();
        assert_eq!(u64_at(step, "/concurrency"), users);
    }
    let peak = u64_at(&doc, "/peak/concurrency");
    let tokens_per_s = |i: usize| f64_at(&steps[i], "/stream/output_tokens_per_s");
    eprintln!(
        "merged streaming plan: output tokens/s {:.0}, {:.0}, {:.0} at 1, 2, 4 users; peak at concurrency {peak} ({})",
        tokens_per_s(0),
        tokens_per_s(1),
        tokens_per_s(2),
        doc["stop_reason"]
    );
    // Batch 2: 4 users queue behind 2 for a free slot, which their TTFT shows (about one
    // request's 170 ms), past --max-ttft 120ms; 2 users start at once (about 50 ms).
    let failure = steps[2]["failure"].as_str().unwrap_or_default();
    assert!(failure.contains("--max-ttft 120 ms"), "{doc}");
    assert_eq!(peak, 2, "{doc}");
    assert_eq!(
        f64_at(
            &doc,
            "/recommendation/concurrency/concurrent_requests_per_model"
        ),
        peak as f64 * 0.5
    );
    assert_eq!(
        f64_at(&doc, "/peak/stream/output_tokens_per_s"),
        tokens_per_s(1)
    );

    // A shard of the same run without --stream's settings is refused in one line.
    let plain = dir.path().join("plain.json");
    let mut other = shards[1].clone();
    if let Some(settings) = other["settings"].as_object_mut() {
        settings.remove("stream");
    }
    std::fs::write(&plain, other.to_string()).unwrap();
    let out = peakrps()
        .arg("merge")
        .arg(&files[0])
        .arg(&plain)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("is of a --stream run and"), "{stderr}");
}

/// Two shards of `run --stream --profile` merged: the run's tokens and requests are the
/// shards' sums, its TTFT maximum the larger of theirs; every minute carries its streaming
/// figures, counted as its requests are (by the minute they fell due in), so a minute's
/// tokens are its requests' and add up to the run's, in each shard and merged.
#[test]
fn two_shard_streaming_profile_counts_tokens_in_their_minutes() {
    let _guard = exclusive();
    let server = llm_server(engine());
    let target = format!("http://{}/v1/chat/completions", server.addr);
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("profile.csv");
    std::fs::write(&profile, "minute,rps\n0,4\n1,8\n").unwrap();
    let args = [
        "run",
        &target,
        "--stream",
        "--output-tokens",
        "8",
        "--profile",
        profile.to_str().unwrap(),
        "--speed",
        "40",
    ];
    let files = run_shards(dir.path(), 2, &args);
    let shards: Vec<Value> = files.iter().map(|f| read_doc(f)).collect();
    let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    let doc = merged(&names);
    let sum = |pointer: &str| shards.iter().map(|s| u64_at(s, pointer)).sum::<u64>();
    assert_eq!(
        u64_at(&doc, "/stream/output_tokens"),
        sum("/stream/output_tokens")
    );
    assert_eq!(u64_at(&doc, "/summary/requests"), sum("/summary/requests"));
    let max = shards
        .iter()
        .map(|s| f64_at(s, "/stream/ttft_ms/max"))
        .fold(0.0, f64::max);
    assert_eq!(f64_at(&doc, "/stream/ttft_ms/max"), max);
    for (i, minute) in ["/minutes/0", "/minutes/1"].iter().enumerate() {
        let tokens = format!("{minute}/stream/output_tokens");
        assert_eq!(u64_at(&doc, &tokens), sum(&tokens), "minute {i}");
        for d in shards.iter().chain([&doc]) {
            // 8 tokens a request, every request answered: the minute's tokens are its own
            // requests', not those that happened to finish in it.
            let requests = u64_at(d, &format!("{minute}/requests"));
            assert!(requests > 0, "minute {i}: {d}");
            assert_eq!(u64_at(d, &tokens), 8 * requests, "minute {i}: {d}");
        }
    }
    for d in shards.iter().chain([&doc]) {
        let minutes = u64_at(d, "/minutes/0/stream/output_tokens")
            + u64_at(d, "/minutes/1/stream/output_tokens");
        assert_eq!(minutes, u64_at(d, "/stream/output_tokens"), "{d}");
    }
    // The minutes' table shows the streaming columns; the HTML page has the run's streaming
    // figures and a chart of TTFT per minute.
    let merged_file = dir.path().join("merged.json");
    let html = dir.path().join("merged.html");
    std::fs::write(&merged_file, doc.to_string()).unwrap();
    let report = |extra: &[&str]| {
        let out = peakrps()
            .args(["report", merged_file.to_str().unwrap()])
            .args(extra)
            .output()
            .expect("report runs");
        assert_eq!(out.status.code(), Some(0));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let text = report(&[]);
    report(&["--html", html.to_str().unwrap()]);
    assert!(
        text.contains("TTFT p50 ms") && text.contains("output tok/s"),
        "{text}"
    );
    // The CSV has the streaming columns, per minute and (without minutes) for the run.
    let column = |csv: &str, name: &str| -> Vec<String> {
        let mut rows = csv::Reader::from_reader(csv.as_bytes());
        let at = rows.headers().unwrap().iter().position(|h| h == name);
        let at = at.unwrap_or_else(|| panic!("no {name} in {csv}"));
        rows.records().map(|r| r.unwrap()[at].to_string()).collect()
    };
    let tokens = column(&report(&["--csv", "-"]), "output_tokens");
    let minute_tokens: Vec<String> = (0..2)
        .map(|i| u64_at(&doc, &format!("/minutes/{i}/stream/output_tokens")).to_string())
        .collect();
    assert_eq!(tokens, minute_tokens);
    let mut whole = doc.clone();
    whole["minutes"] = serde_json::json!([]);
    std::fs::write(&merged_file, whole.to_string()).unwrap();
    let tokens = column(&report(&["--csv", "-"]), "output_tokens");
    assert_eq!(tokens, [u64_at(&doc, "/stream/output_tokens").to_string()]);
    let page = std::fs::read_to_string(&html).expect("the HTML report is written");
    for part in [
        r#"<section id="stream">"#,
        "p99 time to first token",
        r#"id="profile-ttft-title""#,
    ] {
        assert!(page.contains(part), "no {part} in the HTML report");
    }
}

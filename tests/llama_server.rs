//! `find --stream` against a real LLM server: llama.cpp's llama-server with a tiny
//! random-weight Llama (built by tests/servers/llama/make.sh; CI builds it and sets
//! PEAKRPS_LLAMA_SERVER and PEAKRPS_LLAMA_MODEL). Its prompt cache is on, as by default, and
//! it closes the connection after every streamed answer. Under CI=true a missing server fails
//! the test; elsewhere it is skipped with a notice.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{exclusive, with_json};
use serde_json::Value;

/// llama-server and its model, from the environment or where make.sh builds them.
fn llama() -> Option<(PathBuf, PathBuf)> {
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    let base = home.join(".cache/peakrps/llama");
    let from = |var: &str, default: PathBuf| std::env::var_os(var).map_or(default, PathBuf::from);
    let server = from("PEAKRPS_LLAMA_SERVER", base.join("bin/llama-server"));
    let model = from("PEAKRPS_LLAMA_MODEL", base.join("model/tiny.gguf"));
    if server.is_file() && model.is_file() {
        return Some((server, model));
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "llama-server or its model is missing ({} / {}): .ci/run builds them with tests/servers/llama/make.sh",
        server.display(),
        model.display()
    );
    eprintln!(
        "skipped: llama-server is not built (bash tests/servers/llama/make.sh, ~20 min); looked for {} and {}",
        server.display(),
        model.display()
    );
    None
}

/// llama-server on a free port, killed when dropped.
struct Llama {
    child: Child,
    port: u16,
}

impl Drop for Llama {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(server: &PathBuf, model: &PathBuf) -> Llama {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let child = Command::new(server)
        .args(["-m"])
        .arg(model)
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        .args(["-np", "4", "-c", "8192", "--metrics", "-t", "2", "--no-ui"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("llama-server starts");
    let llama = Llama { child, port };
    let deadline = Instant::now() + Duration::from_secs(30);
    while http(port, "GET", "/health", "").is_none_or(|r| !r.starts_with("HTTP/1.1 200")) {
        assert!(
            Instant::now() < deadline,
            "llama-server did not become ready"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    llama
}

/// One request on a connection of its own; the whole answer, or None when it could not be had.
fn http(port: u16, method: &str, path: &str, body: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(60))).ok()?;
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(request.as_bytes()).ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    Some(out)
}

/// A counter of llama-server's `/metrics`.
fn metric(port: u16, name: &str) -> f64 {
    let text = http(port, "GET", "/metrics", "").expect("/metrics answers");
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or_else(|| panic!("{name} in /metrics"))
}

/// Time to the first content token of one streamed chat answer to a prompt nobody sent before
/// (a nonce up front, then words), as a client that reads the raw stream sees it.
fn fresh_ttft(port: u16, n: u64) -> Duration {
    let words: Vec<String> = (0..256)
        .map(|k| format!("w{}", (n * 7919 + k * 104_729) % 997))
        .collect();
    let prompt = format!("[{n:016x}] {}", words.join(" "));
    let body = serde_json::json!({
        "messages": [{"role": "user", "content": prompt}],
        "stream": true, "max_tokens": 4,
    })
    .to_string();
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let request = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let sent = Instant::now();
    s.write_all(request.as_bytes()).expect("send");
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = s.read(&mut buf).expect("read");
        assert!(n > 0, "the stream ended before a token");
        seen.extend_from_slice(&buf[..n]);
        if String::from_utf8_lossy(&seen).contains("\"content\":\"") {
            return sent.elapsed();
        }
    }
}

fn f64_at(v: &Value, pointer: &str) -> f64 {
    v.pointer(pointer)
        .and_then(Value::as_f64)
        .unwrap_or_else(|| panic!("{pointer} in {v}"))
}

/// Default settings but a short search (32 output tokens, 6 s steps, 1 s windows, 1 s warm-up, the plan 1, 2, 4,
/// 8 users instead of a bisection): the peak reaches the server's 4 slots, TTFT is the model's own (no prompt answered from the
/// cache), and the tokens counted are the tokens the server says it generated.
#[test]
#[ignore = "not yet reliable on a loaded 2-core machine: the step at concurrency 1 completed no request within 6 s in 2 of 3 runs (a first long prefill of several seconds); run with --ignored"]
fn find_stream_against_llama_server_measures_the_model_not_its_prompt_cache() {
    let Some((server, model)) = llama() else {
        return;
    };
    let _guard = exclusive();
    let llama = start(&server, &model);
    let port = llama.port;
    // A fresh-prompt client's TTFT at concurrency 1 (the first request warms the server up).
    let mut reference: Vec<Duration> = (0..6).map(|n| fresh_ttft(port, n + 1)).skip(1).collect();
    reference.sort();
    let fresh = reference[reference.len() / 2].as_secs_f64() * 1000.0;

    let predicted = metric(port, "llamacpp:tokens_predicted_total");
    let cached = metric(port, "llamacpp:prompt_tokens_cached_total");
    let prompted = metric(port, "llamacpp:prompt_tokens_total");
    let target = format!("http://127.0.0.1:{port}/v1/chat/completions");
    let started = Instant::now();
    let out = with_json(&[
        "find",
        &target,
        "--stream",
        "--api",
        "openai",
        "--output-tokens",
        "32",
        "--step-duration",
        "6s",
        "--window",
        "1s",
        "--warmup",
        "1s",
        "--plan",
        "1,2,4,8",
        "--quiet",
    ]);
    eprintln!(
        "find took {:.1} s\n{}",
        started.elapsed().as_secs_f64(),
        out.stdout
    );
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let doc = &out.doc;
    assert_eq!(
        doc.pointer("/settings/stream/prompts"),
        Some(&Value::from("fresh"))
    );
    let steps = doc["steps"].as_array().expect("steps");
    for step in steps {
        let c = f64_at(step, "/concurrency");
        for kind in ["timeout", "connect", "other", "server_error"] {
            assert_eq!(
                f64_at(step, &format!("/errors/{kind}")),
                0.0,
                "{kind} errors at concurrency {c}: the server closing after each answer is not a fault"
            );
        }
    }
    // Up to its 4 slots the server answers every user at once; past them a user waits for a
    // whole answer, which the 2 s TTFT limit may or may not allow on a loaded machine.
    let peak = f64_at(doc, "/peak/concurrency");
    assert!(
        peak >= 4.0,
        "peak concurrency {peak}, under the server's 4 slots"
    );

    // The prompt cache did not answer: TTFT at concurrency 1 is the fresh client's (a cache
    // hit reads ~10× lower), and the server prefilled nearly every prompt token itself.
    let first = steps
        .iter()
        .find(|s| f64_at(s, "/concurrency") == 1.0)
        .expect("a step at 1");
    let ttft = f64_at(first, "/stream/ttft_ms/p50");
    eprintln!("TTFT p50 at concurrency 1: {ttft:.0} ms; fresh-prompt client: {fresh:.0} ms");
    assert!(
        ttft > fresh * 0.6 && ttft < fresh * 2.5,
        "TTFT p50 {ttft:.0} ms against a fresh-prompt client's {fresh:.0} ms"
    );
    let cached = metric(port, "llamacpp:prompt_tokens_cached_total") - cached;
    let prompted = metric(port, "llamacpp:prompt_tokens_total") - prompted;
    eprintln!("prompt tokens: {prompted} prefilled, {cached} from the cache");
    assert!(
        cached < 0.1 * (cached + prompted),
        "{cached} of {} prompt tokens came from the prompt cache",
        cached + prompted
    );

    // Tokens counted = tokens the server generated. Requests of the warm-up and recovery
    // between steps are not in any step, so the steps count at most the server's total, and
    // most of it.
    let predicted = metric(port, "llamacpp:tokens_predicted_total") - predicted;
    let counted: f64 = steps
        .iter()
        .map(|s| f64_at(s, "/stream/output_tokens"))
        .sum();
    eprintln!("output tokens: {counted} counted by peakrps, {predicted} generated by the server");
    assert!(
        counted <= predicted && counted >= 0.5 * predicted,
        "{counted} tokens counted, {predicted} generated"
    );
}

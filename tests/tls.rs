//! https:// targets end to end: a TLS server on 127.0.0.1 with certificates made at test
//! time; an untrusted certificate is named as such, --ca-cert and --insecure get through, and
//! the flags are refused where they cannot apply.

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use common::{exclusive, peakrps};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The longest header block the test server reads; the peakrps requests are far smaller.
const MAX_HEAD: usize = 64 * 1024;

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A server's certificate chain and key, and the PEM a client should trust for it.
struct Identity {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    trust_pem: String,
}

/// A private CA and a leaf it signed for `localhost` (no IP address in it).
fn ca_signed_localhost() -> Identity {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .signed_by(&leaf_key, &ca)
        .unwrap();
    Identity {
        chain: vec![leaf.der().clone()],
        key: PrivatePkcs8KeyDer::from(leaf_key.serialize_der()).into(),
        trust_pem: ca.pem(),
    }
}

/// One self-signed certificate for `localhost`, as a quick internal server would have.
fn self_signed_localhost() -> Identity {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    Identity {
        chain: vec![certified.cert.der().clone()],
        key: PrivatePkcs8KeyDer::from(certified.signing_key.serialize_der()).into(),
        trust_pem: certified.cert.pem(),
    }
}

/// An HTTPS server on 127.0.0.1 answering every request `200 ok`, keeping connections open.
/// It lives on its own thread until the test process ends.
fn https_server(identity: &Identity) -> SocketAddr {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(identity.chain.clone(), identity.key.clone_key())
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    // A failed handshake is what some tests expect: just drop the connection.
                    if let Ok(tls) = acceptor.accept(tcp).await {
                        let _ = answer_ok(tls).await;
                    }
                });
            }
        });
    });
    addr
}

/// HTTP/1.1 keep-alive: read each request (head, then Content-Length bytes of body) and
/// answer `200 ok`, until the client closes.
async fn answer_ok<S>(mut stream: S) -> std::io::Result<()>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let mut buf = Vec::new();
    loop {
        let (head_len, body_len) = loop {
            if let Some(parsed) = parse_head(&buf)? {
                break parsed;
            }
            if buf.len() > MAX_HEAD || !read_more(&mut stream, &mut buf).await? {
                return Ok(());
            }
        };
        while buf.len() < head_len + body_len {
            if !read_more(&mut stream, &mut buf).await? {
                return Ok(());
            }
        }
        buf.drain(..head_len + body_len);
        stream
            .write_all(
                b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\n\r\nok",
            )
            .await?;
    }
}

/// Appends what the stream has; false when it is closed.
async fn read_more<S: tokio::io::AsyncRead + Unpin>(
    stream: &mut S,
    buf: &mut Vec<u8>,
) -> std::io::Result<bool> {
    let mut chunk = [0u8; 8192];
    let n = stream.read(&mut chunk).await?;
    buf.extend_from_slice(&chunk[..n]);
    Ok(n > 0)
}

/// The length of a complete request head at the start of `buf` and its body's length, or
/// None while the head is incomplete.
fn parse_head(buf: &[u8]) -> std::io::Result<Option<(usize, usize)>> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut request = httparse::Request::new(&mut headers);
    match request.parse(buf).map_err(std::io::Error::other)? {
        httparse::Status::Partial => Ok(None),
        httparse::Status::Complete(head_len) => {
            let body_len = request
                .headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                .and_then(|h| std::str::from_utf8(h.value).ok()?.trim().parse().ok())
                .unwrap_or(0);
            Ok(Some((head_len, body_len)))
        }
    }
}

fn write_pem(dir: &Path, name: &str, pem: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, pem).unwrap();
    path
}

/// `run -n 50 URL extra…` with --json; the exit code, stderr and the results document.
fn run_50(url: &str, extra: &[&str]) -> (Option<i32>, String, Value) {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("run.json");
    let out = peakrps()
        .args([
            "run",
            url,
            "-c",
            "4",
            "-n",
            "50",
            "--timeout",
            "5s",
            "--quiet",
        ])
        .args(extra)
        .arg("--json")
        .arg(&json)
        .output()
        .unwrap();
    let doc = std::fs::read_to_string(&json)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Value::Null);
    (out.status.code(), stderr_of(&out), doc)
}

fn assert_all_50_succeeded(code: Option<i32>, stderr: &str, doc: &Value) {
    assert_eq!(code, Some(0), "{stderr}");
    let summary = &doc["summary"];
    assert_eq!(summary["requests"], 50, "{summary}");
    assert_eq!(summary["success_ratio"].as_f64(), Some(1.0), "{summary}");
}

#[test]
fn a_private_ca_is_refused_by_name_then_trusted_with_ca_cert() {
    let _guard = exclusive();
    let identity = ca_signed_localhost();
    let addr = https_server(&identity);
    let url = format!("https://localhost:{}/invocations", addr.port());
    let dir = tempfile::tempdir().unwrap();
    let ca = write_pem(dir.path(), "ca.pem", &identity.trust_pem);

    let (code, stderr, _) = run_50(&url, &[]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "TLS handshake with localhost:{} failed: the certificate is not trusted (UnknownIssuer); pass --ca-cert FILE",
            addr.port()
        )),
        "{stderr}"
    );

    let (code, stderr, doc) = run_50(&url, &["--ca-cert", &ca.display().to_string()]);
    assert_all_50_succeeded(code, &stderr, &doc);

    // Trusted, but the certificate names localhost, not 127.0.0.1.
    let by_ip = format!("https://127.0.0.1:{}/invocations", addr.port());
    let (code, stderr, _) = run_50(&by_ip, &["--ca-cert", &ca.display().to_string()]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("the certificate does not name this host"),
        "{stderr}"
    );
}

#[test]
fn a_self_signed_certificate_passes_with_ca_cert_or_insecure() {
    let _guard = exclusive();
    let identity = self_signed_localhost();
    let addr = https_server(&identity);
    let url = format!("https://localhost:{}/invocations", addr.port());
    let dir = tempfile::tempdir().unwrap();
    let own = write_pem(dir.path(), "server.pem", &identity.trust_pem);

    let (code, stderr, doc) = run_50(&url, &["--ca-cert", &own.display().to_string()]);
    assert_all_50_succeeded(code, &stderr, &doc);

    let (code, stderr, doc) = run_50(&url, &["--insecure"]);
    assert_all_50_succeeded(code, &stderr, &doc);
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("identity is not checked"))
        .collect();
    assert_eq!(warnings.len(), 1, "{stderr}");
}

/// Refused before any connection: no server needed.
#[test]
fn tls_flags_where_they_cannot_apply_or_a_bad_pem_get_one_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let not_pem = write_pem(dir.path(), "not.pem", "this is not a certificate\n");
    let broken = write_pem(
        dir.path(),
        "broken.pem",
        "-----BEGIN CERTIFICATE-----\n@@@@\n-----END CERTIFICATE-----\n",
    );
    let missing = dir.path().join("missing.pem");
    let https = "https://localhost:9/invocations";
    let http = "http://127.0.0.1:9/invocations";
    let path = |p: &Path| p.display().to_string();
    let cases: Vec<(Vec<String>, String)> = vec![
        (
            vec![http.into(), "--ca-cert".into(), path(&not_pem)],
            "--ca-cert only applies to https:// targets".into(),
        ),
        (
            vec![http.into(), "--insecure".into()],
            "--insecure only applies to https:// targets".into(),
        ),
        (
            vec!["--insecure".into()],
            "embedded server speaks plain http".into(),
        ),
        (
            vec!["sagemaker://my-endpoint".into(), "--insecure".into()],
            "AWS's public certificates".into(),
        ),
        (
            vec![https.into(), "--ca-cert".into(), path(&not_pem)],
            format!("--ca-cert {}: no certificate in it", path(&not_pem)),
        ),
        (
            vec![https.into(), "--ca-cert".into(), path(&broken)],
            format!("--ca-cert {}: not valid PEM", path(&broken)),
        ),
        (
            vec![https.into(), "--ca-cert".into(), path(&missing)],
            format!("--ca-cert {}: cannot read it", path(&missing)),
        ),
    ];
    for (args, expected) in cases {
        let out = peakrps().arg("run").args(&args).output().unwrap();
        let stderr = stderr_of(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.contains(&expected), "{args:?}: {stderr}");
    }
}

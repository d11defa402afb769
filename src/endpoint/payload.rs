//! Request bodies: one file, a directory (each file a body, in name order), or a `.jsonl`
//! file (each non-empty line a body). Bodies are `Bytes`, shared and never copied per request.

use std::path::Path;

use bytes::Bytes;

use crate::Error;

/// SageMaker's real-time payload limit (REFERENCE.md §2): larger bodies get a warning.
pub const SAGEMAKER_PAYLOAD_LIMIT: usize = 6 * 1024 * 1024;

/// The bodies virtual users send in turn, and the content type they imply.
#[derive(Clone, Debug)]
pub struct PayloadSet {
    bodies: Vec<Bytes>,
    pub content_type: String,
    /// Where the bodies came from, for reports.
    pub source: String,
    /// Set when the bytes, not the file's extension, decided the content type: the line
    /// that says so, to show once unless `--content-type` overrides it.
    pub content_type_note: Option<String>,
}

impl PayloadSet {
    /// A set built in memory (the embedded server's sample, tests). `bodies` must not be empty.
    pub fn from_bodies(bodies: Vec<Bytes>, content_type: &str) -> Self {
        assert!(!bodies.is_empty(), "a payload set needs at least one body");
        PayloadSet {
            bodies,
            content_type: content_type.to_string(),
            source: "built-in sample".to_string(),
            content_type_note: None,
        }
    }

    /// Loads `--payload PATH`.
    pub fn load(path: &Path) -> Result<Self, Error> {
        let shown = path.display();
        let meta = std::fs::metadata(path).map_err(|e| {
            let message = format!("--payload {shown}: cannot read it ({e}); give an existing file, directory or .jsonl file");
            Error::file(path, message, e)
        })?;
        let (bodies, (content_type, sniffed)) = if meta.is_dir() {
            load_dir(path)?
        } else if has_extension(path, "jsonl") {
            (load_jsonl(path)?, ("application/json", None))
        } else {
            let body = read_checked(path)?;
            let chosen = content_type_of(path, &body);
            (vec![body], chosen)
        };
        let content_type_note = sniffed.map(|what| {
            format!(
                "--payload {shown}: sending Content-Type {content_type}, as the body is {what} \
                 and the file's extension does not say (--content-type overrides)"
            )
        });
        Ok(PayloadSet {
            bodies,
            content_type: content_type.to_string(),
            source: shown.to_string(),
            content_type_note,
        })
    }

    pub fn len(&self) -> usize {
        self.bodies.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bodies.is_empty()
    }

    /// Body number `i`, modulo the count.
    pub fn body(&self, i: usize) -> Bytes {
        self.bodies[i % self.bodies.len()].clone()
    }

    /// The largest body, in bytes.
    pub fn largest(&self) -> usize {
        self.bodies.iter().map(Bytes::len).max().unwrap_or(0)
    }
}

fn has_extension(path: &Path, ext: &str) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case(ext))
}

/// The content type a file's extension implies.
pub fn content_type_for(path: &Path) -> &'static str {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    match ext.as_str() {
        "json" | "jsonl" => "application/json",
        "csv" => "text/csv",
        "txt" => "text/plain",
        "npy" => "application/x-npy",
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "wav" => "audio/wav",
        "parquet" => "application/x-parquet",
        "pb" | "protobuf" => "application/x-protobuf",
        _ => "application/octet-stream",
    }
}

/// The content type of a body read from `path`: from its extension when that names a format;
/// when it names none (no extension, `.txt`, one not listed), from the bytes: JSON (an
/// object or an array) is `application/json`, comma-separated lines are `text/csv`. The
/// second value says what the bytes were when they decided.
pub fn content_type_of(path: &Path, body: &[u8]) -> (&'static str, Option<&'static str>) {
    let by_extension = content_type_for(path);
    if !matches!(by_extension, "text/plain" | "application/octet-stream") {
        return (by_extension, None);
    }
    if looks_like_json(body) {
        ("application/json", Some("JSON"))
    } else if looks_like_csv(body) {
        ("text/csv", Some("comma-separated values"))
    } else {
        (by_extension, None)
    }
}

/// A JSON object or array (what model servers take), not a bare number or string.
fn looks_like_json(body: &[u8]) -> bool {
    let start = body.iter().find(|b| !b.is_ascii_whitespace());
    matches!(start, Some(b'{' | b'['))
        && serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok()
}

/// Text whose every non-empty line has the same number of commas, at least one, and no
/// control characters but tabs.
fn looks_like_csv(body: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(body) else {
        return false;
    };
    let mut commas = text
        .lines()
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let clean = !l.chars().any(|c| c.is_control() && c != '\t');
            clean.then(|| l.matches(',').count())
        });
    let Some(Some(first)) = commas.next() else {
        return false;
    };
    first > 0 && commas.all(|n| n == Some(first))
}

fn read(path: &Path) -> Result<Bytes, Error> {
    let data = std::fs::read(path).map_err(|e| {
        let message = format!("--payload {}: cannot read it ({e})", path.display());
        Error::file(path, message, e)
    })?;
    if data.is_empty() {
        return Err(Error::Input(format!(
            "--payload {}: the file is empty; give a file holding one request body",
            path.display()
        )));
    }
    Ok(Bytes::from(data))
}

/// A body read as `read` does; a `.json` file's must be JSON, checked before any request
/// (as each line of a `.jsonl` file is), so a typo is one line naming where it is rather
/// than every request rejected by the server.
fn read_checked(path: &Path) -> Result<Bytes, Error> {
    let body = read(path)?;
    if !has_extension(path, "json") {
        return Ok(body);
    }
    match serde_json::from_slice::<serde::de::IgnoredAny>(&body) {
        Ok(_) => Ok(body),
        Err(e) => {
            let (line, column) = (e.line(), e.column());
            let text = e.to_string();
            let what = text
                .strip_suffix(&format!(" at line {line} column {column}"))
                .unwrap_or(&text);
            let message = format!(
                "--payload {}:{line}:{column}: not valid JSON ({what}); fix the body, or rename the file if it is not JSON",
                path.display()
            );
            Err(Error::invalid(message, e))
        }
    }
}

/// The bodies of a directory, and the content type of the first (see `content_type_of`).
type DirBodies = (Vec<Bytes>, (&'static str, Option<&'static str>));

fn load_dir(dir: &Path) -> Result<DirBodies, Error> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        let message = format!("--payload {}: cannot list it ({e})", dir.display());
        Error::file(dir, message, e)
    })?;
    let mut files: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .filter(|p| {
            !p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.'))
        })
        .collect();
    files.sort();
    let Some(first) = files.first() else {
        return Err(Error::Input(format!(
            "--payload {}: the directory holds no files; put one request body per file in it",
            dir.display()
        )));
    };
    let bodies: Vec<Bytes> = files
        .iter()
        .map(|p| read_checked(p))
        .collect::<Result<_, _>>()?;
    let content_type = content_type_of(first, &bodies[0]);
    Ok((bodies, content_type))
}

fn load_jsonl(path: &Path) -> Result<Vec<Bytes>, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        let message = format!(
            "--payload {}: cannot read it as UTF-8 text ({e})",
            path.display()
        );
        Error::file(path, message, e)
    })?;
    let mut bodies = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if let Err(e) = serde_json::from_str::<serde_json::Value>(line) {
            let message = format!(
                "--payload {}:{}: not valid JSON ({e}); each line must hold one JSON request body",
                path.display(),
                i + 1
            );
            return Err(Error::invalid(message, e));
        }
        bodies.push(Bytes::copy_from_slice(line.as_bytes()));
    }
    if bodies.is_empty() {
        return Err(Error::Input(format!(
            "--payload {}: no request bodies in it; put one JSON body per line",
            path.display()
        )));
    }
    Ok(bodies)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_file_dir_and_jsonl() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("one.csv");
        std::fs::write(&csv, "5.1,3.5,1.4,0.2\n").unwrap();
        let set = PayloadSet::load(&csv).unwrap();
        assert_eq!((set.len(), set.content_type.as_str()), (1, "text/csv"));

        let jsonl = dir.path().join("many.jsonl");
        std::fs::write(&jsonl, "[1]\n\n[2]\n[3]\n").unwrap();
        let set = PayloadSet::load(&jsonl).unwrap();
        assert_eq!(set.len(), 3);
        assert_eq!(&set.body(4)[..], b"[2]");

        let sub = dir.path().join("bodies");
        std::fs::create_dir(&sub).unwrap();
        std::fs::write(sub.join("b.json"), "{\"b\":1}").unwrap();
        std::fs::write(sub.join("a.json"), "{\"a\":1}").unwrap();
        let set = PayloadSet::load(&sub).unwrap();
        assert_eq!(&set.body(0)[..], b"{\"a\":1}");
        assert_eq!(set.content_type, "application/json");
    }

    #[test]
    fn bytes_decide_the_content_type_when_the_extension_does_not() {
        let of = |name: &str, body: &str| content_type_of(Path::new(name), body.as_bytes());
        let json = r#"{"inputs": [[5.1, 3.5, 1.4, 0.2]]}"#;
        assert_eq!(of("body.txt", json), ("application/json", Some("JSON")));
        assert_eq!(of("body", json), ("application/json", Some("JSON")));
        assert_eq!(
            of("body.req", " [1, 2]\n"),
            ("application/json", Some("JSON"))
        );
        let csv = "5.1,3.5,1.4,0.2\r\n4.9,3.0,1.4,0.2\n";
        assert_eq!(
            of("rows", csv),
            ("text/csv", Some("comma-separated values"))
        );
        assert_eq!(of("rows.txt", csv).0, "text/csv");
        // The extension wins when it names a format, whatever the bytes.
        assert_eq!(of("body.json", "5.1,3.5"), ("application/json", None));
        assert_eq!(of("rows.csv", json), ("text/csv", None));
        // Nothing recognisable: what the extension says.
        assert_eq!(of("note.txt", "hello"), ("text/plain", None));
        assert_eq!(of("body", "42"), ("application/octet-stream", None));
        assert_eq!(of("body", "{broken"), ("application/octet-stream", None));
        assert_eq!(of("ragged", "1,2\n3\n"), ("application/octet-stream", None));
        assert_eq!(
            content_type_of(Path::new("blob"), &[0xff, 0x2c, 0x00, 0x2c]),
            ("application/octet-stream", None)
        );
    }

    #[test]
    fn the_choice_is_noted_only_when_the_bytes_made_it() {
        let dir = tempfile::tempdir().unwrap();
        let txt = dir.path().join("body.txt");
        std::fs::write(&txt, r#"{"instances": [[5.9, 3.0, 4.2, 1.5]]}"#).unwrap();
        let set = PayloadSet::load(&txt).unwrap();
        assert_eq!(set.content_type, "application/json");
        let note = set.content_type_note.unwrap();
        assert!(
            note.contains("body.txt: sending Content-Type application/json, as the body is JSON")
        );
        let json = dir.path().join("body.json");
        std::fs::write(&json, "[1]").unwrap();
        assert_eq!(PayloadSet::load(&json).unwrap().content_type_note, None);
    }

    #[test]
    fn bad_payloads_say_what_and_where() {
        let dir = tempfile::tempdir().unwrap();
        let msg = |p: &Path| PayloadSet::load(p).unwrap_err().to_string();
        assert!(msg(&dir.path().join("missing.json")).contains("cannot read it"));
        let jsonl = dir.path().join("bad.jsonl");
        std::fs::write(&jsonl, "[1]\n{oops\n").unwrap();
        assert!(msg(&jsonl).contains("bad.jsonl:2: not valid JSON"));
        let json = dir.path().join("bad.json");
        std::fs::write(&json, "{\"inputs\": [1, 2,]}").unwrap();
        assert!(
            msg(&json).contains("bad.json:1:18: not valid JSON (expected value)"),
            "{}",
            msg(&json)
        );
        let empty = dir.path().join("empty.json");
        std::fs::write(&empty, "").unwrap();
        assert!(msg(&empty).contains("is empty"));
        let emptydir = dir.path().join("nothing");
        std::fs::create_dir(&emptydir).unwrap();
        assert!(msg(&emptydir).contains("holds no files"));
    }
}

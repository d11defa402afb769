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
}

impl PayloadSet {
    /// A set built in memory (the embedded server's sample, tests). `bodies` must not be empty.
    pub fn from_bodies(bodies: Vec<Bytes>, content_type: &str) -> Self {
        assert!(!bodies.is_empty(), "a payload set needs at least one body");
        PayloadSet {
            bodies,
            content_type: content_type.to_string(),
            source: "built-in sample".to_string(),
        }
    }

    /// Loads `--payload PATH`.
    pub fn load(path: &Path) -> Result<Self, Error> {
        let shown = path.display();
        let meta = std::fs::metadata(path).map_err(|e| {
            Error::Input(format!("--payload {shown}: cannot read it ({e}); give an existing file, directory or .jsonl file"))
        })?;
        let (bodies, content_type) = if meta.is_dir() {
            load_dir(path)?
        } else if has_extension(path, "jsonl") {
            (load_jsonl(path)?, "application/json".to_string())
        } else {
            let body = read(path)?;
            (vec![body], content_type_for(path).to_string())
        };
        Ok(PayloadSet {
            bodies,
            content_type,
            source: shown.to_string(),
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

fn read(path: &Path) -> Result<Bytes, Error> {
    let data = std::fs::read(path).map_err(|e| {
        Error::Input(format!(
            "--payload {}: cannot read it ({e})",
            path.display()
        ))
    })?;
    if data.is_empty() {
        return Err(Error::Input(format!(
            "--payload {}: the file is empty; give a file holding one request body",
            path.display()
        )));
    }
    Ok(Bytes::from(data))
}

fn load_dir(dir: &Path) -> Result<(Vec<Bytes>, String), Error> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| Error::Input(format!("--payload {}: cannot list it ({e})", dir.display())))?;
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
    let content_type = content_type_for(first).to_string();
    let bodies = files.iter().map(|p| read(p)).collect::<Result<_, _>>()?;
    Ok((bodies, content_type))
}

fn load_jsonl(path: &Path) -> Result<Vec<Bytes>, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::Input(format!(
            "--payload {}: cannot read it as UTF-8 text ({e})",
            path.display()
        ))
    })?;
    let mut bodies = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if let Err(e) = serde_json::from_str::<serde_json::Value>(line) {
            return Err(Error::Input(format!(
                "--payload {}:{}: not valid JSON ({e}); each line must hold one JSON request body",
                path.display(),
                i + 1
            )));
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
    fn bad_payloads_say_what_and_where() {
        let dir = tempfile::tempdir().unwrap();
        let msg = |p: &Path| PayloadSet::load(p).unwrap_err().to_string();
        assert!(msg(&dir.path().join("missing.json")).contains("cannot read it"));
        let jsonl = dir.path().join("bad.jsonl");
        std::fs::write(&jsonl, "[1]\n{oops\n").unwrap();
        assert!(msg(&jsonl).contains("bad.jsonl:2: not valid JSON"));
        let empty = dir.path().join("empty.json");
        std::fs::write(&empty, "").unwrap();
        assert!(msg(&empty).contains("is empty"));
        let emptydir = dir.path().join("nothing");
        std::fs::create_dir(&emptydir).unwrap();
        assert!(msg(&emptydir).contains("holds no files"));
    }
}

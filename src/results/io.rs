//! Writing results to disk: complete documents atomically (a temporary file and a rename),
//! and `FILE.partial.jsonl`, appended and flushed as each step ends so an interrupted or
//! crashed run loses no finished step. A file named `-` is standard output (or input).

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::Error;

/// The current time as `2026-11-29T17:00:00Z`.
pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

/// Writes `value` as pretty JSON to `path` through a temporary file and a rename, so a
/// crash never leaves a half-written results file.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), Error> {
    let text = serde_json::to_string_pretty(value).map_err(|source| Error::Encode {
        shown: path.display().to_string(),
        source,
    })?;
    write_text(path, &(text + "\n"))
}

/// Whether `path` is `-`, the conventional name of standard output (or input).
pub fn is_stdio(path: &Path) -> bool {
    path == Path::new("-")
}

/// `path` as messages name it: `-` is "standard output".
pub fn shown_output(path: &Path) -> String {
    if is_stdio(path) {
        "standard output".into()
    } else {
        path.display().to_string()
    }
}

/// Reads a whole text file; `-` reads standard input to its end.
pub fn read_text(path: &Path) -> std::io::Result<String> {
    if is_stdio(path) {
        let mut text = String::new();
        std::io::stdin().lock().read_to_string(&mut text)?;
        Ok(text)
    } else {
        std::fs::read_to_string(path)
    }
}

/// Writes `text` to `path` through a temporary file and a rename; `-` writes it to
/// standard output.
pub fn write_text(path: &Path, text: &str) -> Result<(), Error> {
    let fail = |e| Error::write(shown_output(path), e);
    if is_stdio(path) {
        let mut out = std::io::stdout().lock();
        return out
            .write_all(text.as_bytes())
            .and_then(|()| out.flush())
            .map_err(fail);
    }
    let tmp = sibling(path, ".tmp");
    std::fs::write(&tmp, text).map_err(fail)?;
    std::fs::rename(&tmp, path).map_err(fail)
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// `FILE.partial.jsonl`: one JSON line per finished step, flushed as it is written.
pub struct PartialLog {
    path: PathBuf,
    file: File,
}

impl PartialLog {
    /// Creates (truncates) the log beside the results file `json_path`.
    pub fn create(json_path: &Path) -> Result<Self, Error> {
        let path = sibling(json_path, ".partial.jsonl");
        let file = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .open(&path)
            .map_err(|e| {
                let message = format!(
                    "--json {}: cannot create {} ({e})",
                    json_path.display(),
                    path.display()
                );
                Error::file(&path, message, e)
            })?;
        Ok(PartialLog { path, file })
    }

    pub fn append<T: Serialize>(&mut self, record: &T) -> Result<(), Error> {
        let shown = || self.path.display().to_string();
        let mut line = serde_json::to_string(record).map_err(|source| Error::Encode {
            shown: shown(),
            source,
        })?;
        line.push('\n');
        let fail = |e| Error::write(shown(), e);
        self.file.write_all(line.as_bytes()).map_err(fail)?;
        self.file.sync_data().map_err(fail)
    }

    /// Removes the log once the complete document is written.
    pub fn remove(self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

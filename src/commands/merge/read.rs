//! The shards' documents found in files or on standard input: a file may hold one document
//! (as `--json FILE` writes it) or many mixed with other lines (as `kubectl logs -l …` gives
//! the logs of every pod: progress, tables and each pod's one-line document).

use std::path::PathBuf;

use serde_json::Value;

use crate::Error;
use crate::results::{Document, ShardInfo, read_text};

/// One shard's document and where it was found.
pub struct ShardDoc {
    /// "FILE" or "FILE line N", for messages.
    pub source: String,
    pub doc: Document,
}

impl ShardDoc {
    /// Who the document says it is.
    pub fn info(&self) -> Option<&ShardInfo> {
        match &self.doc {
            Document::Find(r) => r.shard.as_ref(),
            Document::Run(r) => r.shard.as_deref(),
            Document::Simulate(_) | Document::Compare(_) => None,
        }
    }

    /// The shard's index (checked to be present when read).
    pub fn index(&self) -> u32 {
        self.info().and_then(|i| i.index).unwrap_or(0)
    }
}

/// Every shard document in `paths` (`-`: standard input, read once).
pub fn read_all(paths: &[PathBuf]) -> Result<Vec<ShardDoc>, Error> {
    let stdin = paths.iter().filter(|p| p.as_os_str() == "-").count();
    if stdin > 1 {
        return Err(Error::Input(
            "- (standard input) is given more than once".into(),
        ));
    }
    let mut docs = Vec::new();
    for path in paths {
        let name = if path.as_os_str() == "-" {
            "standard input".to_string()
        } else {
            path.display().to_string()
        };
        let text = read_text(path).map_err(|e| Error::Input(format!("cannot read {name}: {e}")))?;
        docs.extend(documents_in(&text, &name)?);
    }
    Ok(docs)
}

/// The shard documents in one text. A line that opens a JSON object is read as one; a
/// peakrps document found that way must be a shard's, while other JSON and other lines
/// are skipped. None found is an error that says what was seen.
pub fn documents_in(text: &str, name: &str) -> Result<Vec<ShardDoc>, Error> {
    let mut docs = Vec::new();
    let mut unreadable: Option<(usize, String)> = None;
    let mut pos = 0;
    while pos < text.len() {
        let line_end = text[pos..].find('\n').map_or(text.len(), |i| pos + i + 1);
        let start = pos + (text[pos..line_end].len() - text[pos..line_end].trim_start().len());
        pos = line_end;
        if !text[start..].starts_with('{') {
            continue;
        }
        let line = text[..start].matches('\n').count() + 1;
        let source = if line == 1 {
            name.to_string()
        } else {
            format!("{name} line {line}")
        };
        let mut stream = serde_json::Deserializer::from_str(&text[start..]).into_iter::<Value>();
        match stream.next() {
            Some(Ok(value)) => {
                let end = start + stream.byte_offset();
                if is_peakrps(&value) {
                    docs.push(shard_doc(&text[start..end], source)?);
                    pos = pos.max(end);
                }
            }
            Some(Err(e)) if unreadable.is_none() => unreadable = Some((line, e.to_string())),
            _ => {}
        }
    }
    if docs.is_empty() {
        let seen = unreadable.map_or(String::new(), |(line, e)| {
            format!(" (line {line} opens a JSON object that does not parse: {e})")
        });
        return Err(Error::Input(format!(
            "{name} holds no peakrps document{seen}; merge reads what `find`/`run --shard K/N --json FILE` wrote"
        )));
    }
    Ok(docs)
}

fn is_peakrps(value: &Value) -> bool {
    value
        .get("schema")
        .and_then(Value::as_str)
        .is_some_and(|s| s.starts_with("peakrps."))
}

/// A peakrps document that must be one shard's.
fn shard_doc(text: &str, source: String) -> Result<ShardDoc, Error> {
    let doc = Document::parse(text).map_err(|why| Error::Input(format!("{source}: {why}")))?;
    let info = match &doc {
        Document::Find(r) => r.shard.as_ref(),
        Document::Run(r) => r.shard.as_deref(),
        Document::Simulate(_) | Document::Compare(_) => {
            return Err(Error::Input(format!(
                "{source} is a {} document; merge takes the documents of find and run shards",
                doc.schema()
            )));
        }
    };
    match info.map(|i| i.index) {
        Some(Some(_)) => Ok(ShardDoc { source, doc }),
        Some(None) => Err(Error::Input(format!(
            "{source} is already a merged document; merge takes the shards' own documents"
        ))),
        None => Err(Error::Input(format!(
            "{source} is not a shard's document (it has no \"shard\"); merge takes what `find`/`run --shard K/N --json FILE` wrote"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHARD: &str = r#"{"schema": "peakrps.run/v1", "shard": {"run_id": "r", "count": 2, "index": 1, "start_at": "2026-12-01T12:00:00.000Z"}}"#;

    #[test]
    fn documents_are_found_among_other_lines() {
        // The shard document above is not a complete run document: reading it says so,
        // naming the line it is on, which shows it was found.
        let text = format!("waiting …\n│ table │\n{{\"not\": \"ours\"}}\n{SHARD}\n");
        let e = documents_in(&text, "-").err().unwrap().to_string();
        assert!(e.starts_with("- line 4: not a valid peakrps.run/v1"), "{e}");
    }

    #[test]
    fn nothing_found_says_what_was_seen() {
        let e = documents_in("hello\n{\"schema\": \"peakrps.run/v1\", \n", "logs.txt")
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains("logs.txt holds no peakrps document (line 2 opens"),
            "{e}"
        );
        assert!(!e.contains('\n'));
    }
}

//! What makes a set of shard documents one run: the same run id and shard count, every
//! shard exactly once, the same kind of document, all streaming or none, the same settings and the same number of
//! steps or minutes. Each refusal is one line naming the documents at fault.

use serde_json::{Value, json};

use super::read::ShardDoc;
use crate::Error;
use crate::results::Document;

/// Checks the documents, and returns them in shard order.
pub fn one_run(mut docs: Vec<ShardDoc>) -> Result<Vec<ShardDoc>, Error> {
    let Some(first) = docs.first() else {
        return Err(Error::Input("no shard documents to merge".into()));
    };
    let (run_id, count) = first
        .info()
        .map(|i| (i.run_id.clone(), i.count))
        .unwrap_or_default();
    for doc in &docs {
        let info = doc.info().map(|i| (i.run_id.as_str(), i.count));
        match info {
            Some((id, _)) if id != run_id => {
                return Err(Error::Input(format!(
                    "shards from different runs: {} is of run {run_id}, {} of run {id}",
                    first.source, doc.source
                )));
            }
            Some((_, n)) if n != count => {
                return Err(Error::Input(format!(
                    "{} says the run has {count} shards, {} says {n}",
                    first.source, doc.source
                )));
            }
            _ => {}
        }
    }
    docs.sort_by_key(ShardDoc::index);
    each_shard_once(&docs, count)?;
    for doc in &docs[1..] {
        same_streaming(&docs[0], doc)?;
        same_setup(&docs[0], doc)?;
        same_length(&docs[0], doc)?;
    }
    if let Some((doc, error)) = docs.iter().find_map(|d| failed(d).map(|e| (d, e))) {
        return Err(Error::Run(format!(
            "{} (shard {}) ended in an error, so the run cannot be merged: {error}",
            doc.source,
            doc.index()
        )));
    }
    Ok(docs)
}

/// Shards 0..count, each once (`docs` sorted by index).
fn each_shard_once(docs: &[ShardDoc], count: u32) -> Result<(), Error> {
    if let Some(pair) = docs.windows(2).find(|p| p[0].index() == p[1].index()) {
        return Err(Error::Input(format!(
            "shard {} of {count} appears twice: {} and {}",
            pair[0].index(),
            pair[0].source,
            pair[1].source
        )));
    }
    let missing: Vec<String> = (0..count)
        .filter(|k| !docs.iter().any(|d| d.index() == *k))
        .map(|k| k.to_string())
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let shown = if missing.len() > 10 {
        format!(
            "{} and {} more",
            missing[..10].join(", "),
            missing.len() - 10
        )
    } else {
        missing.join(", ")
    };
    Err(Error::Input(format!(
        "{} of the run's {count} shards missing: shard {shown} (0-based); give every shard's document",
        missing.len()
    )))
}

/// Whether a document is of a `--stream` run.
fn streaming(doc: &Document) -> bool {
    match doc {
        Document::Find(r) => r.settings.stream.is_some(),
        Document::Run(r) => r.stream.is_some(),
        Document::Simulate(_) | Document::Compare(_) => false,
    }
}

/// Streaming and non-streaming shards measured different things: they do not add up.
fn same_streaming(a: &ShardDoc, b: &ShardDoc) -> Result<(), Error> {
    let (x, y) = (streaming(&a.doc), streaming(&b.doc));
    if x == y {
        return Ok(());
    }
    let (yes, no) = if x { (a, b) } else { (b, a) };
    Err(Error::Input(format!(
        "{} is of a --stream run and {} is not: streaming and non-streaming shards cannot be merged",
        yes.source, no.source
    )))
}

/// What every shard must share: the tool's version, the target, and the settings.
fn setup(doc: &Document) -> Value {
    match doc {
        Document::Find(r) => {
            let shard = r.shard.as_ref();
            json!({
                "schema": r.schema, "version": r.version, "target": r.target, "mode": r.mode,
                "settings": r.settings,
                "start_at": shard.map(|s| &s.start_at),
                "plan": shard.map(|s| &s.plan),
                "safety_factor": shard.map(|s| s.safety_factor),
            })
        }
        Document::Run(r) => {
            let shard = r.shard.as_ref();
            json!({
                "schema": r.schema, "version": r.version, "target": r.target,
                "start_at": shard.map(|s| &s.start_at),
                "load": shard.map(|s| &s.load),
            })
        }
        Document::Simulate(r) => json!({"schema": r.schema}),
        Document::Compare(r) => json!({"schema": r.schema}),
    }
}

fn same_setup(a: &ShardDoc, b: &ShardDoc) -> Result<(), Error> {
    let Some((path, x, y)) = first_difference(&setup(&a.doc), &setup(&b.doc), String::new()) else {
        return Ok(());
    };
    Err(Error::Input(format!(
        "mismatched settings: {} has {path} {x}, {} has {y}",
        a.source, b.source
    )))
}

/// The first place two JSON values differ: its path and both values.
fn first_difference(a: &Value, b: &Value, path: String) -> Option<(String, String, String)> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys = x.keys().chain(y.keys().filter(|k| !x.contains_key(*k)));
            keys.into_iter().find_map(|k| {
                let sub = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                first_difference(
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                    sub,
                )
            })
        }
        _ if a == b => None,
        _ => Some((path, a.to_string(), b.to_string())),
    }
}

/// The number of steps (find) or minutes (run).
fn length(doc: &Document) -> (usize, &'static str) {
    match doc {
        Document::Find(r) => (r.steps.len(), "steps"),
        Document::Run(r) => (r.minutes.len(), "minutes"),
        Document::Simulate(_) | Document::Compare(_) => (0, "minutes"),
    }
}

fn same_length(a: &ShardDoc, b: &ShardDoc) -> Result<(), Error> {
    let ((n, what), (m, _)) = (length(&a.doc), length(&b.doc));
    if n == m {
        return Ok(());
    }
    Err(Error::Input(format!(
        "{} has {n} {what} and {} has {m}: a shard that stopped early (interrupted, or it failed) cannot be merged with the rest",
        a.source, b.source
    )))
}

fn failed(doc: &ShardDoc) -> Option<&str> {
    match &doc.doc {
        Document::Find(r) => r.error.as_deref(),
        Document::Run(r) => r.error.as_deref(),
        Document::Simulate(_) | Document::Compare(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_difference_is_named_by_its_path() {
        let a = json!({"settings": {"window_s": 2.0, "stability": 0.1}, "mode": "rate"});
        let b = json!({"settings": {"window_s": 1.0, "stability": 0.1}, "mode": "rate"});
        assert_eq!(
            first_difference(&a, &b, String::new()),
            Some(("settings.window_s".into(), "2.0".into(), "1.0".into()))
        );
        assert_eq!(first_difference(&a, &a, String::new()), None);
        let c = json!({"settings": {"window_s": 2.0, "stability": 0.1}, "mode": "rate", "x": 1});
        assert_eq!(
            first_difference(&a, &c, String::new()),
            Some(("x".into(), "null".into(), "1".into()))
        );
    }
}

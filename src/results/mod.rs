//! The results documents (DESIGN.md "Results JSON"), each defined once: `peakrps.find/v1`,
//! `run/v1`, `simulate/v1` and `compare/v1`, read back with the schema checked and written atomically.
//!
//! Every other module builds, reads and renders these types; none keeps a model of its own.
//! A field peakrps always writes is required on reading (a missing one is named in the
//! error), so a renamed field never reads as a silent default.

mod compare;
mod context;
mod figures;
mod find;
mod fit;
mod io;
mod run;
mod shard;
mod simulate;
mod stream;
#[cfg(test)]
pub(crate) mod testing;

pub use compare::{Candidate, CompareResults, Input, Terms, compare};
pub use context::{
    Arrival, CloudWatchFigures, MetricSummary, SageMakerTarget, TargetInfo, VariantLatency,
};
pub use figures::{ErrorCounts, ErrorKind, ErrorSample, LatencySummary, Summary};
pub use find::{
    DEFAULT_SAFETY_FACTOR, FindResults, FindSettings, Peak, Recommendation, Step,
    check_safety_factor,
};
pub use fit::{BoundsModel, CurveModel, InstanceInfo, Interval, UslModel};
pub use io::{PartialLog, is_stdio, now_rfc3339, read_text, shown_output, write_json, write_text};
pub use run::{LiveScaling, LoadInfo, ProfileMinute, RunResults};
pub use shard::{ShardInfo, StreamTallyRecord, TallyRecord, WindowRecord};
pub(crate) use shard::{stream_counters, tally_counters};
pub use simulate::{
    CONCURRENCY_METRIC, Capacity, Datapoints, Direction, FactorSearch, INVOCATIONS_METRIC, Policy,
    PolicyDoc, ScaleEvent, SimMinute, SimSummary, SimulateResults, Timing, TradeOff, Traffic,
};
pub use stream::{
    ConcurrencyTarget, PromptChoice, PromptReuse, StreamFigures, StreamSettings, TokenSource,
};

use std::path::Path;

use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::Error;

/// The schemas this version reads.
pub const KNOWN_SCHEMAS: [&str; 4] = [
    FindResults::SCHEMA,
    RunResults::SCHEMA,
    SimulateResults::SCHEMA,
    CompareResults::SCHEMA,
];

/// Any results document peakrps writes.
#[derive(Clone, Debug, PartialEq)]
pub enum Document {
    Find(FindResults),
    Run(RunResults),
    Simulate(SimulateResults),
    Compare(CompareResults),
}

impl Document {
    /// Reads and checks the results file at `path` (`-`: standard input).
    pub fn read(path: &Path) -> Result<Document, Error> {
        let shown = path.display();
        let text = read_text(path)
            .map_err(|e| Error::file(path, format!("cannot read {shown}: {e}"), e))?;
        Document::parse(&text).map_err(|why| Error::Input(format!("{shown}: {why}")))
    }

    /// Parses a results document; the error is one line saying what is wrong.
    pub fn parse(text: &str) -> Result<Document, String> {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| format!("not a peakrps results file (invalid JSON: {e})"))?;
        if !value.is_object() {
            return Err("not a peakrps results file (expected a JSON object)".into());
        }
        let Some(Value::String(schema)) = value.get("schema").cloned() else {
            return Err("not a peakrps results file (no \"schema\" field)".into());
        };
        let malformed = |e: serde_json::Error| format!("not a valid {schema} document ({e})");
        match schema.as_str() {
            FindResults::SCHEMA => serde_json::from_value(value)
                .map(Document::Find)
                .map_err(malformed),
            RunResults::SCHEMA => serde_json::from_value(value)
                .map(Document::Run)
                .map_err(malformed),
            SimulateResults::SCHEMA => serde_json::from_value(value)
                .map(Document::Simulate)
                .map_err(malformed),
            CompareResults::SCHEMA => serde_json::from_value(value)
                .map(Document::Compare)
                .map_err(malformed),
            other => Err(unknown_schema(other)),
        }
    }

    /// The document's schema, e.g. `peakrps.find/v1`.
    pub fn schema(&self) -> &'static str {
        match self {
            Document::Find(_) => FindResults::SCHEMA,
            Document::Run(_) => RunResults::SCHEMA,
            Document::Simulate(_) => SimulateResults::SCHEMA,
            Document::Compare(_) => CompareResults::SCHEMA,
        }
    }
}

/// Reads the `find --json` results a command takes as its input (`simulate --from`,
/// `policy --from`): `source` names the file in messages, `needed_by` the command.
pub fn find_results_from(text: &str, source: &str, needed_by: &str) -> Result<FindResults, Error> {
    let refuse = |schema: &str| {
        Error::Input(format!(
            "{source} is a {schema} document; {needed_by} needs {} (the results of `peakrps find --json FILE`)",
            FindResults::SCHEMA
        ))
    };
    // Name the other document by its schema before judging its fields.
    let schema = serde_json::from_str::<Value>(text)
        .ok()
        .and_then(|v| v.get("schema").and_then(Value::as_str).map(str::to_string));
    if let Some(schema) = schema.filter(|s| s != FindResults::SCHEMA) {
        return Err(refuse(&schema));
    }
    match Document::parse(text).map_err(|why| Error::Input(format!("{source}: {why}")))? {
        Document::Find(results) if results.shard.as_ref().is_some_and(|s| s.index.is_some()) => {
            Err(Error::Input(format!(
                "{source} is one shard's part of a run; {needed_by} needs the whole: `peakrps merge` the shards' documents first"
            )))
        }
        Document::Find(results) => Ok(results),
        other => Err(refuse(other.schema())),
    }
}

/// Reads a `peakrps.find/v1` file that `needed_by` takes with `--from FILE` (`-`: standard
/// input).
pub fn read_find_results(path: &Path, needed_by: &str) -> Result<FindResults, Error> {
    let source = format!("--from {}", path.display());
    let text = read_text(path)
        .map_err(|e| Error::file(path, format!("{source}: cannot read it ({e})"), e))?;
    find_results_from(&text, &source, needed_by)
}

/// For an `Option` field peakrps always writes (as `null` when there is nothing): it must
/// be present on reading, so a missing or renamed field is an error, not a silent `None`.
fn required<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer)
}

fn unknown_schema(schema: &str) -> String {
    let one_line: String = schema
        .chars()
        .take(80)
        .filter(|c| !c.is_control())
        .collect();
    let hint = if one_line.starts_with("peakrps.") {
        "written by another version of peakrps?"
    } else {
        "not a peakrps results file?"
    };
    format!(
        "schema \"{one_line}\" is not one this peakrps ({}) reads ({}); {hint}",
        env!("CARGO_PKG_VERSION"),
        KNOWN_SCHEMAS.join(", ")
    )
}

#[cfg(test)]
mod tests;

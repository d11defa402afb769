//! Reading a results document back (for `peakrps report`): checks the `schema` field first,
//! so another schema, version or a malformed file gives one clear line, never a panic.
//!
//! Also holds the report's view of a `peakrps.simulate/v1` document (DESIGN.md "Results
//! JSON"): only the fields the report draws, so the simulator may add more.

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{FindResults, RunResults};
use crate::Error;

/// The schemas this version reads.
pub const KNOWN_SCHEMAS: [&str; 3] = [
    FindResults::SCHEMA,
    RunResults::SCHEMA,
    SimulateResults::SCHEMA,
];

/// Any results document peakrps writes.
#[derive(Clone, Debug, PartialEq)]
pub enum Document {
    Find(FindResults),
    Run(RunResults),
    Simulate(SimulateResults),
}

/// The scaling policy a simulation ran.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SimPolicy {
    #[serde(default)]
    pub metric: String,
    /// Invocations per minute per instance.
    pub target_value: f64,
    pub min_capacity: u32,
    pub max_capacity: u32,
    #[serde(default)]
    pub scale_in_cooldown_s: f64,
    #[serde(default)]
    pub scale_out_cooldown_s: f64,
    #[serde(default)]
    pub disable_scale_in: bool,
}

impl SimPolicy {
    /// The policy as the controller states it (cooldowns in whole seconds).
    pub fn as_policy(&self) -> crate::scaling::Policy {
        let seconds = |s: f64| s.max(0.0).round() as u64;
        crate::scaling::Policy {
            target_value: self.target_value,
            min_capacity: self.min_capacity,
            max_capacity: self.max_capacity,
            scale_in_cooldown_s: seconds(self.scale_in_cooldown_s),
            scale_out_cooldown_s: seconds(self.scale_out_cooldown_s),
            disable_scale_in: self.disable_scale_in,
        }
    }
}

/// One minute of a simulation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SimMinute {
    pub minute: u32,
    pub offered_rps: f64,
    /// Instances in service (taking traffic) during the minute.
    pub instances: u32,
    #[serde(default)]
    pub desired: Option<u32>,
    #[serde(default)]
    pub invocations_per_instance: Option<f64>,
    pub overloaded: bool,
    #[serde(default)]
    pub p99_ms: Option<f64>,
    #[serde(default)]
    pub failed: Option<u64>,
}

/// The totals of a simulation.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SimSummary {
    pub max_instances: u32,
    pub overloaded_minutes: u32,
    pub requests_at_risk: u64,
    pub instance_minutes: u64,
    pub scale_out_events: u32,
    pub scale_in_events: u32,
}

/// `simulate --json FILE`, as far as the report needs it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SimulateResults {
    pub schema: String,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub started_at: Option<String>,
    pub policy: SimPolicy,
    /// The capacity of one instance (MAX_RPS), when the document gives it.
    #[serde(default)]
    pub max_rps: Option<f64>,
    /// `simulate --recommend`: the safety factors tried and the pick.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recommendation: Option<SimRecommendation>,
    /// What `peakrps simulate` writes: `capacity.max_rps`.
    #[serde(default, skip_serializing)]
    capacity: Option<SimCapacity>,
    pub timeline: Vec<SimMinute>,
    #[serde(default)]
    pub summary: SimSummary,
}

/// `simulate --recommend`'s trade-off, as far as the report needs it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SimRecommendation {
    pub trade_off: Vec<SimSetting>,
    pub pick: SimSetting,
}

/// One setting `--recommend` simulated.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SimSetting {
    pub safety_factor: f64,
    pub min_capacity: u32,
    pub target_value: f64,
    pub overloaded_minutes: u64,
    pub requests_at_risk: f64,
    pub instance_hours: f64,
    #[serde(default)]
    pub cost: Option<f64>,
}

/// The `capacity` object of a simulate document, as far as the report needs it.
#[derive(Clone, Debug, PartialEq, Deserialize)]
struct SimCapacity {
    max_rps: f64,
}

impl SimulateResults {
    pub const SCHEMA: &'static str = "peakrps.simulate/v1";

    /// MAX_RPS per instance: `capacity.max_rps` as `simulate` writes it, or a top-level
    /// `max_rps`.
    pub fn instance_max_rps(&self) -> Option<f64> {
        self.capacity.as_ref().map(|c| c.max_rps).or(self.max_rps)
    }
}

impl Document {
    /// Reads and checks the results file at `path`.
    pub fn read(path: &Path) -> Result<Document, Error> {
        let shown = path.display();
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Input(format!("cannot read {shown}: {e}")))?;
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
            other => Err(unknown_schema(other)),
        }
    }
}

impl Document {
    /// The document's schema, e.g. `peakrps.find/v1`.
    pub fn schema(&self) -> &'static str {
        match self {
            Document::Find(_) => FindResults::SCHEMA,
            Document::Run(_) => RunResults::SCHEMA,
            Document::Simulate(_) => SimulateResults::SCHEMA,
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
        Document::Find(results) => Ok(results),
        other => Err(refuse(other.schema())),
    }
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
mod tests {
    use super::*;

    fn error_of(text: &str) -> String {
        match Document::parse(text) {
            Ok(doc) => panic!("parsed {doc:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn bad_documents_give_one_line() {
        let cases = [
            ("", "invalid JSON"),
            ("{\"schema\": ", "invalid JSON"),
            ("[1, 2]", "expected a JSON object"),
            ("{}", "no \"schema\" field"),
            ("{\"schema\": 3}", "no \"schema\" field"),
            (
                "{\"schema\": \"peakrps.find/v2\"}",
                "another version of peakrps",
            ),
            (
                "{\"schema\": \"k6.summary\"}",
                "not a peakrps results file?",
            ),
            (
                "{\"schema\": \"peakrps.find/v1\", \"steps\": []}",
                "not a valid peakrps.find/v1 document",
            ),
            ("{\"schema\": \"peakrps.run/v1\"}", "missing field"),
        ];
        for (text, expected) in cases {
            let e = error_of(text);
            assert!(e.contains(expected), "{text:?} gave {e:?}");
            assert!(!e.contains('\n'), "{e:?}");
        }
    }

    #[test]
    fn simulate_document_of_the_design_reads() {
        let text = r#"{"schema": "peakrps.simulate/v1",
 "policy": {"metric": "SageMakerVariantInvocationsPerInstance", "target_value": 9000.0,
            "min_capacity": 1, "max_capacity": 10, "scale_in_cooldown_s": 300, "scale_out_cooldown_s": 300},
 "timeline": [{"minute": 0, "offered_rps": 100.0, "instances": 1, "desired": 1,
               "invocations_per_instance": 6000.0, "overloaded": false, "p99_ms": 31.0, "failed": 0}],
 "summary": {"max_instances": 7, "overloaded_minutes": 8, "requests_at_risk": 480000,
             "instance_minutes": 312, "scale_out_events": 1, "scale_in_events": 1}}"#;
        let Ok(Document::Simulate(sim)) = Document::parse(text) else {
            panic!("not read")
        };
        assert_eq!(sim.timeline.len(), 1);
        assert_eq!(sim.summary.max_instances, 7);
        assert_eq!(sim.policy.target_value, 9000.0);
    }
}

//! CSV exports for spreadsheets and scripts: one row per step of a `find` (the table's
//! columns, units in the header names), one row for a `run` (one per minute of a
//! `run --profile`), one row per minute of a `simulate`.

use crate::Error;
use crate::results::{
    ErrorKind, FindResults, ProfileMinute, RunResults, SimulateResults, Step, Summary,
};

/// The header of the step rows: the level, the figures (units in the names), the verdict.
const STEP_HEADER: [&str; 26] = [
    "concurrency",
    "offered_rps",
    "rps",
    "requests",
    "success_ratio",
    "p50_ms",
    "p90_ms",
    "p99_ms",
    "max_ms",
    "latency_at_percentile_ms",
    "throttled",
    "server_error",
    "client_error",
    "timeout",
    "connect",
    "other",
    "signing",
    "dropped",
    "connections",
    "reconnects",
    "duration_s",
    "windows",
    "stable",
    "passed",
    "peak",
    "failure",
];

fn opt<T: ToString>(value: Option<T>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

/// The figures every row has: rps to p99 (of every answered request), errors by kind,
/// dropped, connections, duration.
fn summary_fields(s: &Summary) -> Vec<String> {
    let mut fields = vec![
        s.rps.to_string(),
        s.requests.to_string(),
        s.success_ratio.to_string(),
        s.latency_ms.p50.to_string(),
        s.latency_ms.p90.to_string(),
        s.latency_ms.p99.to_string(),
        s.latency_ms.max.to_string(),
    ];
    fields.extend(ErrorKind::ALL.iter().map(|k| s.errors.get(*k).to_string()));
    fields.push(s.dropped.to_string());
    fields.push(opt(s.connections));
    fields.push(opt(s.reconnects));
    fields.push(s.duration_s.to_string());
    fields
}

fn step_record(step: &Step, is_peak: bool) -> Vec<String> {
    let mut record = vec![opt(step.concurrency), opt(step.offered_rps)];
    let mut figures = summary_fields(&step.summary);
    figures.insert(7, step.latency_at_percentile_ms.to_string());
    record.extend(figures);
    record.push(step.windows.to_string());
    record.push(step.stable.to_string());
    record.push(step.passed.to_string());
    record.push(is_peak.to_string());
    record.push(step.failure.clone().unwrap_or_default());
    record
}

fn to_text(
    header: &[&str],
    records: impl IntoIterator<Item = Vec<String>>,
) -> Result<String, Error> {
    let fail = |e: &dyn std::fmt::Display| Error::Run(format!("cannot build the CSV: {e}"));
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(header).map_err(|e| fail(&e))?;
    for record in records {
        writer.write_record(&record).map_err(|e| fail(&e))?;
    }
    let bytes = writer.into_inner().map_err(|e| fail(&e))?;
    String::from_utf8(bytes).map_err(|e| fail(&e))
}

/// One row per step, in the order the steps ran.
pub fn find_csv(results: &FindResults) -> Result<String, Error> {
    let stream = results.steps.iter().any(|s| s.stream.is_some());
    let records = results.steps.iter().map(|step| {
        let mut record = step_record(step, results.is_peak(step));
        if stream {
            record.extend(super::stream::csv_fields(
                step.stream.as_ref(),
                &step.summary.errors,
            ));
        }
        record
    });
    let mut header = STEP_HEADER.to_vec();
    if stream {
        header.extend(super::stream::CSV_HEADER);
    }
    to_text(&header, records)
}

/// The summary columns a run row and a profile minute share: `rps` to `duration_s`.
fn summary_header() -> Vec<&'static str> {
    STEP_HEADER
        .iter()
        .copied()
        .filter(|h| {
            !matches!(
                *h,
                "concurrency" | "offered_rps" | "latency_at_percentile_ms"
            )
        })
        .take_while(|h| *h != "windows")
        .collect()
}

/// One row with the run's summary, or for a `run --profile` one row per minute.
pub fn run_csv(results: &RunResults) -> Result<String, Error> {
    if !results.minutes.is_empty() {
        return profile_csv(&results.minutes);
    }
    let mut header = vec!["concurrency"];
    header.extend(summary_header());
    let mut record = vec![opt(results.load.concurrency)];
    record.extend(summary_fields(&results.summary));
    if let Some(stream) = &results.stream {
        header.extend(super::stream::CSV_HEADER);
        record.extend(super::stream::csv_fields(
            Some(stream),
            &results.summary.errors,
        ));
    }
    to_text(&header, [record])
}

/// One row per minute: what was offered, what the target did, the instance counts
/// (observed, then predicted; empty when not known), and with `--stream` the streaming
/// figures.
fn profile_csv(minutes: &[ProfileMinute]) -> Result<String, Error> {
    let stream = minutes.iter().any(|m| m.stream.is_some());
    let mut header = vec!["minute", "offered_rps"];
    header.extend(summary_header());
    header.extend(["instances", "predicted_instances"]);
    if stream {
        header.extend(super::stream::CSV_HEADER);
    }
    let records = minutes.iter().map(|m| {
        let mut record = vec![m.minute.to_string(), m.offered_rps.to_string()];
        record.extend(summary_fields(&m.summary));
        record.push(opt(m.instances));
        record.push(opt(m.predicted_instances));
        if stream {
            record.extend(super::stream::csv_fields(
                m.stream.as_ref(),
                &m.summary.errors,
            ));
        }
        record
    });
    to_text(&header, records)
}

/// One row per minute of the simulated traffic.
pub fn simulate_csv(results: &SimulateResults) -> Result<String, Error> {
    // The concurrency metric adds the mean of each minute's datapoints.
    let concurrency = results.datapoints.is_some();
    let mut header = vec![
        "minute",
        "offered_rps",
        "instances",
        "desired",
        "invocations_per_instance",
        "overloaded",
        "p99_ms",
        "failed",
    ];
    if concurrency {
        header.push("concurrency_per_instance");
    }
    let records = results.timeline.iter().map(|m| {
        let mut record = vec![
            m.minute.to_string(),
            m.offered_rps.to_string(),
            m.instances.to_string(),
            m.desired.to_string(),
            m.invocations_per_instance.to_string(),
            m.overloaded.to_string(),
            opt(m.p99_ms),
            m.failed.to_string(),
        ];
        if concurrency {
            record.push(opt(m.concurrency_per_instance));
        }
        record
    });
    to_text(&header, records)
}

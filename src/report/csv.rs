//! Every CSV export, for spreadsheets and scripts: one row per step of a `find`, one row for
//! a `run` (one per minute of a `run --profile`), one per minute of a `simulate`, one per
//! candidate of a `compare`. Each column is defined once, its header (unit in the name)
//! beside the value it holds, so a column cannot drift from its header.

use crate::Error;
use crate::results::{
    Candidate, CompareResults, ErrorCounts, ErrorKind, FindResults, ProfileMinute, RunResults,
    SimMinute, SimulateResults, Step, StreamFigures, Summary,
};

/// One column: its header, unit in the name, and how a row gives its value.
struct Column<R> {
    header: &'static str,
    value: fn(&R) -> String,
}

fn column<R>(header: &'static str, value: fn(&R) -> String) -> Column<R> {
    Column { header, value }
}

/// The header, then one record per row, each column's value in the column's place.
fn to_text<'r, R: 'r>(
    columns: &[Column<R>],
    rows: impl IntoIterator<Item = &'r R>,
) -> Result<String, Error> {
    let fail = |e: &dyn std::fmt::Display| Error::Run(format!("cannot build the CSV: {e}"));
    let mut writer = csv::Writer::from_writer(Vec::new());
    let header = columns.iter().map(|c| c.header);
    writer.write_record(header).map_err(|e| fail(&e))?;
    for row in rows {
        let record = columns.iter().map(|c| (c.value)(row));
        writer.write_record(record).map_err(|e| fail(&e))?;
    }
    let bytes = writer.into_inner().map_err(|e| fail(&e))?;
    String::from_utf8(bytes).map_err(|e| fail(&e))
}

/// An optional value, empty when absent.
fn opt<T: ToString>(value: Option<T>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

/// A row that measured traffic: a step, a run, a minute of a profile.
trait Measured {
    fn summary(&self) -> &Summary;
    fn stream(&self) -> Option<&StreamFigures>;
}

/// A step of a `find`, and whether it is the peak.
struct StepRow<'a> {
    step: &'a Step,
    is_peak: bool,
}

impl Measured for StepRow<'_> {
    fn summary(&self) -> &Summary {
        &self.step.summary
    }
    fn stream(&self) -> Option<&StreamFigures> {
        self.step.stream.as_ref()
    }
}

impl Measured for RunResults {
    fn summary(&self) -> &Summary {
        &self.summary
    }
    fn stream(&self) -> Option<&StreamFigures> {
        self.stream.as_ref()
    }
}

impl Measured for ProfileMinute {
    fn summary(&self) -> &Summary {
        &self.summary
    }
    fn stream(&self) -> Option<&StreamFigures> {
        self.stream.as_ref()
    }
}

/// Throughput, success and the latency of every answered request: `rps` to `max_ms`.
fn traffic<R: Measured>() -> Vec<Column<R>> {
    vec![
        column("rps", |r: &R| r.summary().rps.to_string()),
        column("requests", |r: &R| r.summary().requests.to_string()),
        column("success_ratio", |r: &R| {
            r.summary().success_ratio.to_string()
        }),
        column("p50_ms", |r: &R| r.summary().latency_ms.p50.to_string()),
        column("p90_ms", |r: &R| r.summary().latency_ms.p90.to_string()),
        column("p99_ms", |r: &R| r.summary().latency_ms.p99.to_string()),
        column("max_ms", |r: &R| r.summary().latency_ms.max.to_string()),
    ]
}

/// The errors of one kind.
fn errors<R: Measured>(row: &R, kind: ErrorKind) -> String {
    row.summary().errors.get(kind).to_string()
}

/// The errors by kind (in `ErrorKind::ALL`'s order), dropped, connections and duration:
/// `throttled` to `duration_s`.
fn outcomes<R: Measured>() -> Vec<Column<R>> {
    vec![
        column("throttled", |r: &R| errors(r, ErrorKind::Throttled)),
        column("server_error", |r: &R| errors(r, ErrorKind::ServerError)),
        column("client_error", |r: &R| errors(r, ErrorKind::ClientError)),
        column("timeout", |r: &R| errors(r, ErrorKind::Timeout)),
        column("connect", |r: &R| errors(r, ErrorKind::Connect)),
        column("other", |r: &R| errors(r, ErrorKind::Other)),
        column("signing", |r: &R| errors(r, ErrorKind::Signing)),
        column("dropped", |r: &R| r.summary().dropped.to_string()),
        column("connections", |r: &R| opt(r.summary().connections)),
        column("reconnects", |r: &R| opt(r.summary().reconnects)),
        column("duration_s", |r: &R| r.summary().duration_s.to_string()),
    ]
}

/// A streaming figure, empty in a row without streaming figures.
fn streamed<R: Measured>(row: &R, figure: fn(&StreamFigures, &ErrorCounts) -> f64) -> String {
    row.stream()
        .map(|f| figure(f, &row.summary().errors).to_string())
        .unwrap_or_default()
}

/// The columns streaming (`--stream`) adds after the usual ones.
fn stream<R: Measured>() -> Vec<Column<R>> {
    vec![
        column("output_tokens_per_s", |r: &R| {
            streamed(r, |f, _| f.output_tokens_per_s)
        }),
        column("ttft_p50_ms", |r: &R| streamed(r, |f, _| f.ttft_ms.p50)),
        column("ttft_p90_ms", |r: &R| streamed(r, |f, _| f.ttft_ms.p90)),
        column("ttft_p99_ms", |r: &R| streamed(r, |f, _| f.ttft_ms.p99)),
        column("itl_p50_ms", |r: &R| streamed(r, |f, _| f.itl_ms.p50)),
        column("itl_p90_ms", |r: &R| streamed(r, |f, _| f.itl_ms.p90)),
        column("itl_p99_ms", |r: &R| streamed(r, |f, _| f.itl_ms.p99)),
        column("output_tokens", |r: &R| {
            streamed(r, |f, _| f.output_tokens as f64)
        }),
        column("input_tokens", |r: &R| {
            streamed(r, |f, _| f.input_tokens as f64)
        }),
        column("output_tokens_per_s_per_request", |r: &R| {
            streamed(r, |f, _| f.output_tokens_per_s_per_request)
        }),
        column("concurrency_in_flight", |r: &R| {
            streamed(r, |f, _| f.concurrency)
        }),
        column("model_stream_error", |r: &R| {
            streamed(r, |_, e| e.model_stream_error as f64)
        }),
        column("internal_stream_failure", |r: &R| {
            streamed(r, |_, e| e.internal_stream_failure as f64)
        }),
    ]
}

/// A step's columns: the level, the figures (with the latency at the pass/fail
/// percentile after `max_ms`), the verdict.
fn step_columns<'a>() -> Vec<Column<StepRow<'a>>> {
    let mut columns = vec![
        column("concurrency", |r: &StepRow| opt(r.step.concurrency)),
        column("offered_rps", |r: &StepRow| opt(r.step.offered_rps)),
    ];
    columns.extend(traffic());
    columns.push(column("latency_at_percentile_ms", |r: &StepRow| {
        r.step.latency_at_percentile_ms.to_string()
    }));
    columns.extend(outcomes());
    columns.extend([
        column("windows", |r: &StepRow| r.step.windows.to_string()),
        column("stable", |r: &StepRow| r.step.stable.to_string()),
        column("passed", |r: &StepRow| r.step.passed.to_string()),
        column("peak", |r: &StepRow| r.is_peak.to_string()),
        column("failure", |r: &StepRow| {
            r.step.failure.clone().unwrap_or_default()
        }),
    ]);
    columns
}

/// One row per step, in the order the steps ran.
pub fn find_csv(results: &FindResults) -> Result<String, Error> {
    let mut columns = step_columns();
    if results.steps.iter().any(|s| s.stream.is_some()) {
        columns.extend(stream());
    }
    let rows: Vec<StepRow> = results
        .steps
        .iter()
        .map(|step| StepRow {
            step,
            is_peak: results.is_peak(step),
        })
        .collect();
    to_text(&columns, &rows)
}

/// One row with the run's summary, or for a `run --profile` one row per minute.
pub fn run_csv(results: &RunResults) -> Result<String, Error> {
    if !results.minutes.is_empty() {
        return profile_csv(&results.minutes);
    }
    let mut columns = vec![column("concurrency", |r: &RunResults| {
        opt(r.load.concurrency)
    })];
    columns.extend(traffic());
    columns.extend(outcomes());
    if results.stream.is_some() {
        columns.extend(stream());
    }
    to_text(&columns, [results])
}

/// One row per minute: what was offered, what the target did, the instance counts
/// (observed, then predicted; empty when not known), and with `--stream` the streaming
/// figures.
fn profile_csv(minutes: &[ProfileMinute]) -> Result<String, Error> {
    let mut columns = vec![
        column("minute", |m: &ProfileMinute| m.minute.to_string()),
        column("offered_rps", |m: &ProfileMinute| m.offered_rps.to_string()),
    ];
    columns.extend(traffic());
    columns.extend(outcomes());
    columns.extend([
        column("instances", |m: &ProfileMinute| opt(m.instances)),
        column("predicted_instances", |m: &ProfileMinute| {
            opt(m.predicted_instances)
        }),
    ]);
    if minutes.iter().any(|m| m.stream.is_some()) {
        columns.extend(stream());
    }
    to_text(&columns, minutes)
}

/// One row per minute of the simulated traffic.
pub fn simulate_csv(results: &SimulateResults) -> Result<String, Error> {
    let mut columns = vec![
        column("minute", |m: &SimMinute| m.minute.to_string()),
        column("offered_rps", |m: &SimMinute| m.offered_rps.to_string()),
        column("instances", |m: &SimMinute| m.instances.to_string()),
        column("desired", |m: &SimMinute| m.desired.to_string()),
        column("invocations_per_instance", |m: &SimMinute| {
            m.invocations_per_instance.to_string()
        }),
        column("overloaded", |m: &SimMinute| m.overloaded.to_string()),
        column("p99_ms", |m: &SimMinute| opt(m.p99_ms)),
        column("failed", |m: &SimMinute| m.failed.to_string()),
    ];
    // The concurrency metric adds the mean of each minute's datapoints.
    if results.datapoints.is_some() {
        columns.push(column("concurrency_per_instance", |m: &SimMinute| {
            opt(m.concurrency_per_instance)
        }));
    }
    to_text(&columns, &results.timeline)
}

/// A candidate of a `compare`, and whether it is the cheapest.
struct CandidateRow<'a> {
    candidate: &'a Candidate,
    cheapest: bool,
}

/// A candidate's columns: the figures unrounded, units in the header.
fn candidate_columns<'a>() -> Vec<Column<CandidateRow<'a>>> {
    type Row<'a> = CandidateRow<'a>;
    vec![
        column("name", |r: &Row| r.candidate.name.clone()),
        column("source", |r: &Row| r.candidate.source.clone()),
        column("mode", |r: &Row| r.candidate.mode.clone()),
        column("max_rps", |r: &Row| r.candidate.max_rps.to_string()),
        column("max_rps_ci", |r: &Row| opt(r.candidate.max_rps_ci)),
        column("peak_concurrency", |r: &Row| {
            opt(r.candidate.peak_concurrency)
        }),
        column("safety_factor", |r: &Row| {
            r.candidate.safety_factor.to_string()
        }),
        column("operating_rps", |r: &Row| {
            r.candidate.operating_rps.to_string()
        }),
        column("price_per_hour", |r: &Row| opt(r.candidate.price_per_hour)),
        column("cost_per_million", |r: &Row| {
            opt(r.candidate.cost_per_million)
        }),
        column("instances", |r: &Row| opt(r.candidate.instances)),
        column("cost_per_hour", |r: &Row| opt(r.candidate.cost_per_hour)),
        column("cheapest", |r: &Row| r.cheapest.to_string()),
    ]
}

/// One row per candidate.
pub fn compare_csv(results: &CompareResults) -> Result<String, Error> {
    let rows: Vec<CandidateRow> = results
        .candidates
        .iter()
        .map(|candidate| CandidateRow {
            candidate,
            cheapest: results.cheapest.as_deref() == Some(candidate.name.as_str()),
        })
        .collect();
    to_text(&candidate_columns(), &rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_columns_follow_the_kinds_and_their_names() {
        let headers: Vec<&str> = outcomes::<ProfileMinute>()
            .iter()
            .map(|c| c.header)
            .take(ErrorKind::ALL.len())
            .collect();
        let names: Vec<&str> = ErrorKind::ALL.iter().map(|k| k.name()).collect();
        assert_eq!(headers, names);
    }
}

//! The cells of the tables the terminal and the HTML page both show, so the two read
//! alike: a summary's, a profile minute's (with its streaming figures and instance counts)
//! and a `compare` candidate's.

use crate::report::format::{max_rps, ms, pct, rps};
use crate::report::live_scaling::has_instances;
use crate::results::{Candidate, CompareResults, ProfileMinute, Summary};

/// The columns `summary_cells` fills, as every table that shows a whole summary heads them.
pub const SUMMARY_HEADER: [&str; 8] = [
    "req/s", "requests", "p50 ms", "p90 ms", "p99 ms", "max ms", "success", "errors",
];

/// A summary's figures as table cells, the same in the terminal and the HTML report.
pub fn summary_cells(s: &Summary) -> [String; 8] {
    let l = &s.latency_ms;
    [
        rps(s.rps),
        s.requests.to_string(),
        ms(l.p50),
        ms(l.p90),
        ms(l.p99),
        ms(l.max),
        pct(s.success_ratio),
        s.errors.describe(),
    ]
}

/// Which columns a table of profile minutes has: p90 too where there is room (HTML), the
/// streaming figures when the minutes carry them (`--stream`), and the instance counts when
/// they carry those.
#[derive(Clone, Copy)]
pub struct MinuteColumns {
    pub p90: bool,
    pub stream: bool,
    pub instances: bool,
}

impl MinuteColumns {
    pub fn of(minutes: &[ProfileMinute], p90: bool) -> Self {
        MinuteColumns {
            p90,
            stream: minutes.iter().any(|m| m.stream.is_some()),
            instances: has_instances(minutes),
        }
    }

    pub fn header(self) -> Vec<&'static str> {
        let mut header = vec!["minute", "offered req/s", "req/s", "achieved", "p50 ms"];
        if self.p90 {
            header.push("p90 ms");
        }
        header.extend(["p99 ms", "success", "errors", "dropped"]);
        if self.stream {
            header.extend(MINUTE_STREAM_HEADER);
        }
        if self.instances {
            header.extend(INSTANCE_HEADER);
        }
        header
    }

    /// The columns of words, aligned left: the errors, and the mark of differing counts.
    pub fn text_columns(self) -> Vec<usize> {
        let errors = if self.p90 { 8 } else { 7 };
        let mut columns = vec![errors];
        if self.instances {
            columns.push(self.header().len() - 1);
        }
        columns
    }

    /// A minute's cells after `dropped`: its streaming figures and instance counts.
    pub fn tail_cells(self, m: &ProfileMinute) -> Vec<String> {
        let mut cells = Vec::new();
        if self.stream {
            cells.extend(minute_stream_cells(m));
        }
        if self.instances {
            cells.extend(instance_cells(m));
        }
        cells
    }
}

/// The columns `minute_stream_cells` fills.
const MINUTE_STREAM_HEADER: [&str; 4] =
    ["output tok/s", "TTFT p50 ms", "TTFT p99 ms", "ITL p50 ms"];

/// A minute's output tokens per second, TTFT and ITL ("-" in a minute without them).
fn minute_stream_cells(m: &ProfileMinute) -> [String; 4] {
    match &m.stream {
        Some(f) => [
            rps(f.output_tokens_per_s),
            ms(f.ttft_ms.p50),
            ms(f.ttft_ms.p99),
            ms(f.itl_ms.p50),
        ],
        None => ["-".into(), "-".into(), "-".into(), "-".into()],
    }
}

/// Achieved against offered, as a percentage ("-" when nothing was offered).
pub fn achieved(m: &ProfileMinute) -> String {
    if m.offered_rps > 0.0 {
        format!("{:.1}%", m.summary.rps / m.offered_rps * 100.0)
    } else {
        "-".into()
    }
}

/// An instance count, "-" when it is not known.
fn count(value: Option<u32>) -> String {
    value.map_or_else(|| "-".into(), |v| v.to_string())
}

/// The columns `instance_cells` fills, after a minute's traffic columns.
pub const INSTANCE_HEADER: [&str; 3] = ["instances", "predicted", ""];

/// A minute's instance counts, the endpoint's and the simulator's, and beside them
/// "◀ differs" when the two are known and not the same.
pub fn instance_cells(m: &ProfileMinute) -> [String; 3] {
    let differs = if m.instances_differ() {
        "◀ differs"
    } else {
        ""
    };
    [
        count(m.instances),
        count(m.predicted_instances),
        differs.into(),
    ]
}

/// The candidates' columns; the traffic columns only with `--traffic`.
pub fn compare_header(r: &CompareResults) -> Vec<String> {
    let mut header: Vec<String> = [
        "candidate",
        "mode",
        "MAX_RPS",
        "safety factor",
        "operating req/s",
        "$/hour",
        "$/million requests",
    ]
    .map(String::from)
    .to_vec();
    if let Some(t) = r.traffic_rps {
        header.push(format!("instances for {} req/s", rps(t)));
        header.push("$/hour for them".into());
    }
    header
}

/// A candidate's cells, as the terminal table and the HTML page show them.
pub fn candidate_cells(c: &Candidate, traffic: bool) -> Vec<String> {
    let money = |v: Option<f64>, digits: usize| v.map_or("-".into(), |v| format!("{v:.digits$}"));
    let max_rps = match c.max_rps_ci {
        Some(ci) => format!("{} ± {ci:.1}", max_rps(c.max_rps)),
        None => max_rps(c.max_rps),
    };
    let mut cells = vec![
        c.name.clone(),
        c.mode.clone(),
        max_rps,
        format!("{}", c.safety_factor),
        rps(c.operating_rps),
        money(c.price_per_hour, 3),
        money(c.cost_per_million, 3),
    ];
    if traffic {
        cells.push(c.instances.map_or("-".into(), |n| n.to_string()));
        cells.push(money(c.cost_per_hour, 2));
    }
    cells
}

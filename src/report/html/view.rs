//! The view data the templates render: plain serializable tables, facts, figures and page
//! heads, every text a plain string the template escapes, and only SVG marked as markup.

use minijinja::Value;
use serde::Serialize;

use crate::report::format::rps;
use crate::results::{Policy, TargetInfo};

/// What heads every page: the `<title>` (also the `<h1>`) and the line under it.
#[derive(Serialize)]
pub(super) struct Head {
    pub title: String,
    pub subtitle: String,
}

impl Head {
    pub fn new(title: String, started_at: &str, version: &str) -> Self {
        Head {
            title,
            subtitle: format!("Measured {started_at} with peakrps {version}"),
        }
    }
}

/// A table: a header, rows of cells, and the columns whose text aligns left.
#[derive(Serialize)]
pub(super) struct Table {
    pub header: Vec<&'static str>,
    pub text_columns: Vec<usize>,
    pub rows: Vec<Row>,
}

/// One row: its class ("peak", "failed", "differs" or none) and its cells.
#[derive(Serialize)]
pub(super) struct Row {
    pub class: &'static str,
    pub cells: Vec<String>,
}

/// One term and its value in a definition list.
#[derive(Serialize)]
pub(super) struct Fact {
    pub term: &'static str,
    pub value: String,
}

pub(super) fn fact(term: &'static str, value: impl Into<String>) -> Fact {
    Fact {
        term,
        value: value.into(),
    }
}

/// A large figure with its label, at the top of a page.
#[derive(Serialize)]
pub(super) struct FigureBox {
    pub value: String,
    pub label: String,
}

pub(super) fn figure_box(value: impl Into<String>, label: impl Into<String>) -> FigureBox {
    FigureBox {
        value: value.into(),
        label: label.into(),
    }
}

/// A chart and its caption, or, with nothing to draw, a note in its place.
#[derive(Serialize)]
pub(super) struct Figure {
    /// The chart's `<svg>`, trusted markup from our own chart code; none for a note.
    svg: Option<Value>,
    /// The caption under the chart, or the note.
    text: String,
    /// The `data-chart` name a note carries (a chart names itself in its SVG).
    id: &'static str,
}

impl Figure {
    pub fn chart(svg: String, caption: &str) -> Self {
        Figure {
            svg: Some(Value::from_safe_string(svg)),
            text: caption.into(),
            id: "",
        }
    }

    pub fn note(id: &'static str, text: &str) -> Self {
        Figure {
            svg: None,
            text: text.into(),
            id,
        }
    }
}

pub(super) fn ms(v: f64) -> String {
    format!("{} ms", crate::report::format::ms(v))
}

pub(super) fn req_s(v: f64) -> String {
    format!("{} req/s", rps(v))
}

/// The endpoint and the payload, as every page that measured one states them.
pub(super) fn target_facts(target: &TargetInfo) -> [Fact; 2] {
    let payload = if target.payload.is_empty() {
        "-"
    } else {
        &target.payload
    };
    [
        fact("Target", format!("{} ({})", target.url, target.kind)),
        fact("Payload", payload),
    ]
}

/// A target-tracking policy as facts; `label` names the target value's row.
pub(super) fn policy_facts(label: &'static str, p: &Policy) -> [Fact; 3] {
    let scale_in = if p.disable_scale_in {
        " (scale-in disabled)"
    } else {
        ""
    };
    [
        fact(
            label,
            format!(
                "{} invocations per instance per minute ({} req/s)",
                p.target_value,
                rps(p.target_value / 60.0)
            ),
        ),
        fact(
            "Capacity",
            format!("{} to {} instances", p.min_capacity, p.max_capacity),
        ),
        fact(
            "Cooldowns",
            format!(
                "scale-out {} s, scale-in {} s{scale_in}",
                p.scale_out_cooldown_s, p.scale_in_cooldown_s
            ),
        ),
    ]
}

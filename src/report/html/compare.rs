//! The `compare` page: the cheapest candidate, the candidates' table, and one chart of
//! throughput against concurrency for all of them.

use serde::Serialize;

use super::render::render;
use super::view::{Figure, Head, Row, Table};
use crate::Error;
use crate::report::cells::{candidate_cells, compare_header};
use crate::report::cheapest::cheapest_verdict;
use crate::report::svg::{Axis, LineChart, Marker, Point, Scale, Series, Style};
use crate::results::CompareResults;

#[derive(Serialize)]
struct ComparePage {
    head: Head,
    verdict: String,
    judged_by: String,
    chart: Figure,
    header: Vec<String>,
    table: Table,
}

/// Colours, dashes and markers for up to six candidates (then they repeat).
const STYLES: [Style; 6] = [
    Style {
        color: "#0b3c8c",
        dash: "",
        marker: Marker::Circle,
    },
    Style {
        color: "#c85200",
        dash: "8 4",
        marker: Marker::Square,
    },
    Style {
        color: "#111111",
        dash: "2 3",
        marker: Marker::Triangle,
    },
    Style {
        color: "#2a7f62",
        dash: "12 3 2 3",
        marker: Marker::Circle,
    },
    Style {
        color: "#6a3d9a",
        dash: "6 3",
        marker: Marker::Square,
    },
    Style {
        color: "#8a1c1c",
        dash: "1 3",
        marker: Marker::Triangle,
    },
];

pub(super) fn page(r: &CompareResults) -> Result<String, Error> {
    let traffic = r.traffic_rps.is_some();
    let rows = r
        .candidates
        .iter()
        .map(|c| Row {
            class: if r.cheapest.as_deref() == Some(c.name.as_str()) {
                "peak"
            } else {
                ""
            },
            cells: candidate_cells(c, traffic),
        })
        .collect();
    let view = ComparePage {
        head: Head {
            title: format!("peakrps compare: {} candidates", r.candidates.len()),
            subtitle: format!("Compared with peakrps {}", r.version),
        },
        verdict: cheapest_verdict(r),
        judged_by: format!("The cheapest is judged by {}.", r.judged_by),
        chart: chart(r),
        header: compare_header(r),
        // The template prints the header itself (its names are not fixed).
        table: Table {
            header: Vec::new(),
            text_columns: vec![0, 1],
            rows,
        },
    };
    render("compare.html", &view)
}

/// Throughput against concurrency, one series per candidate measured in concurrency mode.
fn chart(r: &CompareResults) -> Figure {
    let series: Vec<Series> = r
        .candidates
        .iter()
        .filter(|c| c.mode == "concurrency" && !c.curve.is_empty())
        .enumerate()
        .map(|(i, c)| {
            let points = c
                .curve
                .iter()
                .map(|[n, x]| Point {
                    x: *n,
                    y: *x,
                    title: format!("{}: {x:.1} req/s at concurrency {n}", c.name),
                })
                .collect();
            Series::new(c.name.clone(), STYLES[i % STYLES.len()], points)
        })
        .collect();
    if series.is_empty() {
        return Figure::note(
            "throughput",
            "No candidate was measured in concurrency mode: there is no curve against concurrency to draw.",
        );
    }
    let skipped = r.candidates.len() - series.len();
    let chart = LineChart::new(
        "throughput",
        "Throughput vs concurrency",
        Axis::linear("concurrency (users, log scale)").with_scale(Scale::Log2),
        Axis::linear("throughput (successful req/s)"),
        series,
    );
    let caption = if skipped > 0 {
        format!(
            "Each line is one candidate's steps; {skipped} measured in rate mode are not drawn."
        )
    } else {
        "Each line is one candidate's steps, in order of load.".to_string()
    };
    Figure::chart(chart.render(), &caption)
}

//! `peakrps compare` for a person and for a spreadsheet: the candidates' table with the
//! cheapest marked and a verdict line, the same cells as CSV, and the HTML page.

use comfy_table::{Attribute, Cell, Color};

use super::export::Exportable;
use super::terminal::{new_table, rps};
use crate::Error;
use crate::results::{Candidate, CompareResults};

/// The table's columns; the traffic columns only with `--traffic`.
pub(super) fn header(r: &CompareResults) -> Vec<String> {
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

/// A candidate's cells, as the table, the CSV-free views and the HTML page show them.
pub(super) fn cells(c: &Candidate, traffic: bool) -> Vec<String> {
    let money = |v: Option<f64>, digits: usize| v.map_or("-".into(), |v| format!("{v:.digits$}"));
    let max_rps = match c.max_rps_ci {
        Some(ci) => format!("{} ± {ci:.1}", rps(c.max_rps)),
        None => rps(c.max_rps),
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

/// The table and the verdict for the terminal.
pub fn compare_report(r: &CompareResults, color: bool) -> String {
    let mut table = new_table(color);
    let mut header = header(r);
    header.push(String::new());
    table.set_header(header);
    for c in &r.candidates {
        let cheapest = r.cheapest.as_deref() == Some(c.name.as_str());
        let mut texts = cells(c, r.traffic_rps.is_some());
        texts.push(if cheapest { "◀ cheapest" } else { "" }.into());
        table.add_row(texts.into_iter().map(|t| {
            let cell = Cell::new(t);
            if color && cheapest {
                cell.fg(Color::Green).add_attribute(Attribute::Bold)
            } else {
                cell
            }
        }));
    }
    format!("{table}\n{}\n", verdict(r))
}

/// "Cheapest: …" in words, or why there is none.
pub(super) fn verdict(r: &CompareResults) -> String {
    let Some(c) = r
        .cheapest
        .as_deref()
        .and_then(|name| r.candidates.iter().find(|c| c.name == name))
    else {
        return "Cheapest: none can be said without prices.".into();
    };
    let per_million = c.cost_per_million.unwrap_or(0.0);
    let at = format!(
        "each instance at {} req/s (MAX_RPS {} × {})",
        rps(c.operating_rps),
        rps(c.max_rps),
        c.safety_factor
    );
    match (r.traffic_rps, c.instances, c.cost_per_hour) {
        (Some(t), Some(n), Some(hour)) => format!(
            "Cheapest: {}: {n} instance{} carry {} req/s for ${hour:.2} an hour, {at}; ${per_million:.3} per million requests.",
            c.name,
            if n == 1 { "" } else { "s" },
            rps(t)
        ),
        _ => format!(
            "Cheapest: {} at ${per_million:.3} per million requests, {at}.",
            c.name
        ),
    }
}

/// One row per candidate: the figures unrounded, units in the header.
fn compare_csv(r: &CompareResults) -> Result<String, Error> {
    let fail = |e: &dyn std::fmt::Display| Error::Run(format!("cannot build the CSV: {e}"));
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "name",
        "source",
        "mode",
        "max_rps",
        "max_rps_ci",
        "peak_concurrency",
        "safety_factor",
        "operating_rps",
        "price_per_hour",
        "cost_per_million",
        "instances",
        "cost_per_hour",
        "cheapest",
    ])
    .map_err(|e| fail(&e))?;
    let opt = |v: Option<String>| v.unwrap_or_default();
    for c in &r.candidates {
        w.write_record([
            c.name.clone(),
            c.source.clone(),
            c.mode.clone(),
            c.max_rps.to_string(),
            opt(c.max_rps_ci.map(|v| v.to_string())),
            opt(c.peak_concurrency.map(|v| v.to_string())),
            c.safety_factor.to_string(),
            c.operating_rps.to_string(),
            opt(c.price_per_hour.map(|v| v.to_string())),
            opt(c.cost_per_million.map(|v| v.to_string())),
            opt(c.instances.map(|v| v.to_string())),
            opt(c.cost_per_hour.map(|v| v.to_string())),
            (r.cheapest.as_deref() == Some(c.name.as_str())).to_string(),
        ])
        .map_err(|e| fail(&e))?;
    }
    let bytes = w.into_inner().map_err(|e| fail(&e))?;
    String::from_utf8(bytes).map_err(|e| fail(&e))
}

impl Exportable for CompareResults {
    fn try_html(&self) -> Result<String, Error> {
        super::html::compare_page(self)
    }
    fn csv(&self) -> Result<String, Error> {
        compare_csv(self)
    }
}

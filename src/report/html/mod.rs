//! The HTML report: one self-contained page per results document (find, run, simulate),
//! rendered from templates with inline CSS and SVG charts, a strict CSP and no fetch at all.
//!
//! Each page has a module that turns its document into plain view data (tables, facts,
//! figures) and a template under `report/templates/` that lays it out; the templates escape
//! every text they print, and only the SVG of our own charts goes in as markup.

mod compare;
mod find;
mod find_charts;
mod fit_chart;
mod render;
mod run;
mod run_charts;
mod simulate;
mod stream_charts;
mod style;
mod view;

pub(super) use render::error_page;

use crate::Error;
use crate::results::{CompareResults, FindResults, RunResults, SimulateResults};

/// Nothing may be fetched: no scripts, images, fonts, frames or connections; only the inline
/// `<style>` (and SVG `<pattern>`s referenced by fragment, which are not fetches).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; base-uri 'none'; form-action 'none'";

/// The report of a `find`: verdict and recommendation, charts, step table, what was tested.
pub fn find_html(r: &FindResults) -> String {
    or_error_page(find_page(r))
}

/// The report of a `run`, with the minutes and instance counts of a `run --profile`.
pub fn run_html(r: &RunResults) -> String {
    or_error_page(run_page(r))
}

/// The report of a `simulate`: traffic against capacity per minute, instances, the totals.
pub fn simulate_html(r: &SimulateResults) -> String {
    or_error_page(simulate_page(r))
}

/// `find_html`, with a template failure as an error rather than as a page.
pub(super) fn find_page(r: &FindResults) -> Result<String, Error> {
    find::page(r)
}

/// `run_html`, with a template failure as an error rather than as a page.
pub(super) fn run_page(r: &RunResults) -> Result<String, Error> {
    run::page(r)
}

/// `simulate_html`, with a template failure as an error rather than as a page.
pub(super) fn simulate_page(r: &SimulateResults) -> Result<String, Error> {
    simulate::page(r)
}

/// The page of a `compare`, with a template failure as an error.
pub(super) fn compare_page(r: &CompareResults) -> Result<String, Error> {
    compare::page(r)
}

fn or_error_page(page: Result<String, Error>) -> String {
    page.unwrap_or_else(|e| error_page(&e))
}

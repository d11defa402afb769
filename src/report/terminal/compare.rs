//! The table of a `compare` for the terminal: the candidates with the cheapest marked, and
//! the verdict line under it.

use comfy_table::{Attribute, Cell, Color};

use super::{new_table, render};
use crate::report::cells::{candidate_cells, compare_header};
use crate::report::cheapest::cheapest_verdict;
use crate::results::CompareResults;

/// The columns a narrow terminal loses first, in this order (the candidate, MAX_RPS, the
/// costs and the instance count stay).
const DROP_ORDER: [&str; 4] = ["mode", "safety factor", "operating req/s", "$/hour"];

/// The table and the verdict for the terminal, fitted to its width (`DROP_ORDER`).
pub fn compare_report(r: &CompareResults, color: bool) -> String {
    let mut table = new_table(color);
    let mut header = compare_header(r);
    header.push(String::new());
    table.set_header(header);
    for c in &r.candidates {
        let cheapest = r.cheapest.as_deref() == Some(c.name.as_str());
        let mut texts = candidate_cells(c, r.traffic_rps.is_some());
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
    format!("{}\n{}\n", render(table, &DROP_ORDER), cheapest_verdict(r))
}

//! What a person at a terminal sees, one file per document: the final table and verdict
//! of a `find`, a `run`, a `simulate` and a `compare`, the streaming tables, and the live
//! progress on stderr. Here: writing to stdout or stderr, colour, the table style, and the
//! verdict cells a step's row ends with.
//!
//! Tables are aligned, the peak row and a profile's disagreeing instance counts marked,
//! colour only on a terminal and never when NO_COLOR is set.

mod compare;
mod find;
mod progress;
mod run;
mod simulate;
mod stream;

use std::io::IsTerminal;

use comfy_table::presets::UTF8_BORDERS_ONLY;
use comfy_table::{
    Attribute, Cell, CellAlignment, Color, ColumnConstraint, ContentArrangement, Table,
};

use crate::results::Step;

pub use compare::compare_report;
pub use find::{find_table, find_verdict};
pub use progress::Progress;
pub use run::{cloudwatch_lines, profile_table, run_report, run_summary};
pub use simulate::{recommendation_report, simulate_summary, simulation_report};
pub use stream::run_line as stream_run_line;

/// Writes to stdout; a closed pipe (`peakrps … | head`) is not an error worth a panic.
pub fn emit(text: &str) {
    use std::io::Write;
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

/// Writes to stderr: the table's place when stdout carries a document (`--json -`).
pub fn emit_stderr(text: &str) {
    use std::io::Write;
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

/// Colour is used when stdout is a terminal and NO_COLOR is unset (https://no-color.org).
pub fn color_enabled() -> bool {
    no_color_unset() && std::io::stdout().is_terminal()
}

/// As `color_enabled`, for text written to stderr.
pub fn stderr_color_enabled() -> bool {
    no_color_unset() && std::io::stderr().is_terminal()
}

fn no_color_unset() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// A table in the report's border style, coloured only when `color` is set.
fn new_table(color: bool) -> Table {
    let mut table = Table::new();
    table.load_style(UTF8_BORDERS_ONLY);
    if color {
        table.enforce_styling();
    } else {
        table.force_no_tty();
    }
    table
}

/// The width the tables must fit: COLUMNS when it is set to a number (which makes a
/// redirected output fit too), else the terminal's; `None`, the whole table, when stdout is
/// not a terminal.
pub fn terminal_width() -> Option<usize> {
    let columns = std::env::var("COLUMNS").ok();
    if let Some(width) = columns.and_then(|c| c.trim().parse::<usize>().ok()) {
        return (width > 0).then_some(width);
    }
    if !std::io::stdout().is_terminal() {
        return None;
    }
    Table::new().width().map(usize::from)
}

/// The widest line of a rendered table, in characters.
fn rendered_width(table: &Table) -> usize {
    table
        .lines()
        .map(|line| console_width(&line))
        .max()
        .unwrap_or(0)
}

/// Characters a line shows, its colour codes left out.
fn console_width(line: &str) -> usize {
    let mut width = 0;
    let mut in_escape = false;
    for c in line.chars() {
        match (in_escape, c) {
            (false, '\u{1b}') => in_escape = true,
            (true, 'm') => in_escape = false,
            (true, _) => {}
            (false, _) => width += 1,
        }
    }
    width
}

/// The table as text, fitted to `width` when there is one: the columns headed as in
/// `drop_order` (least important first) are left out one by one until it fits; if it still
/// does not, comfy-table wraps the remaining cells to the width.
pub fn fit(mut table: Table, drop_order: &[&str], width: Option<usize>) -> String {
    let Some(width) = width else {
        return table.to_string();
    };
    let headers: Vec<String> = table
        .header()
        .map(|row| row.cell_iter().map(|c| c.content()).collect())
        .unwrap_or_default();
    for name in drop_order {
        if rendered_width(&table) <= width {
            break;
        }
        let Some(column) = headers.iter().position(|h| h == name) else {
            continue;
        };
        if let Some(col) = table.column_mut(column) {
            col.set_constraint(ColumnConstraint::Hidden);
        }
    }
    if rendered_width(&table) > width {
        table.set_content_arrangement(ContentArrangement::Dynamic);
        table.set_width(u16::try_from(width).unwrap_or(u16::MAX));
    }
    table.to_string()
}

/// The table fitted to the terminal (see `terminal_width`).
fn render(table: Table, drop_order: &[&str]) -> String {
    fit(table, drop_order, terminal_width())
}

fn align_right(table: &mut Table, columns: &[usize]) {
    for &i in columns {
        if let Some(col) = table.column_mut(i) {
            col.set_cell_alignment(CellAlignment::Right);
        }
    }
}

/// The last three cells of a step's row: stable, passed, and the peak's mark.
fn verdict_cells(step: &Step, is_peak: bool) -> [String; 3] {
    if step.is_idle() {
        return ["-".into(), "-".into(), String::new()];
    }
    let stable = if step.partial {
        "partial"
    } else if step.stable {
        "yes"
    } else {
        "no"
    };
    let passed = if step.passed { "yes" } else { "no" };
    let mark = if is_peak { "◀ peak" } else { "" };
    [stable.into(), passed.into(), mark.into()]
}

/// A step's row as cells: the peak's in bold green, a failing step's "no" in red (the
/// passed column is the one before the last).
fn step_cells(texts: Vec<String>, step: &Step, is_peak: bool, color: bool) -> Vec<Cell> {
    let passed_column = texts.len().saturating_sub(2);
    texts
        .into_iter()
        .enumerate()
        .map(|(i, text)| {
            let cell = Cell::new(text);
            if color && is_peak {
                cell.fg(Color::Green).add_attribute(Attribute::Bold)
            } else if color && i == passed_column && !step.passed && !step.is_idle() {
                cell.fg(Color::Red)
            } else {
                cell
            }
        })
        .collect()
}

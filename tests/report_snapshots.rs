//! Snapshot tests of what a person and a spreadsheet see for a fixed find and run: the
//! terminal table and verdict (no colour) and the CSV exports.

mod fixtures;

use fixtures::{find_fixture, run_fixture};
use peakrps::report::{find_csv, find_table, find_verdict, run_csv, run_summary};

#[test]
fn find_table_without_colour() {
    insta::assert_snapshot!("find_table", find_table(&find_fixture(), false));
}

#[test]
fn find_verdict_text() {
    insta::assert_snapshot!("find_verdict", find_verdict(&find_fixture()));
}

#[test]
fn find_csv_has_one_row_per_step() {
    let csv = find_csv(&find_fixture()).expect("csv");
    assert_eq!(csv.lines().count(), 1 + find_fixture().steps.len());
    insta::assert_snapshot!("find_csv", csv);
}

#[test]
fn run_table_and_csv() {
    let run = run_fixture();
    insta::assert_snapshot!("run_summary", run_summary(&run.summary, false));
    insta::assert_snapshot!("run_csv", run_csv(&run).expect("csv"));
}

#[test]
fn colour_marks_the_peak_row_but_text_marks_it_too() {
    let plain = find_table(&find_fixture(), false);
    let coloured = find_table(&find_fixture(), true);
    assert!(!plain.contains('\u{1b}'), "no escape codes without colour");
    assert!(coloured.contains('\u{1b}'), "escape codes with colour");
    assert_eq!(plain.matches("◀ peak").count(), 1);
}

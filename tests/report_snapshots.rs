//! Snapshot tests of what a person and a spreadsheet see for a fixed find, run and profile
//! run: the terminal table and verdict (no colour), the instance comparison and the CSV exports.

mod fixtures;

use fixtures::{PROFILE_MINUTES, find_fixture, run_fixture, run_profile_fixture};
use peakrps::report::{
    find_csv, find_table, find_verdict, profile_table, run_csv, run_summary, scaling_comparison,
};

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

/// The table's data rows (between the header rule and the bottom border).
fn data_rows(table: &str) -> Vec<&str> {
    table
        .lines()
        .skip_while(|l| !l.starts_with('╞'))
        .skip(1)
        .filter(|l| l.starts_with('│'))
        .collect()
}

/// The cells of a table row, trimmed.
fn cells(row: &str) -> Vec<&str> {
    row.trim_matches('│')
        .split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect()
}

#[test]
fn profile_table_shows_both_counts_and_marks_the_minutes_that_differ() {
    let run = run_profile_fixture();
    let table = profile_table(&run.minutes, false);
    insta::assert_snapshot!("profile_table", table);
    let header = table.lines().nth(1).unwrap_or_default();
    assert!(
        header.contains("instances") && header.contains("predicted"),
        "{header}"
    );
    let rows = data_rows(&table);
    assert_eq!(rows.len(), 12, "{table}");
    let marked: Vec<&str> = rows
        .iter()
        .filter(|r| r.contains("◀ differs"))
        .map(|r| cells(r)[0])
        .collect();
    assert_eq!(marked, ["5", "6"], "{table}");
    let unread = cells(rows[9]);
    assert_eq!(
        unread[unread.len() - 2..],
        ["-", "3"],
        "minute 9: {}",
        rows[9]
    );
    assert!(!table.contains('\u{1b}'), "no escape codes without colour");
}

#[test]
fn profile_table_without_instance_counts_is_the_plain_table() {
    let mut run = run_profile_fixture();
    for m in &mut run.minutes {
        (m.instances, m.predicted_instances) = (None, None);
    }
    let table = profile_table(&run.minutes, false);
    let header = table.lines().nth(1).unwrap_or_default();
    assert!(
        header.trim_end_matches(['│', ' ']).ends_with("dropped"),
        "{header}"
    );
    assert!(!table.contains("differs") && !table.contains("predicted"));
    assert_eq!(cells(data_rows(&table)[0]).len(), 9);
}

#[test]
fn colour_marks_the_differing_minutes_and_the_text_still_does() {
    let run = run_profile_fixture();
    let coloured = profile_table(&run.minutes, true);
    let rows: Vec<&str> = coloured.lines().filter(|l| l.contains('\u{1b}')).collect();
    assert!(
        rows.len() >= 2,
        "the two differing minutes are coloured: {coloured}"
    );
    assert!(rows.iter().all(|r| r.contains("◀ differs")), "{coloured}");
}

#[test]
fn scaling_comparison_counts_the_minutes_that_differ() {
    let text = scaling_comparison(&run_profile_fixture()).expect("a sagemaker profile run");
    insta::assert_snapshot!("profile_scaling_comparison", text);
    assert!(text.starts_with(
        "Instances: the endpoint went 1 → 3 (max 3; not read in 1 minute); the simulator predicted 1 → 3 (max 3) under target 600 invocations/instance/minute, 1-10 instances; they differ in 2 of the 11 minutes where both are known.\n"
    ), "{text}");
    assert!(text.ends_with("Note: DescribeEndpoint failed for minute 9 (ThrottlingException)\n"));
    assert_eq!(
        scaling_comparison(&run_fixture()),
        None,
        "a fixed run has none"
    );
}

#[test]
fn profile_csv_has_a_row_per_minute_with_the_instance_cells() {
    let csv = run_csv(&run_profile_fixture()).expect("csv");
    insta::assert_snapshot!("profile_csv", csv);
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let header = reader.headers().expect("header").clone();
    let column = |name: &str| header.iter().position(|h| h == name).expect(name);
    let (minute, instances, predicted) = (
        column("minute"),
        column("predicted_instances") - 1,
        column("predicted_instances"),
    );
    assert_eq!(&header[instances], "instances");
    for unit in [
        "offered_rps",
        "rps",
        "p50_ms",
        "p99_ms",
        "max_ms",
        "throttled",
        "dropped",
    ] {
        column(unit);
    }
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    assert_eq!(rows.len(), 12);
    for (row, (offered, seen, want)) in rows.iter().zip(PROFILE_MINUTES) {
        let cell = |v: Option<u32>| v.map(|v| v.to_string()).unwrap_or_default();
        assert_eq!(&row[column("offered_rps")], offered.to_string(), "{row:?}");
        assert_eq!(&row[instances], cell(seen), "{row:?}");
        assert_eq!(&row[predicted], cell(want), "{row:?}");
    }
    assert_eq!(
        (&rows[9][minute], &rows[9][instances]),
        ("9", ""),
        "unread count: empty"
    );
    assert_eq!(
        &rows[5][column("throttled")],
        "5",
        "the short minute's errors"
    );
}

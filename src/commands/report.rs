//! `peakrps report RESULTS`: reads a results file back and renders it again, as the terminal
//! table and verdict, or as the --html and --csv reports.

use super::Completion;
use crate::Error;
use crate::cli::ReportArgs;
use crate::pipeline::output::Output;
use crate::report;
use crate::results::Document;

pub fn report(args: &ReportArgs) -> Result<Completion, Error> {
    let files = args.reports.files();
    Output::new(&[("--html", files.html), ("--csv", files.csv)])?;
    report::check_report_files(files)?;
    let doc = Document::read(&args.results)?;
    if files.html.is_none() && files.csv.is_none() {
        report::emit(&terminal(&doc, report::color_enabled()));
        return Ok(Completion::Done);
    }
    for line in report::write_reports(&doc, files)? {
        eprintln!("{line}");
    }
    Ok(Completion::Done)
}

/// What `find`, `run`, `simulate` or `compare` printed when the document was made.
fn terminal(doc: &Document, color: bool) -> String {
    match doc {
        Document::Find(r) => format!(
            "{}\n{}",
            report::find_table(r, color),
            report::find_verdict(r)
        ),
        Document::Run(r) => report::run_report(r, color),
        Document::Simulate(r) => report::simulate_summary(r, color),
        Document::Compare(r) => report::compare_report(r, color),
    }
}

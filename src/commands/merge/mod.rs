//! `peakrps merge FILES…|-`: the documents a run's shards wrote (`--shard K/N`), checked to
//! be every shard of one run with the same settings, added up exactly into the ordinary
//! `peakrps.find/v1` or `peakrps.run/v1` document, which `report`, `policy` and `simulate`
//! read like any other; shown as `report` shows it, and written with --json/--html/--csv.

mod check;
mod combine;
mod read;

use super::Completion;
use crate::Error;
use crate::cli::MergeArgs;
use crate::pipeline::output::{self, Output};
use crate::report;
use crate::results::{self, Document};

pub fn merge(args: &MergeArgs) -> Result<Completion, Error> {
    let files = args.reports.files();
    let out = Output::new(&[
        ("--json", args.json.as_deref()),
        ("--html", files.html),
        ("--csv", files.csv),
    ])?;
    report::check_report_files(files)?;
    let docs = check::one_run(read::read_all(&args.files)?)?;
    let count = docs.len();
    let merged = combine::merge(&docs)?;
    let shown = match &merged {
        Document::Find(r) => format!(
            "{}\n\n{}",
            report::find_table(r, out.color()),
            report::find_verdict(r)
        ),
        Document::Run(r) => report::run_report(r, out.color()),
        Document::Simulate(_) | Document::Compare(_) => String::new(),
    };
    out.emit(&format!("Merged {count} shards.\n"));
    out.emit(&shown);
    if let Some(path) = &args.json {
        match &merged {
            Document::Find(r) => results::write_json(path, r)?,
            Document::Run(r) => results::write_json(path, r)?,
            Document::Simulate(r) => results::write_json(path, r)?,
            Document::Compare(r) => results::write_json(path, r)?,
        }
        eprintln!("{}", output::written("Merged results", path));
    }
    for line in report::write_reports(&merged, files)? {
        eprintln!("{line}");
    }
    match &merged {
        Document::Find(r) if r.peak.is_none() && !r.interrupted => Err(Error::Failed(format!(
            "no load level passed: {}",
            r.stop_reason
        ))),
        _ => Ok(Completion::Done),
    }
}

//! Writing the HTML and CSV reports of any results document to the files named by `--html`
//! and `--csv`, for `find`, `run`, `simulate`, `compare` and `report` alike.

use std::path::Path;

use super::{csv, html};
use crate::Error;
use crate::results::{
    CompareResults, Document, FindResults, RunResults, SimulateResults, shown_output, write_text,
};

/// A results document that renders as an HTML page and a CSV table.
pub trait Exportable {
    /// The HTML page; a template that fails (a bug) is an error here.
    fn try_html(&self) -> Result<String, Error>;
    fn csv(&self) -> Result<String, Error>;

    /// The HTML page; a template that fails (a bug) gives a page that says so.
    fn html(&self) -> String {
        self.try_html().unwrap_or_else(|e| html::error_page(&e))
    }
}

impl Exportable for FindResults {
    fn try_html(&self) -> Result<String, Error> {
        html::find_page(self)
    }
    fn csv(&self) -> Result<String, Error> {
        csv::find_csv(self)
    }
}

impl Exportable for RunResults {
    fn try_html(&self) -> Result<String, Error> {
        html::run_page(self)
    }
    fn csv(&self) -> Result<String, Error> {
        csv::run_csv(self)
    }
}

impl Exportable for SimulateResults {
    fn try_html(&self) -> Result<String, Error> {
        html::simulate_page(self)
    }
    fn csv(&self) -> Result<String, Error> {
        csv::simulate_csv(self)
    }
}

impl Exportable for CompareResults {
    fn try_html(&self) -> Result<String, Error> {
        html::compare_page(self)
    }
    fn csv(&self) -> Result<String, Error> {
        csv::compare_csv(self)
    }
}

impl Exportable for Document {
    fn try_html(&self) -> Result<String, Error> {
        match self {
            Document::Find(r) => r.try_html(),
            Document::Run(r) => r.try_html(),
            Document::Simulate(r) => r.try_html(),
            Document::Compare(r) => r.try_html(),
        }
    }
    fn csv(&self) -> Result<String, Error> {
        match self {
            Document::Find(r) => r.csv(),
            Document::Run(r) => r.csv(),
            Document::Simulate(r) => r.csv(),
            Document::Compare(r) => r.csv(),
        }
    }
}

/// Where the reports go; either may be absent.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReportFiles<'a> {
    pub html: Option<&'a Path>,
    pub csv: Option<&'a Path>,
}

/// Fails at once (before any load is sent) when a report could not be written at the end
/// because its folder does not exist or the path is a folder.
pub fn check_report_files(files: ReportFiles) -> Result<(), Error> {
    let named = [("--html", files.html), ("--csv", files.csv)];
    for (flag, path) in named.into_iter().filter_map(|(f, p)| Some((f, p?))) {
        let parent = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        if path.is_dir() {
            return Err(Error::Input(format!(
                "{flag} {}: is a folder",
                path.display()
            )));
        }
        if !parent.is_dir() {
            return Err(Error::Input(format!(
                "{flag} {}: folder {} does not exist",
                path.display(),
                parent.display()
            )));
        }
    }
    Ok(())
}

/// Writes the reports asked for and returns a line per file written ("HTML report written
/// to FILE"), for the caller to show.
pub fn write_reports(doc: &impl Exportable, files: ReportFiles) -> Result<Vec<String>, Error> {
    let mut written = Vec::new();
    if let Some(path) = files.html {
        write_text(path, &doc.try_html()?)?;
        written.push(format!("HTML report written to {}", shown_output(path)));
    }
    if let Some(path) = files.csv {
        write_text(path, &doc.csv()?)?;
        written.push(format!("CSV written to {}", shown_output(path)));
    }
    Ok(written)
}

//! Where a command's output goes. `-` as the file of `--json`, `--csv` or `--html` means
//! standard output: that document alone goes there, and the table and verdict a person reads
//! go to stderr instead, so `peakrps run … --json - | jq` works.

use std::path::Path;

use crate::Error;
use crate::cli::ReportFileArgs;
use crate::report;
use crate::results::{is_stdio, shown_output};

/// Where the human-readable table and verdict of a command go.
#[derive(Clone, Copy, Debug)]
pub struct Output {
    /// A document takes standard output: the table goes to stderr.
    table_to_stderr: bool,
}

impl Output {
    /// The documents a command was asked to write, by flag (`("--json", Some(path))`).
    /// Refuses more than one on standard output: they would be mixed there.
    pub fn new(documents: &[(&str, Option<&Path>)]) -> Result<Self, Error> {
        let on_stdout: Vec<String> = documents
            .iter()
            .filter(|(_, path)| path.is_some_and(is_stdio))
            .map(|(flag, _)| format!("{flag} -"))
            .collect();
        if on_stdout.len() > 1 {
            return Err(Error::Input(format!(
                "{}: only one document can go to standard output",
                on_stdout.join(" and ")
            )));
        }
        Ok(Output {
            table_to_stderr: !on_stdout.is_empty(),
        })
    }

    /// For `find` and `run`: their `--json`, `--html` and `--csv` files.
    pub fn of(json: Option<&Path>, reports: &ReportFileArgs) -> Result<Self, Error> {
        Output::new(&[
            ("--json", json),
            ("--html", reports.html.as_deref()),
            ("--csv", reports.csv.as_deref()),
        ])
    }

    /// Shows the table, verdict or summary text.
    pub fn emit(&self, text: &str) {
        if self.table_to_stderr {
            report::emit_stderr(text);
        } else {
            report::emit(text);
        }
    }

    /// Whether the table may be coloured where it goes.
    pub fn color(&self) -> bool {
        if self.table_to_stderr {
            report::stderr_color_enabled()
        } else {
            report::color_enabled()
        }
    }
}

/// "Results written to FILE" (or "to standard output").
pub fn written(what: &str, path: &Path) -> String {
    format!("{what} written to {}", shown_output(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_document_at_most_goes_to_standard_output() {
        let dash = Path::new("-");
        let file = Path::new("out.json");
        assert!(
            !Output::new(&[("--json", Some(file))])
                .unwrap()
                .table_to_stderr
        );
        assert!(
            Output::new(&[("--json", Some(dash)), ("--csv", Some(file))])
                .unwrap()
                .table_to_stderr
        );
        let refused = Output::new(&[("--json", Some(dash)), ("--csv", Some(dash))]);
        assert!(
            refused
                .unwrap_err()
                .to_string()
                .starts_with("--json - and --csv -: only one")
        );
    }
}

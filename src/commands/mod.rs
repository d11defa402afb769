//! One module per subcommand: each turns its parsed flags into calls on the library stages
//! (endpoint → load → stats → search → scaling → report) and says how the command ended.

mod compare;
mod find;
mod interrupt;
mod limits;
mod llm;
mod merge;
mod output;
mod policy;
mod prepare;
mod report;
mod run;
mod serve;
mod shard;
mod shell;
mod simulate;

pub use interrupt::Interrupt;

use crate::Error;
use crate::cli::Command;

/// How a command that did not fail ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Completion {
    Done,
    /// Stopped by SIGINT/SIGTERM after writing what was measured (exit 130).
    Interrupted,
}

/// `--cloudwatch`: SageMaker's own figures for the span of a test that just ended.
fn read_cloudwatch(
    aws: &crate::aws::Aws,
    args: &crate::cli::TargetArgs,
    start: std::time::SystemTime,
    end: std::time::SystemTime,
    successes: u64,
    progress: &crate::report::Progress,
) -> Result<crate::results::CloudWatchFigures, Error> {
    let endpoint = args
        .target
        .as_deref()
        .and_then(crate::endpoint::sagemaker::parse_target)
        .transpose()?
        .ok_or_else(|| {
            Error::Input("--cloudwatch only applies to sagemaker://ENDPOINT targets".into())
        })?;
    let query = crate::aws::cloudwatch::Query {
        endpoint,
        variant: args.sagemaker.target_variant.clone(),
        start,
        end,
        expected_invocations: successes,
        wait: args.sagemaker.cloudwatch_wait,
    };
    crate::aws::cloudwatch::read(aws, &query, |line| progress.note(line))
}

/// Writes the results document to `--json FILE` (and drops its partial log, which the
/// complete document replaces) and the `--html`/`--csv` reports, saying where each went.
/// A shard's document to standard output goes on one line (see [`shard::write_json`]).
fn write_results<T: serde::Serialize + crate::report::Exportable>(
    doc: &T,
    args: &crate::cli::TargetArgs,
    sharded: bool,
    partial: Option<crate::results::PartialLog>,
    progress: &crate::report::Progress,
) -> Result<(), Error> {
    if let Some(path) = &args.json {
        shard::write_json(path, doc, sharded)?;
        if let Some(log) = partial {
            log.remove();
        }
        progress.note(&output::written("Results", path));
    }
    for line in crate::report::write_reports(doc, args.report_files())? {
        progress.note(&line);
    }
    Ok(())
}

/// Runs a parsed command.
pub fn execute(command: Command) -> Result<Completion, Error> {
    match command {
        Command::Find(args) => find::find(&args),
        Command::Run(args) => run::run(&args),
        Command::Policy(args) => policy::policy(&args),
        Command::Report(args) => report::report(&args),
        Command::Compare(args) => compare::compare(&args),
        Command::Merge(args) => merge::merge(&args),
        Command::Serve(args) => serve::serve(&args),
        Command::Simulate(args) => simulate::simulate(&args),
        Command::Completions(args) => shell::completions(&args),
        Command::Man(args) => shell::man(&args),
    }
}

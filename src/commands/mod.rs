//! One module per subcommand: each turns its parsed flags into calls on the library stages
//! (endpoint → load → stats → search → scaling → report) and says how the command ended.

mod compare;
mod find;
mod merge;
mod policy;
mod report;
mod run;
mod serve;
mod shell;
mod simulate;

pub use crate::pipeline::Completion;

use crate::Error;
use crate::cli::Command;

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

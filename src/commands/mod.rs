//! One module per subcommand: each turns its parsed flags into calls on the library stages
//! (target → load → stats → search → scaling → report) and says how the command ended.

mod find;
mod interrupt;
mod prepare;
mod report;
mod run;
mod serve;
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

/// Runs a parsed command.
pub fn execute(command: Command) -> Result<Completion, Error> {
    match command {
        Command::Find(args) => find::find(&args),
        Command::Run(args) => run::run(&args),
        Command::Report(args) => report::report(&args),
        Command::Serve(args) => serve::serve(&args),
        Command::Simulate(args) => simulate::simulate(&args),
    }
}

//! The peakrps binary: parses the command line, runs the command, maps the outcome to an
//! exit code (0 success, 1 run or gate failed, 2 bad usage or input, 130 interrupted).

use std::process::ExitCode;

/// mimalloc: the load path allocates per request inside hyper (request and response header
/// maps, dispatch channels); glibc malloc spent ~11% of the client's instructions there.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::FromArgMatches;
use clap::error::ErrorKind;
use peakrps::cli::Cli;
use peakrps::commands::{Completion, execute};

fn main() -> ExitCode {
    let mut command = Cli::command_line();
    let parsed = command
        .try_get_matches_from_mut(std::env::args_os())
        .and_then(|matches| Cli::from_arg_matches(&matches))
        .map_err(|e| e.format(&mut command));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            return ExitCode::from(2);
        }
        Err(e) => {
            // One line: clap's first line says what and where; point to --help for the rest.
            // Missing arguments are listed on the lines after the first, and a "tip: a
            // similar argument exists" after a blank line: keep them on it.
            let text = e.render().to_string();
            let head: Vec<&str> = text
                .lines()
                .take_while(|l| !l.starts_with("Usage:"))
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect();
            let first = if head.is_empty() {
                "error: invalid usage".to_string()
            } else {
                head.join(" ")
            };
            eprintln!("{first} (see --help)");
            return ExitCode::from(2);
        }
    };
    match execute(cli.command) {
        Ok(Completion::Done) => ExitCode::SUCCESS,
        Ok(Completion::Interrupted) => ExitCode::from(130),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(1))
        }
    }
}

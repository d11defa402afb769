//! `peakrps completions SHELL` and `peakrps man`: the shell completion scripts and man pages,
//! generated from the same clap definitions as the flags, so they never disagree with them.

use std::io::Write;

use clap::CommandFactory;

use super::Completion;
use crate::Error;
use crate::cli::{Cli, CompletionsArgs, ManArgs};

/// The name the scripts complete and the pages describe.
const BIN: &str = "peakrps";

pub fn completions(args: &CompletionsArgs) -> Result<Completion, Error> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), BIN, &mut script);
    to_stdout(&script)
}

pub fn man(args: &ManArgs) -> Result<Completion, Error> {
    let mut command = Cli::command().disable_help_subcommand(true);
    command.build();
    if let Some(dir) = &args.dir {
        if !dir.is_dir() {
            return Err(Error::Input(format!(
                "--dir {}: no such folder",
                dir.display()
            )));
        }
        clap_mangen::generate_to(command, dir).map_err(|e| {
            Error::Run(format!(
                "cannot write the man pages to {}: {e}",
                dir.display()
            ))
        })?;
        eprintln!("Man pages written to {}", dir.display());
        return Ok(Completion::Done);
    }
    let page = match &args.command {
        None => command,
        Some(name) => command.find_subcommand(name).cloned().ok_or_else(|| {
            Error::Input(format!(
                "'{name}' is not a peakrps command; try `peakrps man` for the list"
            ))
        })?,
    };
    let mut roff = Vec::new();
    clap_mangen::Man::new(page)
        .render(&mut roff)
        .map_err(|e| Error::Run(format!("cannot render the man page: {e}")))?;
    to_stdout(&roff)
}

fn to_stdout(bytes: &[u8]) -> Result<Completion, Error> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .map_err(|e| Error::Run(format!("cannot write standard output: {e}")))?;
    Ok(Completion::Done)
}

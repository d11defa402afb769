//! What a measuring command (`find`, `run`) does around its load: the target prepared,
//! limits raised, Ctrl-C caught, results written, and how the command ended.
//!
//! [`measure`] is that skeleton once; each command gives it the part that differs as a
//! [`Measure`]: its checks, its first line, and the load it applies.

pub mod interrupt;
pub mod limits;
pub mod llm;
pub mod output;
pub mod prepare;
pub mod rejected;
mod session;
pub mod shard;

pub use interrupt::Interrupt;
pub use session::Session;

use std::time::SystemTime;

use serde::Serialize;

use crate::Error;
use crate::cli::TargetArgs;
use crate::report::{Exportable, Progress};
use crate::results::TargetInfo;
use limits::Connections;
use output::Output;
use prepare::prepare;
use shard::Sharding;

/// How a command that did not fail ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Completion {
    Done,
    /// Stopped by SIGINT/SIGTERM after writing what was measured (exit 130).
    Interrupted,
}

/// What a measuring command adds to the skeleton.
pub trait Measure {
    /// The results document the command writes.
    type Document: Serialize + Exportable;

    /// Input checks that need the shard flags resolved: bad input is refused before any
    /// connection.
    fn check(&mut self, sharding: &Sharding) -> Result<(), Error>;

    /// The line said once the target is ready, before any wait for the start.
    fn announce(&self, target: &TargetInfo) -> Option<String>;

    /// Applies the load and shows what it found. An error ends the command at once, with
    /// whatever the command chose to write before it.
    fn measure(&mut self, session: &mut Session) -> Result<Ended<Self::Document>, Error>;
}

/// A measurement done: the document to write, and how the command ends once it is written.
pub struct Ended<D> {
    pub document: D,
    /// The run or gate failed; the document says why in its `error`.
    pub failure: Option<Error>,
    pub interrupted: bool,
}

/// The pipeline: flags checked, target prepared, Ctrl-C caught, the load measured, the
/// results written, and how the command ended.
pub fn measure<M: Measure>(
    args: &TargetArgs,
    connections: Connections,
    mut command: M,
) -> Result<Completion, Error> {
    let sharding = shard::resolve(args, SystemTime::now())?;
    command.check(&sharding)?;
    let out = Output::of(args.json.as_deref(), &args.reports)?;
    limits::check(&connections)?;
    let progress = Progress::new(args.quiet);
    let target = prepare(args, &progress)?;
    if let Some(line) = command.announce(&target.info) {
        progress.note(&line);
    }
    if let Some(note) = sharding.waiting_note() {
        progress.note(&note);
    }
    let mut session = Session {
        args,
        out,
        sharding,
        progress,
        target,
        interrupt: Interrupt::install(),
    };
    let ended = command.measure(&mut session)?;
    session.write(&ended.document)?;
    match (ended.failure, ended.interrupted) {
        (Some(e), _) => Err(e),
        (None, true) => Ok(Completion::Interrupted),
        (None, false) => Ok(Completion::Done),
    }
}

//! A measuring command's surroundings once its target is ready: where output goes, its
//! shard, progress, the prepared target, Ctrl-C; and how results are written from there.

use std::time::SystemTime;

use serde::Serialize;

use super::interrupt::Interrupt;
use super::output::{self, Output};
use super::prepare::Prepared;
use super::shard::{self, Sharding};
use crate::Error;
use crate::cli::TargetArgs;
use crate::report::{self, Exportable, Progress};
use crate::results::CloudWatchFigures;

/// What the measuring part of a command works with.
pub struct Session<'a> {
    pub args: &'a TargetArgs,
    pub out: Output,
    pub sharding: Sharding,
    pub progress: Progress,
    pub target: Prepared,
    pub interrupt: Interrupt,
}

impl Session<'_> {
    /// `--cloudwatch`: SageMaker's own figures for the span of a test that just ended;
    /// `None` when not asked for (or the target is not `sagemaker://`).
    pub fn cloudwatch(
        &self,
        start: SystemTime,
        end: SystemTime,
        successes: u64,
    ) -> Option<Result<CloudWatchFigures, Error>> {
        let session = self.target.sagemaker.as_ref()?;
        if !self.args.sagemaker.cloudwatch {
            return None;
        }
        let read = || {
            let endpoint = self
                .args
                .target
                .as_deref()
                .and_then(crate::endpoint::sagemaker::parse_target)
                .transpose()?
                .ok_or_else(|| {
                    Error::Input("--cloudwatch only applies to sagemaker://ENDPOINT targets".into())
                })?;
            let query = crate::aws::cloudwatch::Query {
                endpoint,
                variant: self.args.sagemaker.target_variant.clone(),
                start,
                end,
                expected_invocations: successes,
                wait: self.args.sagemaker.cloudwatch_wait,
            };
            crate::aws::cloudwatch::read(&session.aws, &query, |line| self.progress.note(line))
        };
        Some(read())
    }

    /// Writes the results document to `--json FILE` (and drops its partial log, which the
    /// complete document replaces) and the `--html`/`--csv` reports, saying where each went.
    pub fn write<T: Serialize + Exportable>(self, doc: &T) -> Result<(), Error> {
        if let Some(path) = &self.args.json {
            shard::write_json(path, doc, self.sharding.sharded())?;
            if let Some(log) = self.target.partial {
                log.remove();
            }
            self.progress.note(&output::written("Results", path));
        }
        for line in report::write_reports(doc, self.args.report_files())? {
            self.progress.note(&line);
        }
        Ok(())
    }

    /// A measurement that ends in an error still writes `--json FILE` (not the reports):
    /// what was measured until then, with the error in it. Returns the error.
    pub fn keep_what_was_measured<T: Serialize>(&mut self, doc: &T, error: Error) -> Error {
        let Some(path) = &self.args.json else {
            return error;
        };
        match shard::write_json(path, doc, self.sharding.sharded()) {
            Ok(()) => {
                if let Some(log) = self.target.partial.take() {
                    log.remove();
                }
                self.progress
                    .note(&output::written("What was measured until then", path));
            }
            Err(e) => self.progress.note(&format!("warning: {e}")),
        }
        error
    }
}

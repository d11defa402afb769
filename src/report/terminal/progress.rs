//! Live progress on stderr: a spinner line per step (level, elapsed time, throughput,
//! latency, success so far) on a terminal, and one line per finished step in logs.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::results::Step;
use crate::stats::Windows;

/// Progress reporting; silent when `quiet`.
pub struct Progress {
    quiet: bool,
    bar: Option<ProgressBar>,
}

impl Progress {
    pub fn new(quiet: bool) -> Self {
        Progress { quiet, bar: None }
    }

    /// A line of its own (the header, warnings), unless quiet.
    pub fn note(&self, line: &str) {
        if self.quiet {
            return;
        }
        match &self.bar {
            // A hidden bar (stderr is not a terminal) would swallow the line.
            Some(bar) if !bar.is_hidden() => bar.println(line),
            _ => eprintln!("{line}"),
        }
    }

    /// A step begins at `label` ("concurrency 8").
    pub fn start(&mut self, label: &str) {
        if self.quiet {
            return;
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template("{spinner} {prefix:<18} {elapsed:>4} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        bar.set_style(style);
        bar.set_prefix(label.to_string());
        bar.set_message("warming up");
        bar.enable_steady_tick(Duration::from_millis(120));
        self.bar = Some(bar);
    }

    /// A window closed: show the figures so far.
    pub fn window(&self, windows: &Windows) {
        if let Some(bar) = &self.bar {
            let s = windows.summary();
            bar.set_message(format!(
                "{:>9.1} req/s  p50 {:>7.1} ms  p99 {:>7.1} ms  ok {:>5.1}%  ({} windows)",
                s.rps,
                s.latency_ms.p50,
                s.latency_ms.p99,
                s.success_ratio * 100.0,
                windows.len()
            ));
        }
    }

    /// The step ended: replace the spinner with a one-line result.
    pub fn finish(&mut self, step: &Step) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        if self.quiet {
            return;
        }
        let s = &step.summary;
        let verdict = match &step.failure {
            None => "passed".to_string(),
            Some(why) => format!("failed: {why}"),
        };
        if let Some(line) = super::stream::progress_line(step, &verdict) {
            eprintln!("{line}");
            return;
        }
        eprintln!(
            "  {:<18} {:>9.1} req/s  p50 {:>7.1} ms  p99 {:>7.1} ms  ok {:>5.1}%  {}{}",
            step.level_label(),
            s.rps,
            s.latency_ms.p50,
            s.latency_ms.p99,
            s.success_ratio * 100.0,
            if step.stable { "" } else { "unstable, " },
            verdict
        );
    }

    /// Clears the spinner without a result line (for errors).
    pub fn abandon(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

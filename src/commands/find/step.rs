//! One level of the search measured: recover from the step before, run the step until its
//! windows settle or its time is up, take its figures and judge it.

use std::cell::Cell;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::cli::{FindArgs, Mode};
use crate::endpoint::{Connector, RequestTemplate};
use crate::load::{Load, Prober, StepPlan, StepRun, Verdict, run_step};
use crate::pipeline::Interrupt;
use crate::pipeline::rejected::{FIRST_ANSWERS, all_rejected};
use crate::report::Progress;
use crate::results::Step;
use crate::search::recovery::{self, PROBE_GAP};
use crate::search::step::{Level, StepFigures, judged_step};
use crate::search::{Basis, Measured, PassRules, StreamRules};
use crate::stats::{Window, Windows, is_settled};

/// The longest the search waits for a server to work off the last step's backlog.
const RECOVERY_LIMIT: Duration = Duration::from_secs(30);

/// A window lasts at least this many mean end-to-end times, so each user completes several
/// requests in it (at least `stats::MIN_ANSWERED` at one user) and its edges move its
/// throughput little.
const WINDOW_REQUESTS: u32 = 5;
/// The longest window the sizing chooses (requests near a minute long get few per window).
const LONGEST_WINDOW: Duration = Duration::from_secs(30);

/// The window and warm-up of a step, and why when they are not the flags'.
struct Timing {
    window: Duration,
    warmup: Duration,
    note: Option<String>,
}

/// Measures one load level: runs the step until stable or out of time, then judges it.
pub struct StepRunner<'a> {
    pub template: &'a Arc<RequestTemplate>,
    pub connector: &'a Connector,
    pub args: &'a FindArgs,
    pub rules: PassRules,
    pub interrupt: &'a Interrupt,
    /// The level of the first step.
    pub first_level: u64,
    /// Single requests between steps; `None` when it could not be set up.
    pub prober: Option<Prober>,
    /// The median latency of the first step: what "recovered" means.
    pub baseline_ms: Cell<Option<f64>>,
    /// The mean end-to-end time of the last requests measured (the first answers, then each
    /// step): what the windows are sized to.
    pub end_to_end: Cell<Option<Duration>>,
    /// `--stream`: the TTFT and ITL limits; steps are judged on tokens.
    pub stream: Option<StreamRules>,
    /// `--plan`: fixed levels in fixed slots instead of the search's steps.
    pub plan: Option<super::plan::PlanClock>,
}

impl StepRunner<'_> {
    /// A level of the search as a step's level ("concurrency 8", "rate 400/s").
    pub(super) fn level(&self, level: u64) -> Level {
        match self.args.mode {
            Mode::Concurrency => Level::Concurrency(u32::try_from(level).unwrap_or(u32::MAX)),
            Mode::Rate => Level::Rate(level as f64),
        }
    }

    /// The load that measures a level.
    pub(super) fn load(&self, level: Level) -> Load {
        match level {
            Level::Concurrency(c) => Load::Concurrency(c),
            Level::Rate(rate) => Load::Rate {
                rate,
                arrival: self.args.arrival,
                max_inflight: self.args.max_inflight,
            },
        }
    }

    pub fn measure(&self, level: u64, basis: &Basis, progress: &mut Progress) -> Measured {
        if let Some(clock) = &self.plan {
            return self.measure_planned(clock, level, basis, progress);
        }
        let at = self.level(level);
        let (load, label) = (self.load(at), at.label());
        if level == self.first_level
            && let Some(step) = self.first_answers(at)
        {
            progress.finish(&step);
            let reason = step.failure.clone().unwrap_or_default();
            return Measured::Abort {
                step: Some(step),
                reason,
            };
        }
        let recovery_note = self.recover(progress);
        let timing = self.timing();
        if let Some(note) = &timing.note {
            progress.note(&format!("  {note}"));
        }
        let plan = StepPlan {
            load: load.clone(),
            warmup: timing.warmup,
            window: timing.window,
            max_duration: self.args.step_duration.max(timing.window * 3),
            max_requests: None,
            timeout: self.args.target.timeout,
            drain: self.args.target.drain_limit(),
        };
        progress.start(&label);
        let mut failed_outright = false;
        let run = self.run(&plan, |windows| {
            progress.window(windows);
            failed_outright = windows.last().is_some_and(every_request_failed);
            if failed_outright || self.settled(windows) {
                Verdict::Stop
            } else {
                Verdict::Continue
            }
        });
        self.remember_end_to_end(run.windows.total());
        let mut step = self.step(at, &run.windows, basis, run.interrupted);
        step.notes.extend(timing.note);
        step.notes.extend(recovery_note);
        if failed_outright {
            step.passed = false;
            step.failure = Some(format!(
                "the target failed outright at {label}: every request of a whole window failed ({})",
                run.windows
                    .last()
                    .map(|w| w.tally.errors.describe())
                    .unwrap_or_default()
            ));
        }
        self.remember_baseline(&step);
        progress.finish(&step);
        if run.interrupted {
            Measured::Abort {
                step: Some(step),
                reason: "interrupted by the user".into(),
            }
        } else if failed_outright && level == self.first_level {
            // There is no lower level to bisect to: the target fails even the first load.
            let reason = step.failure.clone().unwrap_or_default();
            Measured::Abort {
                step: Some(step),
                reason,
            }
        } else {
            // A level where everything failed is a failing step like any other: the search
            // stops climbing and bisects below it.
            Measured::Step(step)
        }
    }

    /// Before the first step warms up: its first answers, up to `FIRST_ANSWERS`, within one
    /// window. All of them rejected with 4xx means a wrong URL, payload or content type, not
    /// a load limit: they come back as a step cut short (for `hopeless` to stop the search),
    /// so a wrong request costs the server 20 requests, not a whole step of them. Any other
    /// answer ends this at once and the step runs as usual.
    fn first_answers(&self, level: Level) -> Option<Step> {
        let users = match level {
            Level::Concurrency(users) => users.min(FIRST_ANSWERS as u32),
            Level::Rate(_) => 1,
        };
        let plan = StepPlan {
            load: Load::Concurrency(users),
            warmup: Duration::ZERO,
            window: Duration::from_millis(100),
            max_duration: self.args.window,
            max_requests: Some(FIRST_ANSWERS),
            timeout: self.args.target.timeout,
            drain: self.args.target.drain_limit(),
        };
        let run = self.run(&plan, |windows| {
            if all_rejected(windows.total()) {
                Verdict::Continue
            } else {
                Verdict::Stop
            }
        });
        let tally = run.windows.total();
        self.remember_end_to_end(tally);
        if run.interrupted || tally.requests() < FIRST_ANSWERS || !all_rejected(tally) {
            return None;
        }
        let mut step = self.step(level, &run.windows, &Basis::default(), true);
        step.failure = Some(format!(
            "the first {} answers at {} were all rejected ({})",
            tally.requests(),
            level.label(),
            tally.errors.describe()
        ));
        Some(step)
    }

    /// Runs `plan` against the target until it ends, `on_window` stops it or the user
    /// interrupts.
    fn run(&self, plan: &StepPlan, on_window: impl FnMut(&Windows) -> Verdict) -> StepRun {
        run_step(
            self.template,
            self.connector,
            plan,
            self.interrupt.flag(),
            on_window,
        )
    }

    /// Keeps the mean end-to-end time of the requests `tally` counted, when any ended.
    fn remember_end_to_end(&self, tally: &crate::stats::Tally) {
        if !tally.latency.is_empty() {
            let mean = Duration::from_secs_f64(tally.latency.mean() / 1e6);
            self.end_to_end.set(Some(mean));
        }
    }

    /// The window and warm-up of the next step: the flags', unless requests last longer than
    /// a fifth of `--window`; then a window of [`WINDOW_REQUESTS`] mean end-to-end times (the
    /// last measured), so throughput comes from whole requests, and a warm-up of at least one
    /// (the users' first requests end before measuring starts).
    fn timing(&self) -> Timing {
        let (window, warmup) = (self.args.window, self.args.warmup);
        let unchanged = Timing {
            window,
            warmup,
            note: None,
        };
        let Some(e2e) = self.end_to_end.get() else {
            return unchanged;
        };
        let wanted = (e2e * WINDOW_REQUESTS).min(LONGEST_WINDOW);
        if wanted <= window {
            return unchanged;
        }
        // Whole tenths of a second, for figures people read.
        let window = Duration::from_millis(wanted.as_millis().div_ceil(100) as u64 * 100);
        Timing {
            window,
            warmup: warmup.max(e2e),
            note: Some(format!(
                "window {:.1} s, not --window {:.1} s: requests took {:.2} s end to end, so a window holds {WINDOW_REQUESTS} of each user's",
                window.as_secs_f64(),
                self.args.window.as_secs_f64(),
                e2e.as_secs_f64()
            )),
        }
    }

    /// The first measured step's median latency (a streaming step's: time to first token,
    /// what a streaming probe measures) becomes the baseline recovery waits for.
    fn remember_baseline(&self, step: &Step) {
        if self.baseline_ms.get().is_none() && step.summary.successes() > 0 {
            let latency = step
                .summary
                .latency_ms_ok
                .unwrap_or(step.summary.latency_ms);
            let ttft = step.stream.as_ref().map(|s| s.ttft_ms.p50);
            self.baseline_ms.set(Some(ttft.unwrap_or(latency.p50)));
        }
    }

    /// Before a step other than the first: waits until single requests answer near the
    /// baseline again. Returns the note for the step when the wait ran out.
    fn recover(&self, progress: &Progress) -> Option<String> {
        let (Some(prober), Some(baseline)) = (&self.prober, self.baseline_ms.get()) else {
            return None;
        };
        let started = Instant::now();
        let result = recovery::recover(
            baseline,
            RECOVERY_LIMIT,
            || {
                if self.interrupt.is_set() {
                    return Some(baseline);
                }
                prober.once().map(|d| d.as_secs_f64() * 1000.0)
            },
            || std::thread::sleep(PROBE_GAP),
            || started.elapsed(),
        );
        if result.waited > Duration::from_secs(2) {
            progress.note(&format!(
                "  waited {:.1} s for the server to work off the last step's backlog",
                result.waited.as_secs_f64()
            ));
        }
        result.note(baseline)
    }

    /// Whether a step's last three windows agree: on tokens for a streaming step (requests
    /// last seconds, so a window holds few of them), on requests otherwise.
    fn settled(&self, windows: &Windows) -> bool {
        is_settled(windows.latest(), self.args.stability, self.stream.is_some())
    }

    /// The step's figures and verdict (see [`judged_step`]).
    fn step(&self, level: Level, windows: &Windows, basis: &Basis, partial: bool) -> Step {
        let figures = StepFigures {
            level,
            total: windows.total(),
            span: windows.span(),
            latest: windows.latest(),
            windows: windows.len(),
            partial,
        };
        judged_step(
            &self.rules,
            self.stream.as_ref(),
            self.args.stability,
            &figures,
            basis,
        )
    }
}

/// A window in which requests failed and none succeeded (requests cut at the drain limit
/// are not failures of the target).
fn every_request_failed(window: &Window) -> bool {
    window.tally.errors.total() > 0 && window.tally.successes == 0
}

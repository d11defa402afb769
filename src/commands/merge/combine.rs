//! Shards added up exactly: for each step, minute and run, the shards' histograms and
//! counters are added (never their percentiles averaged) and the figures computed again
//! from the sums (the streaming ones too: TTFT, inter-token gaps, tokens); a `find`'s merged
//! steps are judged by the plan's rules (a streaming find's by the streaming ones) and the
//! peak is picked as a single machine's `find --plan` picks it.

use std::collections::BTreeMap;
use std::time::Duration;

use super::read::ShardDoc;
use crate::Error;
use crate::results::{
    Document, FindResults, ProfileMinute, Recommendation, RunResults, ShardInfo, Step, Summary,
};
use crate::scaling::predict_instances;
use crate::search::plan::run_plan;
use crate::search::step::{Level, StepFigures, judged_step};
use crate::search::{Measured, PassRules, StreamRules};
use crate::stats::{Tally, Window, interchange, run_stream_figures, summary_of};

/// Every shard's tally of one step, minute or run, added up.
struct Sum {
    total: Tally,
    span: Duration,
    /// The windows by index, each added up over the shards.
    windows: BTreeMap<u32, Window>,
}

/// Adds up the tallies behind `summaries` (one per shard, in shard order); `what` names
/// them in errors ("step 3").
fn add_up<'a>(
    summaries: impl Iterator<Item = (&'a str, &'a Summary)>,
    what: &str,
) -> Result<Sum, Error> {
    let mut sum = Sum {
        total: Tally::new(),
        span: Duration::ZERO,
        windows: BTreeMap::new(),
    };
    for (source, summary) in summaries {
        let bad = |why: String| Error::Input(format!("{source}: {what}: {why}"));
        let record = summary
            .tally
            .as_ref()
            .ok_or_else(|| bad("no \"tally\" (was the document written with --shard?)".into()))?;
        let (tally, span) = interchange::tally_of(record).map_err(bad)?;
        sum.total.merge(&tally);
        sum.span = sum.span.max(span);
        for w in interchange::windows_of(record).map_err(bad)? {
            let slot = sum.windows.entry(w.index).or_insert_with(|| Window {
                index: w.index,
                duration: Duration::ZERO,
                tally: Tally::new(),
            });
            slot.tally.merge(&w.tally);
            slot.duration = slot.duration.max(w.duration);
        }
    }
    Ok(sum)
}

impl Sum {
    /// The latest three windows, oldest first.
    fn latest(&self) -> Vec<Window> {
        let n = self.windows.len();
        self.windows
            .values()
            .skip(n.saturating_sub(3))
            .cloned()
            .collect()
    }
}

/// The merged document, with what it says about the shards it came from.
pub fn merge(docs: &[ShardDoc]) -> Result<Document, Error> {
    match &docs[0].doc {
        Document::Find(_) => merge_find(docs).map(Document::Find),
        _ => merge_run(docs).map(Document::Run),
    }
}

fn finds(docs: &[ShardDoc]) -> Vec<(&str, &FindResults)> {
    docs.iter()
        .filter_map(|d| match &d.doc {
            Document::Find(r) => Some((d.source.as_str(), r)),
            _ => None,
        })
        .collect()
}

fn runs(docs: &[ShardDoc]) -> Vec<(&str, &RunResults)> {
    docs.iter()
        .filter_map(|d| match &d.doc {
            Document::Run(r) => Some((d.source.as_str(), r)),
            _ => None,
        })
        .collect()
}

/// The merged document's `shard`: the run it came from, no index.
fn merged_info(info: Option<&ShardInfo>) -> Option<ShardInfo> {
    info.map(|i| ShardInfo {
        index: None,
        ..i.clone()
    })
}

fn merge_find(docs: &[ShardDoc]) -> Result<FindResults, Error> {
    let shards = finds(docs);
    let (_, first) = shards[0];
    let info = first.shard.clone().ok_or_else(not_a_shard)?;
    let s = &first.settings;
    let rules = PassRules {
        min_success: s.min_success,
        percentile: s.percentile,
        max_latency: s
            .max_latency_ms
            .and_then(|ms| Duration::try_from_secs_f64(ms / 1000.0).ok()),
        min_gain: s.min_gain,
        latency_tolerance: s.stability,
    };
    let stream = s
        .stream
        .as_ref()
        .map(StreamRules::of_settings)
        .transpose()
        .map_err(|why| Error::Input(format!("{}: {why}", shards[0].0)))?;
    let rate_mode = first.rate_mode();
    let levels: Vec<u64> = info
        .plan
        .iter()
        .take(first.steps.len())
        .map(|&l| l.round() as u64)
        .collect();
    let mut failure: Option<Error> = None;
    let mut index = 0;
    let outcome = run_plan(&levels, |level, basis| {
        let i = index;
        index += 1;
        let what = format!("step {} (of the plan's {})", i + 1, levels.len());
        let steps = || shards.iter().map(|(src, r)| (*src, &r.steps[i]));
        let sum = match add_up(steps().map(|(src, s)| (src, &s.summary)), &what) {
            Ok(sum) => sum,
            Err(e) => {
                failure = Some(e);
                return Measured::Abort {
                    step: None,
                    reason: String::new(),
                };
            }
        };
        let figures = StepFigures {
            level: if rate_mode {
                Level::Rate(level as f64)
            } else {
                Level::Concurrency(u32::try_from(level).unwrap_or(u32::MAX))
            },
            total: &sum.total,
            span: sum.span,
            latest: &sum.latest(),
            windows: steps().map(|(_, s)| s.windows).max().unwrap_or(0),
            partial: steps().any(|(_, s)| s.partial),
        };
        let mut step = judged_step(&rules, stream.as_ref(), s.stability, &figures, basis);
        step.first_error = steps().find_map(|(_, s)| s.first_error.clone());
        step.notes = notes(steps().map(|(_, s)| s));
        Measured::Step(step)
    });
    if let Some(e) = failure {
        return Err(e);
    }
    let safety_factor = info
        .safety_factor
        .unwrap_or(crate::results::DEFAULT_SAFETY_FACTOR);
    let recommendation = outcome
        .peak
        .as_ref()
        .map(|p| Recommendation::of_peak(p, safety_factor))
        .transpose()?;
    Ok(FindResults {
        steps: outcome.steps,
        peak: outcome.peak,
        recommendation,
        stop_reason: outcome.reason,
        interrupted: shards.iter().any(|(_, r)| r.interrupted),
        shard: merged_info(Some(&info)),
        error: None,
        ..first.clone()
    })
}

/// The shards' notes on a step, each once, saying which shard it came from (not those of
/// shards idle at that level: the merged step has the other shards' users).
fn notes<'a>(steps: impl Iterator<Item = &'a Step>) -> Vec<String> {
    let mut all: Vec<String> = Vec::new();
    for (k, step) in steps.enumerate().filter(|(_, s)| !s.is_idle()) {
        for note in &step.notes {
            let note = format!("shard {k}: {note}");
            if !all.contains(&note) {
                all.push(note);
            }
        }
    }
    all
}

fn merge_run(docs: &[ShardDoc]) -> Result<RunResults, Error> {
    let shards = runs(docs);
    let (_, first) = shards[0];
    let info = first.shard.clone().ok_or_else(not_a_shard)?;
    let sum = add_up(shards.iter().map(|(src, r)| (*src, &r.summary)), "summary")?;
    let mut minutes = Vec::with_capacity(first.minutes.len());
    for (i, minute) in first.minutes.iter().enumerate() {
        let all = || shards.iter().map(|(src, r)| (*src, &r.minutes[i]));
        let what = format!("minute {}", minute.minute);
        let sum = add_up(all().map(|(src, m)| (src, &m.summary)), &what)?;
        let offered: f64 = all().map(|(_, m)| m.offered_rps).sum();
        minutes.push(ProfileMinute {
            offered_rps: (offered * 1e6).round() / 1e6,
            summary: summary_of(&sum.total, sum.span),
            stream: run_stream_figures(&sum.total, sum.span),
            ..minute.clone()
        });
    }
    let mut scaling = first.scaling.clone();
    if let Some(live) = &mut scaling {
        let rps: Vec<f64> = minutes.iter().map(|m| m.offered_rps).collect();
        let predicted = predict_instances(
            &rps,
            live.policy.as_ref(),
            live.timing,
            live.initial_instances,
        );
        for (minute, n) in minutes.iter_mut().zip(predicted) {
            minute.predicted_instances = Some(n);
        }
    }
    Ok(RunResults {
        load: info.load.clone().unwrap_or_else(|| first.load.clone()),
        summary: summary_of(&sum.total, sum.span),
        stream: run_stream_figures(&sum.total, sum.span),
        minutes,
        interrupted: shards.iter().any(|(_, r)| r.interrupted),
        scaling,
        shard: merged_info(Some(&info)).map(Box::new),
        error: None,
        ..first.clone()
    })
}

fn not_a_shard() -> Error {
    Error::Input("a document without \"shard\" cannot be merged".into())
}

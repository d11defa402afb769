//! `run --profile` on a `sagemaker://` target: the instance counts the endpoint really had
//! set beside the ones the scaling simulator predicted, as one paragraph every report shares.

use crate::results::{LiveScaling, Policy, ProfileMinute, RunResults};

/// Whether any minute carries an observed or a predicted instance count.
pub(super) fn has_instances(minutes: &[ProfileMinute]) -> bool {
    minutes
        .iter()
        .any(|m| m.instances.is_some() || m.predicted_instances.is_some())
}

/// How a series of instance counts moved: first, last and highest of the known values.
struct Course {
    first: u32,
    last: u32,
    max: u32,
}

impl Course {
    fn of(values: impl Iterator<Item = Option<u32>>) -> Option<Course> {
        let known: Vec<u32> = values.flatten().collect();
        Some(Course {
            first: *known.first()?,
            last: *known.last()?,
            max: known.iter().copied().max()?,
        })
    }

    /// "1 → 3 (max 3)", or with an aside: "1 → 3 (max 3; not read in 1 minute)".
    fn describe(&self, aside: Option<String>) -> String {
        let aside = aside.map(|a| format!("; {a}")).unwrap_or_default();
        format!("{} → {} (max {}{aside})", self.first, self.last, self.max)
    }
}

/// "1 minute", "3 minutes".
pub(super) fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// "target 600 invocations/instance/minute, 1-10 instances".
fn policy_brief(policy: &Policy) -> String {
    format!(
        "target {} invocations/instance/minute, {}-{} instances",
        policy.target_value, policy.min_capacity, policy.max_capacity
    )
}

fn observed_clause(minutes: &[ProfileMinute]) -> String {
    let unread = minutes.iter().filter(|m| m.instances.is_none()).count();
    let aside = (unread > 0).then(|| format!("not read in {}", plural(unread, "minute")));
    match Course::of(minutes.iter().map(|m| m.instances)) {
        None => "the endpoint's instance count could not be read in any minute".into(),
        Some(c) => format!("the endpoint went {}", c.describe(aside)),
    }
}

fn predicted_clause(minutes: &[ProfileMinute], scaling: &LiveScaling) -> String {
    let under = scaling.policy.as_ref().map_or_else(
        || "with no policy it can model".to_string(),
        |p| format!("under {}", policy_brief(p)),
    );
    match Course::of(minutes.iter().map(|m| m.predicted_instances)) {
        None => format!("the simulator made no prediction {under}"),
        Some(c) => format!("the simulator predicted {} {under}", c.describe(None)),
    }
}

fn difference_clause(minutes: &[ProfileMinute]) -> String {
    let compared = minutes
        .iter()
        .filter(|m| m.instances.is_some() && m.predicted_instances.is_some())
        .count();
    let differing = minutes.iter().filter(|m| m.instances_differ()).count();
    if compared == 0 {
        "no minute has both counts to compare".into()
    } else if compared == minutes.len() {
        format!(
            "they differ in {differing} of {}",
            plural(compared, "minute")
        )
    } else {
        format!(
            "they differ in {differing} of the {} where both are known",
            plural(compared, "minute")
        )
    }
}

/// The comparison as one sentence, without the notes.
pub(super) fn comparison_sentence(results: &RunResults, scaling: &LiveScaling) -> String {
    let minutes = &results.minutes;
    format!(
        "Instances: {}; {}; {}.",
        observed_clause(minutes),
        predicted_clause(minutes, scaling),
        difference_clause(minutes)
    )
}

/// For the terminal after the profile table: the sentence comparing the endpoint's
/// instance counts with the simulator's, then one `Note:` line per note of `scaling`.
/// `None` when the run has no live scaling to compare (not a `sagemaker://` profile run).
pub fn scaling_comparison(results: &RunResults) -> Option<String> {
    let scaling = results.scaling.as_ref()?;
    let mut text = comparison_sentence(results, scaling);
    text.push('\n');
    for note in &scaling.notes {
        text += &format!("Note: {note}\n");
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::{ErrorCounts, LatencySummary, LoadInfo, Summary, TargetInfo, Timing};

    fn summary() -> Summary {
        Summary {
            rps: 10.0,
            requests: 100,
            success_ratio: 1.0,
            errors: ErrorCounts::default(),
            latency_ms: LatencySummary::default(),
            duration_s: 10.0,
            ..Summary::default()
        }
    }

    /// A profile run whose minutes have these (observed, predicted) counts.
    fn run(counts: &[(Option<u32>, Option<u32>)], policy: Option<Policy>) -> RunResults {
        let minutes = counts
            .iter()
            .zip(0u32..)
            .map(
                |(&(instances, predicted_instances), minute)| ProfileMinute {
                    minute,
                    offered_rps: 10.0,
                    summary: summary(),
                    instances,
                    predicted_instances,
                    stream: None,
                },
            )
            .collect();
        RunResults {
            schema: RunResults::SCHEMA.into(),
            version: "0".into(),
            started_at: String::new(),
            target: TargetInfo {
                kind: "sagemaker".into(),
                url: "sagemaker://e".into(),
                payload: String::new(),
                sagemaker: None,
            },
            load: LoadInfo {
                mode: "profile".into(),
                concurrency: None,
                rate: None,
                arrival: None,
                max_inflight: None,
                duration_s: None,
                requests: None,
                profile: None,
                speed: None,
            },
            summary: summary(),
            minutes,
            interrupted: false,
            cloudwatch: None,
            shard: None,
            scaling: Some(LiveScaling {
                endpoint: "e".into(),
                variant: "AllTraffic".into(),
                initial_instances: 1,
                policy,
                notes: vec![],
                timing: Timing {
                    metric_delay_min: 1,
                    provisioning_min: 4,
                },
            }),
            stream: None,
            error: None,
        }
    }

    fn policy() -> Option<Policy> {
        Some(Policy {
            target_value: 4752.9,
            min_capacity: 2,
            max_capacity: 8,
            scale_in_cooldown_s: 300,
            scale_out_cooldown_s: 300,
            disable_scale_in: false,
        })
    }

    #[test]
    fn a_run_without_live_scaling_has_no_comparison() {
        let mut r = run(&[(Some(1), Some(1))], policy());
        r.scaling = None;
        assert_eq!(scaling_comparison(&r), None);
    }

    #[test]
    fn counts_that_agree_say_so_with_the_exact_target() {
        let r = run(&[(Some(2), Some(2)), (Some(3), Some(3))], policy());
        assert_eq!(
            scaling_comparison(&r).as_deref(),
            Some(
                "Instances: the endpoint went 2 → 3 (max 3); the simulator predicted 2 → 3 (max 3) under target 4752.9 invocations/instance/minute, 2-8 instances; they differ in 0 of 2 minutes.\n"
            )
        );
    }

    #[test]
    fn an_unread_count_is_neither_compared_nor_a_difference() {
        let counts = [(Some(1), Some(1)), (None, Some(2)), (Some(1), Some(2))];
        let text = scaling_comparison(&run(&counts, policy())).unwrap_or_default();
        assert!(
            text.contains("the endpoint went 1 → 1 (max 1; not read in 1 minute);"),
            "{text}"
        );
        assert!(
            text.contains("they differ in 1 of the 2 minutes where both are known."),
            "{text}"
        );
    }

    #[test]
    fn no_count_read_and_no_policy_are_said_plainly() {
        let r = run(&[(None, Some(1)), (None, Some(1))], None);
        let text = scaling_comparison(&r).unwrap_or_default();
        assert!(
            text.contains("could not be read in any minute")
                && text.contains("predicted 1 → 1 (max 1) with no policy it can model")
                && text.contains("no minute has both counts to compare"),
            "{text}"
        );
    }

    #[test]
    fn notes_follow_on_their_own_lines() {
        let mut r = run(&[(Some(1), Some(1))], None);
        if let Some(s) = r.scaling.as_mut() {
            s.notes = vec!["no target-tracking policy".into(), "second".into()];
        }
        let text = scaling_comparison(&r).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[1..],
            ["Note: no target-tracking policy", "Note: second"]
        );
    }
}

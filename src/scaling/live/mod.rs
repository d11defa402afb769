//! `run --profile` on a `sagemaker://` target: the variant's CurrentInstanceCount as each
//! minute starts (DescribeEndpoint, polled beside the load) and the counts the simulator
//! predicts for the same minutes under the policy that is live on the variant.

mod policy;

pub use policy::{LivePolicy, interpret};

use std::sync::Arc;
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use super::predict_instances;
use crate::Error;
use crate::aws::Aws;
use crate::aws::autoscaling;
use crate::aws::control::{DescribeEndpoint, EndpointState, control_url};
use crate::aws::sigv4::Signer;
use crate::results::{LiveScaling, ProfileMinute, SageMakerTarget, Timing};

/// The longest a minute's end waits for its DescribeEndpoint answer (the call itself gives
/// up after 10 s).
const ANSWER_WAIT: Duration = Duration::from_secs(15);

/// The variant being watched and what is known about it.
pub struct Watch {
    aws: Aws,
    describe: Arc<DescribeEndpoint>,
    endpoint: String,
    variant: String,
    initial: u32,
    live: LivePolicy,
    /// Minutes whose DescribeEndpoint failed, and the first reason.
    failed: usize,
    first_failure: Option<String>,
    /// The first failure, until the caller has shown it.
    unshown: Option<String>,
}

/// A DescribeEndpoint under way on the AWS runtime.
pub struct Poll(Receiver<Result<EndpointState, Error>>);

impl Watch {
    /// Reads the endpoint and its live policy before the traffic starts. `signer` signs for
    /// SageMaker in the endpoint's region. A failure here should be a warning, not an error:
    /// the load test can go on without instance counts.
    pub fn start(
        aws: &Aws,
        signer: Signer,
        target: &SageMakerTarget,
        speed: f64,
    ) -> Result<Watch, Error> {
        let aws = aws.clone();
        let service_env = std::env::var("AWS_ENDPOINT_URL_SAGEMAKER").ok();
        let base = control_url(
            service_env.as_deref(),
            aws.config.endpoint_url(),
            &target.region,
        );
        let endpoint = target.endpoint.clone();
        let describe = Arc::new(DescribeEndpoint::new(&base, &endpoint, signer)?);
        let state = aws.block_on(describe.call())?;
        let (variant, mut notes) = choose_variant(&state, target.variant.as_deref())?;
        let initial = state
            .variant(&variant)
            .and_then(|v| v.current)
            .ok_or_else(|| {
                Error::Run(format!(
                    "variant {variant} has no instance count yet (the endpoint is {})",
                    state.status
                ))
            })?;
        let live =
            autoscaling::read_variant(&aws, &endpoint, &variant).map(|(target, policies)| {
                let id = autoscaling::resource_id(&endpoint, &variant);
                interpret(target.as_ref(), &policies, &id)
            });
        let mut live = live.unwrap_or_else(|e| LivePolicy {
            policy: None,
            notes: vec![format!(
                "cannot read the scaling policy ({e}): the prediction keeps the starting count"
            )],
        });
        if speed != 1.0 {
            notes.push(format!(
                "at --speed {speed} a profile minute lasts {:.1} s, but the endpoint's autoscaler works in real minutes: compare its counts with the prediction only at --speed 1",
                60.0 / speed
            ));
        }
        live.notes.splice(0..0, notes);
        Ok(Watch {
            aws,
            describe,
            endpoint,
            variant,
            initial,
            live,
            failed: 0,
            first_failure: None,
            unshown: None,
        })
    }

    /// The notes to show before the traffic starts.
    pub fn notes(&self) -> &[String] {
        &self.live.notes
    }

    /// Starts a DescribeEndpoint in the background (the load goes on meanwhile).
    pub fn poll(&self) -> Poll {
        let (tx, rx) = channel();
        let describe = Arc::clone(&self.describe);
        self.aws.spawn(async move {
            let _ = tx.send(describe.call().await);
        });
        Poll(rx)
    }

    /// The variant's count from a finished poll; None when the call failed (the first
    /// failure is then waiting in `warning`).
    pub fn count(&mut self, poll: Poll) -> Option<u32> {
        let answer = poll.0.recv_timeout(ANSWER_WAIT).unwrap_or_else(|_| {
            Err(Error::Run(
                "DescribeEndpoint failed: no answer in time".into(),
            ))
        });
        let count = answer.and_then(|state| {
            state
                .variant(&self.variant)
                .and_then(|v| v.current)
                .ok_or_else(|| {
                    Error::Run(format!(
                        "DescribeEndpoint lists no instance count for variant {}",
                        self.variant
                    ))
                })
        });
        match count {
            Ok(n) => Some(n),
            Err(e) => {
                self.failed += 1;
                if self.first_failure.is_none() {
                    self.first_failure = Some(e.to_string());
                    self.unshown = Some(format!(
                        "warning: {e}; minutes without an instance count show '-'"
                    ));
                }
                None
            }
        }
    }

    /// The first failed poll's warning, once.
    pub fn warning(&mut self) -> Option<String> {
        self.unshown.take()
    }

    /// Puts the prediction beside the counts and says what it was computed from.
    pub fn finish(self, minutes: &mut [ProfileMinute], timing: Timing) -> LiveScaling {
        let rps: Vec<f64> = minutes.iter().map(|m| m.offered_rps).collect();
        let predicted = predict_instances(&rps, self.live.policy.as_ref(), timing, self.initial);
        for (minute, n) in minutes.iter_mut().zip(predicted) {
            minute.predicted_instances = Some(n);
        }
        let mut notes = self.live.notes;
        if let Some(first) = self.first_failure {
            notes.push(format!(
                "DescribeEndpoint failed in {} of {} minutes (first: {first})",
                self.failed,
                minutes.len()
            ));
        }
        LiveScaling {
            endpoint: self.endpoint,
            variant: self.variant,
            initial_instances: self.initial,
            policy: self.live.policy,
            notes,
            timing,
        }
    }
}

/// The variant to watch: `--target-variant`, else the only one, else the first (with a note).
fn choose_variant(
    state: &EndpointState,
    asked: Option<&str>,
) -> Result<(String, Vec<String>), Error> {
    let names: Vec<&str> = state.variants.iter().map(|v| v.name.as_str()).collect();
    match (asked, names.as_slice()) {
        (_, []) => Err(Error::Run(format!(
            "DescribeEndpoint lists no variants (the endpoint is {})",
            state.status
        ))),
        (Some(asked), _) if names.contains(&asked) => Ok((asked.to_string(), Vec::new())),
        (Some(asked), _) => Err(Error::Run(format!(
            "the endpoint has no variant {asked} (it has {})",
            names.join(", ")
        ))),
        (None, [only]) => Ok((only.to_string(), Vec::new())),
        (None, [first, ..]) => Ok((
            first.to_string(),
            vec![format!(
                "the endpoint has variants {}; the counts follow {first}, and the prediction assumes it takes all the traffic (pass --target-variant to choose one and send it everything)",
                names.join(", ")
            )],
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::control::VariantCounts;

    fn state(names: &[&str]) -> EndpointState {
        EndpointState {
            status: "InService".into(),
            variants: names
                .iter()
                .map(|n| VariantCounts {
                    name: n.to_string(),
                    current: Some(1),
                    desired: Some(1),
                })
                .collect(),
        }
    }

    #[test]
    fn the_variant_is_the_asked_the_only_or_the_first() {
        let one = state(&["AllTraffic"]);
        assert_eq!(
            choose_variant(&one, None).unwrap(),
            ("AllTraffic".into(), vec![])
        );
        let two = state(&["A", "B"]);
        assert_eq!(choose_variant(&two, Some("B")).unwrap().0, "B");
        let (first, notes) = choose_variant(&two, None).unwrap();
        assert_eq!(first, "A");
        assert!(notes[0].contains("variants A, B"), "{notes:?}");
        let missing = choose_variant(&two, Some("C")).unwrap_err().to_string();
        assert_eq!(missing, "the endpoint has no variant C (it has A, B)");
        assert!(choose_variant(&state(&[]), None).is_err());
    }
}

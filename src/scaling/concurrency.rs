//! `simulate --metric concurrency`: the concurrency a traffic profile puts on each instance
//! (Little's law: rate × mean latency, from the measured curve), tracked by the controller on
//! the 10-second datapoints of `SageMakerVariantConcurrentRequestsPerModelHighResolution`.
//!
//! The model, per in-service instance receiving `x` requests/s (each *assumed*, AWS documents
//! none of it):
//! - **Little's law.** The metric counts requests in the container, queued ones included,
//!   until the last token is sent (REFERENCE.md §7), so its mean over a period is `L = x · W`,
//!   `W` the mean time a request spends there. A datapoint is that mean over its 10 s.
//! - **W from the measurement.** Each passing step of a find run gives `W = in flight ÷
//!   rate` (the streaming figures' measured concurrency, else the closed loop's users); `W`
//!   is interpolated linearly in req/s between steps and held below the lightest one. With
//!   `--max-concurrency N --max-rps R` alone, `W = N ÷ R` at every load.
//! - **Past MAX_RPS** the instance holds its peak's concurrency and the excess queues: a
//!   period ending `s` seconds into the minute adds `(x − MAX_RPS) · s` requests waiting
//!   (its midpoint's), and as in `InstanceModel` no queue is carried into the next minute.
//! - **Traffic** is the profile's rate, constant within each minute.
//! - **Overload, p99 and failures** per period are `InstanceModel`'s for the minute at the
//!   same rate (a period's share of the minute's failures).

use super::controller::{Cadence, Controller};
use super::simulate::{Setting, Simulation, round1, summarize};
use crate::Error;
use crate::results::{FindResults, Policy, SimMinute, Step};

/// One measured point: a rate and the mean time a request spent in flight at it.
#[derive(Clone, Copy, Debug, PartialEq)]
struct LatencyPoint {
    rps: f64,
    mean_s: f64,
}

/// How many requests one instance holds in flight at a given rate.
#[derive(Clone, Debug, PartialEq)]
pub struct ConcurrencyModel {
    pub max_rps: f64,
    /// The concurrency at the peak (closed-loop users, or `--max-concurrency`): what the
    /// target is a share of, as `policy --metric concurrency` writes it.
    pub max_concurrency: u32,
    /// By increasing rate; never empty.
    curve: Vec<LatencyPoint>,
}

impl ConcurrencyModel {
    /// `--max-rps R --max-concurrency N`: one latency, `N ÷ R`, at every load.
    pub fn from_limits(max_rps: f64, max_concurrency: u32) -> Result<Self, Error> {
        if !(max_rps.is_finite() && max_rps > 0.0) || max_concurrency == 0 {
            return Err(Error::Input(format!(
                "--max-rps {max_rps} and --max-concurrency {max_concurrency} must both be above 0"
            )));
        }
        Ok(ConcurrencyModel {
            max_rps,
            max_concurrency,
            curve: vec![LatencyPoint {
                rps: max_rps,
                mean_s: f64::from(max_concurrency) / max_rps,
            }],
        })
    }

    /// The peak and passing steps of a find run in concurrency (a `--stream` one, or any
    /// closed-loop run).
    pub fn from_results(results: &FindResults, source: &str) -> Result<Self, Error> {
        let peak = results.peak.as_ref().ok_or_else(|| {
            Error::Input(format!(
                "{source} has no peak (no load level passed), so there is no concurrency to simulate with; give --max-rps and --max-concurrency instead"
            ))
        })?;
        let Some(users) = peak.concurrency else {
            return Err(Error::Input(format!(
                "{source} is an open-loop (--mode rate) result: its peak has no concurrency; use --metric invocations, or give --max-rps and --max-concurrency"
            )));
        };
        let mut curve: Vec<LatencyPoint> = results
            .steps
            .iter()
            .filter(|s| s.passed && s.summary.rps <= peak.rps)
            .filter_map(point)
            .collect();
        curve.sort_by(|a, b| a.rps.total_cmp(&b.rps));
        if !(peak.rps.is_finite() && peak.rps > 0.0) {
            return Err(Error::Input(format!(
                "{source}: the peak's rate {} must be above 0",
                peak.rps
            )));
        }
        if curve.is_empty() {
            curve.push(LatencyPoint {
                rps: peak.rps,
                mean_s: f64::from(users) / peak.rps,
            });
        }
        Ok(ConcurrencyModel {
            max_rps: peak.rps,
            max_concurrency: users,
            curve,
        })
    }

    /// Mean requests in flight on one instance receiving `rps`, `seconds` into a minute.
    pub fn in_flight(&self, rps: f64, seconds: f64) -> f64 {
        let rps = if rps.is_finite() { rps.max(0.0) } else { 0.0 };
        if rps <= self.max_rps {
            return rps * self.mean_latency_s(rps);
        }
        let at_peak = self.max_rps * self.mean_latency_s(self.max_rps);
        at_peak + (rps - self.max_rps) * seconds.max(0.0)
    }

    /// `W` at `rps`: interpolated between measured steps, held outside them.
    fn mean_latency_s(&self, rps: f64) -> f64 {
        let (Some(first), Some(last)) = (self.curve.first(), self.curve.last()) else {
            return 0.0;
        };
        if rps <= first.rps {
            return first.mean_s;
        }
        match self.curve.iter().position(|p| p.rps >= rps) {
            None => last.mean_s,
            Some(i) => {
                let (a, b) = (self.curve[i - 1], self.curve[i]);
                let t = if b.rps > a.rps {
                    (rps - a.rps) / (b.rps - a.rps)
                } else {
                    1.0
                };
                a.mean_s + t * (b.mean_s - a.mean_s)
            }
        }
    }

    /// The fewest instances in the capacity range that hold `rps` at or below `target`.
    fn settled(&self, rps: f64, target: f64, policy: &Policy) -> u32 {
        let max = policy.max_capacity.max(policy.min_capacity);
        (policy.min_capacity..=max)
            .find(|&n| self.in_flight(rps / f64::from(n), 30.0) <= target)
            .unwrap_or(max)
    }
}

/// A step's rate and mean time in flight (Little's law on what was measured).
fn point(step: &Step) -> Option<LatencyPoint> {
    let rps = step.summary.rps;
    let in_flight = step
        .stream
        .as_ref()
        .map(|f| f.concurrency)
        .filter(|c| *c > 0.0)
        .or(step.concurrency.map(f64::from))?;
    let mean_s = in_flight / rps;
    (rps.is_finite() && rps > 0.0 && mean_s.is_finite()).then_some(LatencyPoint { rps, mean_s })
}

/// Runs `policy` (its target in concurrent requests per instance) over the profile on
/// datapoints of `cadence`. The variant starts settled for the first minute: the fewest
/// instances whose concurrency is at or below the target. The timeline has one entry per
/// minute: the fewest instances in service in it, the last desired count, the most billed,
/// and the mean of its datapoints.
pub fn simulate_concurrency(
    setting: &Setting,
    policy: &Policy,
    model: &ConcurrencyModel,
    cadence: Cadence,
) -> Simulation {
    let first = setting.profile.rps.first().copied().unwrap_or(0.0);
    let initial = model.settled(first, policy.target_value, policy);
    let mut controller = Controller::with_cadence(policy.clone(), setting.timing, cadence, initial);
    let periods = cadence.per_minute_count().max(1);
    let period_s = f64::from(cadence.period_s);
    let mut timeline = Vec::with_capacity(setting.profile.minutes());
    let mut events = Vec::new();
    for (minute, &rps) in setting.profile.rps.iter().enumerate() {
        let mut m = MinuteFold::default();
        for k in 0..periods {
            let midpoint = (k as f64 + 0.5) * period_s;
            let state = controller
                .step_with(|n| f64::from(n) * model.in_flight(rps / f64::from(n), midpoint));
            let serving = state.instances.max(1);
            let predicted = setting.model.minute(rps / f64::from(serving));
            m.add(&state, rps, predicted, periods);
            events.extend(state.event);
        }
        timeline.push(m.minute(minute, rps));
    }
    let summary = summarize(&timeline, &events, setting.instance_price);
    Simulation {
        timeline,
        events,
        summary,
    }
}

/// A minute's periods folded into one timeline entry.
#[derive(Default)]
struct MinuteFold {
    instances: Option<u32>,
    desired: u32,
    billed: u32,
    datapoints: Vec<f64>,
    invocations: f64,
    overloaded: bool,
    p99_ms: Option<f64>,
    failed: f64,
}

impl MinuteFold {
    fn add(
        &mut self,
        state: &super::MinuteState,
        rps: f64,
        predicted: super::instance::InstanceMinute,
        periods: usize,
    ) {
        let serving = state.instances.max(1);
        self.instances = Some(
            self.instances
                .map_or(state.instances, |i| i.min(state.instances)),
        );
        self.desired = state.desired;
        self.billed = self.billed.max(state.billed);
        self.datapoints.extend(state.invocations_per_instance);
        self.invocations += rps * 60.0 / f64::from(serving) / periods as f64;
        self.overloaded |= predicted.overloaded;
        if let Some(p) = predicted.p99_ms {
            self.p99_ms = Some(self.p99_ms.map_or(p, |q| q.max(p)));
        }
        self.failed += predicted.failed * f64::from(state.instances) / periods as f64;
    }

    fn minute(self, minute: usize, rps: f64) -> SimMinute {
        let concurrency = (!self.datapoints.is_empty())
            .then(|| round1(self.datapoints.iter().sum::<f64>() / self.datapoints.len() as f64));
        SimMinute {
            minute: u32::try_from(minute).unwrap_or(u32::MAX),
            offered_rps: rps,
            instances: self.instances.unwrap_or(0),
            desired: self.desired,
            billed: self.billed,
            invocations_per_instance: round1(self.invocations),
            concurrency_per_instance: concurrency,
            overloaded: self.overloaded,
            p99_ms: self.p99_ms.map(round1),
            failed: self.failed.round() as u64,
        }
    }
}

#[cfg(test)]
mod tests;

//! How one instance behaves under a given load, for the simulator: its MAX_RPS and, from a
//! find results file, its measured latency and success curve; past MAX_RPS requests queue.
//!
//! The model, per in-service instance receiving `x` requests/s for a minute:
//! - `x ≤ MAX_RPS`: p99 and success ratio are interpolated linearly (in req/s) between the
//!   passing steps of the find run; below the lightest step its figures hold.
//! - `x > MAX_RPS`: the instance serves MAX_RPS and the rest queue. A request arriving `s`
//!   seconds into the minute waits `(x − MAX_RPS) · s / MAX_RPS`; p99 is the peak's p99 plus
//!   the wait of the request arriving at 99 % of the minute, capped at the request timeout.
//!   The `(x − MAX_RPS) · 60` requests still queued at the end of the minute are counted as
//!   failed (in steady overload they time out or are rejected). A deliberate simplification:
//!   no queue is carried from one minute to the next.

use crate::Error;
use crate::results::FindResults;

/// The request timeout when the results file does not give one (SageMaker's 60 s).
const DEFAULT_TIMEOUT_S: f64 = 60.0;

/// One measured point of the load curve.
#[derive(Clone, Copy, Debug, PartialEq)]
struct CurvePoint {
    rps: f64,
    p99_ms: f64,
    success_ratio: f64,
}

/// One instance's capacity and, when measured, its latency and success against load.
#[derive(Clone, Debug, PartialEq)]
pub struct InstanceModel {
    pub max_rps: f64,
    /// Passing steps by increasing throughput; empty when only MAX_RPS is known.
    curve: Vec<CurvePoint>,
    timeout_s: f64,
}

/// What one instance's minute looks like at a given load.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct InstanceMinute {
    /// The instance receives more than MAX_RPS.
    pub overloaded: bool,
    /// Predicted p99 latency; `None` when no latency curve is known.
    pub p99_ms: Option<f64>,
    /// Requests of the minute predicted to fail on this instance.
    pub failed: f64,
}

impl InstanceModel {
    /// Only MAX_RPS is known (`--max-rps N`): no latency, no failures below the peak.
    pub fn from_max_rps(max_rps: f64) -> Result<Self, Error> {
        check_max_rps(max_rps, "--max-rps")?;
        Ok(InstanceModel {
            max_rps,
            curve: Vec::new(),
            timeout_s: DEFAULT_TIMEOUT_S,
        })
    }

    /// The peak and the passing steps of a find run.
    pub fn from_results(results: &FindResults, source: &str) -> Result<Self, Error> {
        let Some(peak) = &results.peak else {
            return Err(Error::Input(format!(
                "{source} has no peak (no load level passed), so there is no MAX_RPS to simulate with; give --max-rps instead"
            )));
        };
        check_max_rps(peak.rps, source)?;
        let mut curve: Vec<CurvePoint> = results
            .steps
            .iter()
            .filter(|s| {
                s.passed
                    && s.summary.rps.is_finite()
                    && s.summary.rps > 0.0
                    && s.summary.rps <= peak.rps
            })
            .map(|s| CurvePoint {
                rps: s.summary.rps,
                p99_ms: s.summary.latency_ms.p99,
                success_ratio: s.summary.success_ratio.clamp(0.0, 1.0),
            })
            .filter(|p| p.p99_ms.is_finite() && p.p99_ms >= 0.0 && p.success_ratio.is_finite())
            .collect();
        if curve.is_empty() {
            curve.push(CurvePoint {
                rps: peak.rps,
                p99_ms: peak.latency_ms.p99,
                success_ratio: peak.success_ratio.clamp(0.0, 1.0),
            });
        }
        curve.sort_by(|a, b| a.rps.total_cmp(&b.rps));
        let timeout_s = Some(results.settings.timeout_s)
            .filter(|t| t.is_finite() && *t > 0.0)
            .unwrap_or(DEFAULT_TIMEOUT_S);
        Ok(InstanceModel {
            max_rps: peak.rps,
            curve,
            timeout_s,
        })
    }

    /// Whether a latency curve is known.
    pub fn has_curve(&self) -> bool {
        !self.curve.is_empty()
    }

    /// One instance's minute at `rps` requests/s.
    pub fn minute(&self, rps: f64) -> InstanceMinute {
        let rps = if rps.is_finite() {
            rps.max(0.0)
        } else {
            f64::MAX
        };
        if self.is_over(rps) {
            return self.overloaded(rps);
        }
        let point = self.interpolate(rps);
        InstanceMinute {
            overloaded: false,
            p99_ms: point.map(|p| p.p99_ms),
            failed: point.map_or(0.0, |p| (1.0 - p.success_ratio) * rps * 60.0),
        }
    }

    /// An instance receiving `rps` is above MAX_RPS (a relative hair of rounding aside).
    pub fn is_over(&self, rps: f64) -> bool {
        rps > self.max_rps * (1.0 + 1e-9)
    }

    fn overloaded(&self, rps: f64) -> InstanceMinute {
        let excess = rps - self.max_rps;
        let wait_s = (excess * 0.99 * 60.0 / self.max_rps).min(self.timeout_s);
        let at_peak = self.interpolate(self.max_rps);
        InstanceMinute {
            overloaded: true,
            p99_ms: at_peak.map(|p| (p.p99_ms + wait_s * 1000.0).min(self.timeout_s * 1000.0)),
            failed: excess * 60.0
                + at_peak.map_or(0.0, |p| (1.0 - p.success_ratio) * self.max_rps * 60.0),
        }
    }

    fn interpolate(&self, rps: f64) -> Option<CurvePoint> {
        let first = *self.curve.first()?;
        if rps <= first.rps {
            return Some(first);
        }
        let upper = self.curve.iter().position(|p| p.rps >= rps);
        let Some(i) = upper else {
            return self.curve.last().copied();
        };
        let (a, b) = (self.curve[i - 1], self.curve[i]);
        let t = if b.rps > a.rps {
            (rps - a.rps) / (b.rps - a.rps)
        } else {
            1.0
        };
        Some(CurvePoint {
            rps,
            p99_ms: a.p99_ms + t * (b.p99_ms - a.p99_ms),
            success_ratio: a.success_ratio + t * (b.success_ratio - a.success_ratio),
        })
    }
}

fn check_max_rps(max_rps: f64, source: &str) -> Result<(), Error> {
    if max_rps.is_finite() && max_rps > 0.0 {
        Ok(())
    } else {
        Err(Error::Input(format!(
            "{source}: MAX_RPS {max_rps} must be a positive number of requests per second"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> InstanceModel {
        InstanceModel {
            max_rps: 100.0,
            curve: vec![
                CurvePoint {
                    rps: 20.0,
                    p99_ms: 10.0,
                    success_ratio: 1.0,
                },
                CurvePoint {
                    rps: 60.0,
                    p99_ms: 20.0,
                    success_ratio: 1.0,
                },
                CurvePoint {
                    rps: 100.0,
                    p99_ms: 40.0,
                    success_ratio: 0.99,
                },
            ],
            timeout_s: 60.0,
        }
    }

    #[test]
    fn latency_is_interpolated_below_the_peak() {
        let m = model();
        assert_eq!(m.minute(5.0).p99_ms, Some(10.0));
        assert_eq!(m.minute(40.0).p99_ms, Some(15.0));
        let at_80 = m.minute(80.0);
        assert_eq!(at_80.p99_ms, Some(30.0));
        assert!((at_80.failed - 0.005 * 80.0 * 60.0).abs() < 1e-9);
        assert!(!m.minute(100.0).overloaded);
    }

    #[test]
    fn past_the_peak_requests_queue_and_fail() {
        let m = model();
        let over = m.minute(150.0);
        assert!(over.overloaded);
        // 50 req/s excess: 3000 still queued at the minute's end, plus 1 % of the served 6000.
        assert!((over.failed - (3000.0 + 60.0)).abs() < 1e-9);
        // Wait at 99 % of the minute: 50 × 59.4 / 100 = 29.7 s on top of the peak's 40 ms.
        assert_eq!(over.p99_ms, Some(29_740.0));
        assert_eq!(m.minute(1e12).p99_ms, Some(60_000.0));
        assert!(m.minute(f64::NAN).overloaded);
    }

    #[test]
    fn max_rps_alone_predicts_no_latency() {
        let m = InstanceModel::from_max_rps(100.0).unwrap();
        assert_eq!(
            m.minute(50.0),
            InstanceMinute {
                overloaded: false,
                p99_ms: None,
                failed: 0.0
            }
        );
        assert_eq!(m.minute(110.0).failed, 600.0);
        assert!(InstanceModel::from_max_rps(0.0).is_err());
        assert!(InstanceModel::from_max_rps(f64::INFINITY).is_err());
    }
}

//! The curves fitted to the steps measured so far — the USL (concurrency mode) and the
//! asymptotic bounds (both modes) — which of them to trust, where the trusted one puts the
//! knee, and the `model` object of the results.

use super::bounds::{self, Bounds};
use super::usl::{self, Observation};
use crate::results::{BoundsModel, CurveModel, Step, UslModel};
use crate::stats::standard_error;

/// The least R² a curve needs to place probes.
const MIN_R_SQUARED: f64 = 0.95;
/// How far below the rising line a plateau must lie to count as one: 5 % for users (a
/// curve bending gently is not a plateau), 1 % for offered rates, where a step short of
/// what was offered already failed for achieving under 98 % of it and its achieved rate is
/// the ceiling.
const PLATEAU_MARGIN: f64 = 0.05;
const RATE_PLATEAU_MARGIN: f64 = 0.01;
/// The least standard error a point is given, relative to its throughput: a settled step
/// whose three windows agreed exactly is not known to better than 1 %; an unsettled one to
/// no better than 5 %; one without an interval (older documents) 2 %.
const SETTLED_FLOOR: f64 = 0.01;
const UNSETTLED_FLOOR: f64 = 0.05;
const UNKNOWN_SPREAD: f64 = 0.02;

/// Which curve.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Law {
    Usl,
    Bounds,
}

impl Law {
    pub fn name(self) -> &'static str {
        match self {
            Law::Usl => "usl",
            Law::Bounds => "bounds",
        }
    }
}

/// The curves over the steps so far.
#[derive(Clone, Debug, Default)]
pub struct Curves {
    /// The load level of each point fitted, in the order the steps ran.
    pub levels: Vec<f64>,
    pub usl: Option<usl::Fit>,
    pub bounds: Option<bounds::Fit>,
    /// The shortfall from the USL's maximum that marks its knee (`--min-gain`).
    pub shortfall: f64,
    /// The highest throughput measured, less its standard error: a curve whose ceiling lies
    /// under it lies below a measured point.
    pub measured: f64,
}

/// A curve that lies below the points it was fitted to, its ceiling under a measured
/// throughput or fitting worse than their mean (R² < 0), describes no server: it is never
/// trusted, whatever else it claims.
fn lies_below(ceiling: f64, r_squared: f64, measured: f64) -> bool {
    // A NaN ceiling (a fit that failed) counts as below.
    ceiling.partial_cmp(&measured).is_none_or(|o| o.is_lt()) || r_squared < 0.0
}

impl Curves {
    /// Fits both curves to `steps` (the USL only when `closed_loop`: N users). Steps cut
    /// short or with no success are left out.
    pub fn fit(steps: &[Step], closed_loop: bool, shortfall: f64) -> Curves {
        let points: Vec<Observation> = steps.iter().filter_map(observation).collect();
        let slope = (!closed_loop).then_some(1.0);
        let margin = if closed_loop {
            PLATEAU_MARGIN
        } else {
            RATE_PLATEAU_MARGIN
        };
        Curves {
            levels: points.iter().map(|p| p.n).collect(),
            usl: closed_loop.then(|| usl::fit(&points)).flatten(),
            bounds: bounds::fit(&points, slope, margin),
            shortfall,
            measured: points.iter().map(|p| p.x - p.sd).fold(0.0, f64::max),
        }
    }

    fn usl_trusted(&self) -> Option<&usl::Fit> {
        self.usl
            .as_ref()
            .filter(|f| f.points > usl::MIN_POINTS && f.r_squared >= MIN_R_SQUARED)
            .filter(|f| {
                let ceiling = f.usl.max_throughput().unwrap_or(f64::INFINITY);
                !lies_below(ceiling, f.r_squared, self.measured)
            })
    }

    /// Trusted with two degrees of freedom at least: three points always fit some line and
    /// ceiling when a gently bending curve is cut anywhere.
    fn bounds_trusted(&self) -> Option<&bounds::Fit> {
        self.bounds
            .as_ref()
            .filter(|f| f.points >= f.parameters + 2 && f.r_squared >= MIN_R_SQUARED)
            .filter(|f| !lies_below(f.bounds.ceiling, f.r_squared, self.measured))
    }

    /// The trusted curve that fits best (the smaller scatter per degree of freedom), and
    /// the knee it puts the bend at; `None` when no curve is trusted or the trusted one is
    /// still a straight line.
    pub fn guide(&self) -> Option<(Law, f64)> {
        let usl = self
            .usl_trusted()
            .and_then(|f| Some((Law::Usl, f.usl.knee(self.shortfall)?, f.scatter)));
        let bounds = self
            .bounds_trusted()
            .map(|f| (Law::Bounds, f.bounds.knee(), f.scatter));
        let best = match (usl, bounds) {
            (Some(u), Some(b)) => Some(if u.2 < b.2 { u } else { b }),
            (u, b) => u.or(b),
        }?;
        best.1.is_finite().then_some((best.0, best.1))
    }

    /// The relative throughput scatter between steps around the guiding curve: noise a
    /// step's own windows cannot show.
    pub fn scatter(&self) -> Option<f64> {
        match self.guide()?.0 {
            Law::Usl => self.usl_trusted().map(|f| f.scatter),
            Law::Bounds => self.bounds_trusted().map(|f| f.scatter),
        }
    }

    /// The `model` object of the results; `guided` says whether the search followed it.
    pub fn model(&self, guided: bool) -> Option<CurveModel> {
        if self.usl.is_none() && self.bounds.is_none() {
            return None;
        }
        Some(CurveModel {
            levels: self.levels.clone(),
            usl: self.usl.as_ref().map(|f| self.usl_model(f)),
            bounds: self.bounds.as_ref().map(|f| self.bounds_model(f)),
            guide: guided
                .then(|| self.guide().map(|(law, _)| law.name().to_string()))
                .flatten(),
        })
    }

    fn usl_model(&self, f: &usl::Fit) -> UslModel {
        UslModel {
            lambda: f.usl.lambda,
            sigma: f.usl.sigma,
            kappa: f.usl.kappa,
            peak_concurrency: f.usl.peak_concurrency(),
            peak_rps: f.usl.max_throughput(),
            knee: f.usl.knee(self.shortfall),
            r_squared: f.r_squared,
            residuals_rps: f.residuals.clone(),
            points: count(f.points),
            trusted: self.usl_trusted().is_some(),
        }
    }

    fn bounds_model(&self, f: &bounds::Fit) -> BoundsModel {
        let Bounds { slope, ceiling } = f.bounds;
        BoundsModel {
            slope,
            ceiling_rps: ceiling,
            knee: f.bounds.knee(),
            r_squared: f.r_squared,
            residuals_rps: f.residuals.clone(),
            points: count(f.points),
            trusted: self.bounds_trusted().is_some(),
        }
    }
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// A step as a point to fit: its level, throughput and the throughput's standard error.
fn observation(step: &Step) -> Option<Observation> {
    let n = match (step.concurrency, step.offered_rps) {
        (Some(c), _) => f64::from(c),
        (None, Some(r)) => r,
        (None, None) => return None,
    };
    let x = step.summary.rps;
    if step.partial || x <= 0.0 || !x.is_finite() || n <= 0.0 {
        return None;
    }
    let floor = if step.stable {
        SETTLED_FLOOR
    } else {
        UNSETTLED_FLOOR
    };
    let measured = step.rps_ci.as_ref().and_then(standard_error);
    let sd = measured.unwrap_or(UNKNOWN_SPREAD * x).max(floor * x);
    Some(Observation { n, x, sd })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 21: a bounds fit with its ceiling at 1.11 req/s under points measured at
    /// 1.47-1.6 req/s (R² −0.284) lies below them; one through them does not.
    #[test]
    fn a_curve_below_the_measured_points_is_not_trusted() {
        assert!(lies_below(1.11, 0.99, 1.47));
        assert!(lies_below(1.7, -0.284, 1.47));
        assert!(lies_below(f64::NAN, 0.99, 1.47));
        assert!(!lies_below(1.6, 0.99, 1.47));
        let fit = |ceiling: f64| bounds::Fit {
            bounds: Bounds {
                slope: 1.0,
                ceiling,
            },
            r_squared: 0.99,
            scatter: 0.01,
            residuals: Vec::new(),
            points: 6,
            parameters: 2,
        };
        let curves = |ceiling: f64| Curves {
            levels: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            usl: None,
            bounds: Some(fit(ceiling)),
            shortfall: 0.05,
            measured: 1.47,
        };
        assert!(
            curves(1.11).guide().is_none(),
            "a ceiling under 1.47 guides nothing"
        );
        assert_eq!(
            curves(1.11)
                .model(true)
                .and_then(|m| m.bounds)
                .map(|b| b.trusted),
            Some(false)
        );
        assert_eq!(curves(1.6).guide().map(|(law, _)| law), Some(Law::Bounds));
    }
}

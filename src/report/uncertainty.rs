//! The model and the uncertainty in words, for the terminal verdict and the HTML page alike:
//! MAX_RPS with its interval, the target's range, and the fitted curves with their quality.

use crate::report::format::{max_rps as max_rps_text, sig3};
use crate::results::{BoundsModel, CurveModel, Peak, Recommendation, UslModel};

/// "Peak (MAX_RPS): 157 req/s", or with an interval "Peak: MAX_RPS 157 ± 2.1 req/s (95%)".
pub(super) fn max_rps(peak: &Peak) -> String {
    match &peak.rps_ci {
        Some(ci) => format!("Peak: MAX_RPS {} {}", max_rps_text(peak.rps), ci.describe()),
        None => format!("Peak (MAX_RPS): {} req/s", max_rps_text(peak.rps)),
    }
}

/// "between 4647 and 4773 over MAX_RPS's 95% interval", when the peak had one.
pub(super) fn target_range(rec: &Recommendation) -> Option<String> {
    let [low, high] = rec.invocations_range?;
    Some(format!(
        "between {low} and {high} over MAX_RPS's 95% interval"
    ))
}

/// The fitted curves, one line each: the USL's coefficients, predicted peak and fit; the
/// bounds' line, ceiling and knee; which of them guided the search.
pub fn model_lines(model: &CurveModel, rate_mode: bool) -> Vec<String> {
    let guide = model.guide.as_deref();
    let mut lines = Vec::new();
    if let Some(u) = &model.usl {
        lines.push(usl_line(u, guide == Some("usl")));
    }
    if let Some(b) = &model.bounds {
        lines.push(bounds_line(b, rate_mode, guide == Some("bounds")));
    }
    if rate_mode {
        lines.push(
            "no USL in rate mode: offered rates are not N users of a closed loop".to_string(),
        );
    }
    lines
}

fn usl_line(u: &UslModel, guided: bool) -> String {
    let peak = match (u.peak_concurrency, u.peak_rps) {
        (Some(n), Some(x)) => format!("N* {}, X(N*) {} req/s", sig3(n), sig3(x)),
        (None, Some(x)) => format!("no peak (κ 0), ceiling λ/σ {} req/s", sig3(x)),
        _ => "a straight line (no contention seen yet)".to_string(),
    };
    format!(
        "USL over {} steps: λ {} req/s, σ {}, κ {} → {peak}; R² {:.3}, residuals {}{}",
        u.points,
        sig3(u.lambda),
        sig3(u.sigma),
        sig3(u.kappa),
        u.r_squared,
        residual_range(&u.residuals_rps),
        verdict(u.trusted, guided)
    )
}

fn bounds_line(b: &BoundsModel, rate_mode: bool, guided: bool) -> String {
    let (line, knee) = if rate_mode {
        (
            format!("min(offered, {})", sig3(b.ceiling_rps)),
            format!("{} req/s offered", sig3(b.knee)),
        )
    } else {
        (
            format!("min({} × N, {})", sig3(b.slope), sig3(b.ceiling_rps)),
            format!("concurrency {}", sig3(b.knee)),
        )
    };
    format!(
        "bounds {line} req/s → knee at {knee}; R² {:.3}, residuals {}{}",
        b.r_squared,
        residual_range(&b.residuals_rps),
        verdict(b.trusted, guided)
    )
}

/// "−0.2 to +146 req/s".
fn residual_range(residuals: &[f64]) -> String {
    let lo = residuals.iter().copied().fold(0.0, f64::min);
    let hi = residuals.iter().copied().fold(0.0, f64::max);
    format!("{:+.1} to {:+.1} req/s", lo, hi)
}

fn verdict(trusted: bool, guided: bool) -> &'static str {
    match (trusted, guided) {
        (_, true) => " (guided the search)",
        (true, false) => "",
        (false, false) => " (not trusted: too few steps or R² under 0.95)",
    }
}

//! The pass/fail rules of a streaming step (`find --stream`): enough successes, time to first
//! token and inter-token latency at the percentile within their limits, and not past the
//! knee, judged on output tokens per second against end-to-end latency.

use std::time::Duration;

use super::Basis;
use super::rules::{Judgement, LATENCY_PRICE, Measurement, PassRules, fmt_percentile, judge};
use crate::results::{Step, StreamFigures, StreamSettings};

/// `--max-ttft` and `--max-itl`.
#[derive(Clone, Debug)]
pub struct StreamRules {
    pub max_ttft: Duration,
    pub max_itl: Duration,
}

impl StreamRules {
    /// The limits a `find --stream` document's settings recorded; the error names the one
    /// that is not a duration.
    pub fn of_settings(s: &StreamSettings) -> Result<Self, String> {
        let limit = |name: &str, ms: f64| {
            Duration::try_from_secs_f64(ms / 1000.0)
                .map_err(|_| format!("settings.stream.{name} {ms} is not a duration"))
        };
        Ok(StreamRules {
            max_ttft: limit("max_ttft_ms", s.max_ttft_ms)?,
            max_itl: limit("max_itl_ms", s.max_itl_ms)?,
        })
    }
}

/// Judges a measured streaming step (its figures, end-to-end latency at the percentile in
/// `latency_at_percentile_ms`, and `stream`) against `reference`, the last passing step.
pub fn judge_stream(
    rules: &PassRules,
    slo: &StreamRules,
    step: &Step,
    reference: Option<&Step>,
) -> Judgement {
    let (level, label) = (step.level(), step.level_label());
    let level_label = label.as_str();
    let latency_ms = step.latency_at_percentile_ms;
    let figures = step.stream.as_ref();
    let measurement = Measurement {
        level,
        label: level_label,
        summary: &step.summary,
        latency_ms,
        offered_rps: None,
        rps_ci: None,
    };
    let base = judge(rules, &measurement, &Basis::default());
    if !base.passed {
        return base;
    }
    let fail = |why: String| Judgement {
        passed: false,
        failure: Some(why),
    };
    let p = fmt_percentile(rules.percentile);
    let Some(f) = figures.filter(|f| f.output_tokens > 0) else {
        return fail(format!("no token was streamed at {level_label}"));
    };
    let over = |value_ms: f64, limit: Duration| value_ms > limit.as_secs_f64() * 1000.0;
    if over(f.ttft_at_percentile_ms, slo.max_ttft) {
        return fail(format!(
            "p{p} time to first token {:.1} ms at {level_label} exceeded --max-ttft {:.0} ms",
            f.ttft_at_percentile_ms,
            slo.max_ttft.as_secs_f64() * 1000.0
        ));
    }
    if over(f.itl_at_percentile_ms, slo.max_itl) {
        return fail(format!(
            "p{p} inter-token latency {:.1} ms at {level_label} exceeded --max-itl {:.0} ms",
            f.itl_at_percentile_ms,
            slo.max_itl.as_secs_f64() * 1000.0
        ));
    }
    let knee = reference.and_then(|r| past_the_knee(rules, level, level_label, f, latency_ms, r));
    match knee {
        Some(why) => fail(why),
        None => base,
    }
}

/// As the request-rate knee (rules.rs), with output tokens per second for throughput: once
/// end-to-end latency rose beyond the tolerance, the tokens per second gained must be worth
/// the load added (`--min-gain` per doubling) and the latency (1 % per 10 %).
fn past_the_knee(
    rules: &PassRules,
    level: u64,
    level_label: &str,
    figures: &StreamFigures,
    latency_ms: f64,
    reference: &Step,
) -> Option<String> {
    let before = reference.stream.as_ref()?.output_tokens_per_s;
    let load_growth = level as f64 / reference.level().max(1) as f64 - 1.0;
    let latency_rise = latency_ms / reference.latency_at_percentile_ms.max(0.001);
    if load_growth <= 0.0 || latency_rise <= 1.0 + rules.latency_tolerance {
        return None;
    }
    let gain = if before > 0.0 {
        figures.output_tokens_per_s / before - 1.0
    } else {
        f64::INFINITY
    };
    let required = (rules.min_gain * load_growth).max(LATENCY_PRICE * (latency_rise - 1.0));
    (gain < required).then(|| {
        format!(
            "latency rose {latency_rise:.1}x at {level_label} while output tokens/s grew {:.1}%",
            gain * 100.0
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::{self, Summary, TokenSource};
    use crate::search::testing;

    fn summary(ok: f64) -> Summary {
        Summary {
            rps: 10.0,
            requests: 100,
            success_ratio: ok,
            duration_s: 6.0,
            ..Summary::default()
        }
    }

    fn figures(ttft: f64, itl: f64, tokens_per_s: f64) -> StreamFigures {
        let l = |v| results::testing::latency(v, v);
        StreamFigures {
            ttft_ms: l(ttft),
            itl_ms: l(itl),
            ttft_at_percentile_ms: ttft,
            itl_at_percentile_ms: itl,
            output_tokens_per_s: tokens_per_s,
            output_tokens_per_s_per_request: 50.0,
            output_tokens: 1000,
            input_tokens: 0,
            mean_output_tokens: 64.0,
            concurrency: 4.0,
            tokens_from: TokenSource::Usage,
        }
    }

    fn rules() -> (PassRules, StreamRules) {
        (
            testing::rules(),
            StreamRules {
                max_ttft: Duration::from_millis(500),
                max_itl: Duration::from_millis(50),
            },
        )
    }

    fn reference(tokens_per_s: f64, latency_ms: f64) -> Step {
        Step {
            concurrency: Some(4),
            passed: true,
            stream: Some(figures(100.0, 20.0, tokens_per_s)),
            ..results::testing::step(summary(1.0), latency_ms)
        }
    }

    fn verdict(
        f: Option<&StreamFigures>,
        ok: f64,
        latency: f64,
        r: Option<&Step>,
    ) -> Option<String> {
        let (rules, slo) = rules();
        let mut step = reference(0.0, latency);
        step.concurrency = Some(8);
        step.summary = summary(ok);
        step.stream = f.cloned();
        judge_stream(&rules, &slo, &step, r).failure
    }

    #[test]
    fn ttft_itl_success_and_tokens_each_fail_a_step() {
        assert_eq!(
            verdict(Some(&figures(400.0, 40.0, 300.0)), 1.0, 900.0, None),
            None
        );
        let ttft = verdict(Some(&figures(600.0, 40.0, 300.0)), 1.0, 900.0, None).unwrap();
        assert!(
            ttft.contains("p99 time to first token 600.0 ms") && ttft.contains("--max-ttft 500 ms"),
            "{ttft}"
        );
        let itl = verdict(Some(&figures(400.0, 60.0, 300.0)), 1.0, 900.0, None).unwrap();
        assert!(
            itl.contains("inter-token latency 60.0 ms") && itl.contains("--max-itl 50 ms"),
            "{itl}"
        );
        assert!(
            verdict(Some(&figures(400.0, 40.0, 300.0)), 0.9, 900.0, None)
                .unwrap()
                .contains("success ratio")
        );
        assert!(
            verdict(None, 1.0, 900.0, None)
                .unwrap()
                .contains("no token")
        );
    }

    #[test]
    fn the_knee_is_judged_on_tokens_per_second() {
        let before = reference(300.0, 500.0);
        // Doubling the users doubled latency and added 2 % of tokens/s: past the knee.
        let knee = verdict(
            Some(&figures(400.0, 40.0, 306.0)),
            1.0,
            1000.0,
            Some(&before),
        )
        .unwrap();
        assert!(knee.contains("output tokens/s grew 2.0%"), "{knee}");
        // The same latency rise with 80 % more tokens/s is worth it.
        assert_eq!(
            verdict(
                Some(&figures(400.0, 40.0, 540.0)),
                1.0,
                1000.0,
                Some(&before)
            ),
            None
        );
    }
}

//! The charts a streaming `find` page adds: time to first token, inter-token latency and
//! output tokens per second against concurrency, with the SLOs and the peak marked.

use super::find_charts::{failed, level_axis, level_value, step_point};
use super::style::{BLACK, DARK, LIMIT_RULE, rule};
use super::view::{Figure, ms};
use crate::report::svg::{Axis, Highlight, LineChart, Series, Style};
use crate::results::{FindResults, Step, StreamFigures};

/// TTFT, ITL and tokens per second against concurrency; none without streaming figures.
pub(super) fn charts(r: &FindResults, steps: &[&Step]) -> Vec<Figure> {
    let steps: Vec<&Step> = steps
        .iter()
        .copied()
        .filter(|s| s.stream.is_some())
        .collect();
    if steps.is_empty() {
        return Vec::new();
    }
    let limits = r.settings.stream.as_ref();
    vec![
        Figure::chart(
            latency_chart(
                r,
                &steps,
                "ttft",
                "Time to first token vs concurrency",
                |f| (f.ttft_ms.p50, f.ttft_ms.p99),
                limits.map(|s| ("--max-ttft", s.max_ttft_ms)),
            )
            .render(),
            "From sending a request to its first token; the SLO applies at --percentile.",
        ),
        Figure::chart(
            latency_chart(
                r,
                &steps,
                "itl",
                "Inter-token latency vs concurrency",
                |f| (f.itl_ms.p50, f.itl_ms.p99),
                limits.map(|s| ("--max-itl", s.max_itl_ms)),
            )
            .render(),
            "The gaps between tokens of a request (tokens arriving together share their gap).",
        ),
        Figure::chart(
            tokens_chart(r, &steps).render(),
            "Output tokens per second of all requests: what the knee rule weighs against latency.",
        ),
    ]
}

type Pick = fn(&StreamFigures) -> (f64, f64);

fn series(
    steps: &[&Step],
    name: &str,
    style: Style,
    value: impl Fn(&StreamFigures) -> f64,
) -> Series {
    let points = steps
        .iter()
        .filter_map(|s| {
            let y = value(s.stream.as_ref()?);
            Some(step_point(
                s,
                level_value(s),
                y,
                &format!("{name} {}", ms(y)),
            ))
        })
        .collect();
    Series::new(name, style, points).with_hollow(failed(steps))
}

fn latency_chart(
    r: &FindResults,
    steps: &[&Step],
    id: &str,
    title: &str,
    pick: Pick,
    limit: Option<(&str, f64)>,
) -> LineChart {
    let all = vec![
        series(steps, "p50", DARK, move |f| pick(f).0),
        series(steps, "p99", BLACK, move |f| pick(f).1),
    ];
    let mut chart = LineChart::new(id, title, level_axis(r, steps), Axis::linear("ms"), all);
    if let Some((flag, value)) = limit {
        let label = format!("{flag} {}", ms(value));
        chart.rules.push(rule(false, value, label, LIMIT_RULE));
    }
    chart
}

fn tokens_chart(r: &FindResults, steps: &[&Step]) -> LineChart {
    let all = vec![series(steps, "output tokens/s", DARK, |f| {
        f.output_tokens_per_s
    })];
    let y = Axis::linear("output tokens per second");
    let mut chart = LineChart::new(
        "tokens",
        "Output tokens/s vs concurrency",
        level_axis(r, steps),
        y,
        all,
    );
    if let Some(peak) = &r.peak
        && let (Some(c), Some(f)) = (peak.concurrency, &peak.stream)
    {
        chart.highlights.push(Highlight {
            x: f64::from(c),
            y: f.output_tokens_per_s,
            label: format!("peak: concurrency {c}"),
        });
    }
    chart
}

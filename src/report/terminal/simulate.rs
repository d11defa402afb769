//! What `peakrps simulate` prints: the policy, a compact timeline with a text chart of traffic
//! against in-service capacity, the summary, and with `--recommend` the safety-factor trade-off;
//! and the totals table `peakrps report` shows of a saved simulation.

use comfy_table::{Attribute, Cell, Color};

use super::{align_right, new_table, render};
use crate::report::format::{max_rps, number, thousands};
use crate::results::{Direction, FactorSearch, SimMinute, SimulateResults, TradeOff};

/// Timeline rows at most; longer profiles show several minutes per row (the worst of them).
const MAX_ROWS: usize = 40;
/// Width of the chart in characters.
const CHART_WIDTH: usize = 32;

/// The policy line, the timeline chart and the summary.
pub fn simulation_report(doc: &SimulateResults) -> String {
    let mut out = policy_lines(doc);
    out += "\n";
    out += &timeline_chart(doc);
    out += "\n";
    out += &summary_lines(doc);
    out
}

/// The totals of a `simulate`, and its policy.
pub fn simulate_summary(results: &SimulateResults, color: bool) -> String {
    let mut table = new_table(color);
    let s = &results.summary;
    table.set_header(vec![
        "minutes",
        "max instances",
        "instance-minutes",
        "overloaded minutes",
        "requests at risk",
        "scale-outs",
        "scale-ins",
    ]);
    table.add_row(vec![
        results.timeline.len().to_string(),
        s.max_instances.to_string(),
        s.instance_minutes.to_string(),
        s.overloaded_minutes.to_string(),
        s.requests_at_risk.to_string(),
        s.scale_out_events.to_string(),
        s.scale_in_events.to_string(),
    ]);
    let p = &results.policy.policy;
    format!(
        "{}\nPolicy: target {} invocations per instance per minute, {} to {} instances, cooldowns out {} s / in {} s\n",
        render(table, &["scale-ins", "scale-outs", "minutes"]),
        p.target_value,
        p.min_capacity,
        p.max_capacity,
        p.scale_out_cooldown_s,
        p.scale_in_cooldown_s
    )
}

fn policy_lines(doc: &SimulateResults) -> String {
    let p = &doc.policy.policy;
    let c = &doc.capacity;
    let target = match (c.safety_factor, c.max_concurrency) {
        (Some(f), Some(n)) => format!("= PEAK_CONCURRENCY {n} × {f}"),
        (Some(f), None) => format!("= MAX_RPS {} × {f} × 60", max_rps(c.max_rps)),
        (None, _) => "(set by --target-value)".to_string(),
    };
    let unit = if c.max_concurrency.is_some() {
        "concurrent requests/instance"
    } else {
        "invocations/instance/min"
    };
    let cadence = match &doc.datapoints {
        Some(d) => format!(
            "datapoints every {} s ({} high scale out, {} low scale in), metric delay {} s",
            d.period_s, d.high_datapoints, d.low_datapoints, d.metric_delay_s
        ),
        None => format!("metric delay {} min", doc.timing.metric_delay_min),
    };
    let little = match c.max_concurrency {
        Some(_) => {
            "          in flight per instance = rate × mean latency at that rate (Little's law)\n"
        }
        None => "",
    };
    let scale_in = if p.disable_scale_in {
        "scale-in disabled"
    } else {
        "scale-in enabled"
    };
    format!(
        "Traffic   {}: {} minutes, peak {} req/s\n\
         Capacity  MAX_RPS {} req/s per instance, from {}{}\n\
         Policy    target {} {unit} {target} ({})\n\
         \x20         capacity {}-{}; cooldowns: scale-out {}s, scale-in {}s; {scale_in}\n\
         \x20         {cadence}, provisioning {} min\n{little}",
        doc.traffic.file,
        doc.traffic.minutes,
        number(doc.traffic.peak_rps),
        max_rps(c.max_rps),
        c.source,
        if c.latency_curve {
            " (with its latency curve)"
        } else {
            " (no latency curve: p99 not predicted)"
        },
        p.target_value,
        doc.policy.metric,
        p.min_capacity,
        p.max_capacity,
        p.scale_out_cooldown_s,
        p.scale_in_cooldown_s,
        doc.timing.provisioning_min,
    )
}

/// Several minutes folded into one row: the worst of each figure.
struct Row {
    first: u32,
    last: u32,
    rps: f64,
    instances: u32,
    desired: u32,
    /// The tracked metric in the busiest minute: invocations per instance, or requests in
    /// flight per instance for `--metric concurrency`.
    metric: f64,
    p99: Option<f64>,
    failed: u64,
    overloaded: usize,
    events: String,
}

fn rows(doc: &SimulateResults) -> Vec<Row> {
    let per_row = doc.timeline.len().div_ceil(MAX_ROWS).max(1);
    doc.timeline
        .chunks(per_row)
        .map(|chunk| fold(chunk, doc))
        .collect()
}

/// A chunk of minutes as one row: the minute with the most traffic per serving instance
/// (its traffic, instances and desired count, so the bar stays true to one minute), the
/// highest p99, the failures and overloaded minutes added up, and every scaling event.
fn fold(chunk: &[SimMinute], doc: &SimulateResults) -> Row {
    let first = chunk.first().map_or(0, |m| m.minute);
    let last = chunk.last().map_or(first, |m| m.minute);
    let load = |m: &SimMinute| m.offered_rps / f64::from(m.instances.max(1));
    let worst = chunk.iter().max_by(|a, b| load(a).total_cmp(&load(b)));
    let events = doc
        .events
        .iter()
        .filter(|e| (first..=last).contains(&e.minute))
        .map(|e| match e.direction {
            Direction::Out => format!("▲ {}→{}", e.from, e.to),
            Direction::In => format!("▼ {}→{}", e.from, e.to),
        })
        .collect::<Vec<_>>()
        .join(" ");
    Row {
        first,
        last,
        rps: worst.map_or(0.0, |m| m.offered_rps),
        instances: worst.map_or(0, |m| m.instances),
        desired: worst.map_or(0, |m| m.desired),
        metric: worst.map_or(0.0, tracked_metric),
        p99: chunk.iter().filter_map(|m| m.p99_ms).reduce(f64::max),
        failed: chunk.iter().map(|m| m.failed).fold(0, u64::saturating_add),
        overloaded: chunk.iter().filter(|m| m.overloaded).count(),
        events,
    }
}

/// The minute's datapoint of the metric the policy tracks.
fn tracked_metric(m: &SimMinute) -> f64 {
    m.concurrency_per_instance
        .unwrap_or(m.invocations_per_instance)
}

/// The metric column's header and what the legend says of it.
fn metric_column(doc: &SimulateResults) -> (&'static str, &'static str) {
    if doc
        .timeline
        .iter()
        .any(|m| m.concurrency_per_instance.is_some())
    {
        ("in flight", "requests in flight per instance")
    } else {
        ("inv/inst", "invocations per instance in the minute")
    }
}

/// One line per row: the figures, then a bar of traffic against in-service capacity.
fn timeline_chart(doc: &SimulateResults) -> String {
    let rows = rows(doc);
    let max_rps = doc.capacity.max_rps;
    let scale = rows
        .iter()
        .map(|r| r.rps.max(f64::from(r.instances) * max_rps))
        .fold(0.0, f64::max);
    let minute_header = if rows.iter().any(|r| r.last > r.first) {
        "minutes"
    } else {
        "minute"
    };
    let (metric_header, metric_meaning) = metric_column(doc);
    let mut out = format!(
        "{minute_header:>9} {:>9} {:>7} {:>7} {metric_header:>9} {:>8} {:>9}  {:<w$} scaling\n",
        "req/s",
        "serving",
        "desired",
        "p99 ms",
        "failed",
        "traffic vs capacity",
        w = CHART_WIDTH + 1
    );
    for r in &rows {
        let label = if r.last > r.first {
            format!("{}-{}", r.first, r.last)
        } else {
            r.first.to_string()
        };
        let p99 = r.p99.map_or("-".to_string(), latency);
        let bar = bar(r.rps, f64::from(r.instances) * max_rps, scale);
        let flag = if r.overloaded > 0 { "!" } else { " " };
        let line = format!(
            "{label:>9} {:>9} {:>7} {:>7} {:>9} {p99:>8} {:>9} {flag}{bar} {}",
            number(r.rps),
            r.instances,
            r.desired,
            number(r.metric),
            thousands(r.failed),
            r.events
        );
        out += line.trim_end();
        out += "\n";
    }
    out += &format!(
        "{metric_header}: {metric_meaning}, the datapoint tracked against the target {}\n",
        doc.policy.policy.target_value
    );
    out += "Chart: █ traffic, ▓ traffic above capacity, │ capacity in service (instances × MAX_RPS), ! overloaded\n";
    if rows.len() < doc.timeline.len() {
        out += "Each row folds several minutes: traffic, serving and desired of its busiest minute per instance; the highest p99; failures added up.\n";
    }
    out
}

/// `█` for traffic within capacity, `▓` for traffic above it, `│` where capacity ends.
fn bar(traffic: f64, capacity: f64, scale: f64) -> String {
    let cells = |v: f64| {
        if scale > 0.0 {
            ((v / scale) * CHART_WIDTH as f64).round() as usize
        } else {
            0
        }
    };
    let (t, c) = (
        cells(traffic).min(CHART_WIDTH),
        cells(capacity).min(CHART_WIDTH),
    );
    (0..=CHART_WIDTH)
        .map(|i| match (i < t, i < c) {
            (true, true) => '█',
            (true, false) => '▓',
            (false, _) if i == c => '│',
            _ => ' ',
        })
        .collect()
}

fn summary_lines(doc: &SimulateResults) -> String {
    let s = &doc.summary;
    let price = match (s.cost, doc.instance_price) {
        (Some(cost), Some(p)) => format!(" = ${cost:.2} at ${p}/h"),
        _ => String::new(),
    };
    let min_serving = doc.timeline.iter().map(|m| m.instances).min().unwrap_or(0);
    let mut out = format!(
        "Overloaded  {} of {} minutes (an instance in service above MAX_RPS {} req/s)\n\
         At risk     {} requests sent in overloaded minutes; {} predicted to fail\n\
         Instances   {}-{} in service; {} instance-minutes = {} instance-hours{price}\n\
         Scaling     {} scale-out{}, {} scale-in{}\n",
        s.overloaded_minutes,
        s.minutes,
        max_rps(doc.capacity.max_rps),
        thousands(s.requests_at_risk),
        thousands(s.failed_requests),
        min_serving,
        s.max_instances,
        thousands(s.instance_minutes),
        s.instance_hours,
        s.scale_out_events,
        plural(s.scale_out_events),
        s.scale_in_events,
        plural(s.scale_in_events),
    );
    let max = doc.policy.policy.max_capacity;
    let at_max = doc.timeline.iter().filter(|m| m.desired >= max).count();
    if at_max > 0 {
        out += &format!(
            "Ceiling     desired count at --max-capacity {max} in {at_max} minute{}\n",
            plural(at_max)
        );
    }
    out += if s.overloaded_minutes == 0 {
        "Verdict     no overloaded minute: this policy carries the profile.\n"
    } else {
        "Verdict     overloaded: try --recommend, a lower --safety-factor or a higher --min-capacity.\n"
    };
    out
}

/// The trade-off table (every 0.05, plus the pick and its neighbour) and the pick in words.
pub fn recommendation_report(search: &FactorSearch, color: bool) -> String {
    let mut out = trade_off_table(search, color);
    out += "\n";
    out += &pick_lines(search);
    out
}

fn trade_off_table(search: &FactorSearch, color: bool) -> String {
    let mut table = new_table(color);
    let with_cost = search.trade_off.iter().any(|t| t.cost.is_some());
    let mut header = vec![
        "safety factor",
        "target/min",
        "overloaded min",
        "requests at risk",
        "instance-hours",
    ];
    if with_cost {
        header.push("cost");
    }
    header.push("");
    table.set_header(header);
    let pick = search.pick.as_ref().map(|p| p.safety_factor);
    let next = search.next.as_ref().map(|p| p.safety_factor);
    let shown = search.trade_off.iter().filter(|t| {
        let hundredths = (t.safety_factor * 100.0).round() as u32;
        hundredths.is_multiple_of(5)
            || Some(t.safety_factor) == pick
            || Some(t.safety_factor) == next
    });
    for t in shown {
        let is_pick = Some(t.safety_factor) == pick;
        let mut texts = vec![
            format!("{:.2}", t.safety_factor),
            number(t.target_value),
            t.overloaded_minutes.to_string(),
            thousands(t.requests_at_risk),
            format!("{:.2}", t.instance_hours),
        ];
        if with_cost {
            texts.push(t.cost.map_or("-".into(), |c| format!("${c:.2}")));
        }
        texts.push(if is_pick {
            "◀ pick".into()
        } else {
            String::new()
        });
        table.add_row(
            texts
                .into_iter()
                .map(|text| styled(Cell::new(text), is_pick, t.feasible(), color)),
        );
    }
    align_right(&mut table, &[0, 1, 2, 3, 4, 5]);
    render(table, &["target/min", "instance-hours"]) + "\n"
}

fn styled(cell: Cell, is_pick: bool, feasible: bool, color: bool) -> Cell {
    match (color, is_pick, feasible) {
        (true, true, _) => cell.fg(Color::Green).add_attribute(Attribute::Bold),
        (true, false, false) => cell.fg(Color::Red),
        _ => cell,
    }
}

fn pick_lines(search: &FactorSearch) -> String {
    let mut out = String::new();
    match (&search.pick, &search.next) {
        (Some(p), Some(n)) => {
            out += &format!(
                "Pick: safety factor {:.2} (target {} invocations/instance/min): no overloaded minute, {}.\n",
                p.safety_factor,
                number(p.target_value),
                cost_words(p)
            );
            out += &format!(
                "      {:.2} would overload {} minute{} ({} requests at risk).\n",
                n.safety_factor,
                n.overloaded_minutes,
                plural(n.overloaded_minutes),
                thousands(n.requests_at_risk)
            );
        }
        (Some(p), None) => {
            out += &format!(
                "Pick: safety factor {:.2} (target {} invocations/instance/min): no overloaded minute, {}; even 1.00 does not overload.\n",
                p.safety_factor,
                number(p.target_value),
                cost_words(p)
            );
        }
        (None, _) => {
            let least = search
                .trade_off
                .iter()
                .min_by_key(|t| t.overloaded_minutes)
                .map_or(0, |t| t.overloaded_minutes);
            out += &format!(
                "No safety factor avoids overload at this --min-capacity: the best still overloads {least} minute{}.\n",
                plural(least)
            );
        }
    }
    if let Some(l) = &search.min_capacity_lever {
        out += &format!(
            "Better lever: --min-capacity {} with safety factor {:.2} has no overloaded minute for {}; \
             cheaper than any safety factor alone.\n",
            l.min_capacity,
            l.safety_factor,
            cost_words(l)
        );
    } else if search.pick.is_none() {
        out += "No minimum capacity up to --max-capacity avoids it either: raise --max-capacity.\n";
    }
    out
}

fn cost_words(t: &TradeOff) -> String {
    match t.cost {
        Some(c) => format!("{:.2} instance-hours (${c:.2})", t.instance_hours),
        None => format!("{:.2} instance-hours", t.instance_hours),
    }
}

fn plural<N: PartialEq + From<u8>>(n: N) -> &'static str {
    if n == N::from(1) { "" } else { "s" }
}

fn latency(ms: f64) -> String {
    if ms >= 100.0 {
        thousands(ms.round() as u64)
    } else {
        format!("{ms:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_show_traffic_against_capacity() {
        assert_eq!(
            bar(16.0, 32.0, 32.0).chars().filter(|&c| c == '█').count(),
            16
        );
        let over = bar(32.0, 16.0, 32.0);
        assert_eq!(over.chars().filter(|&c| c == '▓').count(), 16);
        assert!(!over.contains('│'));
        assert_eq!(bar(8.0, 16.0, 32.0).chars().nth(16), Some('│'));
        assert_eq!(bar(1.0, 1.0, 0.0).chars().next(), Some('│'));
    }
}

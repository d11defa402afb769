//! The `simulate` page: the totals, traffic against capacity and the instances per minute,
//! the policy simulated, and with `--recommend` the safety factors tried.

use serde::Serialize;

use super::render::render;
use super::style::{BLACK, DARK, MID, capacity_rules, minute_points};
use super::view::{Fact, Figure, FigureBox, Head, Row, Table, fact, figure_box, policy_facts};
use crate::Error;
use crate::report::format::{max_rps, num};
use crate::report::svg::{Axis, LineChart, Point, Series};
use crate::results::{FactorSearch, SimMinute, SimulateResults, TradeOff};

#[derive(Serialize)]
struct SimulatePage {
    head: Head,
    figures: Vec<FigureBox>,
    charts: Vec<Figure>,
    policy: Vec<Fact>,
    /// None without `--recommend`.
    trade_off: Option<Table>,
}

/// The report of a `simulate`: traffic against capacity per minute, instances, the totals.
pub(super) fn page(r: &SimulateResults) -> Result<String, Error> {
    let t = &r.summary;
    let view = SimulatePage {
        head: Head::new(
            "peakrps simulate: traffic against capacity".into(),
            &r.started_at,
            &r.version,
        ),
        figures: vec![
            figure_box(t.max_instances.to_string(), "most instances in service"),
            figure_box(t.overloaded_minutes.to_string(), "overloaded minutes"),
            figure_box(t.requests_at_risk.to_string(), "requests at risk"),
            figure_box(t.instance_minutes.to_string(), "instance-minutes"),
        ],
        charts: vec![
            Figure::chart(
                traffic_chart(r).render(),
                "Hollow markers: minutes in which an instance received more than MAX_RPS.",
            ),
            Figure::chart(
                instances_chart(r).render(),
                "Instances taking traffic, and the count the policy asked for.",
            ),
        ],
        policy: policy(r),
        trade_off: r.recommendation.as_ref().map(trade_off_table),
    };
    render("simulate.html", &view)
}

fn policy(r: &SimulateResults) -> Vec<Fact> {
    let t = &r.summary;
    let mut facts = vec![fact("Metric", r.policy.metric.clone())];
    facts.extend(policy_facts("Target value", &r.policy.policy));
    facts.extend([fact(
        "MAX_RPS per instance",
        format!("{} req/s", max_rps(r.capacity.max_rps)),
    )]);
    if let Some(n) = r.capacity.max_concurrency {
        facts.push(fact("Peak concurrency per instance", n.to_string()));
    }
    facts.extend([fact(
        "Scaling events",
        format!("{} out, {} in", t.scale_out_events, t.scale_in_events),
    )]);
    facts
}

/// The factors `--recommend` tried (every 0.05, and the pick), the pick marked.
fn trade_off_table(rec: &FactorSearch) -> Table {
    let is_pick = |s: &TradeOff| {
        rec.pick
            .as_ref()
            .is_some_and(|p| s.safety_factor == p.safety_factor && s.min_capacity == p.min_capacity)
    };
    let rows = rec
        .trade_off
        .iter()
        .filter(|s| is_pick(s) || ((s.safety_factor * 100.0).round() as i64) % 5 == 0)
        .map(|s| trade_off_row(s, is_pick(s)))
        .collect();
    Table {
        header: vec![
            "safety factor",
            "min capacity",
            "target (inv./instance/min)",
            "overloaded minutes",
            "requests at risk",
            "instance-hours",
            "cost",
            "",
        ],
        text_columns: vec![7],
        rows,
    }
}

fn trade_off_row(s: &TradeOff, pick: bool) -> Row {
    let cells = vec![
        format!("{:.2}", s.safety_factor),
        s.min_capacity.to_string(),
        num(s.target_value),
        s.overloaded_minutes.to_string(),
        num(s.requests_at_risk as f64),
        format!("{:.2}", s.instance_hours),
        s.cost.map_or("-".into(), |c| format!("${c:.2}")),
        if pick { "◀ pick" } else { "" }.into(),
    ];
    let class = if pick { "peak" } else { "" };
    Row { class, cells }
}

fn points(r: &SimulateResults, value: impl Fn(&SimMinute) -> f64, what: &str) -> Vec<Point> {
    minute_points(&r.timeline, |m| m.minute, |m| Some(value(m)), what)
}

fn overloaded(r: &SimulateResults) -> Vec<bool> {
    r.timeline.iter().map(|m| m.overloaded).collect()
}

fn traffic_chart(r: &SimulateResults) -> LineChart {
    let per_instance_target = r.policy.policy.target_value / 60.0;
    let max_rps = r.capacity.max_rps;
    let offered = points(r, |m| m.offered_rps, "req/s offered");
    let capacity = points(r, |m| f64::from(m.instances) * max_rps, "req/s capacity");
    let target = points(
        r,
        |m| f64::from(m.instances) * per_instance_target,
        "req/s at the target",
    );
    let series = vec![
        Series::new("offered traffic", DARK, offered).with_hollow(overloaded(r)),
        Series::new("capacity (instances × MAX_RPS)", BLACK, capacity).stepped(),
        Series::new("scaling target (instances × target/60)", MID, target).stepped(),
    ];
    LineChart::new(
        "traffic",
        "Traffic vs capacity",
        Axis::linear("time (minutes)"),
        Axis::linear("traffic (req/s)"),
        series,
    )
}

fn instances_chart(r: &SimulateResults) -> LineChart {
    let in_service = points(r, |m| f64::from(m.instances), "instances in service");
    let desired = points(r, |m| f64::from(m.desired), "instances desired");
    let series = vec![
        Series::new("in service", DARK, in_service)
            .with_hollow(overloaded(r))
            .stepped(),
        Series::new("desired", MID, desired).stepped(),
    ];
    let p = &r.policy.policy;
    let mut chart = LineChart::new(
        "instances",
        "Instances per minute",
        Axis::linear("time (minutes)"),
        Axis::linear("instances (count)"),
        series,
    );
    chart.rules = capacity_rules(p.min_capacity, p.max_capacity).to_vec();
    chart
}

//! How the report's charts tell things apart: the series styles, the reference rules and
//! the fills of error kinds, chosen so that a chart still reads in greyscale.

use crate::report::format::num;
use crate::report::svg::{Marker, Point, Rule, Style};
use crate::results::ErrorKind;

// Series styles: colour, dash and marker all differ, and the colours differ in lightness,
// so the charts read in greyscale too.
pub(super) const DARK: Style = Style {
    color: "#0b3c8c",
    dash: "",
    marker: Marker::Circle,
};
pub(super) const MID: Style = Style {
    color: "#c85200",
    dash: "8 4",
    marker: Marker::Square,
};
pub(super) const BLACK: Style = Style {
    color: "#111111",
    dash: "2 3",
    marker: Marker::Triangle,
};

/// The fitted curves: no markers (they are drawn through many points), a dash of their own.
pub(super) const MODEL: Style = Style {
    color: "#6a3d9a",
    dash: "6 3",
    marker: Marker::Circle,
};
pub(super) const BOUNDS: Style = Style {
    color: "#7a7a7a",
    dash: "1 3",
    marker: Marker::Square,
};

/// The colour and dash of a kind of reference rule.
pub(super) type RuleStyle = (&'static str, &'static str);
pub(super) const PEAK_RULE: RuleStyle = ("#111111", "10 4");
pub(super) const TARGET_RULE: RuleStyle = ("#2a7f62", "3 3");
pub(super) const LIMIT_RULE: RuleStyle = ("#8a1c1c", "12 3 2 3");
pub(super) const MODEL_RULE: RuleStyle = ("#6a3d9a", "6 3");

pub(super) fn rule(vertical: bool, value: f64, label: String, (color, dash): RuleStyle) -> Rule {
    Rule {
        vertical,
        value,
        label,
        color,
        dash,
    }
}

/// The horizontal rules at a policy's maximum and minimum capacity.
pub(super) fn capacity_rules(min_capacity: u32, max_capacity: u32) -> [Rule; 2] {
    [
        rule(
            false,
            f64::from(max_capacity),
            format!("max capacity {max_capacity}"),
            LIMIT_RULE,
        ),
        rule(
            false,
            f64::from(min_capacity),
            format!("min capacity {min_capacity}"),
            TARGET_RULE,
        ),
    ]
}

/// Error kinds as bar layers: fill and hatch differ, so they read in greyscale.
pub(super) fn error_fill(kind: ErrorKind) -> (&'static str, &'static str) {
    match kind {
        ErrorKind::Throttled => ("#f0b030", "diagonal"),
        ErrorKind::ServerError => ("#8a1c1c", ""),
        ErrorKind::ClientError => ("#b9a0d0", "cross"),
        ErrorKind::Timeout => ("#222222", "dots"),
        ErrorKind::Connect => ("#9a9a9a", "horizontal"),
        ErrorKind::Other => ("#4a6fa5", "vertical"),
        ErrorKind::Signing => ("#5a3a1a", "cross"),
        ErrorKind::ModelStreamError => ("#c0504d", "dots"),
        ErrorKind::InternalStreamFailure => ("#2e7d6b", "diagonal"),
    }
}

/// One point per item that has a value, at its minute, titled "minute 3: 12.5 WHAT".
pub(super) fn minute_points<T>(
    items: &[T],
    minute: impl Fn(&T) -> u32,
    value: impl Fn(&T) -> Option<f64>,
    what: &str,
) -> Vec<Point> {
    items
        .iter()
        .filter_map(|item| {
            let (minute, y) = (minute(item), value(item)?);
            Some(Point {
                x: f64::from(minute),
                y,
                title: format!("minute {minute}: {} {what}", num(y)),
            })
        })
        .collect()
}

//! Line charts: series of points (straight or as a staircase) with markers, dashed
//! reference rules across the plot, and ringed, labelled highlights.

use std::fmt::Write;

use super::scale::{Mapping, domain};
use super::{
    Axis, LegendItem, MAX_MARKERS, Style, XTicks, close_svg, draw_axes, esc, marker, open_svg,
    plot_box,
};
use crate::report::format::num;

/// A data point with its hover text.
#[derive(Clone, Debug)]
pub struct Point {
    pub x: f64,
    pub y: f64,
    pub title: String,
}

#[derive(Clone, Debug)]
pub struct Series {
    pub name: String,
    pub style: Style,
    pub points: Vec<Point>,
    /// A point that failed (e.g. a step that did not pass) is drawn hollow.
    pub hollow: Vec<bool>,
    /// Text written beside each point (empty for none).
    pub labels: Vec<String>,
    /// Drawn as a staircase (a value holds until the next point), not as straight segments.
    pub step: bool,
}

impl Series {
    /// Straight segments through `points`, every marker filled, no labels.
    pub fn new(name: impl Into<String>, style: Style, points: Vec<Point>) -> Self {
        Series {
            name: name.into(),
            style,
            points,
            hollow: Vec::new(),
            labels: Vec::new(),
            step: false,
        }
    }

    /// Draws the markers where `hollow` is true hollow.
    pub fn with_hollow(mut self, hollow: Vec<bool>) -> Self {
        self.hollow = hollow;
        self
    }

    /// Draws the series as a staircase.
    pub fn stepped(mut self) -> Self {
        self.step = true;
        self
    }
}

/// A reference line across the plot at a fixed x (vertical) or y (horizontal).
#[derive(Clone, Debug)]
pub struct Rule {
    pub vertical: bool,
    pub value: f64,
    pub label: String,
    pub color: &'static str,
    pub dash: &'static str,
}

/// A point ringed and labelled (the peak).
#[derive(Clone, Debug)]
pub struct Highlight {
    pub x: f64,
    pub y: f64,
    pub label: String,
}

/// A line chart with markers.
#[derive(Clone, Debug)]
pub struct LineChart {
    /// Names the chart in the page (`data-chart`) and prefixes its element ids.
    pub id: String,
    pub title: String,
    pub x: Axis,
    pub y: Axis,
    pub series: Vec<Series>,
    pub rules: Vec<Rule>,
    pub highlights: Vec<Highlight>,
}

impl LineChart {
    /// A chart of `series` with no rules or highlights yet.
    pub fn new(id: &str, title: &str, x: Axis, y: Axis, series: Vec<Series>) -> Self {
        LineChart {
            id: id.into(),
            title: title.into(),
            x,
            y,
            series,
            rules: Vec::new(),
            highlights: Vec::new(),
        }
    }

    /// The chart as an `<svg>` element.
    pub fn render(&self) -> String {
        let (xm, x_ticks, ym, y_ticks) = self.mappings();
        let mut out = open_svg(&self.id, &self.title);
        let x_ticks = XTicks {
            at: x_ticks.iter().map(|t| (xm.px(*t), num(*t))).collect(),
            grid: true,
        };
        draw_axes(
            &mut out,
            (&ym, &y_ticks),
            &x_ticks,
            (&self.x.label, &self.y.label),
        );
        self.draw_rules(&mut out, &xm, &ym);
        for series in &self.series {
            draw_series(&mut out, series, &xm, &ym);
        }
        self.draw_highlights(&mut out, &xm, &ym);
        close_svg(out, &self.legend())
    }

    /// The x and y mappings over every point and rule, with their ticks.
    fn mappings(&self) -> (Mapping, Vec<f64>, Mapping, Vec<f64>) {
        let (left, right, top, bottom) = plot_box();
        let points = self.series.iter().flat_map(|s| s.points.iter());
        let mut xs: Vec<f64> = points.clone().map(|p| p.x).collect();
        let mut ys: Vec<f64> = points.map(|p| p.y).collect();
        xs.extend(self.rules.iter().filter(|r| r.vertical).map(|r| r.value));
        ys.extend(self.rules.iter().filter(|r| !r.vertical).map(|r| r.value));
        let (x_lo, x_hi, x_ticks) = domain(&self.x, &xs);
        let (y_lo, y_hi, y_ticks) = domain(&self.y, &ys);
        let xm = Mapping {
            scale: self.x.scale,
            lo: x_lo,
            hi: x_hi,
            from_px: left,
            to_px: right,
        };
        let ym = Mapping {
            scale: self.y.scale,
            lo: y_lo,
            hi: y_hi,
            from_px: bottom,
            to_px: top,
        };
        (xm, x_ticks, ym, y_ticks)
    }

    fn legend(&self) -> Vec<LegendItem<'_>> {
        let series = self.series.iter().map(|s| LegendItem {
            name: &s.name,
            color: s.style.color,
            dash: s.style.dash,
            // A crowded series is drawn without markers, so its legend shows none either.
            marker: (s.points.len() <= MAX_MARKERS).then_some(s.style.marker),
            line: true,
        });
        let rules = self.rules.iter().map(|r| LegendItem {
            name: &r.label,
            color: r.color,
            dash: r.dash,
            marker: None,
            line: true,
        });
        series.chain(rules).collect()
    }

    fn draw_rules(&self, out: &mut String, xm: &Mapping, ym: &Mapping) {
        let (left, right, top, bottom) = plot_box();
        for rule in &self.rules {
            let (x1, x2, y1, y2) = if rule.vertical {
                let x = xm.px(rule.value);
                (x, x, top, bottom)
            } else {
                let y = ym.px(rule.value);
                (left, right, y, y)
            };
            let _ = write!(
                out,
                r#"<line class="mark rule" x1="{x1:.1}" x2="{x2:.1}" y1="{y1:.1}" y2="{y2:.1}" stroke="{}" stroke-width="2" stroke-dasharray="{}"><title>{}</title></line>"#,
                rule.color,
                rule.dash,
                esc(&rule.label)
            );
        }
    }

    fn draw_highlights(&self, out: &mut String, xm: &Mapping, ym: &Mapping) {
        let (left, right, top, _) = plot_box();
        for h in &self.highlights {
            let (x, y) = (xm.px(h.x), ym.px(h.y));
            let anchor_left = x > (left + right) / 2.0;
            let (tx, anchor) = if anchor_left {
                (x - 14.0, "end")
            } else {
                (x + 14.0, "start")
            };
            let ty = (y - 12.0).max(top + 12.0);
            let _ = write!(
                out,
                r##"<g class="mark highlight"><circle cx="{x:.1}" cy="{y:.1}" r="10" fill="none" stroke="#000" stroke-width="2"/><text class="callout" x="{tx:.1}" y="{ty:.1}" text-anchor="{anchor}">{}</text><title>{}</title></g>"##,
                esc(&h.label),
                esc(&h.label)
            );
        }
    }
}

fn draw_series(out: &mut String, series: &Series, xm: &Mapping, ym: &Mapping) {
    let finite: Vec<&Point> = series
        .points
        .iter()
        .filter(|p| p.x.is_finite() && p.y.is_finite())
        .collect();
    let style = series.style;
    let _ = write!(
        out,
        r#"<g class="series" data-series="{}"><path class="mark line" d="{}" fill="none" stroke="{}" stroke-width="2.5" stroke-dasharray="{}"/>"#,
        esc(&series.name),
        path_data(&finite, series.step, xm, ym),
        style.color,
        style.dash
    );
    // Long series (a day of minutes) keep markers only where they say something.
    let crowded = series.points.len() > MAX_MARKERS;
    for (i, p) in series.points.iter().enumerate() {
        let hollow = series.hollow.get(i).copied().unwrap_or(false);
        if !(p.x.is_finite() && p.y.is_finite()) || crowded && !hollow {
            continue;
        }
        let fill = if hollow { "#fff" } else { style.color };
        let _ = write!(
            out,
            r#"<g class="mark point" fill="{fill}" stroke="{}" stroke-width="1.5">{}<title>{}</title></g>"#,
            style.color,
            marker(style.marker, xm.px(p.x), ym.px(p.y), 4.5),
            esc(&p.title)
        );
    }
    draw_point_labels(out, series, xm, ym);
    out.push_str("</g>");
}

/// The SVG path through the points: straight segments, or a staircase.
fn path_data(points: &[&Point], step: bool, xm: &Mapping, ym: &Mapping) -> String {
    let mut d = String::new();
    for (i, p) in points.iter().enumerate() {
        let (x, y) = (xm.px(p.x), ym.px(p.y));
        let _ = match (i, step) {
            (0, _) => write!(d, "M{x:.1} {y:.1}"),
            (_, false) => write!(d, "L{x:.1} {y:.1}"),
            (_, true) => write!(d, "H{x:.1}V{y:.1}"),
        };
    }
    d
}

fn draw_point_labels(out: &mut String, series: &Series, xm: &Mapping, ym: &Mapping) {
    for (p, label) in series.points.iter().zip(&series.labels) {
        if label.is_empty() || !(p.x.is_finite() && p.y.is_finite()) {
            continue;
        }
        let _ = write!(
            out,
            r#"<text class="point-label" x="{:.1}" y="{:.1}">{}</text>"#,
            xm.px(p.x) + 7.0,
            ym.px(p.y) - 7.0,
            esc(label)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Marker, Scale};
    use super::*;

    fn point(x: f64, y: f64, title: &str) -> Point {
        Point {
            x,
            y,
            title: title.into(),
        }
    }

    #[test]
    fn degenerate_and_non_finite_data_do_not_panic() {
        let style = Style {
            color: "#000",
            dash: "",
            marker: Marker::Circle,
        };
        let points = vec![point(0.0, 0.0, "a"), point(f64::NAN, f64::INFINITY, "b")];
        let chart = LineChart::new(
            "t",
            "<t>",
            Axis::linear("x").with_scale(Scale::Log2),
            Axis::linear("y").with_scale(Scale::Log10),
            vec![Series::new("s", style, points)],
        );
        let svg = chart.render();
        assert!(svg.contains("&lt;t&gt;") && !svg.contains("NaN"));
        assert_eq!(svg.matches(r#"class="mark point""#).count(), 1);
    }
}

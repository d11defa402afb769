//! Small inline-SVG charts for the HTML report, drawn from plain series (no results
//! documents): line charts and stacked bar charts, with no fonts or fetches.
//!
//! Every data mark carries the class `mark` and a `<title>` (the hover text), so a test can
//! count what was drawn. Series differ in dash pattern and marker shape as well as colour,
//! so a chart still reads when printed in greyscale. This module holds what both kinds
//! share: the frame, axes, markers, legend and escaping.

mod bar;
mod line;
mod scale;

use std::fmt::Write;

pub use bar::{BarChart, BarLayer};
pub use line::{Highlight, LineChart, Point, Rule, Series};
use scale::Mapping;

use crate::report::format::num;

const WIDTH: f64 = 760.0;
const HEIGHT: f64 = 380.0;
const LEFT: f64 = 78.0;
const RIGHT: f64 = 24.0;
const TOP: f64 = 74.0;
const BOTTOM: f64 = 56.0;
/// More points than this in a series and only the hollow ones get markers.
const MAX_MARKERS: usize = 60;

/// How an axis maps values to positions.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scale {
    Linear,
    /// Ticks at powers of two: load levels that double.
    Log2,
    /// Ticks at 1, 2, 5 × 10^k: latencies that span orders of magnitude.
    Log10,
}

/// One axis: its label (with the unit), scale, and whether it starts at zero.
#[derive(Clone, Debug)]
pub struct Axis {
    pub label: String,
    pub scale: Scale,
    pub from_zero: bool,
}

impl Axis {
    pub fn linear(label: &str) -> Self {
        Axis {
            label: label.into(),
            scale: Scale::Linear,
            from_zero: true,
        }
    }

    pub fn with_scale(mut self, scale: Scale) -> Self {
        self.scale = scale;
        self
    }

    pub fn not_from_zero(mut self) -> Self {
        self.from_zero = false;
        self
    }
}

/// The shape drawn at each point of a series.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Marker {
    Circle,
    Square,
    Triangle,
}

/// Colour, dash pattern and marker: three ways to tell series apart.
#[derive(Clone, Copy, Debug)]
pub struct Style {
    pub color: &'static str,
    /// An SVG `stroke-dasharray`, empty for a solid line.
    pub dash: &'static str,
    pub marker: Marker,
}

/// Escapes text for HTML and SVG content and attribute values. The HTML templates use it
/// too, so a page escapes one way throughout; `/` is left as it is (it is harmless inside
/// quoted attributes and text, and "req/s" or a URL stays readable in the source).
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// The opening `<svg>` with its accessible title and the visible chart title.
fn open_svg(id: &str, title: &str) -> String {
    let (id, title) = (esc(id), esc(title));
    format!(
        r#"<svg class="chart" data-chart="{id}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="{id}-title" xmlns="http://www.w3.org/2000/svg"><title id="{id}-title">{title}</title><text class="chart-title" x="{LEFT}" y="20">{title}</text>"#
    )
}

/// The legend and the closing tag, after the marks.
fn close_svg(mut out: String, legend: &[LegendItem]) -> String {
    draw_legend(&mut out, legend);
    out.push_str("</svg>");
    out
}

fn plot_box() -> (f64, f64, f64, f64) {
    (LEFT, WIDTH - RIGHT, TOP, HEIGHT - BOTTOM)
}

/// The ticks under the plot: (x in pixels, label), with or without a grid line each.
struct XTicks {
    at: Vec<(f64, String)>,
    grid: bool,
}

/// Grid lines and tick labels on both axes, the frame, and the two axis labels.
fn draw_axes(out: &mut String, y: (&Mapping, &[f64]), x: &XTicks, labels: (&str, &str)) {
    let (left, right, top, bottom) = plot_box();
    out.push_str(r#"<g class="axes">"#);
    for &t in y.1 {
        let py = y.0.px(t);
        let _ = write!(
            out,
            r#"<line class="grid" x1="{left}" x2="{right}" y1="{py:.1}" y2="{py:.1}"/><text class="tick" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            left - 6.0,
            py + 4.0,
            num(t)
        );
    }
    for (px, label) in &x.at {
        if x.grid {
            let _ = write!(
                out,
                r#"<line class="grid" x1="{px:.1}" x2="{px:.1}" y1="{top}" y2="{bottom}"/>"#
            );
        }
        let _ = write!(
            out,
            r#"<text class="tick" x="{px:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            bottom + 16.0,
            esc(label)
        );
    }
    let _ = write!(
        out,
        r#"<rect class="frame" x="{left}" y="{top}" width="{:.1}" height="{:.1}"/><text class="axis-label" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text><text class="axis-label" transform="translate(18 {:.1}) rotate(-90)" text-anchor="middle">{}</text></g>"#,
        right - left,
        bottom - top,
        (left + right) / 2.0,
        HEIGHT - 12.0,
        esc(labels.0),
        (top + bottom) / 2.0,
        esc(labels.1)
    );
}

/// The SVG of a marker centred on (x, y).
fn marker(shape: Marker, x: f64, y: f64, r: f64) -> String {
    match shape {
        Marker::Circle => format!(r#"<circle cx="{x:.1}" cy="{y:.1}" r="{r:.1}"/>"#),
        Marker::Square => {
            format!(
                r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}"/>"#,
                x - r,
                y - r,
                2.0 * r,
                2.0 * r
            )
        }
        Marker::Triangle => format!(
            r#"<path d="M{x:.1} {:.1}L{:.1} {:.1}L{:.1} {:.1}Z"/>"#,
            y - r * 1.2,
            x + r * 1.1,
            y + r * 0.8,
            x - r * 1.1,
            y + r * 0.8
        ),
    }
}

/// One legend entry: a short line sample (with a marker, if any) and the name.
struct LegendItem<'a> {
    name: &'a str,
    color: &'a str,
    dash: &'a str,
    marker: Option<Marker>,
    /// Draw a line sample (series, rules) or only a swatch (bars).
    line: bool,
}

fn draw_legend(out: &mut String, items: &[LegendItem]) {
    out.push_str(r#"<g class="legend">"#);
    let (mut x, mut y) = (LEFT, 42.0);
    for item in items {
        let width = 44.0 + 6.6 * item.name.chars().count() as f64;
        if x + width > WIDTH - RIGHT {
            x = LEFT;
            y += 16.0;
        }
        if item.line {
            let _ = write!(
                out,
                r#"<line x1="{x:.1}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="{}" stroke-width="2.5" stroke-dasharray="{}"/>"#,
                x + 28.0,
                y - 4.0,
                y - 4.0,
                item.color,
                item.dash
            );
        }
        let size = if item.line { 4.0 } else { 7.0 };
        if let Some(shape) = item.marker {
            let _ = write!(
                out,
                r##"<g fill="{}" stroke="#000" stroke-width="0.8">{}</g>"##,
                item.color,
                marker(shape, x + 14.0, y - 4.0, size)
            );
        }
        let _ = write!(
            out,
            r#"<text x="{:.1}" y="{y:.1}">{}</text>"#,
            x + 34.0,
            esc(item.name)
        );
        x += width;
    }
    out.push_str("</g>");
}

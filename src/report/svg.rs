//! Small inline-SVG charts for the HTML report: line charts (linear or log axes, markers,
//! dashed reference rules, a highlighted point) and stacked bar charts, with no fonts or fetches.
//!
//! Every data mark carries the class `mark` and a `<title>` (the hover text), so a test can
//! count what was drawn. Series differ in dash pattern and marker shape as well as colour,
//! so a chart still reads when printed in greyscale.

use std::fmt::Write;

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

/// One layer of a stacked bar chart.
#[derive(Clone, Debug)]
pub struct BarLayer {
    pub name: String,
    pub color: &'static str,
    /// A hatch drawn over the colour: "", "diagonal", "cross", "dots", "horizontal", "vertical".
    pub hatch: &'static str,
    /// One value per category.
    pub values: Vec<f64>,
}

/// Stacked bars, one per category.
#[derive(Clone, Debug)]
pub struct BarChart {
    pub id: String,
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub categories: Vec<String>,
    pub layers: Vec<BarLayer>,
}

/// Maps a value range onto a pixel range, linearly or logarithmically.
#[derive(Clone, Copy, Debug)]
struct Mapping {
    scale: Scale,
    lo: f64,
    hi: f64,
    from_px: f64,
    to_px: f64,
}

impl Mapping {
    fn transform(&self, v: f64) -> f64 {
        match self.scale {
            Scale::Linear => v,
            Scale::Log2 => v.max(f64::MIN_POSITIVE).log2(),
            Scale::Log10 => v.max(f64::MIN_POSITIVE).log10(),
        }
    }

    fn px(&self, v: f64) -> f64 {
        let v = v.clamp(self.lo, self.hi);
        let (a, b) = (self.transform(self.lo), self.transform(self.hi));
        let t = if b > a {
            (self.transform(v) - a) / (b - a)
        } else {
            0.5
        };
        self.from_px + t * (self.to_px - self.from_px)
    }
}

/// The domain and ticks of an axis for the given values.
fn domain(axis: &Axis, values: &[f64]) -> (f64, f64, Vec<f64>) {
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    match axis.scale {
        Scale::Linear => linear_domain(&finite, axis.from_zero),
        Scale::Log2 => log_domain(&finite, &[1.0], 2.0),
        Scale::Log10 => log_domain(&finite, &[1.0, 2.0, 5.0], 10.0),
    }
}

/// Values beyond this are drawn at it: no real figure is that large, and a hand-edited file
/// with 1e308 must not make the tick arithmetic overflow.
const LIMIT: f64 = 1e15;

fn linear_domain(values: &[f64], from_zero: bool) -> (f64, f64, Vec<f64>) {
    let values: Vec<f64> = values
        .iter()
        .filter(|v| v.is_finite())
        .map(|v| v.clamp(-LIMIT, LIMIT))
        .collect();
    let max = values.iter().copied().fold(f64::MIN, f64::max);
    let min = values.iter().copied().fold(f64::MAX, f64::min);
    let (mut lo, mut hi) = if values.is_empty() {
        (0.0, 1.0)
    } else {
        (min, max)
    };
    if from_zero {
        lo = lo.min(0.0);
        hi = hi.max(0.0);
    }
    if hi - lo < 1e-9 {
        hi = lo + lo.abs().max(1.0);
    }
    let step = nice_step((hi - lo) / 5.0);
    let lo = (lo / step).floor() * step;
    let hi = (hi / step).ceil() * step;
    let count = ((hi - lo) / step).round().clamp(1.0, 20.0) as usize;
    let ticks = (0..=count).map(|i| lo + i as f64 * step).collect();
    (lo, hi, ticks)
}

/// 1, 2, 2.5 or 5 × 10^k, the nearest at or above `raw`.
fn nice_step(raw: f64) -> f64 {
    let raw = if raw.is_finite() && raw > 0.0 {
        raw
    } else {
        1.0
    };
    let magnitude = 10f64.powf(raw.log10().floor());
    let fraction = raw / magnitude;
    let nice = [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .find(|n| *n >= fraction - 1e-9)
        .unwrap_or(10.0);
    nice * magnitude
}

fn log_domain(values: &[f64], mantissas: &[f64], base: f64) -> (f64, f64, Vec<f64>) {
    let positive: Vec<f64> = values.iter().copied().filter(|v| *v > 0.0).collect();
    let min = positive.iter().copied().fold(f64::MAX, f64::min);
    let max = positive.iter().copied().fold(f64::MIN, f64::max);
    let (min, max) = if positive.is_empty() {
        (1.0, base)
    } else {
        (min, max)
    };
    let mut lo = base.powf(min.log(base).floor());
    let mut hi = base.powf(max.log(base).ceil());
    if hi <= lo {
        hi = lo * base;
    }
    let mut ticks = Vec::new();
    let mut decade = lo;
    while decade <= hi * (1.0 + 1e-9) && ticks.len() < 64 {
        ticks.extend(
            mantissas
                .iter()
                .map(|m| m * decade)
                .filter(|t| *t <= hi * (1.0 + 1e-9)),
        );
        decade *= base;
    }
    // Tighten to the ticks around the data so the plot is not mostly empty.
    if let Some(t) = ticks.iter().rev().find(|t| **t <= min * (1.0 + 1e-9)) {
        lo = *t;
    }
    if let Some(t) = ticks.iter().find(|t| **t >= max * (1.0 - 1e-9)) {
        hi = *t;
    }
    ticks.retain(|t| *t >= lo * (1.0 - 1e-9) && *t <= hi * (1.0 + 1e-9));
    (lo, hi, ticks)
}

/// A number as a tick label or figure: integers plainly, others to three significant digits.
pub fn num(v: f64) -> String {
    if !v.is_finite() {
        return "–".into();
    }
    if (v - v.round()).abs() < 1e-9 || v.abs() >= 100.0 {
        return format!("{v:.0}");
    }
    let text = if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    };
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Escapes text for HTML and SVG content and attribute values.
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

fn open_svg(out: &mut String, id: &str, title: &str) {
    let _ = write!(
        out,
        r#"<svg class="chart" data-chart="{id}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="{id}-title" xmlns="http://www.w3.org/2000/svg">"#,
        id = esc(id)
    );
    let _ = write!(
        out,
        r#"<title id="{}-title">{}</title><text class="chart-title" x="{LEFT}" y="20">{}</text>"#,
        esc(id),
        esc(title),
        esc(title)
    );
}

fn plot_box() -> (f64, f64, f64, f64) {
    (LEFT, WIDTH - RIGHT, TOP, HEIGHT - BOTTOM)
}

/// Grid lines, tick labels and axis labels.
fn draw_axes(out: &mut String, x: (&Mapping, &[f64], &str), y: (&Mapping, &[f64], &str)) {
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
    for &t in x.1 {
        let px = x.0.px(t);
        let _ = write!(
            out,
            r#"<line class="grid" x1="{px:.1}" x2="{px:.1}" y1="{top}" y2="{bottom}"/><text class="tick" x="{px:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            bottom + 16.0,
            num(t)
        );
    }
    let _ = write!(
        out,
        r#"<rect class="frame" x="{left}" y="{top}" width="{:.1}" height="{:.1}"/><text class="axis-label" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text><text class="axis-label" transform="translate(18 {:.1}) rotate(-90)" text-anchor="middle">{}</text></g>"#,
        right - left,
        bottom - top,
        (left + right) / 2.0,
        HEIGHT - 12.0,
        esc(x.2),
        (top + bottom) / 2.0,
        esc(y.2)
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

impl LineChart {
    /// The chart as an `<svg>` element.
    pub fn render(&self) -> String {
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

        let mut out = String::new();
        open_svg(&mut out, &self.id, &self.title);
        draw_axes(
            &mut out,
            (&xm, &x_ticks, &self.x.label),
            (&ym, &y_ticks, &self.y.label),
        );
        self.draw_rules(&mut out, &xm, &ym);
        for series in &self.series {
            draw_series(&mut out, series, &xm, &ym);
        }
        self.draw_highlights(&mut out, &xm, &ym);
        draw_legend(&mut out, &self.legend());
        out.push_str("</svg>");
        out
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

/// The `<pattern>` for a hatch over a base colour.
fn hatch_pattern(id: &str, color: &str, hatch: &str) -> String {
    let lines = match hatch {
        "diagonal" => {
            r##"<path d="M-2 2L2 -2M0 8L8 0M6 10L10 6" stroke="#000" stroke-width="1.4"/>"##
        }
        "cross" => r##"<path d="M0 0L8 8M8 0L0 8" stroke="#000" stroke-width="1"/>"##,
        "dots" => r##"<circle cx="4" cy="4" r="1.6" fill="#fff"/>"##,
        "horizontal" => r##"<path d="M0 4H8" stroke="#000" stroke-width="1.4"/>"##,
        "vertical" => r##"<path d="M4 0V8" stroke="#fff" stroke-width="1.6"/>"##,
        _ => "",
    };
    format!(
        r#"<pattern id="{id}" width="8" height="8" patternUnits="userSpaceOnUse"><rect width="8" height="8" fill="{color}"/>{lines}</pattern>"#
    )
}

impl BarChart {
    /// The chart as an `<svg>` element.
    pub fn render(&self) -> String {
        let (left, right, top, bottom) = plot_box();
        let totals: Vec<f64> = (0..self.categories.len())
            .map(|i| {
                self.layers
                    .iter()
                    .map(|l| l.values.get(i).copied().unwrap_or(0.0).max(0.0))
                    .sum()
            })
            .collect();
        let (y_lo, y_hi, y_ticks) = linear_domain(&totals, true);
        let ym = Mapping {
            scale: Scale::Linear,
            lo: y_lo,
            hi: y_hi,
            from_px: bottom,
            to_px: top,
        };

        let mut out = String::new();
        open_svg(&mut out, &self.id, &self.title);
        out.push_str("<defs>");
        for (n, layer) in self.layers.iter().enumerate() {
            out.push_str(&hatch_pattern(
                &format!("{}-fill-{n}", esc(&self.id)),
                layer.color,
                layer.hatch,
            ));
        }
        out.push_str("</defs>");
        let slot = (right - left) / self.categories.len().max(1) as f64;
        let category_ticks = CategoryAxis {
            slot,
            labels: &self.categories,
        };
        draw_category_axes(
            &mut out,
            &category_ticks,
            (&ym, &y_ticks),
            (&self.x_label, &self.y_label),
        );
        for (i, category) in self.categories.iter().enumerate() {
            self.draw_bar(&mut out, i, category, slot, &ym);
        }
        let legend: Vec<String> = (0..self.layers.len())
            .map(|n| format!("url(#{}-fill-{n})", esc(&self.id)))
            .collect();
        let items: Vec<LegendItem> = self
            .layers
            .iter()
            .zip(&legend)
            .map(|(l, fill)| LegendItem {
                name: &l.name,
                color: fill,
                dash: "",
                marker: Some(Marker::Square),
                line: false,
            })
            .collect();
        draw_legend(&mut out, &items);
        out.push_str("</svg>");
        out
    }

    fn draw_bar(&self, out: &mut String, i: usize, category: &str, slot: f64, ym: &Mapping) {
        let x = LEFT + slot * i as f64 + slot * 0.2;
        let width = slot * 0.6;
        let mut base = 0.0;
        for (n, layer) in self.layers.iter().enumerate() {
            let value = layer.values.get(i).copied().unwrap_or(0.0).max(0.0);
            if value <= 0.0 || !value.is_finite() {
                continue;
            }
            let (y0, y1) = (ym.px(base), ym.px(base + value));
            base += value;
            let _ = write!(
                out,
                r##"<rect class="mark bar" x="{x:.1}" y="{y1:.1}" width="{width:.1}" height="{:.1}" fill="url(#{}-fill-{n})" stroke="#000" stroke-width="0.8"><title>{}: {} {}</title></rect>"##,
                (y0 - y1).max(0.5),
                esc(&self.id),
                esc(category),
                num(value),
                esc(&layer.name)
            );
        }
    }
}

struct CategoryAxis<'a> {
    slot: f64,
    labels: &'a [String],
}

fn draw_category_axes(
    out: &mut String,
    x: &CategoryAxis,
    y: (&Mapping, &[f64]),
    labels: (&str, &str),
) {
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
    for (i, label) in x.labels.iter().enumerate() {
        let px = left + x.slot * (i as f64 + 0.5);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_ticks_are_round_numbers() {
        let (lo, hi, ticks) = linear_domain(&[3.0, 158.4], true);
        assert_eq!((lo, hi), (0.0, 200.0));
        assert_eq!(ticks, vec![0.0, 50.0, 100.0, 150.0, 200.0]);
    }

    #[test]
    fn log2_ticks_cover_doubling_levels() {
        let (lo, hi, ticks) = log_domain(&[1.0, 6.0, 16.0], &[1.0], 2.0);
        assert_eq!((lo, hi), (1.0, 16.0));
        assert_eq!(ticks, vec![1.0, 2.0, 4.0, 8.0, 16.0]);
    }

    #[test]
    fn log10_ticks_use_one_two_five() {
        let (lo, hi, ticks) = log_domain(&[25.0, 400.0], &[1.0, 2.0, 5.0], 10.0);
        assert_eq!((lo, hi), (20.0, 500.0));
        assert_eq!(ticks, vec![20.0, 50.0, 100.0, 200.0, 500.0]);
    }

    #[test]
    fn degenerate_and_non_finite_data_do_not_panic() {
        let chart = LineChart {
            id: "t".into(),
            title: "<t>".into(),
            x: Axis::linear("x").with_scale(Scale::Log2),
            y: Axis::linear("y").with_scale(Scale::Log10),
            series: vec![Series {
                name: "s".into(),
                style: Style {
                    color: "#000",
                    dash: "",
                    marker: Marker::Circle,
                },
                points: vec![
                    Point {
                        x: 0.0,
                        y: 0.0,
                        title: "a".into(),
                    },
                    Point {
                        x: f64::NAN,
                        y: f64::INFINITY,
                        title: "b".into(),
                    },
                ],
                hollow: vec![],
                labels: vec![],
                step: false,
            }],
            rules: vec![],
            highlights: vec![],
        };
        let svg = chart.render();
        assert!(svg.contains("&lt;t&gt;") && !svg.contains("NaN"));
        assert_eq!(svg.matches(r#"class="mark point""#).count(), 1);
    }

    #[test]
    fn absurd_values_give_a_few_ticks() {
        for values in [
            vec![-1e308, 1e308],
            vec![f64::INFINITY, 3.0],
            vec![1e300],
            vec![],
        ] {
            let (lo, hi, ticks) = linear_domain(&values, true);
            assert!(lo.is_finite() && hi.is_finite() && lo < hi, "{values:?}");
            assert!((2..=21).contains(&ticks.len()), "{values:?}: {ticks:?}");
        }
        let (_, _, ticks) = log_domain(&[1e-300, 1e300], &[1.0, 2.0, 5.0], 10.0);
        assert!(ticks.len() <= 64 * 3);
    }

    #[test]
    fn numbers_read_naturally() {
        assert_eq!(num(4.0), "4");
        assert_eq!(num(158.43), "158");
        assert_eq!(num(25.26), "25.3");
        assert_eq!(num(0.5), "0.5");
        assert_eq!(num(2.5), "2.5");
    }
}

//! Stacked bar charts: one bar per category, one layer per kind, each layer a colour with a
//! hatch over it so the layers still differ in greyscale.

use std::fmt::Write;

use super::scale::{Mapping, linear_domain};
use super::{
    LEFT, LegendItem, Marker, Scale, XTicks, close_svg, draw_axes, esc, open_svg, plot_box,
};
use crate::report::format::num;

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
        let (left, right, _, _) = plot_box();
        let ym = self.y_mapping();
        let mut out = open_svg(&self.id, &self.title);
        out.push_str("<defs>");
        for (n, layer) in self.layers.iter().enumerate() {
            out.push_str(&hatch_pattern(&self.fill_id(n), layer.color, layer.hatch));
        }
        out.push_str("</defs>");
        let slot = (right - left) / self.categories.len().max(1) as f64;
        let x_ticks = XTicks {
            at: (self.categories.iter().enumerate())
                .map(|(i, label)| (left + slot * (i as f64 + 0.5), label.clone()))
                .collect(),
            grid: false,
        };
        draw_axes(
            &mut out,
            (&ym.0, &ym.1),
            &x_ticks,
            (&self.x_label, &self.y_label),
        );
        for (i, category) in self.categories.iter().enumerate() {
            self.draw_bar(&mut out, i, category, slot, &ym.0);
        }
        let fills: Vec<String> = (0..self.layers.len())
            .map(|n| format!("url(#{})", self.fill_id(n)))
            .collect();
        let items: Vec<LegendItem> = (self.layers.iter().zip(&fills))
            .map(|(l, fill)| LegendItem {
                name: &l.name,
                color: fill,
                dash: "",
                marker: Some(Marker::Square),
                line: false,
            })
            .collect();
        close_svg(out, &items)
    }

    /// The id of layer `n`'s fill pattern, unique in the page.
    fn fill_id(&self, n: usize) -> String {
        format!("{}-fill-{n}", esc(&self.id))
    }

    /// The y mapping from zero to the tallest stack, with its ticks.
    fn y_mapping(&self) -> (Mapping, Vec<f64>) {
        let (_, _, top, bottom) = plot_box();
        let totals: Vec<f64> = (0..self.categories.len())
            .map(|i| self.layers.iter().map(|l| layer_value(l, i)).sum())
            .collect();
        let (lo, hi, ticks) = linear_domain(&totals, true);
        let ym = Mapping {
            scale: Scale::Linear,
            lo,
            hi,
            from_px: bottom,
            to_px: top,
        };
        (ym, ticks)
    }

    fn draw_bar(&self, out: &mut String, i: usize, category: &str, slot: f64, ym: &Mapping) {
        let x = LEFT + slot * i as f64 + slot * 0.2;
        let width = slot * 0.6;
        let mut base = 0.0;
        for (n, layer) in self.layers.iter().enumerate() {
            let value = layer_value(layer, i);
            if value <= 0.0 || !value.is_finite() {
                continue;
            }
            let (y0, y1) = (ym.px(base), ym.px(base + value));
            base += value;
            let _ = write!(
                out,
                r##"<rect class="mark bar" x="{x:.1}" y="{y1:.1}" width="{width:.1}" height="{:.1}" fill="url(#{})" stroke="#000" stroke-width="0.8"><title>{}: {} {}</title></rect>"##,
                (y0 - y1).max(0.5),
                self.fill_id(n),
                esc(category),
                num(value),
                esc(&layer.name)
            );
        }
    }
}

/// A layer's value in category `i`; missing and negative values count as zero.
fn layer_value(layer: &BarLayer, i: usize) -> f64 {
    layer.values.get(i).copied().unwrap_or(0.0).max(0.0)
}

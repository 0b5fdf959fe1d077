//! The latency chart: cumulative distributions on a log time axis, one panel per workload,
//! drawn as SVG by plotters (SVG backend only: text stays `<text>`, no fonts are loaded).

use std::path::Path;

use plotters::prelude::*;

/// One line: a label, its colour and its samples (ms).
pub struct Series<'a> {
    pub label: String,
    pub color: RGBColor,
    pub samples: &'a [f64],
}

/// One panel: a title and its lines.
pub struct Panel<'a> {
    pub title: String,
    pub series: Vec<Series<'a>>,
}

pub const RUST: RGBColor = RGBColor(206, 66, 43);
pub const JS: RGBColor = RGBColor(37, 99, 235);
pub const FLOOR: RGBColor = RGBColor(90, 90, 90);
pub const SERVER: RGBColor = RGBColor(22, 150, 80);
pub const WATCHED: RGBColor = RGBColor(150, 90, 190);

/// (sample, fraction of samples ≤ it) for every sample, ascending.
fn cdf(samples: &[f64]) -> Vec<(f64, f64)> {
    let mut sorted: Vec<f64> = samples.iter().copied().filter(|v| *v > 0.0).collect();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len() as f64;
    sorted
        .into_iter()
        .enumerate()
        .map(|(i, v)| (v, (i + 1) as f64 / n))
        .collect()
}

/// Writes the panels side by side in two columns into `path`.
pub fn draw(path: &Path, title: &str, panels: &[Panel<'_>]) -> Result<(), String> {
    let rows = panels.len().div_ceil(2).max(1);
    let size = (1200, 60 + 380 * rows as u32);
    let root = SVGBackend::new(path, size).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let root = root
        .titled(title, ("sans-serif", 22))
        .map_err(|e| e.to_string())?;
    let areas = root.split_evenly((rows, 2));
    for (panel, area) in panels.iter().zip(areas.iter()) {
        let all: Vec<f64> = panel
            .series
            .iter()
            .flat_map(|s| s.samples.iter().copied())
            .filter(|v| *v > 0.0)
            .collect();
        if all.is_empty() {
            continue;
        }
        let lo = all.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = all.iter().copied().fold(0.0, f64::max);
        let (lo, hi) = (
            10f64.powf(lo.log10().floor()),
            10f64.powf(hi.log10().ceil()),
        );
        let mut chart = ChartBuilder::on(area)
            .caption(&panel.title, ("sans-serif", 16))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(44)
            .build_cartesian_2d((lo..hi).log_scale(), 0f64..1f64)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc("milliseconds (log scale)")
            .y_desc("fraction ≤ x")
            .x_label_formatter(&|v| format!("{v}"))
            .y_labels(6)
            .draw()
            .map_err(|e| e.to_string())?;
        for series in &panel.series {
            let color = series.color;
            chart
                .draw_series(LineSeries::new(cdf(series.samples), color.stroke_width(2)))
                .map_err(|e| e.to_string())?
                .label(series.label.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(|e| e.to_string())?;
    }
    root.present().map_err(|e| e.to_string())
}

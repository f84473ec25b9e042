//! Small SVG charts for the report: lines or points over linear axes, no plotting crate.

use std::fmt::Write;

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 320.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 150.0;
const TOP: f64 = 30.0;
const BOTTOM: f64 = 44.0;
const COLOURS: [&str; 6] = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#7f7f7f"];

pub enum Mark {
    Line,
    Points,
}

pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
    pub mark: Mark,
}

pub struct Chart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub series: Vec<Series>,
    /// Horizontal reference lines: (value, label).
    pub rules: Vec<(f64, String)>,
}

fn nice_max(value: f64) -> f64 {
    if !value.is_finite() || value <= 0.0 {
        return 1.0;
    }
    let magnitude = 10f64.powf(value.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|step| step * magnitude)
        .find(|candidate| *candidate >= value)
        .unwrap_or(10.0 * magnitude)
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

impl Chart {
    pub fn svg(&self) -> String {
        let finite = |v: &f64| v.is_finite();
        let xs = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.0))
            .filter(finite);
        let ys = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.1))
            .chain(self.rules.iter().map(|r| r.0))
            .filter(finite);
        let x_max = nice_max(xs.fold(0.0, f64::max));
        let y_max = nice_max(ys.fold(0.0, f64::max) * 1.05);
        let plot_w = WIDTH - LEFT - RIGHT;
        let plot_h = HEIGHT - TOP - BOTTOM;
        let px = |x: f64| LEFT + x / x_max * plot_w;
        let py = |y: f64| TOP + plot_h - y / y_max * plot_h;
        let mut svg = String::new();
        let _ = write!(
            svg,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" font-family="sans-serif" font-size="11">"#
        );
        let _ = write!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
        let _ = write!(
            svg,
            r#"<text x="{LEFT}" y="18" font-size="13" font-weight="bold">{}</text>"#,
            escape(&self.title)
        );
        for tick in 0..=5 {
            let fraction = tick as f64 / 5.0;
            let (x, y) = (px(fraction * x_max), py(fraction * y_max));
            let _ = write!(
                svg,
                r##"<line x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#e5e5e5"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
                LEFT + plot_w,
                LEFT - 6.0,
                y + 4.0,
                format_tick(fraction * y_max)
            );
            let _ = write!(
                svg,
                r#"<text x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
                TOP + plot_h + 16.0,
                format_tick(fraction * x_max)
            );
        }
        let _ = write!(
            svg,
            r##"<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#444"/>"##
        );
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            LEFT + plot_w / 2.0,
            HEIGHT - 8.0,
            escape(&self.x_label)
        );
        let _ = write!(
            svg,
            r#"<text x="14" y="{:.1}" text-anchor="middle" transform="rotate(-90 14 {:.1})">{}</text>"#,
            TOP + plot_h / 2.0,
            TOP + plot_h / 2.0,
            escape(&self.y_label)
        );
        for (value, label) in &self.rules {
            let y = py(*value);
            let _ = write!(
                svg,
                r##"<line x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#000" stroke-dasharray="4 3"/><text x="{:.1}" y="{:.1}">{}</text>"##,
                LEFT + plot_w,
                LEFT + plot_w + 6.0,
                y + 4.0,
                escape(label)
            );
        }
        for (index, series) in self.series.iter().enumerate() {
            let colour = COLOURS[index % COLOURS.len()];
            let points: Vec<(f64, f64)> = series
                .points
                .iter()
                .filter(|p| p.0.is_finite() && p.1.is_finite())
                .map(|p| (px(p.0), py(p.1.min(y_max))))
                .collect();
            match series.mark {
                Mark::Line => {
                    let path: Vec<String> = points.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect();
                    let _ = write!(
                        svg,
                        r#"<polyline fill="none" stroke="{colour}" stroke-width="1.8" points="{}"/>"#,
                        path.join(" ")
                    );
                }
                Mark::Points => {
                    for (x, y) in &points {
                        let _ = write!(
                            svg,
                            r#"<circle cx="{x:.1}" cy="{y:.1}" r="1.6" fill="{colour}" fill-opacity="0.6"/>"#
                        );
                    }
                }
            }
            let legend_y = TOP + 14.0 + index as f64 * 16.0;
            let _ = write!(
                svg,
                r#"<rect x="{:.1}" y="{:.1}" width="10" height="10" fill="{colour}"/><text x="{:.1}" y="{:.1}">{}</text>"#,
                LEFT + plot_w + 6.0,
                legend_y - 9.0,
                LEFT + plot_w + 20.0,
                legend_y,
                escape(&series.name)
            );
        }
        svg.push_str("</svg>\n");
        svg
    }
}

fn format_tick(value: f64) -> String {
    if value >= 100.0 || value == value.round() {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_is_an_svg_with_its_series_legend_and_rules() {
        let chart = Chart {
            title: "Latency <P95>".into(),
            x_label: "s".into(),
            y_label: "ms".into(),
            series: vec![Series {
                name: "retrieval".into(),
                points: vec![(0.0, 10.0), (1.0, 20.0), (2.0, f64::NAN)],
                mark: Mark::Line,
            }],
            rules: vec![(3000.0, "deadline".into())],
        };
        let svg = chart.svg();
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
        assert!(svg.contains("Latency &lt;P95&gt;") && svg.contains("retrieval") && svg.contains("deadline"));
        assert_eq!(svg.matches("<polyline").count(), 1);
        assert_eq!(nice_max(3_100.0), 5_000.0);
        assert_eq!(nice_max(0.0), 1.0);
    }
}

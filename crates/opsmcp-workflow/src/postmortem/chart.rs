//! One SVG line chart per signal: the signal through recovery, its baseline and the level
//! that pages, and when it began, when the incident was opened and when the fix went in. The
//! legend sits beside the plot, not on it, so it never hides the line.

use jiff::Timestamp;
use opsmcp_world::SignalSeries;
use plotters::prelude::*;

use super::text::num;

/// Everything drawn on one chart besides the series itself.
pub struct Marks {
    /// The level at which the signal's check turns unhealthy, if it has one.
    pub threshold: Option<f64>,
    /// When the first signal left its range, as the analysis found.
    pub onset: Option<Timestamp>,
    /// When the incident was opened.
    pub opened: Timestamp,
    /// When the remediation that restored health was applied.
    pub fix: Option<Timestamp>,
}

const WIDTH: u32 = 900;
const HEIGHT: u32 = 300;
/// The legend's column to the right of the plot.
const LEGEND_W: u32 = 230;

const BASELINE: RGBColor = RGBColor(110, 110, 110);
const THRESHOLD: RGBColor = RGBColor(200, 30, 30);
const ONSET: RGBColor = RGBColor(230, 130, 0);
const OPENED: RGBColor = RGBColor(120, 60, 170);
const FIX: RGBColor = RGBColor(20, 140, 60);
const LINE: RGBColor = RGBColor(30, 90, 200);

fn hms(t: Timestamp) -> String {
    t.strftime("%H:%M:%S").to_string()
}

/// The chart as an SVG document; empty when the series has no points. Its `<desc>` says in
/// words what the chart marks, for screen readers and for checking it without pixels.
pub fn render(s: &SignalSeries, marks: &Marks) -> String {
    let points: Vec<(f64, f64)> = s
        .points
        .iter()
        .map(|(t, v)| (t.as_second() as f64, *v))
        .collect();
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        return String::new();
    };
    let (x0, x1) = (first.0, last.0.max(first.0 + 1.0));
    let mut y1 = points.iter().map(|p| p.1).fold(f64::MIN, f64::max);
    for level in [s.baseline, marks.threshold].into_iter().flatten() {
        y1 = y1.max(level);
    }
    let y1 = if y1 <= 0.0 { 1.0 } else { y1 * 1.12 };
    let verticals: Vec<(&str, Timestamp, RGBColor)> = [
        ("onset", marks.onset, ONSET),
        ("incident opened", Some(marks.opened), OPENED),
        ("fix applied", marks.fix, FIX),
    ]
    .into_iter()
    .filter_map(|(name, t, colour)| t.map(|t| (name, t, colour)))
    .collect();

    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        let _ = root.fill(&WHITE);
        let (plot, legend) = root.split_horizontally(WIDTH - LEGEND_W);
        let Ok(mut c) = ChartBuilder::on(&plot)
            .caption(format!("{} · {}", s.service, s.signal), ("sans-serif", 18))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(60)
            .build_cartesian_2d(x0..x1, 0.0..y1)
        else {
            return String::new();
        };
        let _ = c
            .configure_mesh()
            .light_line_style(WHITE.mix(0.0))
            .x_labels(7)
            .y_labels(6)
            .x_label_formatter(&|x| {
                Timestamp::from_second(*x as i64)
                    .map(|t| t.strftime("%H:%M").to_string())
                    .unwrap_or_default()
            })
            .y_label_formatter(&|y| num(*y))
            .draw();
        if let Some(b) = s.baseline {
            let _ = c.draw_series(DashedLineSeries::new(
                vec![(x0, b), (x1, b)],
                6,
                4,
                BASELINE.stroke_width(1),
            ));
        }
        if let Some(t) = marks.threshold {
            let _ = c.draw_series(DashedLineSeries::new(
                vec![(x0, t), (x1, t)],
                8,
                4,
                THRESHOLD.stroke_width(2),
            ));
        }
        for (_, t, colour) in &verticals {
            let x = t.as_second() as f64;
            if (x0..=x1).contains(&x) {
                let _ = c.draw_series(LineSeries::new(
                    vec![(x, 0.0), (x, y1)],
                    colour.stroke_width(2),
                ));
            }
        }
        let _ = c.draw_series(LineSeries::new(points.clone(), LINE.stroke_width(2)));

        // The legend: a sample of each line and what it is.
        let mut rows: Vec<(String, RGBColor, bool)> = vec![(s.signal.clone(), LINE, false)];
        if let Some(b) = s.baseline {
            rows.push((format!("baseline {}", num(b)), BASELINE, true));
        }
        match marks.threshold {
            Some(t) => rows.push((format!("threshold (critical) {}", num(t)), THRESHOLD, true)),
            None => rows.push(("threshold: none for this signal".into(), THRESHOLD, true)),
        }
        for (name, t, colour) in &verticals {
            rows.push((format!("{name} {}", hms(*t)), *colour, false));
        }
        let style = ("sans-serif", 13).into_font().color(&BLACK);
        for (i, (label, colour, dashed)) in rows.iter().enumerate() {
            let y = 45 + 22 * i as i32;
            let sample = if *dashed {
                vec![(8, y), (16, y), (20, y), (28, y)]
            } else {
                vec![(8, y), (28, y)]
            };
            if *dashed {
                let _ = legend.draw(&PathElement::new(sample[..2].to_vec(), colour.stroke_width(2)));
                let _ = legend.draw(&PathElement::new(sample[2..].to_vec(), colour.stroke_width(2)));
            } else {
                let _ = legend.draw(&PathElement::new(sample, colour.stroke_width(2)));
            }
            let _ = legend.draw(&Text::new(label.clone(), (34, y - 7), style.clone()));
        }
        let _ = root.present();
    }
    with_desc(svg, &describe(s, marks, x0, x1))
}

/// What the chart shows, in one sentence.
fn describe(s: &SignalSeries, marks: &Marks, x0: f64, x1: f64) -> String {
    let at = |x: f64| {
        Timestamp::from_second(x as i64)
            .map(hms)
            .unwrap_or_default()
    };
    let mut parts = vec![format!(
        "{} {} from {} to {} UTC",
        s.service,
        s.signal,
        at(x0),
        at(x1)
    )];
    if let Some(b) = s.baseline {
        parts.push(format!("baseline {}", num(b)));
    }
    if let Some(t) = marks.threshold {
        parts.push(format!("threshold {}", num(t)));
    }
    if let Some(t) = marks.onset {
        parts.push(format!("onset {}", hms(t)));
    }
    parts.push(format!("opened {}", hms(marks.opened)));
    if let Some(t) = marks.fix {
        parts.push(format!("fix {}", hms(t)));
    }
    parts.join("; ")
}

/// `svg` with a `<desc>` right after its opening tag.
fn with_desc(svg: String, desc: &str) -> String {
    let escaped = desc
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    match svg.find('>') {
        Some(i) => format!("{}\n<desc>{escaped}</desc>{}", &svg[..=i], &svg[i + 1..]),
        None => svg,
    }
}

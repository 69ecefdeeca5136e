//! One SVG line chart per signal: the signal through recovery, its baseline and the level
//! that pages, and when it began, when the incident was opened and when the fix went in. The
//! legend sits under the plots, not on them, so it never hides the line.

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

const WIDTH: u32 = 960;
const HEIGHT: u32 = 330;
/// The legend's row under the plots.
const LEGEND_H: u32 = 44;
/// The panel around the fix, right of the whole window, when there was a fix.
const ZOOM_W: u32 = 330;
/// The panel around the fix starts at least this long before the fix, and at least three
/// times as long before it as the time since, so the fix sits in its right quarter.
const ZOOM_LEAD_S: f64 = 20.0;

const BASELINE: RGBColor = RGBColor(110, 110, 110);
const THRESHOLD: RGBColor = RGBColor(200, 30, 30);
const ONSET: RGBColor = RGBColor(230, 130, 0);
const OPENED: RGBColor = RGBColor(120, 60, 170);
const FIX: RGBColor = RGBColor(20, 140, 60);
const LINE: RGBColor = RGBColor(30, 90, 200);

fn hms(t: Timestamp) -> String {
    t.strftime("%H:%M:%S").to_string()
}

/// A vertical marker: what it marks, when, in which colour.
type Vertical = (&'static str, Timestamp, RGBColor);

/// One panel: the series over `x0..x1` with every marker that falls inside it.
#[allow(clippy::too_many_arguments)]
fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    caption: &str,
    s: &SignalSeries,
    marks: &Marks,
    verticals: &[Vertical],
    (x0, x1): (f64, f64),
    y1: f64,
    time_format: &'static str,
) {
    let points: Vec<(f64, f64)> = s
        .points
        .iter()
        .map(|(t, v)| (t.as_second() as f64, *v))
        .filter(|(x, _)| (x0..=x1).contains(x))
        .collect();
    let Ok(mut c) = ChartBuilder::on(area)
        .caption(caption, ("sans-serif", 16))
        .margin(10)
        .margin_right(28)
        .x_label_area_size(28)
        .y_label_area_size(56)
        .build_cartesian_2d(x0..x1, 0.0..y1)
    else {
        return;
    };
    let _ = c
        .configure_mesh()
        .light_line_style(WHITE.mix(0.0))
        .x_labels(if time_format.len() > 5 { 4 } else { 7 })
        .y_labels(6)
        .x_label_formatter(&|x| {
            Timestamp::from_second(*x as i64)
                .map(|t| t.strftime(time_format).to_string())
                .unwrap_or_default()
        })
        .y_label_formatter(&|y| num(*y))
        .draw();
    for (_, t, colour) in verticals {
        let x = t.as_second() as f64;
        if (x0..=x1).contains(&x) {
            let _ = c.draw_series(LineSeries::new(
                vec![(x, 0.0), (x, y1)],
                colour.stroke_width(2),
            ));
        }
    }
    let _ = c.draw_series(LineSeries::new(points, LINE.stroke_width(2)));
    // Over the signal, so a signal lying on its baseline does not hide it.
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
}

/// The chart as an SVG document; empty when the series has no points. When there was a fix,
/// a second panel shows the minutes around it at full resolution: a recovery in seconds is
/// a sliver at the edge of a half-hour window. Its `<desc>` says in words what the chart
/// marks, for screen readers and for checking it without pixels.
pub fn render(s: &SignalSeries, marks: &Marks) -> String {
    let (Some(first), Some(last)) = (s.points.first(), s.points.last()) else {
        return String::new();
    };
    let (x0, x1) = (
        first.0.as_second() as f64,
        (last.0.as_second() as f64).max(first.0.as_second() as f64 + 1.0),
    );
    let mut y1 = s.points.iter().map(|p| p.1).fold(f64::MIN, f64::max);
    for level in [s.baseline, marks.threshold].into_iter().flatten() {
        y1 = y1.max(level);
    }
    let y1 = if y1 <= 0.0 { 1.0 } else { y1 * 1.12 };
    let verticals: Vec<Vertical> = [
        ("onset", marks.onset, ONSET),
        ("incident opened", Some(marks.opened), OPENED),
        ("fix applied", marks.fix, FIX),
    ]
    .into_iter()
    .filter_map(|(name, t, colour)| t.map(|t| (name, t, colour)))
    .collect();
    let zoom = marks.fix.map(|fix| {
        let fix = fix.as_second() as f64;
        let from = (fix - ZOOM_LEAD_S.max((x1 - fix) * 3.0)).max(x0);
        (from, x1.max(from + 1.0))
    });

    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        let _ = root.fill(&WHITE);
        let (plots, legend) = root.split_vertically(HEIGHT - LEGEND_H);
        let title = format!("{} · {}", s.service, s.signal);
        match zoom {
            Some(window) => {
                let (main, right) = plots.split_horizontally(WIDTH - ZOOM_W);
                panel(&main, &title, s, marks, &verticals, (x0, x1), y1, "%H:%M");
                panel(
                    &right,
                    "around the fix",
                    s,
                    marks,
                    &verticals,
                    window,
                    y1,
                    "%H:%M:%S",
                );
            }
            None => panel(&plots, &title, s, marks, &verticals, (x0, x1), y1, "%H:%M"),
        }

        // The legend: a sample of each line and what it is, in one or two rows.
        let mut items: Vec<(String, RGBColor, bool)> = vec![(s.signal.clone(), LINE, false)];
        if let Some(b) = s.baseline {
            items.push((format!("baseline {}", num(b)), BASELINE, true));
        }
        match marks.threshold {
            Some(t) => items.push((format!("threshold (critical) {}", num(t)), THRESHOLD, true)),
            None => items.push(("no threshold for this signal".into(), THRESHOLD, true)),
        }
        for (name, t, colour) in &verticals {
            items.push((format!("{name} {}", hms(*t)), *colour, false));
        }
        let style = ("sans-serif", 13).into_font().color(&BLACK);
        let (mut x, mut y) = (60i32, 12i32);
        for (label, colour, dashed) in &items {
            // Sans-serif at 13 px averages about 6 px a character; the gap absorbs wider ones.
            let w = 30 + 6 * label.chars().count() as i32 + 18;
            if x + w > WIDTH as i32 - 10 {
                x = 60;
                y += 20;
            }
            let segments = if *dashed {
                vec![vec![(x, y), (x + 9, y)], vec![(x + 14, y), (x + 24, y)]]
            } else {
                vec![vec![(x, y), (x + 24, y)]]
            };
            for seg in segments {
                let _ = legend.draw(&PathElement::new(seg, colour.stroke_width(2)));
            }
            let _ = legend.draw(&Text::new(label.clone(), (x + 30, y - 7), style.clone()));
            x += w;
        }
        let _ = root.present();
    }
    with_desc(svg, &describe(s, marks, x0, x1))
}

/// `YYYY-MM-DD HH:MM:SS`: a chart can cross midnight, and its marks must read in order.
fn stamp(t: Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M:%S").to_string()
}

/// What the chart shows, in one sentence.
fn describe(s: &SignalSeries, marks: &Marks, x0: f64, x1: f64) -> String {
    let at = |x: f64| {
        Timestamp::from_second(x as i64)
            .map(stamp)
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
        parts.push(format!("onset {}", stamp(t)));
    }
    parts.push(format!("opened {}", stamp(marks.opened)));
    if let Some(t) = marks.fix {
        parts.push(format!("fix {}", stamp(t)));
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

#[cfg(test)]
mod tests {
    use super::*;

    /// An incident that opens before midnight and is fixed after it: the description's
    /// times carry their date, so they read (and sort) in the order they happened.
    #[test]
    fn a_chart_across_midnight_describes_its_marks_in_order() {
        let t = |s: &str| s.parse::<Timestamp>().expect("a timestamp");
        let points = (0..12)
            .map(|i| {
                let at = t("2026-12-06T23:50:00Z") + jiff::SignedDuration::from_mins(2 * i);
                (at, if i < 4 { 1.0 } else { 9.0 })
            })
            .collect();
        let series = SignalSeries {
            service: "api".into(),
            signal: "error_rate".into(),
            baseline: Some(1.0),
            points,
        };
        let marks = Marks {
            threshold: Some(5.0),
            onset: Some(t("2026-12-06T23:58:00Z")),
            opened: t("2026-12-06T23:59:30Z"),
            fix: Some(t("2026-12-07T00:06:00Z")),
        };
        let svg = render(&series, &marks);
        let desc = &svg[svg.find("<desc>").expect("a desc")..svg.find("</desc>").expect("its end")];
        for part in [
            "from 2026-12-06 23:50:00 to 2026-12-07 00:12:00 UTC",
            "onset 2026-12-06 23:58:00",
            "opened 2026-12-06 23:59:30",
            "fix 2026-12-07 00:06:00",
        ] {
            assert!(desc.contains(part), "no `{part}` in {desc}");
        }
    }
}

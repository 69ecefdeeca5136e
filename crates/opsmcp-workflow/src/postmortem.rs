//! Postmortems: Markdown with the incident's timeline from the store, the root cause and its
//! evidence, what was done and whether it worked, action items, and SVG charts of the signals
//! that moved most around the incident. Written whole or not at all, then the incident is
//! resolved.

use std::{
    io::Write,
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use jiff::{SignedDuration, Timestamp};
use opsmcp_store::{Status, Store};
use opsmcp_world::{SignalSeries, World};
use plotters::prelude::*;
use serde::Serialize;
use serde_json::json;

use crate::WorkflowError;

/// What the author knows that the store does not.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// The incident.
    pub incident_id: String,
    /// What caused it.
    pub root_cause: String,
    /// What fixed it.
    pub resolution: String,
    /// Who and what was affected, if the author says.
    pub impact: Option<String>,
    /// Facts that support the root cause.
    pub evidence: Vec<String>,
    /// Follow-ups.
    pub action_items: Vec<String>,
    /// Who writes it.
    pub actor: String,
}

/// The written postmortem.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Postmortem {
    /// The Markdown file.
    pub path: String,
    /// The chart files beside it.
    pub charts: Vec<String>,
    /// The Markdown itself.
    pub markdown: String,
    /// The incident's status afterwards.
    pub status: String,
}

/// The charts show this long before the incident was opened.
const LEAD: SignedDuration = SignedDuration::from_mins(30);
/// At most this many charts: the signals that moved most.
const MAX_CHARTS: usize = 4;

/// Writes the postmortem under `dir/<incident id>/` and resolves the incident.
pub async fn document(
    store: &Store,
    world: &Arc<dyn World>,
    dir: &Path,
    req: Request,
) -> Result<Postmortem, WorkflowError> {
    for (field, value) in [
        ("root_cause", &req.root_cause),
        ("resolution", &req.resolution),
    ] {
        if value.trim().is_empty() {
            return Err(WorkflowError::BadRequest(format!(
                "{field} is empty; say in a sentence or more what {}",
                if field == "root_cause" {
                    "caused the incident"
                } else {
                    "was done to end it"
                }
            )));
        }
    }
    let detail = store.get_incident(&req.incident_id).await?;
    let incident = &detail.incident;
    let remediations = store.remediations_for(&incident.id).await?;
    let now = Timestamp::now();
    let from = incident.created_at - LEAD;
    let history = world
        .history(from, now, Duration::from_secs(60))
        .await
        .unwrap_or_default();
    let chosen = most_moved(&history, &incident.services);

    let folder = dir.join(&incident.id);
    std::fs::create_dir_all(&folder).map_err(|e| io(&folder, e))?;
    let mut charts = Vec::new();
    for series in &chosen {
        let name = format!("{}-{}.svg", series.service, series.signal);
        let svg = chart(series, incident.created_at);
        write_atomic(&folder.join(&name), svg.as_bytes())?;
        charts.push(name);
    }

    let mut md = String::new();
    let line = |md: &mut String, s: String| {
        md.push_str(&s);
        md.push('\n');
    };
    line(
        &mut md,
        format!("# Postmortem: {} — {}", incident.id, incident.title),
    );
    line(&mut md, String::new());
    line(&mut md, "## Summary".into());
    line(&mut md, String::new());
    line(
        &mut md,
        format!(
            "{} ({}) opened {} affecting {}. Root cause: {} Resolution: {}",
            incident.id,
            incident.severity,
            incident.created_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
            if incident.services.is_empty() {
                "no named service".to_string()
            } else {
                incident.services.join(", ")
            },
            sentence(&req.root_cause),
            sentence(&req.resolution)
        ),
    );
    line(&mut md, String::new());
    line(&mut md, "## Impact".into());
    line(&mut md, String::new());
    let duration = now.duration_since(incident.created_at);
    line(
        &mut md,
        req.impact.clone().unwrap_or_else(|| {
            format!(
                "Services affected: {}. Open for {} min until this postmortem.",
                if incident.services.is_empty() {
                    "see the charts".to_string()
                } else {
                    incident.services.join(", ")
                },
                duration.as_secs() / 60
            )
        }),
    );
    line(&mut md, String::new());
    line(&mut md, "## Timeline (UTC)".into());
    line(&mut md, String::new());
    for t in &detail.timeline {
        line(
            &mut md,
            format!(
                "- {} · {} · {} · {}",
                t.at.strftime("%H:%M:%S"),
                t.actor,
                t.kind,
                compact(&t.body)
            ),
        );
    }
    line(&mut md, String::new());
    line(&mut md, "## Root cause and evidence".into());
    line(&mut md, String::new());
    line(&mut md, req.root_cause.trim().to_string());
    line(&mut md, String::new());
    for e in &req.evidence {
        line(&mut md, format!("- {e}"));
    }
    for s in &chosen {
        if let (Some(base), Some(peak)) = (s.baseline, peak(s)) {
            line(
                &mut md,
                format!(
                    "- {} {}: baseline {base}, furthest from it {peak} in the window",
                    s.service, s.signal
                ),
            );
        }
    }
    line(&mut md, String::new());
    line(&mut md, "## Remediation and verification".into());
    line(&mut md, String::new());
    line(&mut md, req.resolution.trim().to_string());
    line(&mut md, String::new());
    for r in &remediations {
        line(
            &mut md,
            format!(
                "- {}@{} by {} at {}: **{}**{}",
                r.action,
                r.target,
                r.requested_by,
                r.started_at.strftime("%H:%M:%S"),
                r.status,
                r.result
                    .as_ref()
                    .and_then(|v| v.get("verification"))
                    .map(|v| format!(" (verification: {})", compact(v)))
                    .unwrap_or_default()
            ),
        );
    }
    line(&mut md, String::new());
    line(&mut md, "## Action items".into());
    line(&mut md, String::new());
    if req.action_items.is_empty() {
        line(
            &mut md,
            "- [ ] Add an alert on the signal that moved first, so the next one pages earlier"
                .into(),
        );
    }
    for a in &req.action_items {
        line(&mut md, format!("- [ ] {a}"));
    }
    if !charts.is_empty() {
        line(&mut md, String::new());
        line(&mut md, "## Charts".into());
        line(&mut md, String::new());
        for c in &charts {
            line(&mut md, format!("![{c}]({c})"));
        }
    }

    let path = folder.join("postmortem.md");
    write_atomic(&path, md.as_bytes())?;
    store
        .add_timeline(
            &incident.id,
            &req.actor,
            "postmortem",
            json!({ "path": path.display().to_string(), "root_cause": req.root_cause }),
        )
        .await?;
    let current = store.get_incident(&incident.id).await?.incident.status;
    let status = if current.allowed_next().contains(&Status::Resolved) {
        store
            .transition(
                &incident.id,
                Status::Resolved,
                &req.actor,
                Some("postmortem written"),
            )
            .await?
            .status
    } else {
        current
    };
    Ok(Postmortem {
        path: path.display().to_string(),
        charts: charts
            .iter()
            .map(|c| folder.join(c).display().to_string())
            .collect(),
        markdown: md,
        status: status.to_string(),
    })
}

fn io(path: &Path, source: std::io::Error) -> WorkflowError {
    WorkflowError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Temp file in the same folder, fsync, rename: a reader sees the old file or the new, whole.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), WorkflowError> {
    let tmp: PathBuf = path.with_extension("tmp");
    let mut f = std::fs::File::create(&tmp).map_err(|e| io(&tmp, e))?;
    f.write_all(bytes).map_err(|e| io(&tmp, e))?;
    f.sync_all().map_err(|e| io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| io(path, e))
}

fn sentence(s: &str) -> String {
    let t = s.trim();
    if t.ends_with(['.', '!', '?']) {
        t.to_string()
    } else {
        format!("{t}.")
    }
}

fn compact(v: &serde_json::Value) -> String {
    let s = v.to_string();
    if s.len() > 240 {
        format!("{}…", &s[..s.floor_char_boundary(240)])
    } else {
        s
    }
}

/// How far a series strays from its baseline, relative to it.
fn deviation(s: &SignalSeries) -> f64 {
    let Some(base) = s.baseline else { return 0.0 };
    let scale = base.abs().max(1e-6);
    s.points
        .iter()
        .map(|(_, v)| (v - base).abs() / scale)
        .fold(0.0, f64::max)
}

fn peak(s: &SignalSeries) -> Option<f64> {
    let base = s.baseline?;
    s.points
        .iter()
        .map(|(_, v)| *v)
        .max_by(|a, b| (a - base).abs().total_cmp(&(b - base).abs()))
}

/// The signals that moved most, preferring the incident's own services.
fn most_moved<'a>(history: &'a [SignalSeries], services: &[String]) -> Vec<&'a SignalSeries> {
    let mut ranked: Vec<&SignalSeries> = history
        .iter()
        .filter(|s| !s.signal.ends_with("_max") && deviation(s) > 0.2)
        .collect();
    ranked.sort_by(|a, b| {
        let own = |s: &SignalSeries| services.contains(&s.service);
        own(b)
            .cmp(&own(a))
            .then(deviation(b).total_cmp(&deviation(a)))
            .then(a.service.cmp(&b.service))
            .then(a.signal.cmp(&b.signal))
    });
    ranked.truncate(MAX_CHARTS);
    ranked
}

/// One line chart: the signal, its baseline dashed, the moment the incident opened.
fn chart(s: &SignalSeries, opened: Timestamp) -> String {
    let mut svg = String::new();
    let points: Vec<(f64, f64)> = s
        .points
        .iter()
        .map(|(t, v)| (t.as_second() as f64, *v))
        .collect();
    if points.is_empty() {
        return svg;
    }
    let (x0, x1) = (
        points[0].0,
        points[points.len() - 1].0.max(points[0].0 + 1.0),
    );
    let mut y1 = points.iter().map(|p| p.1).fold(f64::MIN, f64::max);
    if let Some(b) = s.baseline {
        y1 = y1.max(b);
    }
    let y1 = if y1 <= 0.0 { 1.0 } else { y1 * 1.1 };
    {
        let root = SVGBackend::with_string(&mut svg, (720, 280)).into_drawing_area();
        let _ = root.fill(&WHITE);
        let Ok(mut c) = ChartBuilder::on(&root)
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
            .x_labels(6)
            .x_label_formatter(&|x| {
                Timestamp::from_second(*x as i64)
                    .map(|t| t.strftime("%H:%M").to_string())
                    .unwrap_or_default()
            })
            .draw();
        let _ = c.draw_series(LineSeries::new(points.clone(), BLUE.stroke_width(2)));
        if let Some(b) = s.baseline {
            let _ = c.draw_series(LineSeries::new(
                vec![(x0, b), (x1, b)],
                BLACK.mix(0.4).stroke_width(1),
            ));
        }
        let t = opened.as_second() as f64;
        if (x0..=x1).contains(&t) {
            let _ = c.draw_series(LineSeries::new(
                vec![(t, 0.0), (t, y1)],
                RED.stroke_width(1),
            ));
        }
        let _ = root.present();
    }
    svg
}

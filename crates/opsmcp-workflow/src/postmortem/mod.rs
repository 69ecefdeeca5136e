//! Postmortems: Markdown an on-call lead can hand over — a timeline table merging the
//! incident record with the change log and the analysis's onset, impact with its duration,
//! the root cause and its evidence, what the analysis ruled out and why, the changes before
//! the onset, what was run and how it was verified, action items — and SVG charts of the
//! decisive signals through recovery, with baseline, threshold, onset and fix marked. Written
//! whole or not at all, then the incident is resolved.
//!
//! Facts come from three places, and the document says which: the store (the incident's
//! timeline and remediation records), the world (signal history, change events, health
//! thresholds) and the author (root cause, evidence, ruled-out hypotheses, onset, the changes
//! the analysis reported). What nobody supplied is said to be unknown, never made up.

mod chart;
mod render;
pub mod text;

use std::{
    io::Write,
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use jiff::{SignedDuration, Timestamp};
use opsmcp_store::{Status, Store};
use opsmcp_world::{
    SignalSeries, World, WorldEvent,
    health::{Reading, judge_readings},
};
use serde::Serialize;
use serde_json::json;

use crate::WorkflowError;

/// A hypothesis the analysis rejected, and why.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuledOut {
    /// The hypothesis (`slow-dependency in checkout-api`).
    pub hypothesis: String,
    /// Why it was rejected: the evidence against it, or what the fix showed.
    pub reason: String,
}

/// A change event the analysis reported around the incident.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Change {
    /// When it happened, if known.
    pub at: Option<Timestamp>,
    /// Where.
    pub service: Option<String>,
    /// What changed (`config: max_connections 100 -> 50`).
    pub detail: String,
}

/// One signal of one service (`orders-db`, `db_connections_in_use`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignalRef {
    /// The service.
    pub service: String,
    /// The signal.
    pub signal: String,
}

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
    /// When the incident began: when the faulty component's signals left their normal range,
    /// as the analysis found it.
    pub onset: Option<Timestamp>,
    /// Hypotheses the analysis rejected, and why.
    pub ruled_out: Vec<RuledOut>,
    /// Change events the analysis reported around the incident.
    pub changes: Vec<Change>,
    /// The signals that show the cause, most decisive first: charted first.
    pub signals: Vec<SignalRef>,
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

/// The charts begin this long before the onset (or the opening, when earlier).
const LEAD: SignedDuration = SignedDuration::from_mins(15);
/// About this many points across a chart's whole window.
const CHART_POINTS: i64 = 90;
/// Around the fix the charts are sampled this finely, so a recovery in seconds shows.
const FINE_STEP: Duration = Duration::from_secs(2);
/// The fine sampling starts this long before the fix.
const FINE_LEAD: SignedDuration = SignedDuration::from_mins(1);
/// ... and ends this long after it (or at the time of writing).
const FINE_AFTER: SignedDuration = SignedDuration::from_mins(5);
/// At most this many charts: the decisive signals, then the ones that moved most.
const MAX_CHARTS: usize = 4;
/// Bounds on what the author sends: a postmortem is read by people.
const MAX_ITEMS: usize = 30;
const MAX_ITEM_CHARS: usize = 2000;

/// What the Markdown is rendered from, gathered once.
struct Facts<'a> {
    req: &'a Request,
    detail: &'a opsmcp_store::IncidentDetail,
    remediations: &'a [opsmcp_store::Remediation],
    /// Change events in the chart window (remediations are on the record already).
    events: Result<Vec<WorldEvent>, String>,
    /// The window the charts and the change log cover.
    window: (Timestamp, Timestamp),
    charts: Vec<Charted<'a>>,
    /// Signal history could not be read: why.
    history_error: Option<String>,
}

/// One chart written.
struct Charted<'a> {
    file: String,
    series: &'a SignalSeries,
    threshold: Option<f64>,
    /// The author named it as showing the cause.
    decisive: bool,
}

/// Writes the postmortem under `dir/<incident id>/` and resolves the incident.
pub async fn document(
    store: &Store,
    world: &Arc<dyn World>,
    dir: &Path,
    req: Request,
) -> Result<Postmortem, WorkflowError> {
    check(&req)?;
    let detail = store.get_incident(&req.incident_id).await?;
    let incident = &detail.incident;
    let remediations = store.remediations_for(&incident.id).await?;
    let now = Timestamp::now();
    let fix = render::fix(&remediations).map(|r| r.started_at);

    let start = req
        .onset
        .unwrap_or(incident.created_at)
        .min(incident.created_at)
        - LEAD;
    let (history, history_error) = match signal_history(world, start, now, fix).await {
        Ok(h) => (h, None),
        Err(e) => (Vec::new(), Some(e.to_string())),
    };
    let events = world
        .events(start, now)
        .await
        .map(|all| {
            all.into_iter()
                .filter(|e| e.kind != "remediation")
                .collect()
        })
        .map_err(|e| e.to_string());
    let health = world.health().await.unwrap_or_default();

    let folder = dir.join(&incident.id);
    std::fs::create_dir_all(&folder).map_err(|e| io(&folder, e))?;
    let mut charts = Vec::new();
    for (series, decisive) in choose(&history, &incident.services, &req.signals) {
        let threshold = threshold(series, &history, &health);
        let svg = chart::render(
            series,
            &chart::Marks {
                threshold,
                onset: req.onset,
                opened: incident.created_at,
                fix,
            },
        );
        if svg.is_empty() {
            continue;
        }
        let file = format!("{}-{}.svg", series.service, series.signal);
        write_atomic(&folder.join(&file), svg.as_bytes())?;
        charts.push(Charted {
            file,
            series,
            threshold,
            decisive,
        });
    }

    let md = render::markdown(&Facts {
        req: &req,
        detail: &detail,
        remediations: &remediations,
        events,
        window: (start, now),
        charts,
        history_error,
    });
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
    let chart_files = std::fs::read_dir(&folder)
        .map(|d| {
            let mut v: Vec<String> = d
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "svg"))
                .filter(|p| {
                    md.contains(&format!(
                        "({})",
                        p.file_name().unwrap_or_default().to_string_lossy()
                    ))
                })
                .map(|p| p.display().to_string())
                .collect();
            v.sort();
            v
        })
        .unwrap_or_default();
    Ok(Postmortem {
        path: path.display().to_string(),
        charts: chart_files,
        markdown: md,
        status: status.to_string(),
    })
}

/// Refuses what cannot make a postmortem, saying what to send instead.
fn check(req: &Request) -> Result<(), WorkflowError> {
    for (field, value, what) in [
        ("root_cause", &req.root_cause, "caused the incident"),
        ("resolution", &req.resolution, "was done to end it"),
    ] {
        if value.trim().is_empty() {
            return Err(WorkflowError::BadRequest(format!(
                "{field} is empty; say in a sentence or more what {what}"
            )));
        }
    }
    let lists = [
        ("evidence", req.evidence.len()),
        ("action_items", req.action_items.len()),
        ("ruled_out", req.ruled_out.len()),
        ("contributing_changes", req.changes.len()),
        ("key_signals", req.signals.len()),
    ];
    if let Some((field, n)) = lists.iter().find(|(_, n)| *n > MAX_ITEMS) {
        return Err(WorkflowError::BadRequest(format!(
            "{field} has {n} items; send at most {MAX_ITEMS}, the ones that matter most"
        )));
    }
    let texts = req
        .evidence
        .iter()
        .chain(&req.action_items)
        .chain(
            req.ruled_out
                .iter()
                .flat_map(|r| [&r.hypothesis, &r.reason]),
        )
        .chain(req.changes.iter().map(|c| &c.detail))
        .chain(req.impact.iter());
    if texts
        .into_iter()
        .any(|t| t.chars().count() > MAX_ITEM_CHARS)
    {
        return Err(WorkflowError::BadRequest(format!(
            "an item is longer than {MAX_ITEM_CHARS} characters; keep each to a paragraph"
        )));
    }
    Ok(())
}

/// Every signal from `start` to `now`, ending exactly at `now` so the last point is the state
/// the postmortem describes, with finer points from just before the fix, so a recovery that
/// took seconds is visible.
async fn signal_history(
    world: &Arc<dyn World>,
    start: Timestamp,
    now: Timestamp,
    fix: Option<Timestamp>,
) -> Result<Vec<SignalSeries>, opsmcp_world::WorldError> {
    let span = now.duration_since(start).as_secs().max(1);
    let step = (span / CHART_POINTS).max(10);
    let n = (span + step - 1) / step;
    let from = now - SignedDuration::from_secs(n * step);
    let mut history = world
        .history(from, now, Duration::from_secs(step as u64))
        .await?;
    if let Some(fix) = fix {
        let fine_from = (fix - FINE_LEAD).max(from);
        // Bounded: a fix long before the writing needs no 2-second points for all of it.
        let fine_to = (fix + FINE_AFTER).min(now);
        if let Ok(fine) = world.history(fine_from, fine_to, FINE_STEP).await {
            for f in fine {
                if let Some(s) = history
                    .iter_mut()
                    .find(|s| s.service == f.service && s.signal == f.signal)
                {
                    s.points.extend(f.points);
                    s.points.sort_by_key(|p| p.0);
                    s.points.dedup_by_key(|p| p.0);
                }
            }
        }
    }
    Ok(history)
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

/// How far a series strays from its baseline, relative to it.
fn deviation(s: &SignalSeries) -> f64 {
    let Some(base) = s.baseline else { return 0.0 };
    let scale = base.abs().max(1e-6);
    s.points
        .iter()
        .map(|(_, v)| (v - base).abs() / scale)
        .fold(0.0, f64::max)
}

/// The value furthest from the baseline.
fn peak(s: &SignalSeries) -> Option<f64> {
    let base = s.baseline?;
    s.points
        .iter()
        .map(|(_, v)| *v)
        .max_by(|a, b| (a - base).abs().total_cmp(&(b - base).abs()))
}

/// The charts to draw: the signals the author named as decisive, in their order, then those
/// that moved most, preferring the incident's own services. A `_max` series is a bound, not a
/// signal: it becomes the threshold of the series it bounds.
fn choose<'a>(
    history: &'a [SignalSeries],
    services: &[String],
    wanted: &[SignalRef],
) -> Vec<(&'a SignalSeries, bool)> {
    let mut out: Vec<(&SignalSeries, bool)> = wanted
        .iter()
        .filter_map(|w| {
            history
                .iter()
                .find(|s| s.service == w.service && s.signal == w.signal)
        })
        .map(|s| (s, true))
        .collect();
    out.dedup_by(|a, b| std::ptr::eq(a.0, b.0));
    out.truncate(MAX_CHARTS);
    let mut ranked: Vec<&SignalSeries> = history
        .iter()
        .filter(|s| !s.signal.ends_with("_max") && deviation(s) > 0.2)
        .filter(|s| !out.iter().any(|(o, _)| std::ptr::eq(*o, *s)))
        .collect();
    ranked.sort_by(|a, b| {
        let own = |s: &SignalSeries| services.contains(&s.service);
        own(b)
            .cmp(&own(a))
            .then(deviation(b).total_cmp(&deviation(a)))
            .then(a.service.cmp(&b.service))
            .then(a.signal.cmp(&b.signal))
    });
    let room = MAX_CHARTS - out.len();
    out.extend(ranked.into_iter().take(room).map(|s| (s, false)));
    out
}

/// The level at which the series' health check turns unhealthy, by the same rules
/// `verify_health` judges with: the configured level where the world's health reports one
/// for this check, else the rule's default. A pool's level is a share of its bound (the
/// service's `_max` series), drawn in the series' own unit. `None` when no check judges it.
fn threshold(
    s: &SignalSeries,
    history: &[SignalSeries],
    health: &[opsmcp_world::health::ServiceHealth],
) -> Option<f64> {
    let value = peak(s).or_else(|| s.points.last().map(|p| p.1))?;
    let reading = Reading::new(s.signal.clone(), value, s.baseline);
    let bounds: Vec<Reading> = history
        .iter()
        .filter(|h| h.service == s.service && h.signal.ends_with("_max"))
        .filter_map(|h| {
            h.points
                .last()
                .map(|p| Reading::new(h.signal.clone(), p.1, h.baseline))
        })
        .collect();
    let configured = |name: &str| {
        health
            .iter()
            .filter(|h| h.service == s.service)
            .flat_map(|h| &h.checks)
            .find(|c| c.name == name)
            .and_then(|c| c.critical_at)
    };
    let defaults = opsmcp_world::health::Thresholds::default();
    if let Some(c) = judge_readings(&s.service, std::slice::from_ref(&reading), &defaults)
        .checks
        .first()
    {
        return configured(&c.name).or(c.critical_at);
    }
    // Judged only beside its bound: a pool, whose check is in percent of the bound.
    let alone: Vec<String> = judge_readings(&s.service, &bounds, &defaults)
        .checks
        .into_iter()
        .map(|c| c.name)
        .collect();
    let mut with_bound = bounds.clone();
    with_bound.insert(0, reading);
    let c = judge_readings(&s.service, &with_bound, &defaults)
        .checks
        .into_iter()
        .find(|c| !alone.contains(&c.name))?;
    let percent = configured(&c.name).or(c.critical_at)?;
    let bound = value / (c.value / 100.0);
    (c.value > 0.0 && bound.is_finite()).then(|| percent / 100.0 * bound)
}

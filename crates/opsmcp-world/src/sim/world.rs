//! The simulated world behind [`World`]: the scenario read at the wall-clock time of each call.
//!
//! Applied actions go through a [`Journal`] first (the store, in the binary), and every read
//! catches up with the journal, so several processes playing the same run agree on the world.

use std::{
    fmt,
    sync::{Arc, Mutex, RwLock},
    time::{Duration, Instant},
};

use futures::future::BoxFuture;
use jiff::{SignedDuration, Timestamp};

use super::{Applied, SimWorld};
use crate::{
    health::{Reading, ServiceHealth, Thresholds, judge_readings},
    live::host::HostSnapshot,
    world::{
        ActionInfo, ActionReport, ActionRequest, LogEntry, LogStream, ServiceInfo, ServiceReadings,
        SignalSeries, World, WorldError, WorldEvent, WorldInfo,
    },
};

/// Where a simulated run keeps the actions applied to it; the binary backs it with the store.
pub trait Journal: Send + Sync + fmt::Debug {
    /// Every action applied to this run, in the order applied.
    fn load(&self) -> BoxFuture<'_, Result<Vec<Applied>, WorldError>>;
    /// Records one more, durably, before the world changes.
    fn record(&self, applied: Applied) -> BoxFuture<'_, Result<(), WorldError>>;
}

/// How stale the local copy of the journal may be: another process's action shows within this.
const JOURNAL_REFRESH: Duration = Duration::from_secs(1);

/// A scenario in play, shared by every tool call of a server.
#[derive(Debug)]
pub struct SimulatedWorld {
    world: RwLock<Arc<SimWorld>>,
    thresholds: Thresholds,
    journal: Option<Arc<dyn Journal>>,
    synced: Mutex<Option<Instant>>,
}

impl SimulatedWorld {
    /// Serves `world`, judging saturation signals with `thresholds`.
    pub fn new(world: SimWorld, thresholds: Thresholds) -> Self {
        Self {
            world: RwLock::new(Arc::new(world)),
            thresholds,
            journal: None,
            synced: Mutex::new(None),
        }
    }

    /// Keeps applied actions in `journal` and replays what other processes recorded there.
    pub fn with_journal(mut self, journal: Arc<dyn Journal>) -> Self {
        self.journal = Some(journal);
        self
    }

    /// The world as of now, caught up with the journal.
    async fn current(&self) -> Result<Arc<SimWorld>, WorldError> {
        if let Some(journal) = &self.journal {
            let due = self
                .synced
                .lock()
                .map(|s| s.is_none_or(|t| t.elapsed() >= JOURNAL_REFRESH))
                .unwrap_or(true);
            if due {
                let applied = journal.load().await?;
                let mut w = self.world.write().map_err(|_| poisoned())?;
                if w.applied() != applied.as_slice() {
                    *w = Arc::new((**w).clone().with_applied(applied));
                }
                if let Ok(mut s) = self.synced.lock() {
                    *s = Some(Instant::now());
                }
            }
        }
        self.world.read().map(|w| w.clone()).map_err(|_| poisoned())
    }

    fn readings_at(w: &SimWorld, at: Timestamp) -> Vec<ServiceReadings> {
        w.scenario()
            .services
            .iter()
            .map(|svc| {
                let now = w.signals(&svc.name, at).unwrap_or_default();
                ServiceReadings {
                    service: svc.name.clone(),
                    kind: kind_name(svc.kind),
                    readings: now
                        .into_iter()
                        .map(|(signal, value)| {
                            let base = svc.baseline.get(&signal).copied();
                            Reading::new(signal, value, base)
                        })
                        .collect(),
                }
            })
            .collect()
    }

    /// Applies or undoes on a copy, journals it, then publishes the copy.
    async fn change(
        &self,
        change: impl FnOnce(&mut SimWorld) -> Result<Applied, WorldError>,
    ) -> Result<Applied, WorldError> {
        let mut next = (*self.current().await?).clone();
        let applied = change(&mut next)?;
        if let Some(journal) = &self.journal {
            journal.record(applied.clone()).await?;
        }
        let mut w = self.world.write().map_err(|_| poisoned())?;
        // Another call may have changed the world meanwhile; add ours to whatever is there now.
        let mut all = w.applied().to_vec();
        all.push(applied.clone());
        *w = Arc::new((**w).clone().with_applied(all));
        Ok(applied)
    }
}

/// Now, to the microsecond: what a journal keeps, so a replayed action equals the one applied.
fn now_micros() -> Timestamp {
    let now = Timestamp::now();
    Timestamp::from_microsecond(now.as_microsecond()).unwrap_or(now)
}

fn poisoned() -> WorldError {
    WorldError::Unavailable("the simulated world is poisoned; restart the server".into())
}

fn kind_name(kind: super::scenario::ServiceKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn minutes_before(t: Timestamp, m: f64) -> Timestamp {
    t - SignedDuration::from_millis((m * 60_000.0) as i64)
}

impl World for SimulatedWorld {
    fn info(&self) -> WorldInfo {
        WorldInfo {
            kind: "simulated",
            name: self
                .world
                .read()
                .map(|w| w.scenario().name.clone())
                .unwrap_or_default(),
        }
    }

    fn services(&self) -> Vec<ServiceInfo> {
        let Ok(w) = self.world.read() else {
            return Vec::new();
        };
        w.scenario()
            .services
            .iter()
            .map(|s| ServiceInfo {
                name: s.name.clone(),
                kind: kind_name(s.kind),
                depends_on: s.depends_on.clone(),
            })
            .collect()
    }

    fn readings(&self) -> BoxFuture<'_, Result<Vec<ServiceReadings>, WorldError>> {
        Box::pin(async move {
            let w = self.current().await?;
            Ok(Self::readings_at(&w, Timestamp::now()))
        })
    }

    fn host(&self) -> BoxFuture<'_, Result<Option<Arc<HostSnapshot>>, WorldError>> {
        Box::pin(async { Ok(None) })
    }

    fn health(&self) -> BoxFuture<'_, Result<Vec<ServiceHealth>, WorldError>> {
        Box::pin(async move {
            let w = self.current().await?;
            Ok(Self::readings_at(&w, Timestamp::now())
                .iter()
                .map(|s| judge_readings(&s.service, &s.readings, &self.thresholds))
                .collect())
        })
    }

    fn history(
        &self,
        from: Timestamp,
        to: Timestamp,
        step: Duration,
    ) -> BoxFuture<'_, Result<Vec<SignalSeries>, WorldError>> {
        Box::pin(async move {
            let w = self.current().await?;
            let step = SignedDuration::try_from(step.max(Duration::from_secs(1)))
                .unwrap_or(SignedDuration::from_secs(60));
            let mut out: Vec<SignalSeries> = Vec::new();
            for svc in &w.scenario().services {
                let first = out.len();
                for (signal, base) in &svc.baseline {
                    out.push(SignalSeries {
                        service: svc.name.clone(),
                        signal: signal.clone(),
                        baseline: Some(*base),
                        points: Vec::new(),
                    });
                }
                let mut t = from;
                while t <= to {
                    let values = w.signals(&svc.name, t).unwrap_or_default();
                    for series in &mut out[first..] {
                        if let Some(v) = values.get(&series.signal) {
                            series.points.push((t, *v));
                        }
                    }
                    t += step;
                }
            }
            Ok(out)
        })
    }

    fn logs(&self, from: Timestamp, to: Timestamp) -> BoxFuture<'_, Result<LogStream, WorldError>> {
        Box::pin(async move {
            let w = self.current().await?;
            let stream = SimWorld::logs_shared(w, from, to).map(|l| LogEntry {
                at: l.at,
                service: l.service,
                level: l.level.name().to_string(),
                text: l.text,
            });
            Ok(Box::new(stream) as LogStream)
        })
    }

    fn events(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> BoxFuture<'_, Result<Vec<WorldEvent>, WorldError>> {
        Box::pin(async move {
            let w = self.current().await?;
            let mut events: Vec<WorldEvent> = w
                .scenario()
                .events
                .iter()
                .map(|e| WorldEvent {
                    at: minutes_before(w.started(), e.minutes_ago),
                    kind: serde_json::to_value(e.kind)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default(),
                    service: e.service.clone(),
                    detail: e.detail.clone(),
                })
                .chain(w.applied().iter().map(|a| WorldEvent {
                    at: a.at,
                    kind: "remediation".into(),
                    service: a.target.clone(),
                    detail: if a.rollback {
                        format!("rolled back {}", a.action)
                    } else {
                        format!("applied {}", a.action)
                    },
                }))
                .filter(|e| e.at >= from && e.at <= to)
                .collect();
            events.sort_by_key(|e| e.at);
            Ok(events)
        })
    }

    fn actions(&self) -> Vec<ActionInfo> {
        let Ok(w) = self.world.read() else {
            return Vec::new();
        };
        w.scenario()
            .actions
            .iter()
            .map(|a| ActionInfo {
                name: a.name.clone(),
                target: a.target.clone(),
                description: if a.description.is_empty() {
                    format!("{} {}", a.name.replace('-', " "), a.target)
                } else {
                    a.description.clone()
                },
                risk: a.risk,
                needs_approval: a.needs_approval,
                rollback: a
                    .reversible
                    .then(|| format!("undo {} on {}", a.name, a.target)),
                params: Default::default(),
            })
            .collect()
    }

    fn apply(&self, request: ActionRequest) -> BoxFuture<'_, Result<ActionReport, WorldError>> {
        Box::pin(async move {
            if !request.params.is_empty() {
                let names: Vec<_> = request.params.keys().cloned().collect();
                return Err(WorldError::BadAction(format!(
                    "action '{}' takes no parameters, but got: {}; send none",
                    request.action,
                    names.join(", ")
                )));
            }
            let now = now_micros();
            if request.dry_run {
                // Check that it exists without changing anything.
                let mut probe = (*self.current().await?).clone();
                probe
                    .apply(&request.action, &request.target, now)
                    .map_err(|e| WorldError::BadAction(e.to_string()))?;
                return Ok(report(
                    &request,
                    now,
                    true,
                    "dry run: the action exists and would run",
                ));
            }
            let (action, target) = (request.action.clone(), request.target.clone());
            self.change(move |w| {
                w.apply(&action, &target, now)
                    .map_err(|e| WorldError::BadAction(e.to_string()))?;
                w.applied()
                    .last()
                    .cloned()
                    .ok_or_else(|| WorldError::Unavailable("the action was not recorded".into()))
            })
            .await?;
            Ok(report(&request, now, false, "applied"))
        })
    }

    fn rollback(
        &self,
        action: &str,
        target: &str,
    ) -> BoxFuture<'_, Result<ActionReport, WorldError>> {
        let (action, target) = (action.to_string(), target.to_string());
        Box::pin(async move {
            let now = now_micros();
            let (a, t) = (action.clone(), target.clone());
            self.change(move |w| {
                w.undo(&a, &t, now)
                    .map_err(|e| WorldError::BadAction(e.to_string()))?;
                w.applied()
                    .last()
                    .cloned()
                    .ok_or_else(|| WorldError::Unavailable("the rollback was not recorded".into()))
            })
            .await?;
            Ok(ActionReport {
                action,
                target,
                dry_run: false,
                at: now,
                succeeded: true,
                output: "rolled back".into(),
            })
        })
    }
}

fn report(request: &ActionRequest, at: Timestamp, dry_run: bool, output: &str) -> ActionReport {
    ActionReport {
        action: request.action.clone(),
        target: request.target.clone(),
        dry_run,
        at,
        succeeded: true,
        output: output.to_string(),
    }
}

//! The live world: this host, the probed services and the Prometheus-watched services of the
//! config, behind [`World`].

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use futures::future::BoxFuture;
use jiff::{SignedDuration, Timestamp};

use super::{
    files::LogFileSource,
    host::HostMonitor,
    journald::{self, JournaldSource},
    probes::ProbeSpec,
    prometheus::PrometheusSource,
    runbook::{RunOutcome, Runbook},
};
use crate::{
    health::{Check, Reading, ServiceHealth, Status, Thresholds, judge_host, judge_readings},
    live::host::HostSnapshot,
    world::{
        ActionInfo, ActionReport, ActionRequest, LogEntry, LogStream, ServiceInfo, ServiceReadings,
        SignalSeries, World, WorldError, WorldEvent, WorldInfo,
    },
};

/// This machine, the services it probes and those a Prometheus watches.
#[derive(Debug)]
pub struct LiveWorld {
    name: String,
    host: HostMonitor,
    thresholds: Thresholds,
    probes: Vec<ProbeSpec>,
    http: reqwest::Client,
    prometheus: Option<PrometheusSource>,
    log_files: Vec<LogFileSource>,
    journald: Vec<JournaldSource>,
    runbook: Option<Runbook>,
    /// (service, signal) → baseline, and when it was computed.
    baselines: Mutex<Option<Baselines>>,
}

type Baselines = (Instant, BTreeMap<(String, String), f64>);

/// How long a computed baseline is reused: it averages an hour, so a minute changes little.
const BASELINE_TTL: Duration = Duration::from_secs(60);

impl LiveWorld {
    /// The live world over a running host sampler and the configured probes.
    pub fn new(
        host: HostMonitor,
        thresholds: Thresholds,
        probes: Vec<ProbeSpec>,
        http: reqwest::Client,
    ) -> Self {
        Self {
            name: sysinfo::System::host_name().unwrap_or_else(|_| "this host".into()),
            host,
            thresholds,
            probes,
            http,
            prometheus: None,
            log_files: Vec::new(),
            journald: Vec::new(),
            runbook: None,
            baselines: Mutex::new(None),
        }
    }

    /// Also read these services' log files (`[[log_files]]`).
    pub fn with_log_files(mut self, sources: Vec<LogFileSource>) -> Self {
        self.log_files = sources;
        self
    }

    /// Also read these services' journal entries (`[[journald]]`).
    pub fn with_journald(mut self, sources: Vec<JournaldSource>) -> Self {
        self.journald = sources;
        self
    }

    /// Offer these remediation actions (`[[runbook]]`).
    pub fn with_runbook(mut self, runbook: Runbook) -> Self {
        self.runbook = Some(runbook);
        self
    }

    fn runbook(&self) -> Result<&Runbook, WorldError> {
        self.runbook.as_ref().ok_or_else(|| {
            WorldError::BadAction(
                "no remediation actions are declared on this system; add [[runbook]] entries to \
                 the config"
                    .into(),
            )
        })
    }

    /// Also watch the services of a Prometheus (`[prometheus]` in the config).
    pub fn with_prometheus(mut self, source: PrometheusSource) -> Self {
        self.prometheus = Some(source);
        self
    }

    /// Each Prometheus-watched service's signals now, beside their baselines: the average over
    /// the hour that ended 15 minutes ago, so an incident in progress does not pull its own
    /// baseline along.
    async fn prometheus_readings(
        &self,
        prom: &PrometheusSource,
    ) -> Result<Vec<ServiceReadings>, WorldError> {
        let config = prom.config();
        let pairs: Vec<(&String, &String)> = config
            .services
            .iter()
            .flat_map(|svc| config.signals.keys().map(move |sig| (svc, sig)))
            .collect();
        let now = futures::future::join_all(
            pairs
                .iter()
                .map(|(svc, sig)| prom.signal_instant(sig, svc, None)),
        )
        .await;
        let baselines = self.baselines(prom, &pairs).await;
        let mut out: Vec<ServiceReadings> = config
            .services
            .iter()
            .map(|svc| ServiceReadings {
                service: svc.clone(),
                kind: "prometheus".into(),
                readings: Vec::new(),
            })
            .collect();
        for ((svc, sig), current) in pairs.iter().zip(now) {
            let current = current.map_err(|e| WorldError::Unavailable(e.to_string()))?;
            let Some(sample) = current else { continue };
            let baseline = baselines.get(&((*svc).clone(), (*sig).clone())).copied();
            if let Some(entry) = out.iter_mut().find(|s| &s.service == *svc) {
                entry
                    .readings
                    .push(Reading::new((*sig).clone(), round3(sample.value), baseline));
            }
        }
        Ok(out)
    }

    async fn baselines(
        &self,
        prom: &PrometheusSource,
        pairs: &[(&String, &String)],
    ) -> BTreeMap<(String, String), f64> {
        if let Ok(cached) = self.baselines.lock()
            && let Some((at, map)) = cached.as_ref()
            && at.elapsed() < BASELINE_TTL
        {
            return map.clone();
        }
        let end = Timestamp::now() - SignedDuration::from_mins(15);
        let start = end - SignedDuration::from_hours(1);
        let ranges =
            futures::future::join_all(pairs.iter().map(|(svc, sig)| {
                prom.signal_range(sig, svc, start, end, Duration::from_secs(60))
            }))
            .await;
        let mut map = BTreeMap::new();
        for ((svc, sig), range) in pairs.iter().zip(ranges) {
            let samples: Vec<f64> = range
                .ok()
                .flatten()
                .unwrap_or_default()
                .into_iter()
                .map(|s| s.value)
                .filter(|v| v.is_finite())
                .collect();
            if !samples.is_empty() {
                let mean = samples.iter().sum::<f64>() / samples.len() as f64;
                map.insert(((*svc).clone(), (*sig).clone()), round3(mean));
            }
        }
        if let Ok(mut cached) = self.baselines.lock() {
            *cached = Some((Instant::now(), map.clone()));
        }
        map
    }

    fn probed_services(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for p in &self.probes {
            if !names.contains(&p.service.as_str()) {
                names.push(&p.service);
            }
        }
        names
    }

    async fn snapshot(&self) -> Result<Arc<HostSnapshot>, WorldError> {
        self.host
            .snapshot()
            .await
            .map_err(|e| WorldError::Unavailable(e.to_string()))
    }
}

impl World for LiveWorld {
    fn info(&self) -> WorldInfo {
        WorldInfo {
            kind: "live",
            name: self.name.clone(),
        }
    }

    fn services(&self) -> Vec<ServiceInfo> {
        let host = ServiceInfo {
            name: "host".into(),
            kind: "host".into(),
            depends_on: Vec::new(),
        };
        std::iter::once(host)
            .chain(self.probed_services().into_iter().map(|name| ServiceInfo {
                name: name.into(),
                kind: "probed".into(),
                depends_on: Vec::new(),
            }))
            .chain(self.prometheus.iter().flat_map(|p| {
                p.config().services.iter().map(|name| ServiceInfo {
                    name: name.clone(),
                    kind: "prometheus".into(),
                    depends_on: Vec::new(),
                })
            }))
            .chain(journald::services(&self.journald))
            .collect()
    }

    fn readings(&self) -> BoxFuture<'_, Result<Vec<ServiceReadings>, WorldError>> {
        Box::pin(async move {
            let s = self.snapshot().await?;
            let disk = s.disks.iter().map(|d| d.used_percent).fold(0.0, f64::max);
            let mut all = vec![ServiceReadings {
                service: "host".into(),
                kind: "host".into(),
                readings: vec![
                    Reading::new("cpu_percent", s.cpu.usage_percent as f64, None),
                    Reading::new("memory_percent", s.memory.used_percent, None),
                    Reading::new("swap_percent", s.swap.used_percent, None),
                    Reading::new("load_per_core", s.load.one_per_core, None),
                    Reading::new("disk_used_percent", disk, None),
                ],
            }];
            // An unreachable Prometheus costs its services, not the whole answer; `health` says why.
            if let Some(prom) = &self.prometheus {
                match self.prometheus_readings(prom).await {
                    Ok(services) => all.extend(services),
                    Err(e) => tracing::warn!(error = %e, "prometheus readings unavailable"),
                }
            }
            Ok(all)
        })
    }

    fn host(&self) -> BoxFuture<'_, Result<Option<Arc<HostSnapshot>>, WorldError>> {
        Box::pin(async move { self.snapshot().await.map(Some) })
    }

    fn health(&self) -> BoxFuture<'_, Result<Vec<ServiceHealth>, WorldError>> {
        Box::pin(async move {
            let snapshot = self.snapshot().await?;
            let mut services = vec![judge_host(&snapshot, &self.thresholds)];
            let results = futures::future::join_all(
                self.probes
                    .iter()
                    .map(|p| async { (p.service.as_str(), p.run(&self.http).await) }),
            )
            .await;
            for name in self.probed_services() {
                let checks = results
                    .iter()
                    .filter(|(s, _)| *s == name)
                    .map(|(_, c)| c.clone())
                    .collect();
                services.push(ServiceHealth::new(name, checks));
            }
            if let Some(prom) = &self.prometheus {
                match self.prometheus_readings(prom).await {
                    Ok(watched) => services.extend(
                        watched
                            .iter()
                            .map(|s| judge_readings(&s.service, &s.readings, &self.thresholds)),
                    ),
                    Err(e) => services.extend(prom.config().services.iter().map(|name| {
                        ServiceHealth::new(
                            name.clone(),
                            vec![Check {
                                name: "prometheus".into(),
                                status: Status::Unhealthy,
                                value: 0.0,
                                unit: String::new(),
                                warning_at: None,
                                critical_at: None,
                                message: format!("no readings: {e}"),
                            }],
                        )
                    })),
                }
            }
            Ok(services)
        })
    }

    fn history(
        &self,
        from: Timestamp,
        to: Timestamp,
        step: Duration,
    ) -> BoxFuture<'_, Result<Vec<SignalSeries>, WorldError>> {
        Box::pin(async move {
            // Only Prometheus keeps history; the host sampler knows the present only.
            let Some(prom) = &self.prometheus else {
                return Ok(Vec::new());
            };
            let config = prom.config();
            let pairs: Vec<(&String, &String)> = config
                .services
                .iter()
                .flat_map(|svc| config.signals.keys().map(move |sig| (svc, sig)))
                .collect();
            let ranges = futures::future::join_all(
                pairs
                    .iter()
                    .map(|(svc, sig)| prom.signal_range(sig, svc, from, to, step)),
            )
            .await;
            let baselines = self.baselines(prom, &pairs).await;
            let mut out = Vec::new();
            for ((svc, sig), range) in pairs.iter().zip(ranges) {
                let samples = range
                    .map_err(|e| WorldError::Unavailable(e.to_string()))?
                    .unwrap_or_default();
                out.push(SignalSeries {
                    service: (*svc).clone(),
                    signal: (*sig).clone(),
                    baseline: baselines.get(&((*svc).clone(), (*sig).clone())).copied(),
                    points: samples
                        .into_iter()
                        .map(|s| (s.at, round3(s.value)))
                        .collect(),
                });
            }
            Ok(out)
        })
    }

    fn logs(&self, from: Timestamp, to: Timestamp) -> BoxFuture<'_, Result<LogStream, WorldError>> {
        let sources = self.log_files.clone();
        let journal = self.journald.clone();
        Box::pin(async move {
            let entries = tokio::task::spawn_blocking(move || {
                let mut entries = read_log_files(&sources, from, to);
                entries.extend(journald::read_all(&journal, from, to));
                entries.sort_by_key(|e| e.at);
                entries
            })
            .await
            .map_err(|e| WorldError::Unavailable(format!("reading log files failed: {e}")))?;
            Ok(Box::new(entries.into_iter()) as LogStream)
        })
    }

    fn events(
        &self,
        _from: Timestamp,
        _to: Timestamp,
    ) -> BoxFuture<'_, Result<Vec<WorldEvent>, WorldError>> {
        // No change feed is configured for a live system yet; remediations are on the incident's
        // timeline.
        Box::pin(async { Ok(Vec::new()) })
    }

    fn actions(&self) -> Vec<ActionInfo> {
        let Some(runbook) = &self.runbook else {
            return Vec::new();
        };
        runbook
            .actions()
            .map(|a| ActionInfo {
                name: a.name.clone(),
                target: a.service.clone(),
                description: a.description.clone(),
                risk: a.risk,
                needs_approval: a.needs_approval,
                rollback: a.rollback.clone(),
                params: a
                    .params
                    .iter()
                    .map(|(k, v)| (k.clone(), v.describe()))
                    .collect(),
            })
            .collect()
    }

    fn apply(&self, request: ActionRequest) -> BoxFuture<'_, Result<ActionReport, WorldError>> {
        Box::pin(async move {
            let runbook = self.runbook()?;
            let declared = runbook.actions().find(|a| a.name == request.action);
            if let Some(a) = declared
                && a.service != request.target
            {
                return Err(WorldError::BadAction(format!(
                    "action '{}' acts on service '{}', not '{}'",
                    a.name, a.service, request.target
                )));
            }
            let outcome = runbook
                .run(&request.action, &request.params, request.dry_run)
                .await
                .map_err(|e| WorldError::BadAction(e.to_string()))?;
            Ok(report(outcome))
        })
    }

    fn rollback(
        &self,
        action: &str,
        target: &str,
    ) -> BoxFuture<'_, Result<ActionReport, WorldError>> {
        let (action, target) = (action.to_string(), target.to_string());
        Box::pin(async move {
            let runbook = self.runbook()?;
            let undo = runbook
                .actions()
                .find(|a| a.name == action && a.service == target)
                .and_then(|a| a.rollback.clone())
                .ok_or_else(|| {
                    WorldError::BadAction(format!(
                        "action '{action}' on '{target}' declares no rollback; nothing was changed"
                    ))
                })?;
            let outcome = runbook
                .run(&undo, &Default::default(), false)
                .await
                .map_err(|e| WorldError::BadAction(e.to_string()))?;
            Ok(report(outcome))
        })
    }
}

/// A runbook outcome as the world reports it.
fn report(outcome: RunOutcome) -> ActionReport {
    let succeeded = outcome.succeeded() || (outcome.dry_run && !outcome.executed);
    let mut output = format!("{} {}", outcome.program.display(), outcome.args.join(" "));
    if outcome.dry_run && !outcome.executed {
        output = format!("dry run: would run {output}");
    } else {
        output = format!(
            "ran {output}: exit {}{}\n{}{}",
            outcome
                .exit_code
                .map_or_else(|| "none".to_string(), |c| c.to_string()),
            if outcome.timed_out {
                " (timed out)"
            } else {
                ""
            },
            outcome.stdout,
            outcome.stderr
        );
    }
    ActionReport {
        action: outcome.action,
        target: outcome.service,
        dry_run: outcome.dry_run,
        at: Timestamp::now(),
        succeeded,
        output,
    }
}

fn read_log_files(sources: &[LogFileSource], from: Timestamp, to: Timestamp) -> Vec<LogEntry> {
    let defaults = opsmcp_logs::TimeDefaults {
        year: jiff::tz::TimeZone::UTC.to_datetime(from).year(),
        zone: jiff::tz::TimeZone::UTC,
    };
    let mut out = Vec::new();
    for source in sources {
        let lines = match source.read(&Default::default()) {
            Ok(lines) => lines,
            Err(e) => {
                tracing::warn!(service = %source.spec().service, error = %e, "log files unreadable");
                continue;
            }
        };
        let lines: Vec<String> = lines.filter_map(|l| l.ok()).map(|l| l.line).collect();
        let sample: Vec<&str> = lines.iter().take(200).map(String::as_str).collect();
        let parser = opsmcp_logs::Parser::learn(&sample);
        for line in &lines {
            let record = parser.parse(line);
            let Some(at) = record.timestamp(&defaults) else {
                continue;
            };
            if at < from || at >= to {
                continue;
            }
            out.push(LogEntry {
                at,
                service: source.spec().service.clone(),
                level: record
                    .level
                    .map_or("unknown", |l| l.as_str())
                    .to_ascii_lowercase(),
                text: line.to_string(),
            });
        }
    }
    out.sort_by_key(|e| e.at);
    out
}

fn round3(x: f64) -> f64 {
    if x.is_finite() {
        (x * 1000.0).round() / 1000.0
    } else {
        x
    }
}

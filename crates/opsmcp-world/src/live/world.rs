//! The live world: this host, the probed services and the Prometheus-watched services of the
//! config, behind [`World`].

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use futures::future::BoxFuture;
use jiff::{SignedDuration, Timestamp};

use super::{host::HostMonitor, probes::ProbeSpec, prometheus::PrometheusSource};
use crate::{
    health::{Check, Reading, ServiceHealth, Status, Thresholds, judge_host, judge_readings},
    live::host::HostSnapshot,
    world::{ServiceInfo, ServiceReadings, World, WorldError, WorldInfo},
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
            baselines: Mutex::new(None),
        }
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
}

fn round3(x: f64) -> f64 {
    if x.is_finite() {
        (x * 1000.0).round() / 1000.0
    } else {
        x
    }
}

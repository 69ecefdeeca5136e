//! The live world: this host plus the probed services of the config, behind [`World`].

use std::sync::Arc;

use futures::future::BoxFuture;

use super::{host::HostMonitor, probes::ProbeSpec};
use crate::{
    health::{Reading, ServiceHealth, Thresholds, judge_host},
    live::host::HostSnapshot,
    world::{ServiceInfo, ServiceReadings, World, WorldError, WorldInfo},
};

/// This machine and the services it probes.
#[derive(Debug)]
pub struct LiveWorld {
    name: String,
    host: HostMonitor,
    thresholds: Thresholds,
    probes: Vec<ProbeSpec>,
    http: reqwest::Client,
}

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
        }
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
            .collect()
    }

    fn readings(&self) -> BoxFuture<'_, Result<Vec<ServiceReadings>, WorldError>> {
        Box::pin(async move {
            let s = self.snapshot().await?;
            let disk = s.disks.iter().map(|d| d.used_percent).fold(0.0, f64::max);
            Ok(vec![ServiceReadings {
                service: "host".into(),
                kind: "host".into(),
                readings: vec![
                    Reading::new("cpu_percent", s.cpu.usage_percent as f64, None),
                    Reading::new("memory_percent", s.memory.used_percent, None),
                    Reading::new("swap_percent", s.swap.used_percent, None),
                    Reading::new("load_per_core", s.load.one_per_core, None),
                    Reading::new("disk_used_percent", disk, None),
                ],
            }])
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
            Ok(services)
        })
    }
}

//! The simulated world behind [`World`]: the scenario read at the wall-clock time of each call.

use std::sync::{Arc, RwLock};

use futures::future::BoxFuture;
use jiff::Timestamp;

use super::SimWorld;
use crate::{
    health::{Reading, ServiceHealth, Thresholds, judge_readings},
    live::host::HostSnapshot,
    world::{ServiceInfo, ServiceReadings, World, WorldError, WorldInfo},
};

/// A scenario in play, shared by every tool call of a server.
#[derive(Debug)]
pub struct SimulatedWorld {
    world: RwLock<SimWorld>,
    thresholds: Thresholds,
}

impl SimulatedWorld {
    /// Serves `world`, judging saturation signals with `thresholds`.
    pub fn new(world: SimWorld, thresholds: Thresholds) -> Self {
        Self {
            world: RwLock::new(world),
            thresholds,
        }
    }

    fn read<T>(&self, f: impl FnOnce(&SimWorld) -> T) -> Result<T, WorldError> {
        self.world.read().map(|w| f(&w)).map_err(|_| {
            WorldError::Unavailable("the simulated world is poisoned; restart the server".into())
        })
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
}

fn kind_name(kind: super::scenario::ServiceKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

impl World for SimulatedWorld {
    fn info(&self) -> WorldInfo {
        WorldInfo {
            kind: "simulated",
            name: self.read(|w| w.scenario().name.clone()).unwrap_or_default(),
        }
    }

    fn services(&self) -> Vec<ServiceInfo> {
        self.read(|w| {
            w.scenario()
                .services
                .iter()
                .map(|s| ServiceInfo {
                    name: s.name.clone(),
                    kind: kind_name(s.kind),
                    depends_on: s.depends_on.clone(),
                })
                .collect()
        })
        .unwrap_or_default()
    }

    fn readings(&self) -> BoxFuture<'_, Result<Vec<ServiceReadings>, WorldError>> {
        Box::pin(async move { self.read(|w| Self::readings_at(w, Timestamp::now())) })
    }

    fn host(&self) -> BoxFuture<'_, Result<Option<Arc<HostSnapshot>>, WorldError>> {
        Box::pin(async { Ok(None) })
    }

    fn health(&self) -> BoxFuture<'_, Result<Vec<ServiceHealth>, WorldError>> {
        Box::pin(async move {
            self.read(|w| {
                Self::readings_at(w, Timestamp::now())
                    .iter()
                    .map(|s| judge_readings(&s.service, &s.readings, &self.thresholds))
                    .collect()
            })
        })
    }
}

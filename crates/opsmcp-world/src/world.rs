//! The one interface every tool uses: a live system and a simulated incident look the same
//! through it.

use std::sync::Arc;

use futures::future::BoxFuture;
use schemars::JsonSchema;
use serde::Serialize;

use crate::{
    health::{Reading, ServiceHealth},
    live::host::HostSnapshot,
};

/// Which world a server talks to, for humans and for `/health`; tools must not branch on it.
#[derive(Debug, Clone, Serialize, JsonSchema, PartialEq)]
pub struct WorldInfo {
    /// `live` or `simulated`.
    pub kind: &'static str,
    /// The host name (live) or the scenario name (simulated).
    pub name: String,
}

/// A service the world knows.
#[derive(Debug, Clone, Serialize, JsonSchema, PartialEq)]
pub struct ServiceInfo {
    /// Its name.
    pub name: String,
    /// `api`, `worker`, `database`, `cache`, `queue`, `external`, `host`, `probed`.
    pub kind: String,
    /// Services it calls.
    pub depends_on: Vec<String>,
}

/// A service's readings now.
#[derive(Debug, Clone, Serialize, JsonSchema, PartialEq)]
pub struct ServiceReadings {
    /// The service.
    pub service: String,
    /// Its kind.
    pub kind: String,
    /// Each signal, current and baseline.
    pub readings: Vec<Reading>,
}

/// Why the world could not answer.
#[derive(Debug, thiserror::Error)]
pub enum WorldError {
    /// A source is unreachable or unreadable; the message says which and what to check.
    #[error("{0}")]
    Unavailable(String),
}

/// What the tools read; implemented by the live world and the simulated one.
pub trait World: Send + Sync {
    /// Which world this is.
    fn info(&self) -> WorldInfo;

    /// The services it watches.
    fn services(&self) -> Vec<ServiceInfo>;

    /// Every service's signals now, beside their baselines.
    fn readings(&self) -> BoxFuture<'_, Result<Vec<ServiceReadings>, WorldError>>;

    /// This machine's own vital signs, where the world is this machine.
    fn host(&self) -> BoxFuture<'_, Result<Option<Arc<HostSnapshot>>, WorldError>>;

    /// Every service judged healthy, degraded or unhealthy, with the numbers behind it.
    fn health(&self) -> BoxFuture<'_, Result<Vec<ServiceHealth>, WorldError>>;
}

//! The monitoring & analysis server (port 9001): metrics and health of what is watched.
//!
//! Each tool lives in its own file with the same shape; this file only routes calls to them.

pub mod get_system_metrics;
pub mod verify_health;

use std::{
    sync::{Arc, OnceLock},
    time::Duration,
};

use futures::future::BoxFuture;
use opsmcp_mcp::{CheckResult, HealthCheck};
use opsmcp_world::{World, live::host::HostMonitor};
use rmcp::{
    Json, ServerHandler,
    handler::server::{router::tool::ToolRouter, wrapper::Parameters},
    model::{Implementation, ServerCapabilities, ServerConfig},
    tool, tool_handler, tool_router,
};

/// What the monitoring tools read: a world, live or simulated; the tools cannot tell which.
pub type Monitoring = dyn World;

/// The rmcp handler; cloning it is an `Arc` clone, so one per request is cheap.
#[derive(Clone)]
pub struct MonitoringServer {
    world: Arc<Monitoring>,
}

impl std::fmt::Debug for MonitoringServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MonitoringServer")
            .field("world", &self.world.info())
            .finish()
    }
}

impl MonitoringServer {
    /// A handler over `world`.
    pub fn new(world: Arc<Monitoring>) -> Self {
        Self { world }
    }

    /// Built once: tool schemas are generated at the first call, not per request.
    fn router() -> &'static ToolRouter<Self> {
        static ROUTER: OnceLock<ToolRouter<MonitoringServer>> = OnceLock::new();
        ROUTER.get_or_init(Self::tool_router)
    }
}

#[tool_router]
impl MonitoringServer {
    #[tool(description = get_system_metrics::DESCRIPTION, annotations(read_only_hint = true, open_world_hint = false))]
    async fn get_system_metrics(
        &self,
        Parameters(args): Parameters<get_system_metrics::Args>,
    ) -> Result<Json<get_system_metrics::Output>, String> {
        get_system_metrics::run(self.world.as_ref(), args)
            .await
            .map(Json)
            .map_err(|e| e.to_string())
    }

    #[tool(description = verify_health::DESCRIPTION, annotations(read_only_hint = true, open_world_hint = true))]
    async fn verify_health(
        &self,
        Parameters(args): Parameters<verify_health::Args>,
    ) -> Result<Json<verify_health::Output>, String> {
        verify_health::run(self.world.as_ref(), args)
            .await
            .map(Json)
            .map_err(|e| e.to_string())
    }
}

#[tool_handler(router = Self::router())]
impl ServerHandler for MonitoringServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new(
                "opsmcp-monitoring",
                env!("CARGO_PKG_VERSION"),
            ))
            .with_instructions(
                "Monitoring & analysis for incident response. get_system_metrics returns every \
                 watched service's signals beside their baselines (and, on a live system, this \
                 host's CPU, load, memory, swap, disks, network and top processes); \
                 verify_health judges each service healthy, degraded or unhealthy with the \
                 numbers behind the verdict. Both work with no arguments.",
            )
    }
}

/// Refuses a `service` argument the world does not watch, listing the ones it does.
fn check_service(world: &Monitoring, service: Option<&str>) -> Result<(), crate::ToolError> {
    let Some(wanted) = service else { return Ok(()) };
    let known: Vec<String> = world.services().into_iter().map(|s| s.name).collect();
    if known.iter().any(|k| k == wanted) {
        return Ok(());
    }
    Err(crate::ToolError::InvalidArgument {
        argument: "service",
        problem: format!(
            "no service '{wanted}' is watched; send one of: {}, or omit it for all",
            known.join(", ")
        ),
    })
}

/// `/health` check: the host sampler is producing readings.
pub struct SamplerCheck {
    /// The sampler to watch.
    pub host: HostMonitor,
    /// Oldest acceptable reading.
    pub max_age: Duration,
}

impl HealthCheck for SamplerCheck {
    fn name(&self) -> &str {
        "host_sampler"
    }

    fn check(&self) -> BoxFuture<'_, CheckResult> {
        Box::pin(async move {
            if let Some(why) = self.host.failure() {
                return CheckResult::failing(format!("the host sampler stopped: {why}"));
            }
            match self.host.age() {
                // Tools wait for the first reading, so a starting server is healthy.
                None => CheckResult::ok("first reading in progress"),
                Some(age) if age <= self.max_age => {
                    CheckResult::ok(format!("last reading {} ms ago", age.as_millis()))
                }
                Some(age) => CheckResult::failing(format!(
                    "the last host reading is {} s old (expected every {} s or less); the \
                     sampler thread is stuck or starved",
                    age.as_secs(),
                    self.max_age.as_secs()
                )),
            }
        })
    }
}

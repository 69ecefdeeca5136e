//! `verify_health`: is each watched service healthy, degraded or unhealthy, and why?

use opsmcp_mcp::Caller;
use opsmcp_world::health::{ServiceHealth, Status};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Monitoring;
use crate::ToolError;

/// What the model reads about this tool.
pub const DESCRIPTION: &str = "Verify health: judges every watched service healthy, degraded or \
unhealthy from its signals (against its own baseline, and configured thresholds for CPU, \
memory and disk); on a live system also this host and the configured HTTP/TCP probes. Every \
verdict comes with the numbers behind it. Call with no arguments for everything; pass `service` \
for one.";

/// Arguments; all optional.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// One service to check (as listed by get_system_metrics). All when omitted.
    #[serde(default)]
    pub service: Option<String>,
}

/// The verdicts.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// Worst status among the services.
    pub status: Status,
    /// When the check ran (RFC 3339, UTC).
    pub checked_at: String,
    /// One line for a human: what is unhealthy or degraded, or that all is well.
    pub summary: String,
    /// Each service with its checks.
    pub services: Vec<ServiceHealth>,
}

/// Asks the world for its verdicts and keeps the service asked for.
pub async fn run(ctx: &Monitoring, _caller: &Caller, args: Args) -> Result<Output, ToolError> {
    let world = ctx.world.as_ref();
    super::check_service(world, args.service.as_deref())?;
    let mut services = world
        .health()
        .await
        .map_err(|e| ToolError::Unavailable(e.to_string()))?;
    if let Some(one) = &args.service {
        services.retain(|s| &s.service == one);
    }
    let status = services
        .iter()
        .map(|s| s.status)
        .max()
        .unwrap_or(Status::Healthy);
    let sick: Vec<String> = services
        .iter()
        .flat_map(|s| {
            s.checks
                .iter()
                .filter(|c| c.status != Status::Healthy)
                .map(move |c| format!("{}: {}", s.service, c.message))
        })
        .collect();
    let summary = if sick.is_empty() {
        format!("all {} service(s) healthy", services.len())
    } else {
        sick.join("; ")
    };
    Ok(Output {
        status,
        checked_at: jiff::Timestamp::now().to_string(),
        summary,
        services,
    })
}

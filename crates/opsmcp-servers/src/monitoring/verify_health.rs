//! `verify_health`: is the host within its thresholds, and do the configured services answer?

use opsmcp_world::live::health::{ServiceHealth, Status, judge_host};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Monitoring;
use crate::ToolError;

/// What the model reads about this tool.
pub const DESCRIPTION: &str = "Verify health: judges the host (CPU, memory, swap, disks, load) \
against thresholds and runs the configured HTTP/TCP probes of each service, returning every \
verdict with the numbers behind it. Call with no arguments for everything; pass `service` \
(`host` or a probed service name) for one.";

/// Arguments; all optional.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// One service to check: `host`, or the name of a service with probes in the config.
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

/// Judges the host and runs the probes (concurrently) for the services asked for.
pub async fn run(world: &Monitoring, args: Args) -> Result<Output, ToolError> {
    let mut names: Vec<&str> = vec!["host"];
    for p in &world.probes {
        if !names.contains(&p.service.as_str()) {
            names.push(&p.service);
        }
    }
    if let Some(wanted) = &args.service
        && !names.contains(&wanted.as_str())
    {
        return Err(ToolError::InvalidArgument {
            argument: "service",
            problem: format!(
                "no service '{wanted}' is watched; send one of: {}, or omit it for all",
                names.join(", ")
            ),
        });
    }
    let wants = |name: &str| args.service.as_deref().is_none_or(|w| w == name);

    let mut services = Vec::new();
    if wants("host") {
        let snap = world
            .host
            .snapshot()
            .await
            .map_err(|e| ToolError::Unavailable(e.to_string()))?;
        services.push(judge_host(&snap, &world.thresholds));
    }
    let probes = world.probes.iter().filter(|p| wants(&p.service));
    let results = futures::future::join_all(
        probes.map(|p| async { (p.service.as_str(), p.run(&world.http).await) }),
    )
    .await;
    for name in names.iter().skip(1).filter(|n| wants(n)) {
        let checks = results
            .iter()
            .filter(|(s, _)| s == name)
            .map(|(_, c)| c.clone())
            .collect();
        services.push(ServiceHealth::new(*name, checks));
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

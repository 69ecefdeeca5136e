//! `get_incident`: an incident with its timeline, remediations and notifications.

use opsmcp_mcp::Caller;
use opsmcp_store::{IncidentDetail, Notification, Remediation};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Workflow;
use crate::ToolError;

/// What the model reads about this tool.
pub const DESCRIPTION: &str = "Get one incident by id (INC-0001): its status, severity, \
services, the whole timeline (who did what, when), the remediations run with their state \
before and after, and the delivery status of its notifications.";

/// Arguments.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The incident's id, e.g. INC-0001.
    pub incident_id: String,
}

/// The incident and what happened to it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// The incident and its timeline.
    #[schemars(with = "serde_json::Map<String, serde_json::Value>")]
    pub incident: IncidentDetail,
    /// Remediations, oldest first.
    #[schemars(with = "Vec<serde_json::Map<String, serde_json::Value>>")]
    pub remediations: Vec<Remediation>,
    /// Notifications about it and whether they were delivered.
    #[schemars(with = "Vec<serde_json::Map<String, serde_json::Value>>")]
    pub notifications: Vec<Notification>,
}

/// Reads it from the store.
pub async fn run(ctx: &Workflow, _caller: &Caller, args: Args) -> Result<Output, ToolError> {
    Ok(read(ctx, &args.incident_id).await?)
}

/// The incident and what happened to it, as the store has them: also what the
/// `incident://{incident_id}` resource returns, so tool and resource cannot drift apart.
pub async fn read(ctx: &Workflow, incident_id: &str) -> Result<Output, opsmcp_store::StoreError> {
    let incident = ctx.store.get_incident(incident_id).await?;
    let remediations = ctx.store.remediations_for(incident_id).await?;
    let notifications = ctx.store.notifications_for_incident(incident_id).await?;
    Ok(Output {
        incident,
        remediations,
        notifications,
    })
}

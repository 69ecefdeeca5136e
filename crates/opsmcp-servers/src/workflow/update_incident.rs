//! `update_incident`: move an incident through its lifecycle, change severity or assignee, add
//! a note.

use opsmcp_mcp::Caller;
use opsmcp_store::{Incident, Severity, Status};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Workflow;
use crate::ToolError;

/// What the model reads about this tool.
pub const DESCRIPTION: &str = "Update an incident: status (triggered -> acknowledged -> \
investigating -> mitigated -> resolved -> closed; skipping forward is allowed, going back is \
not; cancelled from any open state), severity, assignee, and/or a note for the timeline. Every \
change is on the timeline with who made it.";

/// Arguments: the id and at least one change.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The incident's id, e.g. INC-0001.
    pub incident_id: String,
    /// The new status.
    #[serde(default)]
    pub status: Option<String>,
    /// The new severity.
    #[serde(default)]
    pub severity: Option<String>,
    /// Who is on it now.
    #[serde(default)]
    pub assignee: Option<String>,
    /// A note for the timeline.
    #[serde(default)]
    pub note: Option<String>,
}

/// The incident after the change.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// The incident.
    #[schemars(with = "serde_json::Map<String, serde_json::Value>")]
    pub incident: Incident,
}

/// Validates everything first, then applies: a bad status leaves the rest unchanged too.
pub async fn run(ctx: &Workflow, caller: &Caller, args: Args) -> Result<Output, ToolError> {
    let actor = caller.identity.subject.as_str();
    let status: Option<Status> = args.status.as_deref().map(str::parse).transpose()?;
    let severity: Option<Severity> = args.severity.as_deref().map(str::parse).transpose()?;
    if status.is_none() && severity.is_none() && args.assignee.is_none() && args.note.is_none() {
        return Err(ToolError::InvalidArgument {
            argument: "status",
            problem: "nothing to change; give status, severity, assignee or note".into(),
        });
    }
    let mut incident = ctx.store.get_incident(&args.incident_id).await?.incident;
    if let Some(to) = status
        && to != incident.status
        && !incident.status.allowed_next().contains(&to)
    {
        // Refused before anything is written, so a bad status changes nothing else either.
        return Err(opsmcp_store::StoreError::IllegalTransition {
            id: incident.id,
            from: incident.status,
            to,
            allowed: incident.status.allowed_next(),
        }
        .into());
    }
    if severity.is_some() || args.assignee.is_some() || (status.is_none() && args.note.is_some()) {
        incident = ctx
            .store
            .update(
                &args.incident_id,
                severity,
                args.assignee.as_deref(),
                if status.is_none() {
                    args.note.as_deref()
                } else {
                    None
                },
                actor,
            )
            .await?;
    }
    if let Some(to) = status
        && incident.status != to
    {
        incident = ctx
            .store
            .transition(&args.incident_id, to, actor, args.note.as_deref())
            .await?;
    }
    Ok(Output { incident })
}

//! `document_resolution`: write the postmortem and resolve the incident.

use opsmcp_workflow::postmortem::{self, Postmortem};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Workflow;
use crate::ToolError;

/// What the model reads about this tool.
pub const DESCRIPTION: &str = "Document an incident's resolution: writes a Markdown postmortem \
(summary, impact, the timeline from the incident record, root cause and evidence, remediation \
and verification, action items) with SVG charts of the signals that moved most, saves it in \
the data directory, returns it with its path, and resolves the incident.";

/// Arguments.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The incident's id, e.g. INC-0001.
    pub incident_id: String,
    /// What caused it.
    pub root_cause: String,
    /// What was done to end it.
    pub resolution: String,
    /// Who and what was affected.
    #[serde(default)]
    pub impact: Option<String>,
    /// Facts supporting the root cause.
    #[serde(default)]
    pub evidence: Vec<String>,
    /// Follow-up work.
    #[serde(default)]
    pub action_items: Vec<String>,
}

/// The postmortem.
pub type Output = Postmortem;

/// Writes it.
pub async fn run(ctx: &Workflow, args: Args, actor: &str) -> Result<Output, ToolError> {
    Ok(postmortem::document(
        &ctx.store,
        &ctx.world,
        &ctx.postmortems,
        postmortem::Request {
            incident_id: args.incident_id,
            root_cause: args.root_cause,
            resolution: args.resolution,
            impact: args.impact,
            evidence: args.evidence,
            action_items: args.action_items,
            actor: actor.to_string(),
        },
    )
    .await?)
}

//! `create_incident`: open an incident, or join the open one with the same dedup key.

use opsmcp_mcp::Caller;
use opsmcp_store::{Incident, NewIncident, Severity};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Workflow;
use crate::ToolError;

/// What the model reads about this tool.
pub const DESCRIPTION: &str = "Create an incident. severity is SEV1 (worst) to SEV5, or \
critical/high/warning/low/info (= SEV1..SEV5). With a dedup_key, an open incident with the same \
key is returned instead of a new one (deduplicated: true) and the repeat is added to its \
timeline, so an alert that fires again does not open a second incident. Returns the incident \
with its id (INC-0001).";

/// Arguments.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// One line saying what is wrong (at most 200 characters).
    pub title: String,
    /// SEV1..SEV5 or critical, high, warning, low, info.
    pub severity: String,
    /// Longer text.
    #[serde(default)]
    pub description: Option<String>,
    /// Affected services.
    #[serde(default)]
    pub services: Vec<String>,
    /// Repeats of one problem share this key and join the open incident.
    #[serde(default)]
    pub dedup_key: Option<String>,
}

/// The incident.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// The incident as stored.
    #[schemars(with = "serde_json::Map<String, serde_json::Value>")]
    pub incident: Incident,
    /// An open incident with this dedup key existed and is returned instead of a new one.
    pub deduplicated: bool,
}

/// Opens or joins the incident.
pub async fn run(ctx: &Workflow, caller: &Caller, args: Args) -> Result<Output, ToolError> {
    let actor = caller.identity.subject.as_str();
    if args.title.chars().count() > 200 {
        return Err(ToolError::InvalidArgument {
            argument: "title",
            problem: "longer than 200 characters; put the details in description".into(),
        });
    }
    let severity: Severity = args
        .severity
        .parse()
        .map_err(|e: opsmcp_store::StoreError| ToolError::InvalidArgument {
            argument: "severity",
            problem: e.to_string(),
        })?;
    let (incident, deduplicated) = ctx
        .store
        .create_incident(
            NewIncident {
                title: args.title,
                severity,
                description: args.description,
                services: args.services,
                dedup_key: args.dedup_key,
            },
            actor,
        )
        .await?;
    Ok(Output {
        incident,
        deduplicated,
    })
}

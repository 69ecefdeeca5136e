//! `list_incidents`: incidents by status, severity and service, newest first, a page at a time.

use opsmcp_mcp::Caller;
use opsmcp_store::{Incident, IncidentFilter, PageRequest};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Workflow;
use crate::ToolError;

/// What the model reads about this tool.
pub const DESCRIPTION: &str = "List incidents, newest first. Optional filters: status \
(triggered, acknowledged, investigating, mitigated, resolved, closed, cancelled), severity \
(SEV1..SEV5), service. limit is 1-200 (default 20); pass next_cursor back as cursor for the \
next page.";

/// Arguments; all optional.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Only this status.
    #[serde(default)]
    pub status: Option<String>,
    /// Only this severity.
    #[serde(default)]
    pub severity: Option<String>,
    /// Only incidents affecting this service.
    #[serde(default)]
    pub service: Option<String>,
    /// Page size, 1-200 (default 20).
    #[serde(default)]
    pub limit: Option<u32>,
    /// The next_cursor of the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
}

/// One page.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// The incidents.
    #[schemars(with = "Vec<serde_json::Map<String, serde_json::Value>>")]
    pub incidents: Vec<Incident>,
    /// Pass as cursor for the next page; absent at the end.
    pub next_cursor: Option<String>,
}

/// Reads a page from the store.
pub async fn run(ctx: &Workflow, _caller: &Caller, args: Args) -> Result<Output, ToolError> {
    let filter = IncidentFilter {
        status: args.status.as_deref().map(str::parse).transpose()?,
        severity: args.severity.as_deref().map(str::parse).transpose()?,
        service: args.service,
    };
    let page = ctx
        .store
        .list_incidents(
            &filter,
            &PageRequest {
                limit: args.limit.unwrap_or(20),
                cursor: args.cursor,
            },
        )
        .await?;
    Ok(Output {
        incidents: page.items,
        next_cursor: page.next_cursor,
    })
}

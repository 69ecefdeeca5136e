//! `await_approval`: wait for a human to approve an action `execute_remediation` held.

use std::time::Duration;

use opsmcp_mcp::Caller;
use opsmcp_workflow::approval::{self, Awaited};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Workflow;
use crate::ToolError;

/// What the model reads about this tool.
pub const DESCRIPTION: &str = "Wait for a human to approve an action that execute_remediation \
held for approval (outcome pending_approval). Waits up to wait_s seconds (default 30, at most \
60; call again to wait longer). status approved: call execute_remediation again with the same \
action and it runs; pending: nobody decided yet; closed: the incident is no longer open. Only \
an action whose approval was requested on the incident can be waited for.";

/// Arguments.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The incident's id, e.g. INC-0001.
    pub incident_id: String,
    /// The held action: `name` or `name@service`.
    pub action: String,
    /// The service, if not given in `action`.
    #[serde(default)]
    pub target: Option<String>,
    /// How long to wait, in seconds: 0 to 60, default 30.
    #[serde(default)]
    #[schemars(range(min = 0, max = 60))]
    pub wait_s: Option<u32>,
}

/// Where the held action stands.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// `approved`, `pending` or `closed`.
    pub status: String,
    /// For `approved`: who approved.
    pub approved_by: Option<String>,
    /// For `approved`: when (RFC 3339).
    pub approved_at: Option<String>,
    /// For `pending`: how long this call waited, in seconds.
    pub waited_s: Option<f64>,
    /// For `closed`: the incident's status.
    pub incident_status: Option<String>,
    /// What to do next, in one line.
    pub next: String,
}

/// Waits in the store for the approval.
pub async fn run(ctx: &Workflow, _caller: &Caller, args: Args) -> Result<Output, ToolError> {
    let (action, target) = match args.action.split_once('@') {
        Some((a, t)) => (a.to_string(), Some(t.to_string())),
        None => (args.action.clone(), args.target.clone()),
    };
    let wait = Duration::from_secs(u64::from(args.wait_s.unwrap_or(30)));
    let awaited = approval::await_approval(
        &ctx.store,
        &args.incident_id,
        &action,
        target.as_deref(),
        wait,
    )
    .await?;
    Ok(match awaited {
        Awaited::Approved { approval } => Output {
            status: "approved".into(),
            next: format!(
                "call execute_remediation with action {action} again: it runs now (approved by {})",
                approval.approved_by
            ),
            approved_by: Some(approval.approved_by),
            approved_at: Some(approval.approved_at.to_string()),
            waited_s: None,
            incident_status: None,
        },
        Awaited::Pending { waited_s } => Output {
            status: "pending".into(),
            approved_by: None,
            approved_at: None,
            waited_s: Some(waited_s),
            incident_status: None,
            next: format!(
                "nobody has decided yet: wait again, or go on without {action} and say it awaits approval"
            ),
        },
        Awaited::Closed { incident_status } => Output {
            status: "closed".into(),
            approved_by: None,
            approved_at: None,
            waited_s: None,
            next: format!("the incident is {incident_status}: nothing runs on it any more"),
            incident_status: Some(incident_status),
        },
    })
}

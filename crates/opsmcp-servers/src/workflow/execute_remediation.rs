//! `execute_remediation`: run a remediation action for an incident, closed loop.

use std::collections::BTreeMap;

use opsmcp_mcp::Caller;
use opsmcp_workflow::remediate::{self, Outcome};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Workflow;
use crate::ToolError;

/// What the model reads about this tool.
pub const DESCRIPTION: &str = "Execute a remediation action for an incident. action is the \
action's name, or name@service when several services offer it (the actions offered are listed \
in errors and by root_cause_analysis). It records health before, runs the action, watches \
health until the services recover (or a timeout), rolls back actions that declare a rollback \
when health does not recover, and puts every step on the incident's timeline. Actions that \
need approval, and any run with ask_approval, do not run until a human approves them (the \
answer says how). The same \
idempotency_key never runs an action twice. dry_run checks and shows without changing anything.";

/// Arguments.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The incident's id, e.g. INC-0001.
    pub incident_id: String,
    /// The action: `name` or `name@service`.
    pub action: String,
    /// The service, if not given in `action`.
    #[serde(default)]
    pub target: Option<String>,
    /// The action's parameters, if it takes any.
    #[serde(default)]
    pub parameters: BTreeMap<String, serde_json::Value>,
    /// Check and show, change nothing.
    #[serde(default)]
    pub dry_run: bool,
    /// A repeat with the same key returns the first run instead of running again.
    #[serde(default)]
    pub idempotency_key: Option<String>,
    /// Why this action: the diagnosis and its evidence, shown to whoever must approve it.
    #[serde(default)]
    pub reason: Option<String>,
    /// The services your diagnosis says this action heals: the faulty component and the
    /// services its trouble reaches. Those of them unhealthy before must be healthy after
    /// for the action to count; other unhealthy services (another story) are left out of the
    /// verdict and listed as `left_unhealthy`. Leave the action's target out when the action
    /// moves the callers off it instead of repairing it (a failover, a circuit broken): the
    /// target's own trouble is then left for a human, listed in `left_unhealthy`, and its
    /// callers must heal. Omit it and every unhealthy service must heal.
    #[serde(default)]
    pub heals: Vec<String>,
    /// Hold the run for a human's approval even if the action does not require one (a
    /// high-risk action you would rather not run unattended). Nothing runs until approved.
    #[serde(default)]
    pub ask_approval: bool,
}

/// What happened.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// `ran`, `repeated` (the idempotency key had run before; nothing ran now) or
    /// `pending_approval` (nothing ran).
    pub outcome: String,
    /// The remediation record: status (succeeded, failed, rolled_back, dry_run), health before
    /// and after, output, verification, rollback.
    #[schemars(with = "Option<serde_json::Map<String, serde_json::Value>>")]
    pub remediation: Option<opsmcp_store::Remediation>,
    /// For `pending_approval`: the command a human runs to approve.
    pub approve_with: Option<String>,
    /// One line for a human.
    pub summary: String,
}

/// Hands the request to the remediation loop.
pub async fn run(ctx: &Workflow, caller: &Caller, args: Args) -> Result<Output, ToolError> {
    let actor = caller.identity.subject.as_str();
    let outcome = remediate::execute(
        &ctx.store,
        &ctx.world,
        ctx.verify,
        remediate::Request {
            incident_id: args.incident_id,
            action: args.action,
            target: args.target,
            params: args.parameters,
            dry_run: args.dry_run,
            idempotency_key: args.idempotency_key,
            actor: actor.to_string(),
            reason: args.reason,
            heals: args.heals,
            ask_approval: args.ask_approval,
        },
    )
    .await?;
    let summary = match &outcome {
        Outcome::PendingApproval {
            action,
            target,
            risk,
            description,
            rollback,
            reason,
            approve_with,
        } => format!(
            "{action}@{target} needs a human's approval; nothing ran. Risk: {}{}. Undo: {}.{} Approve with: {approve_with}",
            serde_json::to_value(risk)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            if description.is_empty() {
                String::new()
            } else {
                format!(" — {description}")
            },
            rollback.as_deref().unwrap_or("nothing undoes it"),
            reason
                .as_deref()
                .map(|r| format!(" Why: {r}."))
                .unwrap_or_default(),
        ),
        Outcome::Ran {
            remediation,
            repeated: true,
        } => format!(
            "this idempotency key already ran {}@{} (status {}); nothing ran again",
            remediation.action, remediation.target, remediation.status
        ),
        Outcome::Ran { remediation, .. } => format!(
            "{}@{}: {}",
            remediation.action, remediation.target, remediation.status
        ),
    };
    Ok(match outcome {
        Outcome::PendingApproval { approve_with, .. } => Output {
            outcome: "pending_approval".into(),
            remediation: None,
            approve_with: Some(approve_with),
            summary,
        },
        Outcome::Ran {
            remediation,
            repeated,
        } => Output {
            outcome: if repeated { "repeated" } else { "ran" }.into(),
            remediation: Some(*remediation),
            approve_with: None,
            summary,
        },
    })
}

//! `notify_team`: queue a notification durably; the delivery worker sends it.

use opsmcp_mcp::Caller;
use opsmcp_notify::{NewNotification, Severity};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Workflow;
use crate::ToolError;

/// What the model reads about this tool.
pub const DESCRIPTION: &str = "Notify the team: queues the message for a configured channel \
(Slack, webhook, email, or the notifications file in the data directory when nothing is \
configured) and returns once it is durably queued; a delivery worker sends it with retries, \
across restarts. Delivery status shows in get_incident. The same call repeated does not page \
anyone twice.";

/// Arguments.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// What to say (1-8000 characters).
    pub message: String,
    /// A configured channel; the default channel when omitted.
    #[serde(default)]
    pub channel: Option<String>,
    /// The incident it is about.
    #[serde(default)]
    pub incident_id: Option<String>,
    /// SEV1..SEV5 or critical/high/warning/low/info.
    #[serde(default)]
    pub severity: Option<String>,
}

/// The queued notification.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// The outbox row: id, channel, status, attempts.
    #[schemars(with = "serde_json::Map<String, serde_json::Value>")]
    pub notification: opsmcp_store::Notification,
    /// `false` when this very notification was queued before; nothing new will be sent.
    pub newly_queued: bool,
}

/// Queues it.
pub async fn run(ctx: &Workflow, _caller: &Caller, args: Args) -> Result<Output, ToolError> {
    let severity: Option<Severity> = args.severity.as_deref().map(str::parse).transpose()?;
    if let Some(id) = &args.incident_id {
        // An unknown incident is refused before anything is queued.
        ctx.store.get_incident(id).await?;
    }
    let queued = ctx
        .notifier
        .notify(
            &ctx.store,
            NewNotification {
                channel: args.channel,
                message: args.message,
                incident_id: args.incident_id,
                severity,
                idempotency_key: None,
            },
        )
        .await
        .map_err(|e| ToolError::Refused(e.to_string()))?;
    Ok(Output {
        notification: queued.notification,
        newly_queued: queued.newly_queued,
    })
}

//! `document_resolution`: write the postmortem and resolve the incident.

use jiff::Timestamp;
use opsmcp_mcp::Caller;
use opsmcp_workflow::postmortem::{self, Postmortem};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Workflow;
use crate::ToolError;

/// What the model reads about this tool.
pub const DESCRIPTION: &str = "Document an incident's resolution: writes a Markdown postmortem \
(summary, impact with its duration, a timeline table merging the incident record, the change \
log and the onset, root cause and evidence, the hypotheses ruled out and why, the contributing \
changes, remediation and verification from the record, action items) with SVG charts of the \
decisive signals through recovery (baseline, threshold, onset and fix marked), saves it in the \
data directory, returns it with its path, and resolves the incident. Pass what the analysis \
found: `onset`, `ruled_out`, `contributing_changes` and `key_signals` (all optional; what is \
not passed is reported as unknown).";

/// Arguments. Everything after `resolution` is optional, so older callers still work.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The incident's id, e.g. INC-0001.
    pub incident_id: String,
    /// What caused it.
    pub root_cause: String,
    /// What was done to end it.
    pub resolution: String,
    /// Who and what was affected; one line per item.
    #[serde(default)]
    pub impact: Option<String>,
    /// Facts supporting the root cause.
    #[serde(default)]
    pub evidence: Vec<String>,
    /// Follow-up work.
    #[serde(default)]
    pub action_items: Vec<String>,
    /// When the incident began: when the faulty component's signals left their normal range
    /// (RFC 3339, e.g. 2026-12-05T06:00:52Z), as root_cause_analysis found it.
    #[serde(default)]
    pub onset: Option<String>,
    /// Hypotheses the analysis rejected, each with why.
    #[serde(default)]
    pub ruled_out: Vec<RuledOut>,
    /// Change events (deploys, config changes, jobs) the analysis reported around the
    /// incident; those before the onset on the services involved are shown as the candidates.
    #[serde(default)]
    pub contributing_changes: Vec<Change>,
    /// The signals that show the cause, most decisive first; they are charted first.
    #[serde(default)]
    pub key_signals: Vec<Signal>,
}

/// A rejected hypothesis.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RuledOut {
    /// The hypothesis, e.g. `slow-dependency in checkout-api`.
    pub hypothesis: String,
    /// Why it was rejected: the evidence against it.
    pub reason: String,
}

/// A change event.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Change {
    /// When (RFC 3339).
    #[serde(default)]
    pub at: Option<String>,
    /// The service changed.
    #[serde(default)]
    pub service: Option<String>,
    /// What changed, e.g. `config: max_connections 100 -> 50`.
    pub detail: String,
}

/// One signal of one service.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Signal {
    /// The service, e.g. `orders-db`.
    pub service: String,
    /// The signal, e.g. `db_connections_in_use`.
    pub signal: String,
}

/// The postmortem.
pub type Output = Postmortem;

fn time(argument: &'static str, text: &str) -> Result<Timestamp, ToolError> {
    text.trim().parse().map_err(|e| ToolError::InvalidArgument {
        argument,
        problem: format!("{text:?} is not an RFC 3339 time ({e}); send e.g. 2026-12-05T06:00:52Z"),
    })
}

/// Writes it.
pub async fn run(ctx: &Workflow, caller: &Caller, args: Args) -> Result<Output, ToolError> {
    let actor = caller.identity.subject.as_str();
    let onset = args
        .onset
        .as_deref()
        .map(|t| time("onset", t))
        .transpose()?;
    let changes = args
        .contributing_changes
        .into_iter()
        .map(|c| {
            Ok(postmortem::Change {
                at: c
                    .at
                    .as_deref()
                    .map(|t| time("contributing_changes", t))
                    .transpose()?,
                service: c.service,
                detail: c.detail,
            })
        })
        .collect::<Result<Vec<_>, ToolError>>()?;
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
            onset,
            ruled_out: args
                .ruled_out
                .into_iter()
                .map(|r| postmortem::RuledOut {
                    hypothesis: r.hypothesis,
                    reason: r.reason,
                })
                .collect(),
            changes,
            signals: args
                .key_signals
                .into_iter()
                .map(|s| postmortem::SignalRef {
                    service: s.service,
                    signal: s.signal,
                })
                .collect(),
            actor: actor.to_string(),
        },
    )
    .await?)
}

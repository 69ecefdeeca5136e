//! Waiting for a human's go-ahead. An action that needs approval is held by
//! [`crate::remediate`] with an `approval_requested` timeline entry; a human approves it
//! (`opsmcp incidents approve`), and whoever asked — an agent, a model — waits here and then
//! asks to run it again. Waiting is bounded per call so that no proxy, client or edge idle
//! timeout cuts a call that is merely waiting: a caller that wants to wait longer calls again.

use std::time::Duration;

use jiff::Timestamp;
use opsmcp_store::{Approval, Store};
use serde::Serialize;

use crate::WorkflowError;

/// The longest one call waits: below the edge's 120 s idle timeout and common client
/// timeouts, since nothing moves on the connection while it waits.
pub const MAX_WAIT: Duration = Duration::from_secs(60);

/// How often the store is read while waiting: a human's approval needs no faster answer,
/// and every replica sharing the store sees it.
const POLL: Duration = Duration::from_millis(500);

/// Where a held action stands after waiting.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Awaited {
    /// A human approved it: run it again with the same arguments and it runs.
    Approved {
        /// Who approved, and when.
        approval: Approval,
    },
    /// Nobody decided within the wait.
    Pending {
        /// How long this call waited, in seconds.
        waited_s: f64,
    },
    /// The incident is no longer open: nothing runs on it any more.
    Closed {
        /// Its status now.
        incident_status: String,
    },
}

/// Waits up to `wait` (at most [`MAX_WAIT`]) for a human to approve `action` (on `target`, or
/// on the one service it was requested for) for the incident. Refuses an action nobody asked
/// to run: only a request `execute_remediation` held can be approved, so waiting for anything
/// else would wait for nothing.
pub async fn await_approval(
    store: &Store,
    incident_id: &str,
    action: &str,
    target: Option<&str>,
    wait: Duration,
) -> Result<Awaited, WorkflowError> {
    let started = Timestamp::now();
    let deadline = tokio::time::Instant::now() + wait.min(MAX_WAIT);
    let detail = store.get_incident(incident_id).await?;
    let requested: Vec<(&str, &str)> = detail
        .timeline
        .iter()
        .filter(|e| e.kind == "approval_requested")
        .filter_map(|e| Some((e.body["action"].as_str()?, e.body["target"].as_str()?)))
        .collect();
    let mut matching: Vec<&str> = requested
        .iter()
        .filter(|(a, t)| *a == action && target.is_none_or(|x| x == *t))
        .map(|(_, t)| *t)
        .collect();
    matching.dedup();
    let target = match matching.as_slice() {
        [one] => one.to_string(),
        [] => {
            let asked = target.map_or(action.to_string(), |t| format!("{action}@{t}"));
            let held: Vec<String> = requested.iter().map(|(a, t)| format!("{a}@{t}")).collect();
            return Err(WorkflowError::BadRequest(format!(
                "no approval was requested for {asked} on {incident_id}: call \
                 execute_remediation first (it holds an action that needs approval and asks \
                 for it){}",
                if held.is_empty() {
                    String::new()
                } else {
                    format!("; requested: {}", held.join(", "))
                }
            )));
        }
        several => {
            return Err(WorkflowError::BadRequest(format!(
                "{action} was requested on several services ({}): name one, as {action}@service",
                several.join(", ")
            )));
        }
    };
    let target = target.as_str();
    // The incident just read is the first look; later looks read it again.
    let mut incident = detail.incident;
    loop {
        // Closed first: an approval on an incident no longer open runs nothing.
        if !incident.status.is_open() {
            return Ok(Awaited::Closed {
                incident_status: incident.status.to_string(),
            });
        }
        if let Some(approval) = store.approval_for(incident_id, action, target).await? {
            return Ok(Awaited::Approved { approval });
        }
        if tokio::time::Instant::now() + POLL > deadline {
            let waited = Timestamp::now().duration_since(started);
            return Ok(Awaited::Pending {
                waited_s: (waited.as_secs_f64() * 10.0).round() / 10.0,
            });
        }
        tokio::time::sleep(POLL).await;
        incident = store.get_incident(incident_id).await?.incident;
    }
}

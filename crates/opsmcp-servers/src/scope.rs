//! What a tool's `incident_id` and `timeframe` select: the incident, read from the store, and the
//! window of time read. One rule for every tool ([`window`]): `timeframe` wins, then the
//! incident's window (`opsmcp_world::window::incident_window`), then the last 30 minutes.
//!
//! The monitoring analyses ([`analysis`]) and `get_raw_logs` ([`incident`]) read an incident id
//! differently, and each keeps its wording (callers and tests rely on both): the analyses trim
//! the id and may run without a store; `get_raw_logs` refuses an id that is not a safe folder
//! name, since its files go to `analytics/<id>/`.

use jiff::Timestamp;
use opsmcp_analysis::{Window, timeframe};
use opsmcp_store::{Incident, Store, StoreError};
use opsmcp_world::window::{DEFAULT_WINDOW, Timeframe};

use crate::ToolError;

/// The window an analysis reads, and the services an incident names.
#[derive(Debug, Clone)]
pub struct Scope {
    /// The window.
    pub window: Window,
    /// The incident's affected services (empty without an incident).
    pub services: Vec<String>,
}

/// The window of `timeframe`, else of `incident`, else the last 30 minutes up to `now`. A blank
/// `timeframe` is none given: clients send `""` for an optional field they leave empty, and it
/// must not hide the incident's window.
pub fn window(
    timeframe: Option<&str>,
    incident: Option<&Incident>,
    now: Timestamp,
) -> Result<Window, ToolError> {
    match (timeframe.filter(|t| !t.trim().is_empty()), incident) {
        (Some(tf), _) => {
            let (from, to) = Timeframe::parse(tf, now).map_err(|e| ToolError::InvalidArgument {
                argument: "timeframe",
                problem: e.to_string(),
            })?;
            Ok(Window { from, to })
        }
        (None, Some(inc)) => Ok(timeframe::incident(inc.created_at, inc.resolved_at, now)),
        (None, None) => Ok(Window {
            from: now.checked_sub(DEFAULT_WINDOW).unwrap_or(now),
            to: now,
        }),
    }
}

/// The scope of a monitoring analysis: the window of `incident_id` and/or `timeframe`, and the
/// incident's services. Without a `store`, an incident id is refused with what to send instead.
pub async fn analysis(
    store: Option<&Store>,
    incident_id: Option<&str>,
    timeframe: Option<&str>,
) -> Result<Scope, ToolError> {
    let now = Timestamp::now();
    let incident = match incident_id.map(str::trim) {
        None => None,
        Some(id) => Some(analysed_incident(store, id).await?),
    };
    let window = window(timeframe, incident.as_ref(), now)?;
    Ok(Scope {
        window,
        services: incident.map(|i| i.services).unwrap_or_default(),
    })
}

/// The incident an analysis names, in the analyses' words.
async fn analysed_incident(store: Option<&Store>, id: &str) -> Result<Incident, ToolError> {
    let Some(store) = store else {
        return Err(ToolError::InvalidArgument {
            argument: "incident_id",
            problem: "this server has no incident store configured; send `timeframe` instead, or start it with the workflow server's data directory"
                .into(),
        });
    };
    fetch(store, id, "omit it to analyse the last 30 minutes").await
}

/// The incident `get_raw_logs` reads, with an id checked before it is used as a folder name.
pub async fn incident(store: &Store, id: &str) -> Result<Incident, ToolError> {
    let well_formed = !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !well_formed {
        return Err(ToolError::InvalidArgument {
            argument: "incident_id",
            problem: format!(
                "{id:?} is not an incident id; ids look like INC-0042 (letters, digits, '-'), \
                 or omit incident_id and send a timeframe"
            ),
        });
    }
    fetch(store, id, "or omit incident_id and send a timeframe").await
}

/// The incident `id`: an unknown id is a wrong argument, said with `instead` (what to send
/// instead); the store failing goes through the one store-error mapping.
async fn fetch(store: &Store, id: &str, instead: &str) -> Result<Incident, ToolError> {
    match store.get_incident(id).await {
        Ok(detail) => Ok(detail.incident),
        Err(e @ StoreError::UnknownIncident { .. }) => Err(ToolError::InvalidArgument {
            argument: "incident_id",
            problem: format!("{e}; {instead}"),
        }),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use jiff::SignedDuration;
    use opsmcp_store::{Severity, Status};

    use super::*;

    fn resolved_incident(now: Timestamp) -> Incident {
        let opened = now - SignedDuration::from_hours(5);
        Incident {
            id: "INC-0001".into(),
            title: "checkout 5xx".into(),
            description: None,
            severity: Severity::Sev2,
            status: Status::Resolved,
            services: vec!["checkout".into()],
            dedup_key: None,
            assignee: None,
            created_at: opened,
            updated_at: opened + SignedDuration::from_hours(1),
            acknowledged_at: None,
            resolved_at: Some(opened + SignedDuration::from_hours(1)),
            closed_at: None,
        }
    }

    #[test]
    fn a_blank_timeframe_is_none_given_and_the_incident_window_holds() {
        let now = Timestamp::now();
        let incident = resolved_incident(now);
        let of_incident = window(None, Some(&incident), now).unwrap();
        assert!(of_incident.to < now - SignedDuration::from_hours(3));
        for blank in ["", "  "] {
            assert_eq!(
                window(Some(blank), Some(&incident), now).unwrap(),
                of_incident
            );
        }
        let default = window(Some(""), None, now).unwrap();
        assert_eq!(default.to, now);
        assert_eq!(default.from, now - DEFAULT_WINDOW);
        // A timeframe given wins over the incident's window.
        let given = window(Some("15m"), Some(&incident), now).unwrap();
        assert_eq!(given.to, now);
    }
}

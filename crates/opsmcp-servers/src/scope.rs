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

/// The window of `timeframe`, else of `incident`, else the last 30 minutes up to `now`.
pub fn window(
    timeframe: Option<&str>,
    incident: Option<&Incident>,
    now: Timestamp,
) -> Result<Window, ToolError> {
    match (timeframe, incident) {
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
    let window = match timeframe.map(str::trim) {
        // The analyses have always read a blank timeframe as the default window, even beside an
        // incident (get_raw_logs refuses it); kept so.
        Some("") => Window::ending(now, DEFAULT_WINDOW),
        tf => window(tf, incident.as_ref(), now)?,
    };
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
    match store.get_incident(id).await {
        Ok(detail) => Ok(detail.incident),
        Err(e @ StoreError::UnknownIncident { .. }) => Err(ToolError::InvalidArgument {
            argument: "incident_id",
            problem: format!("{e}; omit it to analyse the last 30 minutes"),
        }),
        Err(other) => Err(ToolError::Unavailable(format!(
            "the incident store: {other}"
        ))),
    }
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
    match store.get_incident(id).await {
        Ok(detail) => Ok(detail.incident),
        Err(e @ StoreError::UnknownIncident { .. }) => Err(ToolError::InvalidArgument {
            argument: "incident_id",
            problem: format!("{e}; or omit incident_id and send a timeframe"),
        }),
        Err(e) => Err(ToolError::Unavailable(format!(
            "the incident store cannot be read: {e}"
        ))),
    }
}

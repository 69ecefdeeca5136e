//! The incident domain as the store keeps it: severities, the lifecycle, incidents, timeline
//! entries, and the filter and page types of `list_incidents`.

use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::error::StoreError;

/// How bad an incident is, SEV1 (worst) to SEV5. The crate docs give the mapping from monitoring
/// words (critical, high, warning, low, info); [`FromStr`] accepts both forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Severity {
    /// Critical: customers are broadly affected.
    #[serde(rename = "SEV1")]
    Sev1,
    /// High.
    #[serde(rename = "SEV2")]
    Sev2,
    /// Warning.
    #[serde(rename = "SEV3")]
    Sev3,
    /// Low.
    #[serde(rename = "SEV4")]
    Sev4,
    /// Informational.
    #[serde(rename = "SEV5")]
    Sev5,
}

impl Severity {
    /// All severities, worst first.
    pub const ALL: [Severity; 5] = [
        Severity::Sev1,
        Severity::Sev2,
        Severity::Sev3,
        Severity::Sev4,
        Severity::Sev5,
    ];

    /// The stored and displayed form, `SEV1`…`SEV5`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Sev1 => "SEV1",
            Severity::Sev2 => "SEV2",
            Severity::Sev3 => "SEV3",
            Severity::Sev4 => "SEV4",
            Severity::Sev5 => "SEV5",
        }
    }

    /// The monitoring word this severity corresponds to (`critical`…`info`).
    pub fn word(self) -> &'static str {
        match self {
            Severity::Sev1 => "critical",
            Severity::Sev2 => "high",
            Severity::Sev3 => "warning",
            Severity::Sev4 => "low",
            Severity::Sev5 => "info",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = StoreError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        Severity::ALL
            .into_iter()
            .find(|sev| t.eq_ignore_ascii_case(sev.as_str()) || t.eq_ignore_ascii_case(sev.word()))
            .ok_or_else(|| StoreError::Invalid {
                field: "severity",
                message: format!(
                    "{s:?} is not a severity; use SEV1..SEV5 or critical, high, warning, low, info"
                ),
            })
    }
}

/// Where an incident is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Opened, nobody has taken it yet.
    Triggered,
    /// Someone took it.
    Acknowledged,
    /// The cause is being looked for.
    Investigating,
    /// The impact is contained; the cause may not be fixed yet.
    Mitigated,
    /// Fixed.
    Resolved,
    /// Done with, postmortem included.
    Closed,
    /// Opened by mistake or a duplicate; ended without resolution.
    Cancelled,
}

impl Status {
    /// The forward path; an incident may skip ahead along it but never go back.
    const FLOW: [Status; 6] = [
        Status::Triggered,
        Status::Acknowledged,
        Status::Investigating,
        Status::Mitigated,
        Status::Resolved,
        Status::Closed,
    ];

    /// Every status, in lifecycle order.
    pub const ALL: [Status; 7] = [
        Status::Triggered,
        Status::Acknowledged,
        Status::Investigating,
        Status::Mitigated,
        Status::Resolved,
        Status::Closed,
        Status::Cancelled,
    ];

    /// The stored and displayed form.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Triggered => "triggered",
            Status::Acknowledged => "acknowledged",
            Status::Investigating => "investigating",
            Status::Mitigated => "mitigated",
            Status::Resolved => "resolved",
            Status::Closed => "closed",
            Status::Cancelled => "cancelled",
        }
    }

    /// Open incidents are the ones still being worked on: they take dedup repeats and may be
    /// cancelled. Resolved ones are not open (a new alert after resolution is a new incident, as
    /// in PagerDuty).
    pub fn is_open(self) -> bool {
        matches!(
            self,
            Status::Triggered | Status::Acknowledged | Status::Investigating | Status::Mitigated
        )
    }

    /// The statuses this one may move to: any later one on the forward path, plus `cancelled`
    /// while open. Empty for `closed` and `cancelled`, which are final.
    pub fn allowed_next(self) -> Vec<Status> {
        let mut next: Vec<Status> = match Status::FLOW.iter().position(|s| *s == self) {
            Some(i) => Status::FLOW[i + 1..].to_vec(),
            None => Vec::new(),
        };
        if self.is_open() {
            next.push(Status::Cancelled);
        }
        next
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = StoreError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        Status::ALL
            .into_iter()
            .find(|st| t.eq_ignore_ascii_case(st.as_str()))
            .ok_or_else(|| {
                let names: Vec<&str> = Status::ALL.iter().map(|s| s.as_str()).collect();
                StoreError::Invalid {
                    field: "status",
                    message: format!("{s:?} is not a status; use one of {}", names.join(", ")),
                }
            })
    }
}

/// What a caller supplies to open an incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewIncident {
    /// One line saying what is wrong.
    pub title: String,
    /// How bad.
    pub severity: Severity,
    /// Longer text, if any.
    pub description: Option<String>,
    /// Affected services.
    pub services: Vec<String>,
    /// Repeats of the same problem carry the same key and join the open incident instead of
    /// opening another (PagerDuty Events v2 `dedup_key`).
    pub dedup_key: Option<String>,
}

/// An incident as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incident {
    /// Human-readable id, `INC-0042`.
    pub id: String,
    /// One line saying what is wrong.
    pub title: String,
    /// Longer text, if any.
    pub description: Option<String>,
    /// How bad.
    pub severity: Severity,
    /// Where it is in its lifecycle.
    pub status: Status,
    /// Affected services, in the order given.
    pub services: Vec<String>,
    /// The dedup key it was opened with.
    pub dedup_key: Option<String>,
    /// Who is on it.
    pub assignee: Option<String>,
    /// When it was opened.
    pub created_at: Timestamp,
    /// When anything about it last changed; never earlier than any other timestamp here.
    pub updated_at: Timestamp,
    /// When someone first took it (acknowledged, investigating or mitigated).
    pub acknowledged_at: Option<Timestamp>,
    /// When it was resolved (also set on closing if it skipped `resolved`).
    pub resolved_at: Option<Timestamp>,
    /// When it was closed or cancelled.
    pub closed_at: Option<Timestamp>,
}

/// One event in an incident's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    /// The incident.
    pub incident_id: String,
    /// 1, 2, 3… within the incident, in the order written.
    pub seq: i64,
    /// When; never earlier than the entry before.
    pub at: Timestamp,
    /// Who: a user, a tool, a worker.
    pub actor: String,
    /// What kind of event: `created`, `deduplicated`, `status_changed`, `updated`, or a
    /// caller's own kind (`note`, `remediation`, …).
    pub kind: String,
    /// The event's details.
    pub body: serde_json::Value,
}

/// An incident with its whole timeline, oldest entry first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentDetail {
    /// The incident.
    pub incident: Incident,
    /// Its timeline.
    pub timeline: Vec<TimelineEntry>,
}

/// Which incidents `list_incidents` returns; every field given must match.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentFilter {
    /// Only this status.
    pub status: Option<Status>,
    /// Only this severity.
    pub severity: Option<Severity>,
    /// Only incidents affecting this service.
    pub service: Option<String>,
}

/// One page of a listing: at most `limit` (1–200) items after `cursor`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageRequest {
    /// How many items, 1 to [`PageRequest::MAX_LIMIT`].
    pub limit: u32,
    /// The `next_cursor` of the previous page; `None` for the first page.
    pub cursor: Option<String>,
}

impl PageRequest {
    /// The largest page: enough for a screen, small enough that one call stays cheap.
    pub const MAX_LIMIT: u32 = 200;

    /// The first page of `limit` items.
    pub fn first(limit: u32) -> Self {
        PageRequest {
            limit,
            cursor: None,
        }
    }
}

impl Default for PageRequest {
    fn default() -> Self {
        PageRequest::first(50)
    }
}

/// A page of results, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// Pass this as the next request's cursor; `None` when there is nothing more.
    pub next_cursor: Option<String>,
}

//! The store's errors. Each says what was wrong and what is allowed instead, because the MCP tools
//! pass these messages to a model, which can only correct itself if told how.

use crate::model::Status;

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No incident has this id.
    #[error(
        "unknown incident id {id:?}: no incident has it (ids look like INC-0042; list_incidents shows them)"
    )]
    UnknownIncident {
        /// The id asked for.
        id: String,
    },
    /// The lifecycle does not allow this step.
    #[error("incident {id} cannot go from {from} to {to}: {}", allowed_text(*.from, .allowed))]
    IllegalTransition {
        /// The incident.
        id: String,
        /// Its current status.
        from: Status,
        /// The status asked for.
        to: Status,
        /// The statuses it may move to from here.
        allowed: Vec<Status>,
    },
    /// No notification has this id.
    #[error("unknown notification id {id}")]
    UnknownNotification {
        /// The id asked for.
        id: i64,
    },
    /// An argument is out of bounds or malformed.
    #[error("invalid {field}: {message}")]
    Invalid {
        /// Which argument.
        field: &'static str,
        /// What is wrong and what is allowed.
        message: String,
    },
    /// An approval that answers no pending request: an action nobody asked to run, a typo,
    /// one approved already, or an incident that is no longer open.
    #[error("{message}")]
    NotPending {
        /// The incident.
        incident_id: String,
        /// What was wrong and what to send instead (the pending requests, if any).
        message: String,
        /// The requests waiting for approval, `action@service`.
        pending: Vec<String>,
    },
    /// The database URL names no backend we have.
    #[error(
        "unsupported database URL {url:?}: use sqlite:///path/to/opsmcp.db or postgres://user@host/db"
    )]
    UnsupportedUrl {
        /// The URL given, without anything after the scheme that could hold a password.
        url: String,
    },
    /// A stored value could not be read back (edited by hand, or written by a newer version).
    #[error("corrupt {what} in the store: {detail}")]
    Corrupt {
        /// Which value.
        what: &'static str,
        /// What was found.
        detail: String,
    },
    /// The audit key or its anchor file could not be read or written.
    #[error("audit key {path}: {detail}")]
    AuditKey {
        /// The key (or anchor) file.
        path: String,
        /// What went wrong.
        detail: String,
    },
    /// Preparing the data directory failed.
    #[error("creating the database directory: {0}")]
    Io(#[from] std::io::Error),
    /// The database refused or failed.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// Bringing the schema up to date failed.
    #[error("migrating the database schema: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

fn allowed_text(from: Status, allowed: &[Status]) -> String {
    if allowed.is_empty() {
        return format!("{from} is final, no further transition is allowed");
    }
    let names: Vec<String> = allowed.iter().map(ToString::to_string).collect();
    format!("allowed next states: {}", names.join(", "))
}

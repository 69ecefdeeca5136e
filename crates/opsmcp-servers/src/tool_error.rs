//! The error a tool returns: shown to the caller as a tool result with `isError: true`, so a
//! model can read what was wrong and correct its call.

/// A tool call that could not be done, with what to send instead.
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    /// An argument was wrong.
    #[error("invalid argument `{argument}`: {problem}")]
    InvalidArgument {
        /// Which argument.
        argument: &'static str,
        /// What was wrong, and what to send instead.
        problem: String,
    },
    /// The world could not answer.
    #[error("{0}")]
    Unavailable(String),
    /// The domain refused the request; the message says what is allowed.
    #[error("{0}")]
    Refused(String),
}

/// The one mapping of store errors: what the caller asked for does not fit (an unknown id, a
/// step the lifecycle forbids, a bad value) is `Refused`; the store itself failing (the
/// database down, its directory unwritable, a corrupt row) is `Unavailable` — retry later, the
/// request was fine.
impl From<opsmcp_store::StoreError> for ToolError {
    fn from(e: opsmcp_store::StoreError) -> Self {
        use opsmcp_store::StoreError as E;
        match e {
            E::UnknownIncident { .. }
            | E::IllegalTransition { .. }
            | E::UnknownNotification { .. }
            | E::NotPending { .. }
            | E::Invalid { .. } => ToolError::Refused(e.to_string()),
            E::UnsupportedUrl { .. }
            | E::Corrupt { .. }
            | E::AuditKey { .. }
            | E::Io(_)
            | E::Database(_)
            | E::Migrate(_) => ToolError::Unavailable(format!("the incident store: {e}")),
        }
    }
}

impl From<opsmcp_workflow::WorkflowError> for ToolError {
    fn from(e: opsmcp_workflow::WorkflowError) -> Self {
        use opsmcp_workflow::WorkflowError as E;
        match e {
            E::Store(s) => s.into(),
            E::World(w) => ToolError::Unavailable(w.to_string()),
            other => ToolError::Refused(other.to_string()),
        }
    }
}

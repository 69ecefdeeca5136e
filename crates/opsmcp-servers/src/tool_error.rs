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

impl From<opsmcp_store::StoreError> for ToolError {
    fn from(e: opsmcp_store::StoreError) -> Self {
        ToolError::Refused(e.to_string())
    }
}

impl From<opsmcp_workflow::WorkflowError> for ToolError {
    fn from(e: opsmcp_workflow::WorkflowError) -> Self {
        ToolError::Refused(e.to_string())
    }
}

//! The error a resource read, listing or completion returns: a JSON-RPC error (resources have no
//! `isError` result as tools do) whose message says what was wrong and what to send instead.

use rmcp::ErrorData;

/// A resource request that could not be answered.
#[derive(Debug, thiserror::Error)]
pub enum ResourceError {
    /// The URI (or completion reference) is not one this server serves: its shape is wrong.
    /// Sent as `-32602` (invalid params).
    #[error("{0}")]
    Malformed(String),
    /// The URI has the right shape but names nothing that exists. Sent as `-32002` (resource
    /// not found), the code the MCP specification gives it.
    #[error("{0}")]
    NotFound(String),
    /// What the URI names is there but too big to send in one message. Sent as `-32602`, with
    /// the tool that pages through it.
    #[error("{0}")]
    TooLarge(String),
    /// The store or the file system failed; the request was fine. Sent as `-32603`.
    #[error("{0}")]
    Unavailable(String),
}

impl From<ResourceError> for ErrorData {
    fn from(e: ResourceError) -> Self {
        match e {
            ResourceError::Malformed(m) | ResourceError::TooLarge(m) => {
                ErrorData::invalid_params(m, None)
            }
            ResourceError::NotFound(m) => ErrorData::resource_not_found(m, None),
            ResourceError::Unavailable(m) => ErrorData::internal_error(m, None),
        }
    }
}

/// Store failures: an unknown incident is not found, a refused value (a bad prefix) is
/// malformed, the store itself failing is unavailable.
impl From<opsmcp_store::StoreError> for ResourceError {
    fn from(e: opsmcp_store::StoreError) -> Self {
        use opsmcp_store::StoreError as E;
        match e {
            E::UnknownIncident { .. } => ResourceError::NotFound(e.to_string()),
            E::Invalid { .. } => ResourceError::Malformed(e.to_string()),
            other => ResourceError::Unavailable(format!("the incident store: {other}")),
        }
    }
}

/// Workflow failures: a name that cannot be a file's (`BadRequest`) is malformed; the rest is
/// the store's or the file system's trouble.
impl From<opsmcp_workflow::WorkflowError> for ResourceError {
    fn from(e: opsmcp_workflow::WorkflowError) -> Self {
        use opsmcp_workflow::WorkflowError as E;
        match e {
            E::BadRequest(m) => ResourceError::Malformed(m),
            E::Store(s) => s.into(),
            other => ResourceError::Unavailable(other.to_string()),
        }
    }
}

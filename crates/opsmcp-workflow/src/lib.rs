//! `opsmcp-workflow`: what the workflow server does with incidents beyond storing them —
//! closed-loop remediation ([`remediate`]: approval, state before, the action, verification,
//! rollback), postmortems with charts ([`postmortem`], read back by [`written`]) and
//! Alertmanager intake ([`alertmanager`]).
//!
//! It works on the [`opsmcp_world::World`] trait and the [`opsmcp_store::Store`]; it must not
//! know about MCP, HTTP serving or which world (live or simulated) it acts on.

#![warn(missing_docs)]

pub mod alertmanager;
pub mod approval;
pub mod postmortem;
pub mod remediate;
pub mod written;

/// What went wrong, said so that a caller (often a model) can correct itself.
#[derive(Debug, thiserror::Error)]
pub enum WorkflowError {
    /// The request does not fit: the message says what is allowed.
    #[error("{0}")]
    BadRequest(String),
    /// The store failed or refused.
    #[error(transparent)]
    Store(#[from] opsmcp_store::StoreError),
    /// The world could not answer or act.
    #[error(transparent)]
    World(#[from] opsmcp_world::WorldError),
    /// Writing a file in the data directory failed.
    #[error("writing {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

//! `opsmcp-analysis`: what an on-call engineer does with a world's signals, logs and change
//! events — read a timeframe ([`timeframe`]), summarise the logs of a window against the window
//! before it ([`logs`]), find where each metric left its normal range ([`metrics`]), and rank
//! root-cause hypotheses with their evidence, propagation path and the remediation to try
//! ([`rca`]).
//!
//! It is pure domain logic over the [`opsmcp_world::World`] trait and the `opsmcp-logs` engine.
//! It knows nothing of MCP, HTTP, the store or the CLI, and nothing of the simulated world's
//! internals: it must reason the same way over a live system, so it never looks at scenario
//! files, fault definitions or ground truth — only at what any world exposes.

pub mod logs;
pub mod metrics;
pub mod rca;
/// What a signal measures (one home: the world crate).
pub use opsmcp_world::signals;
pub mod timeframe;

pub use timeframe::{TimeframeError, Window};

/// Why an analysis could not be done.
#[derive(Debug, thiserror::Error)]
pub enum AnalysisError {
    /// The world could not answer; the message says which source and what to check.
    #[error("{0}")]
    World(#[from] opsmcp_world::WorldError),
    /// An argument does not fit; the message says what to send instead.
    #[error("{0}")]
    Invalid(String),
    /// The blocking log reader failed (a panic or a cancelled task).
    #[error("log analysis failed: {0}")]
    Internal(String),
}

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
}

//! The agent runner's parts: model providers (and, next, the MCP client and the loop).
//!
//! - [`providers`]: one folder per model API (Anthropic Messages, OpenAI-compatible chat
//!   completions, Amazon Bedrock Converse), each behind the [`providers::Provider`] trait, with
//!   bounded retries that honor `retry-after` and errors that say what to check.
//!
//! This crate talks MCP and model APIs only: it knows nothing of opsmcp's own servers.

#![warn(missing_docs)]

pub mod mcp;
pub mod providers;
mod sse;

pub use mcp::{McpError, McpServersConfig, ServerConfig, ToolInfo, ToolOutput, Toolbox};
pub use providers::{Block, Message, Provider, ProviderError, Role, ToolDef, Turn};

#[cfg(test)]
#[path = "../tests/support/script_server.rs"]
mod script_server;

//! The agent runner's parts: an MCP client, model providers, and the loop that joins them.
//!
//! - [`mcp`]: connects to MCP servers described in the shape the Claude Agent SDK and Claude Code
//!   use (`name → {type: "http" | "sse" | "stdio", ...}`), over streamable HTTP (rmcp's client),
//!   the legacy HTTP+SSE transport (a small client of our own: rmcp has none) and stdio (rmcp's
//!   child-process transport), and gathers every server's tools in one [`Toolbox`] under
//!   provider-safe names `mcp__<server>__<tool>`.
//! - [`providers`]: one folder per model API (Anthropic Messages, OpenAI-compatible chat
//!   completions, Amazon Bedrock Converse), each behind the [`Provider`] trait, with bounded
//!   retries that honor `retry-after` and errors that say what to check.
//! - [`agent`]: the loop — a [`Brain`] (a model through [`ProviderBrain`], or any planner that
//!   implements the trait) proposes a turn, the toolbox runs its tool calls under a
//!   [`Permission`] mode, results go back truncated to a budget with the full text on disk, and
//!   every step is an [`Event`] and a line of a JSON-lines transcript.
//!
//! This crate talks MCP only: it knows nothing of opsmcp's own servers, their tools, the
//! world, the store or incidents, and works the same against any third-party MCP server. What
//! makes it an incident responder (the deterministic planner, the prompts, scoring) lives in
//! `opsmcp-responder`, which depends on this crate, never the other way. It prints nothing
//! besides the y/N question of [`Permission::Ask`]; the CLI prints the events.

#![warn(missing_docs)]

pub mod agent;
pub mod mcp;
pub mod providers;
mod sse;
mod transcript;

pub use agent::{
    Agent, AgentError, Brain, BrainInput, Event, Permission, ProviderBrain, RunOutcome,
};
pub use mcp::{McpError, McpServersConfig, ServerConfig, ToolInfo, ToolOutput, Toolbox};
pub use providers::{Block, Message, Provider, ProviderError, Role, ToolDef, Turn};

#[cfg(test)]
#[path = "../tests/support/script_server.rs"]
mod script_server;

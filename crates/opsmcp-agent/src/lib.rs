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
//! - [`runbook`]: the deterministic planner, the brain when no model is configured; it knows
//!   the incident tools' contracts (names, arguments, result shapes) and nothing else.
//! - [`prompts`], [`display`], [`eval`]: the system and phase prompts for model brains, events
//!   as terminal lines, and scoring a run against an expected answer.
//!
//! Apart from [`runbook`], this crate talks MCP only: it knows nothing of opsmcp's own servers, their tools, the world
//! or the store, and works the same against any third-party MCP server. It prints nothing
//! besides the y/N question of [`Permission::Ask`]; the CLI prints the events.

#![warn(missing_docs)]

pub mod agent;
pub mod display;
pub mod eval;
pub mod mcp;
pub mod prompts;
pub mod providers;
pub mod runbook;
mod sse;
mod transcript;

pub use agent::{
    Agent, AgentError, Brain, BrainInput, Event, Permission, ProviderBrain, RunOutcome,
};
pub use mcp::{McpError, McpServersConfig, ServerConfig, ToolInfo, ToolOutput, Toolbox};
pub use providers::{Block, Message, Provider, ProviderError, Role, ToolDef, Turn};
pub use runbook::{RunbookBrain, RunbookConfig};

#[cfg(test)]
#[path = "../tests/support/script_server.rs"]
mod script_server;

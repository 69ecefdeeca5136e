//! The tools of opsmcp's MCP servers, as rmcp handlers.
//!
//! Every tool has one shape, in a file of its own: what the model reads about it
//! (`DESCRIPTION`), an argument type (`Args`, with a JSON schema and bounds), a result type
//! (`Output`, returned as structured content) and one call into the domain,
//! `run(ctx, caller, args) -> Result<Output, ToolError>`, where `ctx` is what the server's tools
//! work with ([`monitoring::Monitoring`], [`workflow::Workflow`],
//! [`log_analytics::LogAnalytics`]) and `caller` who is calling ([`opsmcp_mcp::Caller`]). The
//! handler in each server's `mod.rs` only routes to them (`handler.rs` holds what the three
//! handlers share, `scope.rs` how an incident id and a timeframe become a window). Whoever has
//! read one tool has read them all. Resources (the workflow server's incidents, postmortems and
//! charts) have the same shape: a URI parsed, one lookup in the store or the workflow crate, the
//! contents; prompts (`prompts.rs`) are the phase texts compiled in, each on the server whose
//! tools it uses.
//!
//! This crate knows which tools exist and what they promise; it does not know how they are
//! hosted (that is `opsmcp-mcp`) nor where data comes from (that is `opsmcp-world`).

pub mod audit;
mod handler;
pub mod journal;
pub mod log_analytics;
pub mod monitoring;
pub mod prompts;
mod resource_error;
pub mod schema;
mod scope;
mod tool_error;
pub mod workflow;

pub use resource_error::ResourceError;
pub use tool_error::ToolError;

//! The tools of opsmcp's MCP servers, as rmcp handlers.
//!
//! Every tool has one shape, in a file of its own: an argument type (`Args`, with a JSON schema
//! and bounds), one call into the domain (`run`), a result type (`Output`, returned as
//! structured content). The handler in each server's `mod.rs` only routes to them. Whoever has
//! read one tool has read them all. Resources (the workflow server's incidents, postmortems and
//! charts) have the same shape: a URI parsed, one lookup in the store or the workflow crate, the
//! contents; prompts (`prompts.rs`) are the phase texts compiled in, each on the server whose
//! tools it uses.
//!
//! This crate knows which tools exist and what they promise; it does not know how they are
//! hosted (that is `opsmcp-mcp`) nor where data comes from (that is `opsmcp-world`).

pub mod audit;
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

//! The incident responder: what turns the generic agent of `opsmcp-agent` into an on-call
//! responder for opsmcp's incident tools.
//!
//! - [`planner`]: the deterministic planner, the brain when no model is configured; it knows
//!   the incident tools' contracts (names, arguments, result shapes, read defensively) and
//!   nothing else, and implements the agent's [`Brain`](opsmcp_agent::Brain) trait like a
//!   model does.
//! - [`prompts`]: the system prompt and the phase texts given to model brains.
//! - [`display`]: the loop's events as short terminal lines, with the incident tools' results
//!   summarised by their well-known fields.
//! - [`eval`]: scoring a run (any brain's) against a scenario's expected answer.
//!
//! It reaches the servers only through `opsmcp-agent`'s MCP toolbox: it knows nothing of
//! opsmcp's servers' internals, the world, the analysis engine or the store, so it works
//! against any server offering tools of the same contracts. It prints nothing; the CLI prints.

#![warn(missing_docs)]

pub mod display;
pub mod eval;
pub mod planner;
pub mod prompts;

pub use planner::{Planner, PlannerConfig};

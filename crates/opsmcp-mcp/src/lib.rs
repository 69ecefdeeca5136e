//! MCP hosting for opsmcp: puts an rmcp `ServerHandler` on one port.
//!
//! Every server gets the same routes: `/mcp` (streamable HTTP, both protocol eras, through rmcp's
//! `StreamableHttpService`), `/sse` + `/messages` (the 2024-11-05 HTTP+SSE transport, bridged to
//! the same handler), and `/health`. Around them: Host/Origin validation on every MCP route, a
//! request body limit, and a graceful shutdown that lets calls in flight finish.
//!
//! Every MCP route passes the gate ([`gate`]): a request id, authentication (API tokens and
//! OAuth JWTs, [`auth`]), rate limits, and the scope each called tool needs ([`policy`]); the
//! tools see the result as a [`Caller`], which also bounds each call (concurrency, timeout).
//! `/metrics` serves the process's Prometheus registry and `/.well-known/oauth-protected-resource`
//! the RFC 9728 metadata.
//!
//! Requests refused at the door (401, 403, 429) are tallied per caller and route over a window
//! ([`refusals`]) and handed to a [`RefusalSink`], which the binary points at the audit log.
//!
//! This crate knows no tool, no world and no store: it is handed a handler factory, settings,
//! the tools' rules, health checks and a sink for refusals.

mod accept;
pub mod auth;
mod caller;
mod cors;
mod drain;
pub mod edge;
mod error;
mod gate;
mod guard;
mod health;
mod host;
pub mod metrics;
mod owners;
pub mod policy;
pub mod refusals;
mod settings;
mod sse;
pub mod tls;

pub use caller::Caller;
pub use gate::{Limits, REQUEST_ID};

pub use drain::Drain;
pub use edge::EdgeLimits;
pub use error::HostError;
pub use guard::OriginPolicy;
pub use health::{CheckResult, HealthCheck};
pub use host::McpHost;
pub use refusals::{Refusal, RefusalKind, RefusalSink};
pub use settings::HostSettings;

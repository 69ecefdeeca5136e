//! MCP hosting for opsmcp: puts an rmcp `ServerHandler` on one port.
//!
//! Every server gets the same routes: `/mcp` (streamable HTTP, both protocol eras, through rmcp's
//! `StreamableHttpService`), `/sse` + `/messages` (the 2024-11-05 HTTP+SSE transport, bridged to
//! the same handler), and `/health`. Around them: Host/Origin validation on every MCP route, a
//! request body limit, and a graceful shutdown that lets calls in flight finish.
//!
//! This crate knows no tool, no world and no store: it is handed a handler factory, settings and
//! health checks. Auth, rate limits and metrics belong here too, because every server needs them.

mod drain;
mod error;
mod guard;
mod health;
mod host;
mod settings;
mod sse;

pub use drain::Drain;
pub use error::HostError;
pub use guard::OriginPolicy;
pub use health::{CheckResult, HealthCheck};
pub use host::McpHost;
pub use settings::HostSettings;

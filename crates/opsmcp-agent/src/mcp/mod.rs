//! The MCP client side: server configs, the three transports, and the [`Toolbox`].
//!
//! - streamable HTTP (`type = "http"`): rmcp's client transport over reqwest;
//! - HTTP+SSE (`type = "sse"`, the 2024-11-05 transport the Claude Agent SDK config of the seed
//!   uses): [`LegacySseTransport`], ours, since rmcp has no such client;
//! - stdio (`type = "stdio"`): rmcp's child-process transport.

mod config;
mod legacy_sse;
mod toolbox;

pub use config::{McpServersConfig, ServerConfig};
pub use legacy_sse::LegacySseTransport;
pub use toolbox::{ToolInfo, ToolOutput, Toolbox, exposed_name};

use std::time::Duration;

/// What went wrong talking to an MCP server.
#[derive(Debug, thiserror::Error)]
pub enum McpError {
    /// The server config cannot be used.
    #[error("MCP server config: {0}")]
    Config(String),
    /// Connecting (transport or initialize handshake) failed.
    #[error("MCP server `{server}` ({transport} {target}): cannot connect: {message}")]
    Connect {
        /// Configured server name.
        server: String,
        /// `http`, `sse` or `stdio`.
        transport: &'static str,
        /// URL or command.
        target: String,
        /// Why.
        message: String,
    },
    /// Listing the server's tools failed.
    #[error("MCP server `{server}`: tools/list failed: {message}")]
    ListTools {
        /// Configured server name.
        server: String,
        /// Why.
        message: String,
    },
    /// No tool of that name.
    #[error("no tool named `{0}`; the tools are listed by Toolbox::tools")]
    UnknownTool(String),
    /// The call did not answer in time.
    #[error("tool `{tool}` on `{server}` did not answer within {timeout:?}")]
    Timeout {
        /// Server name.
        server: String,
        /// The tool's own name on that server.
        tool: String,
        /// The limit.
        timeout: Duration,
    },
    /// The server stopped answering: the connection is refused or closed (it exited, was
    /// killed, or its stdio child ended). Unlike a tool error, nothing further can be done
    /// with it.
    #[error(
        "MCP server `{server}` ({transport} {target}) is gone: calling `{tool}` failed: {message}"
    )]
    Disconnected {
        /// Server name.
        server: String,
        /// `http`, `sse` or `stdio`.
        transport: &'static str,
        /// URL or command.
        target: String,
        /// The tool's own name on that server.
        tool: String,
        /// The underlying cause (`Connection refused`, `the connection closed`, …).
        message: String,
    },
    /// The call failed at the protocol level (not a tool error, which is a result).
    #[error("tool `{tool}` on `{server}`: {message}")]
    Call {
        /// Server name.
        server: String,
        /// The tool's own name on that server.
        tool: String,
        /// Why.
        message: String,
    },
}

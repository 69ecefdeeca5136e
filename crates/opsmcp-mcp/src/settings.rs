//! What a host needs to know about the port it serves, apart from the tools.

use std::time::Duration;

use crate::{Limits, auth::AuthConfig, policy::ToolRules};

/// Settings for one hosted MCP server. The defaults are the safe ones: loopback only, stateless
/// `/mcp`, a 4 MiB body limit.
#[derive(Debug, Clone)]
pub struct HostSettings {
    /// Name reported by `/health` (e.g. `monitoring`).
    pub server_name: String,
    /// Version reported by `/health`.
    pub version: String,
    /// Extra `Host` values accepted besides loopback (`localhost`, `127.0.0.1`, `::1`), with or
    /// without a port: `mcp.example.com`, `10.0.0.5:9001`.
    pub allowed_hosts: Vec<String>,
    /// Extra browser `Origin` values accepted besides loopback origins, exactly as the browser
    /// sends them: `https://inspector.example.com`.
    pub allowed_origins: Vec<String>,
    /// Keep `Mcp-Session-Id` sessions for legacy-era (`initialize`) clients on `/mcp`.
    ///
    /// Off by default: a stateless `/mcp` survives restarts and needs no sticky routing behind a
    /// load balancer, and our tools never send server-to-client requests, which is the only thing
    /// sessions would buy. Turn it on for clients that insist on resumable GET streams.
    pub legacy_sessions: bool,
    /// Largest accepted request body, in bytes; larger bodies get 413.
    pub max_body_bytes: usize,
    /// How long a shutdown waits for in-flight calls before ending them.
    pub shutdown_grace: Duration,
    /// Interval of SSE keep-alive comments (`/sse` and `/mcp` streams).
    pub sse_keep_alive: Duration,
    /// Tokens and OAuth issuer; nothing configured means no auth (loopback use).
    pub auth: AuthConfig,
    /// Rate, concurrency and time limits.
    pub limits: Limits,
    /// The scope each tool needs and which are expensive (default: every tool `read`).
    pub tools: ToolRules,
    /// Serve HTTPS with this certificate; plain HTTP when `None`.
    pub tls: Option<crate::tls::TlsSettings>,
    /// Header-read timeout, connection caps and the `/sse` session cap.
    pub edge: crate::EdgeLimits,
    /// How long refusals (401, 403, 429) are tallied before the tallies go to the refusal
    /// sink as one entry per caller and route.
    pub refusal_window: Duration,
}

impl HostSettings {
    /// Defaults for a server called `server_name`.
    pub fn new(server_name: impl Into<String>, version: impl Into<String>) -> Self {
        Self {
            server_name: server_name.into(),
            version: version.into(),
            allowed_hosts: Vec::new(),
            allowed_origins: Vec::new(),
            legacy_sessions: false,
            max_body_bytes: 4 * 1024 * 1024,
            shutdown_grace: Duration::from_secs(10),
            sse_keep_alive: Duration::from_secs(15),
            auth: AuthConfig::default(),
            limits: Limits::default(),
            tools: ToolRules::default(),
            tls: None,
            edge: crate::EdgeLimits::default(),
            refusal_window: Duration::from_secs(10),
        }
    }
}

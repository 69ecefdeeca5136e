//! Test support: a tiny MCP server with a read-only, a destructive, a slow and a large-output
//! tool. Hosted over HTTP (/mcp, /sse) by `opsmcp_mcp::McpHost` in the tests, and over stdio by
//! the `opsmcp-agent-stdio-fixture` binary.

#![allow(dead_code)]

use std::sync::{Arc, Mutex};

use rmcp::{
    Json, ServerHandler,
    handler::server::{router::tool::ToolRouter, wrapper::Parameters},
    model::{ServerCapabilities, ServerConfig},
    tool, tool_handler, tool_router,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The handler; clones share the call log.
#[derive(Clone)]
pub struct EchoServer {
    router: Arc<ToolRouter<Self>>,
    /// Every `restart_service` call's service, in order.
    pub restarts: Arc<Mutex<Vec<String>>>,
}

#[derive(Deserialize, JsonSchema)]
pub struct EchoArgs {
    /// Text to echo.
    pub text: String,
}

#[derive(Serialize, JsonSchema)]
pub struct Echoed {
    pub echo: String,
}

#[derive(Deserialize, JsonSchema)]
pub struct RestartArgs {
    /// Service to restart.
    pub service: String,
}

#[derive(Serialize, JsonSchema)]
pub struct Restarted {
    pub restarted: String,
    pub healthy: bool,
}

#[derive(Deserialize, JsonSchema)]
pub struct SleepArgs {
    pub ms: u64,
}

#[derive(Deserialize, JsonSchema)]
pub struct BigArgs {
    pub bytes: usize,
}

#[tool_router]
impl EchoServer {
    pub fn new() -> Self {
        Self {
            router: Arc::new(Self::tool_router()),
            restarts: Arc::default(),
        }
    }

    #[tool(
        description = "Echoes the text back.",
        annotations(read_only_hint = true)
    )]
    async fn echo(&self, Parameters(a): Parameters<EchoArgs>) -> Json<Echoed> {
        Json(Echoed { echo: a.text })
    }

    #[tool(
        description = "Restarts a service.",
        annotations(read_only_hint = false, destructive_hint = true)
    )]
    async fn restart_service(&self, Parameters(a): Parameters<RestartArgs>) -> Json<Restarted> {
        self.restarts.lock().unwrap().push(a.service.clone());
        Json(Restarted {
            restarted: a.service,
            healthy: true,
        })
    }

    #[tool(
        description = "Sleeps for ms milliseconds.",
        annotations(read_only_hint = true)
    )]
    async fn sleep(&self, Parameters(a): Parameters<SleepArgs>) -> String {
        tokio::time::sleep(std::time::Duration::from_millis(a.ms)).await;
        format!("slept {} ms", a.ms)
    }

    #[tool(
        description = "Returns `bytes` bytes of text.",
        annotations(read_only_hint = true)
    )]
    async fn big(&self, Parameters(a): Parameters<BigArgs>) -> String {
        "0123456789".repeat(a.bytes / 10 + 1)[..a.bytes].to_string()
    }

    #[tool(description = "Always fails.")]
    async fn fail(&self) -> Result<String, String> {
        Err("it failed, as it always does".to_string())
    }
}

#[tool_handler(router = self.router)]
impl ServerHandler for EchoServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
    }
}

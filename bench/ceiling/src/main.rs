//! `rmcp-ceiling PORT [RESULT.json]`: the most our stack can serve. A bare rmcp 3.11
//! streamable-HTTP server (stateless, JSON answers, no auth, no audit, no metrics) with one tool,
//! `get_system_metrics`, whose answer is a constant: the `result` object of one of our own
//! server's answers (bench/run.sh saves it), or, without a file, a text of 3,170 bytes sent as
//! content and again as structuredContent, the size of ours. Also `GET /health` for the
//! bench's start-up probe. mimalloc, as ours, so the comparison is of the layers above rmcp.

use std::sync::Arc;

use axum::{Router, routing::get};
use rmcp::{
    ErrorData, RoleServer, ServerHandler,
    model::{
        CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
        ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
    },
    service::RequestContext,
    transport::streamable_http_server::{
        StreamableHttpServerConfig, StreamableHttpService, session::local::LocalSessionManager,
    },
};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Clone)]
struct Ceiling {
    answer: Arc<CallToolResult>,
    tools: Arc<Vec<Tool>>,
}

impl ServerHandler for Ceiling {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("rmcp-ceiling", "0.1.0"))
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(self.tools.as_ref().clone()))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        if request.name != "get_system_metrics" {
            return Err(ErrorData::invalid_params("no such tool", None));
        }
        // A clone per call, as a real tool builds its answer per call.
        Ok(CallToolResponse::Complete(self.answer.as_ref().clone()))
    }
}

fn answer(path: Option<&str>) -> Result<CallToolResult, Box<dyn std::error::Error>> {
    if let Some(path) = path {
        let text = std::fs::read_to_string(path)?;
        return Ok(serde_json::from_str(&text)?);
    }
    let pad = "x".repeat(3_170 - r#"{"pad":""}"#.len());
    let value = serde_json::json!({ "pad": pad });
    let mut result = CallToolResult::success(vec![ContentBlock::text(value.to_string())]);
    result.structured_content = Some(value);
    Ok(result)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let port: u16 = args.next().ok_or("usage: rmcp-ceiling PORT [RESULT.json]")?.parse()?;
    let answer = Arc::new(answer(args.next().as_deref())?);
    let schema = serde_json::json!({ "type": "object", "properties": {} });
    let serde_json::Value::Object(schema) = schema else {
        return Err("schema is not an object".into());
    };
    let tools = Arc::new(vec![Tool::new(
        "get_system_metrics",
        "a constant of the size of opsmcp's answer",
        schema,
    )]);
    let handler = Ceiling { answer, tools };
    let config = StreamableHttpServerConfig::default()
        .disable_allowed_hosts()
        .with_legacy_session_mode(false)
        .with_json_response(true);
    let mcp = StreamableHttpService::new(
        move || Ok(handler.clone()),
        Arc::new(LocalSessionManager::default()),
        config,
    );
    let app = Router::new()
        .nest_service("/mcp", mcp)
        .route("/health", get(|| async { "ok" }));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}

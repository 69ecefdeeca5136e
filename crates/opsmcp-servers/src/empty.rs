//! A server whose tools are not built yet: it answers MCP (initialize, discover, ping, an empty
//! `tools/list`) and `/health`, and offers nothing it cannot do.

use rmcp::{
    ErrorData, RoleServer, ServerHandler,
    model::{
        CallToolRequestParams, CallToolResponse, Implementation, ServerCapabilities, ServerConfig,
    },
    service::RequestContext,
};

/// An MCP server with no tools.
#[derive(Debug, Clone)]
pub struct EmptyServer {
    name: &'static str,
    instructions: &'static str,
}

impl EmptyServer {
    /// A server called `name`, describing itself with `instructions`.
    pub fn new(name: &'static str, instructions: &'static str) -> Self {
        Self { name, instructions }
    }
}

impl ServerHandler for EmptyServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new(self.name, env!("CARGO_PKG_VERSION")))
            .with_instructions(self.instructions)
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        Err(ErrorData::invalid_params(
            format!(
                "unknown tool '{}': the {} server has no tools yet; tools/list shows what exists",
                request.name, self.name
            ),
            None,
        ))
    }
}

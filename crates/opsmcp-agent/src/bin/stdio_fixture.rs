//! Test-only: the toolbox tests' small MCP server (`tests/support/echo_server.rs`) over stdio,
//! for the stdio transport. Not part of opsmcp's user-facing programs.

#[path = "../../tests/support/echo_server.rs"]
mod echo_server;

use rmcp::ServiceExt;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let service = echo_server::EchoServer::new()
        .serve(rmcp::transport::stdio())
        .await?;
    service.waiting().await?;
    Ok(())
}

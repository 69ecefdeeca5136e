//! `conformance-fixture --port N [--legacy-sessions true|false]`
//!
//! Serves [`FixtureServer`] through opsmcp's own hosting layer (`opsmcp_mcp::McpHost`: `/mcp`,
//! `/sse` + `/messages`, `/health`) on 127.0.0.1, so the MCP conformance suite exercises our
//! transport code. Prints `listening on http://127.0.0.1:PORT` once bound.

use std::io::Write;

use clap::Parser;
use opsmcp_conformance_fixture::FixtureServer;
use opsmcp_mcp::{HostSettings, McpHost};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Parser)]
#[command(
    name = "conformance-fixture",
    about = "Test-only MCP fixture server for the MCP conformance suite"
)]
struct Args {
    /// Port on 127.0.0.1; 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Keep `Mcp-Session-Id` sessions for `initialize`-era clients on /mcp.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    legacy_sessions: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();

    let listener = TcpListener::bind(("127.0.0.1", args.port)).await?;
    let addr = listener.local_addr()?;

    let mut settings = HostSettings::new("conformance-fixture", env!("CARGO_PKG_VERSION"));
    settings.legacy_sessions = args.legacy_sessions;
    let host = McpHost::new(settings, FixtureServer::new);

    let stop = CancellationToken::new();
    tokio::spawn({
        let stop = stop.clone();
        async move {
            shutdown_signal().await;
            stop.cancel();
        }
    });

    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on http://{addr}")?;
        out.flush()?;
    }
    host.serve(listener, stop).await?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("install SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

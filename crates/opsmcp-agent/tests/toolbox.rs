//! The toolbox end to end over all three transports: a small MCP server
//! (`support/echo_server.rs`) hosted by opsmcp's own hosting layer on an ephemeral loopback
//! port (`/mcp` streamable HTTP, `/sse` HTTP+SSE) and spawned as a child process (stdio), plus
//! the conformance fixture as a server this crate knows nothing about.

#[path = "support/echo_server.rs"]
mod echo_server;

use std::time::Duration;

use echo_server::EchoServer;
use opsmcp_agent::{McpError, McpServersConfig, Toolbox};
use opsmcp_mcp::{HostSettings, McpHost};
use serde_json::json;
use tokio_util::sync::CancellationToken;

const T: Duration = Duration::from_secs(20);

async fn host<H>(factory: impl Fn() -> H + Send + Sync + 'static) -> (String, CancellationToken)
where
    H: rmcp::ServerHandler + Send + 'static,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let stop = CancellationToken::new();
    let mut settings = HostSettings::new("test", "0");
    settings.shutdown_grace = Duration::from_millis(100);
    tokio::spawn(McpHost::new(settings, factory).serve(listener, stop.clone()));
    (base, stop)
}

#[tokio::test]
async fn three_transports_one_toolbox() {
    let server = EchoServer::new();
    let restarts = server.restarts.clone();
    let (base, stop) = host(move || server.clone()).await;
    let config = McpServersConfig::from_json(
        &json!({
            "web": {"type": "http", "url": format!("{base}/mcp"), "headers": {"X-Test": "1"}},
            "legacy": {"type": "sse", "url": format!("{base}/sse")},
            "local": {"type": "stdio", "command": env!("CARGO_BIN_EXE_opsmcp-agent-stdio-fixture")},
        })
        .to_string(),
    )
    .unwrap();
    let toolbox = Toolbox::connect(&config, T).await.unwrap();
    assert_eq!(
        toolbox.servers().collect::<Vec<_>>(),
        ["legacy", "local", "web"]
    );
    assert_eq!(toolbox.tools().len(), 15);

    let echo = toolbox.get("mcp__web__echo").expect("namespaced name");
    assert_eq!(echo.tool, "echo");
    assert_eq!(echo.server, "web");
    assert_eq!(echo.description, "Echoes the text back.");
    assert!(echo.is_read_only() && !echo.is_destructive());
    assert_eq!(
        echo.input_schema["properties"]["text"]["type"],
        json!("string")
    );
    let restart = toolbox.get("mcp__local__restart_service").unwrap();
    assert_eq!(restart.destructive_hint, Some(true));
    assert!(restart.is_destructive());
    assert!(
        toolbox.get("mcp__legacy__fail").unwrap().is_destructive(),
        "unannotated"
    );

    for server in ["web", "legacy", "local"] {
        let out = toolbox
            .call(&format!("mcp__{server}__echo"), json!({"text": server}), T)
            .await
            .unwrap();
        assert!(!out.is_error);
        assert_eq!(out.structured, Some(json!({"echo": server})), "{server}");
        assert!(out.text.contains(server));

        let out = toolbox
            .call(&format!("mcp__{server}__fail"), json!({}), T)
            .await
            .unwrap();
        assert!(out.is_error, "{server}");
        assert!(out.text.contains("it failed"), "{server}: {}", out.text);
    }

    toolbox
        .call("mcp__legacy__restart_service", json!({"service": "api"}), T)
        .await
        .unwrap();
    toolbox
        .call("mcp__web__restart_service", json!({"service": "db"}), T)
        .await
        .unwrap();
    assert_eq!(*restarts.lock().unwrap(), ["api", "db"]);

    // Per-call timeouts, on every transport; the connection is still usable afterwards.
    for server in ["web", "legacy", "local"] {
        let err = toolbox
            .call(
                &format!("mcp__{server}__sleep"),
                json!({"ms": 10_000}),
                Duration::from_millis(200),
            )
            .await
            .unwrap_err();
        assert!(matches!(err, McpError::Timeout { .. }), "{server}: {err}");
        let out = toolbox
            .call(&format!("mcp__{server}__sleep"), json!({"ms": 1}), T)
            .await
            .unwrap();
        assert_eq!(out.text, "slept 1 ms");
    }

    let err = toolbox
        .call("mcp__web__nope", json!({}), T)
        .await
        .unwrap_err();
    assert!(matches!(err, McpError::UnknownTool(_)));
    let err = toolbox
        .call("mcp__web__echo", json!([1]), T)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("JSON object"), "{err}");

    toolbox.close().await;
    stop.cancel();
}

/// A server this crate knows nothing about: the conformance fixture, over streamable HTTP and
/// HTTP+SSE; text, image and error results.
#[tokio::test]
async fn third_party_fixture_server() {
    let (base, stop) = host(opsmcp_conformance_fixture::FixtureServer::new).await;
    let config = McpServersConfig::from_json(
        &json!({
            "conformance": {"type": "http", "url": format!("{base}/mcp")},
            "conformance.sse": {"type": "sse", "url": format!("{base}/sse")},
        })
        .to_string(),
    )
    .unwrap();
    let toolbox = Toolbox::connect(&config, T).await.unwrap();
    for prefix in ["mcp__conformance__", "mcp__conformance_sse__"] {
        let out = toolbox
            .call(&format!("{prefix}test_simple_text"), json!({}), T)
            .await
            .unwrap();
        assert!(!out.is_error);
        assert!(!out.text.is_empty());
        let out = toolbox
            .call(&format!("{prefix}test_image_content"), json!({}), T)
            .await
            .unwrap();
        assert!(out.text.contains("[image image/png]"), "{}", out.text);
        let out = toolbox
            .call(&format!("{prefix}test_error_handling"), json!({}), T)
            .await
            .unwrap();
        assert!(out.is_error);
    }
    toolbox.close().await;
    stop.cancel();
}

/// A server that is not there: the error names it, its transport and its URL.
#[tokio::test]
async fn unreachable_server_is_named() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    for kind in ["http", "sse"] {
        let config = McpServersConfig::from_json(
            &json!({"gone": {"type": kind, "url": format!("http://127.0.0.1:{port}/x")}})
                .to_string(),
        )
        .unwrap();
        let err = Toolbox::connect(&config, Duration::from_secs(5))
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`gone`") && err.contains(kind) && err.contains(&port.to_string()),
            "{err}"
        );
    }
    let config = McpServersConfig::from_json(
        &json!({"missing": {"command": "/nonexistent/opsmcp-no-such-server"}}).to_string(),
    )
    .unwrap();
    let err = Toolbox::connect(&config, Duration::from_secs(5))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("cannot start"), "{err}");
}

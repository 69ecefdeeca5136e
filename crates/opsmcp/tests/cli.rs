//! The `opsmcp` binary end to end: real servers on ephemeral loopback ports, real clients.

mod common;

use std::{
    io::{Read, Write},
    net::TcpListener,
    process::Command,
    sync::mpsc,
    time::Duration,
};

use common::{Running, bin};
use rmcp::{ServiceExt, model::CallToolRequestParams, transport::StreamableHttpClientTransport};
use serde_json::{Value, json};

/// `opsmcp up` with all three servers on ephemeral ports.
fn up_on_free_ports() -> Running {
    Running::up(&[])
}

#[test]
fn up_serves_three_servers_with_health() {
    let server = up_on_free_ports();
    for name in ["monitoring", "workflow", "log-analytics"] {
        let body: Value = reqwest::blocking::get(format!("{}/health", server.url(name)))
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(body["server"], name);
        assert_eq!(body["status"], "ok", "{body}");
    }
}

#[tokio::test]
async fn monitoring_tools_answer_with_no_arguments_over_rmcp() {
    let server = Running::start(&["serve", "monitoring", "--port", "0"], &["monitoring"]);
    let transport =
        StreamableHttpClientTransport::from_uri(format!("{}/mcp", server.url("monitoring")));
    let client = ().serve(transport).await.unwrap();
    let tools = client.list_all_tools().await.unwrap();
    let names: Vec<_> = tools.iter().map(|t| t.name.to_string()).collect();
    assert_eq!(names.len(), 4, "{names:?}");
    for tool in &tools {
        let read_only = tool.annotations.as_ref().and_then(|a| a.read_only_hint);
        assert_eq!(
            read_only,
            Some(true),
            "{} must be annotated read-only",
            tool.name
        );
        assert!(
            tool.output_schema.is_some(),
            "{} must have an output schema",
            tool.name
        );
    }

    let metrics = client
        .call_tool(CallToolRequestParams::new("get_system_metrics"))
        .await
        .unwrap();
    let m = metrics.structured_content.expect("structured content");
    assert!(m["cpu"]["cores"].as_u64().unwrap() >= 1);
    assert!(m["memory"]["total_bytes"].as_u64().unwrap() > 0);
    assert!(!m["disks"].as_array().unwrap().is_empty());
    assert!(m["processes"]["total"].as_u64().unwrap() > 0);

    let health = client
        .call_tool(CallToolRequestParams::new("verify_health"))
        .await
        .unwrap();
    let h = health.structured_content.expect("structured content");
    assert_eq!(h["services"][0]["service"], "host");
    assert!(["healthy", "degraded", "unhealthy"].contains(&h["status"].as_str().unwrap()));
    assert!(
        h["services"][0]["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "memory")
    );

    // Filters narrow; bad input says what to send.
    let only_load = client
        .call_tool(
            CallToolRequestParams::new("get_system_metrics")
                .with_arguments(json!({"sections": ["load"]}).as_object().unwrap().clone()),
        )
        .await
        .unwrap()
        .structured_content
        .unwrap();
    assert!(only_load.get("load").is_some() && only_load.get("cpu").is_none());
    let bad = client
        .call_tool(
            CallToolRequestParams::new("verify_health")
                .with_arguments(json!({"service": "nope"}).as_object().unwrap().clone()),
        )
        .await
        .unwrap();
    assert_eq!(bad.is_error, Some(true));
    let text = format!("{:?}", bad.content);
    assert!(text.contains("send one of: host"), "{text}");
    client.cancel().await.unwrap();
}

#[test]
fn a_taken_port_stops_everything_with_exit_2_and_names_the_holder() {
    let holder = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = holder.local_addr().unwrap().port().to_string();
    let out = Command::new(bin())
        .args([
            "up",
            "--monitoring-port",
            "0",
            "--workflow-port",
            &port,
            "--log-analytics-port",
            "0",
        ])
        .env_remove("OPSMCP_CONFIG")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&format!("port {port}")), "{stderr}");
    assert!(stderr.contains("workflow server"), "{stderr}");
    assert!(
        stderr.contains(&format!("pid {}", std::process::id())),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was started"), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains("listening"), "a server started: {stdout}");
}

/// A one-shot HTTP server that answers after `delay`, telling the test when a request arrived.
fn slow_http(delay: Duration) -> (String, mpsc::Receiver<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/health", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut buf = [0u8; 1024];
            let _ = stream.read(&mut buf);
            let _ = tx.send(());
            std::thread::sleep(delay);
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
        }
    });
    (url, rx)
}

#[test]
fn sigterm_during_a_call_lets_it_finish_then_exits_0() {
    let (probe_url, arrived) = slow_http(Duration::from_millis(1500));
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("opsmcp.toml");
    std::fs::write(
        &config,
        format!("[[probes]]\nservice = \"api\"\nkind = \"http\"\nurl = \"{probe_url}\"\ntimeout_ms = 5000\nslow_ms = 4000\n"),
    )
    .unwrap();
    let mut server = Running::start(
        &[
            "serve",
            "monitoring",
            "--port",
            "0",
            "--config",
            config.to_str().unwrap(),
        ],
        &["monitoring"],
    );
    let url = format!("{}/mcp", server.url("monitoring"));
    let call = std::thread::spawn(move || {
        reqwest::blocking::Client::new()
            .post(url)
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", "2025-11-25")
            .json(&json!({"jsonrpc":"2.0","id":1,"method":"tools/call",
                          "params":{"name":"verify_health","arguments":{"service":"api"}}}))
            .send()
            .and_then(|r| r.text())
    });
    arrived
        .recv_timeout(Duration::from_secs(10))
        .expect("the probe reached the slow server");
    server.terminate();
    let answer = call.join().unwrap().expect("the call was answered");
    assert!(answer.contains("\"service\":\"api\""), "{answer}");
    assert!(answer.contains("HTTP 200"), "{answer}");
    assert_eq!(server.wait(), Some(0));
}

#[test]
fn health_command_prints_a_table_and_fails_when_a_server_is_down() {
    let server = up_on_free_ports();
    let all_up = Command::new(bin())
        .args([
            "health",
            "--monitoring-url",
            server.url("monitoring"),
            "--workflow-url",
            server.url("workflow"),
            "--log-analytics-url",
            server.url("log-analytics"),
        ])
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&all_up.stdout);
    assert_eq!(all_up.status.code(), Some(0), "{table}");
    assert_eq!(
        table.lines().filter(|l| l.contains(" ok ")).count(),
        3,
        "{table}"
    );

    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let one_down = Command::new(bin())
        .args([
            "health",
            "--monitoring-url",
            server.url("monitoring"),
            "--workflow-url",
            &dead,
            "--log-analytics-url",
            server.url("log-analytics"),
        ])
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&one_down.stdout);
    assert_eq!(one_down.status.code(), Some(1), "{table}");
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("workflow") && l.contains("down")),
        "{table}"
    );
}

#[test]
fn config_print_says_where_each_setting_came_from() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("opsmcp.toml");
    std::fs::write(
        &file,
        "workflow_port = 9102\nmonitoring_port = 9101\nlegacy_sessions = true\n",
    )
    .unwrap();
    let out = Command::new(bin())
        .args([
            "config",
            "print",
            "--config",
            file.to_str().unwrap(),
            "--monitoring-port",
            "9201",
        ])
        .env("OPSMCP_LOG_ANALYTICS_PORT", "9303")
        .env("OPSMCP_WORKFLOW_PORT", "9202")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = |name: &str| {
        text.lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("no {name} in:\n{text}"))
            .to_string()
    };
    // flag beats file; env beats file; file beats default.
    assert!(
        line("monitoring_port").contains("9201")
            && line("monitoring_port").contains("flag --monitoring-port")
    );
    assert!(
        line("workflow_port").contains("9202")
            && line("workflow_port").contains("env OPSMCP_WORKFLOW_PORT")
    );
    assert!(line("log_analytics_port").contains("9303"));
    assert!(line("legacy_sessions").contains("true") && line("legacy_sessions").contains("file "));
    assert!(line("bind").contains("127.0.0.1") && line("bind").contains("default"));
}

#[test]
fn a_bad_config_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("opsmcp.toml");
    std::fs::write(&file, "monitoring_prot = 1\n").unwrap();
    let out = Command::new(bin())
        .args(["serve", "monitoring", "--config", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("not a valid opsmcp settings file"),
        "{stderr}"
    );
    assert!(stderr.contains("monitoring_prot"), "{stderr}");
}

#[tokio::test]
async fn a_simulated_incident_is_visible_through_the_same_tools() {
    let server = Running::start(
        &[
            "serve",
            "monitoring",
            "--port",
            "0",
            "--scenario",
            "db-connection-pool-exhaustion",
            "--seed",
            "3",
        ],
        &["monitoring"],
    );
    let transport =
        StreamableHttpClientTransport::from_uri(format!("{}/mcp", server.url("monitoring")));
    let client = ().serve(transport).await.unwrap();
    let metrics = client
        .call_tool(CallToolRequestParams::new("get_system_metrics"))
        .await
        .unwrap()
        .structured_content
        .unwrap();
    assert_eq!(metrics["source"], "simulated");
    assert_eq!(metrics["world"], "db-connection-pool-exhaustion");
    assert!(
        metrics.get("cpu").is_none(),
        "a simulated world has no host"
    );
    let services = metrics["services"].as_array().unwrap();
    assert_eq!(services.len(), 4);
    let db = services
        .iter()
        .find(|s| s["service"] == "orders-db")
        .unwrap();
    let in_use = db["readings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["signal"] == "db_connections_in_use")
        .unwrap();
    assert!(in_use["current"].as_f64().unwrap() > in_use["baseline"].as_f64().unwrap());

    let health = client
        .call_tool(CallToolRequestParams::new("verify_health"))
        .await
        .unwrap()
        .structured_content
        .unwrap();
    assert_eq!(health["status"], "unhealthy");
    let status = |name: &str| {
        health["services"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["service"] == name)
            .unwrap()["status"]
            .clone()
    };
    assert_eq!(status("orders-db"), "unhealthy");
    assert_eq!(status("checkout-api"), "unhealthy");
    assert!(
        health["summary"]
            .as_str()
            .unwrap()
            .contains("db connections used")
    );
    client.cancel().await.unwrap();
}

#[test]
fn an_unknown_scenario_lists_the_known_ones_and_starts_nothing() {
    let out = Command::new(bin())
        .args([
            "serve",
            "monitoring",
            "--port",
            "0",
            "--scenario",
            "no-such-incident",
        ])
        .env_remove("OPSMCP_CONFIG")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("db-connection-pool-exhaustion"), "{stderr}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("listening"));
}

#[test]
fn the_settings_example_in_the_readme_is_valid() {
    let readme = std::fs::read_to_string(common::workspace_root().join("README.md")).unwrap();
    let start = readme
        .find("```toml\nbind = ")
        .expect("the settings example")
        + "```toml\n".len();
    let end = start + readme[start..].find("```").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("opsmcp.toml");
    std::fs::write(&file, &readme[start..end]).unwrap();
    let out = Command::new(bin())
        .args(["config", "print", "--config", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines()
            .any(|l| l.starts_with("runbook") && l.contains("systemctl")),
        "{text}"
    );
}

#[test]
fn edge_limits_are_settings_and_zero_or_too_short_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let mut cmd = Command::new(bin());
        cmd.current_dir(dir.path())
            .args(["config", "print"])
            .args(args)
            .env_remove("OPSMCP_CONFIG");
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    };
    let out = run(
        &["--max-sse-sessions", "5"],
        &[("OPSMCP_IDLE_TIMEOUT_S", "45")],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    for (name, value) in [
        ("max_sse_sessions", "5"),
        ("idle_timeout_s", "45"),
        ("header_read_timeout_s", "10"),
        ("max_connections", "1024"),
        ("max_connections_per_address", "64"),
        ("sse_idle_timeout_s", "600"),
    ] {
        assert!(
            text.lines()
                .any(|l| l.split_whitespace().next() == Some(name) && l.contains(value)),
            "{name} = {value} in {text}"
        );
    }
    for (env, said) in [
        (
            ("OPSMCP_MAX_CONNECTIONS_PER_ADDRESS", "0"),
            "max_connections_per_address = 0",
        ),
        (("OPSMCP_IDLE_TIMEOUT_S", "10"), "idle_timeout_s = 10"),
        (("OPSMCP_MAX_CONNECTIONS", "8"), "raise max_connections"),
    ] {
        let out = run(&[], &[env]);
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(said), "{stderr}");
    }
}

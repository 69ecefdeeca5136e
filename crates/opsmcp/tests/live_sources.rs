//! The live world's configured sources through the binary: `opsmcp config check` against a real
//! Prometheus, real log files and runbook programs, and Prometheus-watched services in the
//! monitoring tools. Needs the Debian package `prometheus` (`.ci/run` installs it); without it
//! the tests say they were skipped.

mod common;

use std::{path::Path, process::Command};

use common::{Running, bin, prometheus::Prometheus};
use rmcp::{ServiceExt, model::CallToolRequestParams, transport::StreamableHttpClientTransport};

fn config(dir: &Path, prometheus_url: &str, logs_glob: &str, program: &str) -> std::path::PathBuf {
    let path = dir.join("opsmcp.toml");
    std::fs::write(
        &path,
        format!(
            r#"
[prometheus]
url = "{prometheus_url}"
timeout_ms = 2000
services = ["prometheus"]
signals = {{ up = 'up{{job="{{service}}"}}', scrape_seconds = 'scrape_duration_seconds{{job="{{service}}"}}' }}

[[log_files]]
service = "app"
globs = ["{logs_glob}"]

[[runbook]]
name = "say"
service = "app"
description = "prints its argument"
program = "{program}"
args = ["{{word}}"]
timeout_ms = 2000
params = {{ word = {{ type = "string", pattern = "^[a-z]+$" }} }}
"#
        ),
    )
    .unwrap();
    path
}

#[test]
fn config_check_passes_on_working_sources_and_names_broken_ones() {
    let Some(prom) = Prometheus::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("logs")).unwrap();
    std::fs::write(
        dir.path().join("logs/app.log"),
        "2026-11-26T04:00:00Z INFO started\n",
    )
    .unwrap();
    let logs = format!("{}/logs/*.log", dir.path().display());

    let good = config(dir.path(), &prom.url, &logs, "/bin/echo");
    let out = Command::new(bin())
        .args(["config", "check", "--config", good.to_str().unwrap()])
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{table}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(table.contains("up = 1"), "{table}");
    assert!(table.contains("first line from"), "{table}");
    assert!(table.contains("/bin/echo is executable"), "{table}");

    let bad_dir = tempfile::tempdir().unwrap();
    let bad = config(
        bad_dir.path(),
        "http://127.0.0.1:9",
        "/nonexistent/dir/*.log",
        "/usr/bin/no-such-tool",
    );
    let out = Command::new(bin())
        .args(["config", "check", "--config", bad.to_str().unwrap()])
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{table}");
    assert!(table.contains("unreachable"), "{table}");
    assert!(table.contains("/nonexistent/dir"), "{table}");
    assert!(table.contains("no-such-tool"), "{table}");
    assert_eq!(
        table.lines().filter(|l| l.contains(" FAIL ")).count(),
        4,
        "{table}"
    );
}

#[tokio::test]
async fn prometheus_services_appear_in_the_tools_and_an_outage_degrades_only_them() {
    let Some(prom) = tokio::task::spawn_blocking(Prometheus::start)
        .await
        .unwrap()
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let logs = format!("{}/*.log", dir.path().display());
    for (url, reachable) in [
        (prom.url.clone(), true),
        ("http://127.0.0.1:9".to_string(), false),
    ] {
        let cfg = config(dir.path(), &url, &logs, "/bin/echo");
        let server = Running::start(
            &[
                "serve",
                "monitoring",
                "--port",
                "0",
                "--config",
                cfg.to_str().unwrap(),
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
        assert!(metrics["cpu"].is_object(), "the host is always there");
        let prom_service = metrics["services"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["service"] == "prometheus")
            .cloned();
        let health = client
            .call_tool(CallToolRequestParams::new("verify_health"))
            .await
            .unwrap()
            .structured_content
            .unwrap();
        let verdict = health["services"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["service"] == "prometheus")
            .cloned()
            .expect("the Prometheus-watched service is judged");
        if reachable {
            let up = prom_service.expect("the service is read")["readings"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["signal"] == "up")
                .cloned()
                .unwrap();
            assert_eq!(up["current"], 1.0);
        } else {
            assert!(prom_service.is_none());
            assert_eq!(verdict["status"], "unhealthy");
            assert!(
                verdict["checks"][0]["message"]
                    .as_str()
                    .unwrap()
                    .contains("unreachable")
            );
        }
        client.cancel().await.unwrap();
    }
}

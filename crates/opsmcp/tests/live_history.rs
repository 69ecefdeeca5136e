//! The live world with a service map and history, through the binary: a real process of a
//! declared service, probed over HTTP; its readings kept in the store every second; a deploy
//! announced on the webhook; the process killed — and the root-cause analysis, over MCP, names
//! the stopped service from what the history shows. A restarted server still has the history.

mod common;

use std::{
    path::Path,
    process::{Command, Stdio},
    time::Duration,
};

use common::{Killed, Running, free_port};
use rmcp::{ServiceExt, model::CallToolRequestParams, transport::StreamableHttpClientTransport};
use serde_json::{Value, json};

/// A real HTTP server process whose command line names it.
fn catalog(port: u16, dir: &Path) -> Killed {
    Killed(
        Command::new("python3")
            .args([
                "-m",
                "http.server",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
            ])
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 runs"),
    )
}

fn config(dir: &Path, port: u16) -> std::path::PathBuf {
    let path = dir.join("opsmcp.toml");
    std::fs::write(
        &path,
        format!(
            r#"
history_interval_s = 1

[[services]]
name = "web"
depends_on = ["catalog"]

[[services]]
name = "catalog"
process = "http\\.server {port}"

[[probes]]
service = "catalog"
kind = "http"
url = "http://127.0.0.1:{port}/"
timeout_ms = 1000

[[log_files]]
service = "web"
globs = ["{logs}/web.log"]

[[runbook]]
name = "start-catalog"
service = "catalog"
description = "start the catalog service again"
program = "/bin/true"
"#,
            logs = dir.display()
        ),
    )
    .unwrap();
    path
}

async fn call(server: &Running, tool: &str, args: Value) -> Value {
    let transport =
        StreamableHttpClientTransport::from_uri(format!("{}/mcp", server.url("monitoring")));
    let client = ().serve(transport).await.unwrap();
    let mut params = CallToolRequestParams::new(tool.to_string());
    params.arguments = args.as_object().cloned();
    let out = client.call_tool(params).await.unwrap();
    client.cancel().await.unwrap();
    assert_ne!(out.is_error, Some(true), "{tool}: {out:?}");
    out.structured_content.expect("structured result")
}

fn log_line(dir: &Path, line: &str) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(dir.join("web.log"))
        .unwrap();
    writeln!(f, "{} {line}", jiff::Timestamp::now()).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stopped_dependency_is_found_from_history_and_the_history_outlives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut dep = Some(catalog(port, dir.path()));
    let cfg = config(dir.path(), port);
    let cfg = cfg.to_str().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    for _ in 0..5 {
        log_line(dir.path(), "INFO web GET /items 200");
    }
    let server = Running::up_with_env(&["--config", cfg], &[("OPSMCP_DATA_DIR", data)]);

    // A deploy announced by CI/CD; a body without a service is refused, saying what to send.
    let http = reqwest::Client::new();
    let hook = format!("{}/webhooks/deploy", server.url("workflow"));
    let ok = http
        .post(&hook)
        .json(
            &json!({"service": "web", "version": "v2", "previous_version": "v1",
                      "environment": "production", "commit": "3f9c2e1"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200, "{}", ok.text().await.unwrap());
    let bad = http
        .post(&hook)
        .json(&json!({"version": "v2"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    assert!(
        bad.text()
            .await
            .unwrap()
            .contains("missing field `service`")
    );

    // A baseline forms: readings every second, the last 20 s left out of it.
    tokio::time::sleep(Duration::from_secs(26)).await;
    let before = call(&server, "get_system_metrics", json!({"service": "catalog"})).await;
    let up = reading(&before, "catalog", "probe_up");
    assert_eq!(up["current"], 1.0, "{before}");
    assert_eq!(up["baseline"], 1.0, "{before}");
    assert_eq!(reading(&before, "catalog", "processes_up")["current"], 1.0);

    // The dependency dies; its caller logs what it sees.
    drop(dep.take());
    for _ in 0..20 {
        log_line(
            dir.path(),
            "ERROR web upstream catalog: connect: connection refused",
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let rca = call(&server, "root_cause_analysis", json!({"timeframe": "10m"})).await;
    let top = &rca["hypotheses"][0];
    if top["component"] != "catalog" {
        let m = call(
            &server,
            "get_system_metrics",
            json!({"service": "catalog", "timeframe": "10m"}),
        )
        .await;
        eprintln!("DEBUG {m:#}");
    }
    assert_eq!(top["root_cause"], "service-down", "{rca:#}");
    assert_eq!(top["component"], "catalog", "{rca:#}");
    assert_eq!(
        top["suggested_action"]["action"], "start-catalog",
        "{rca:#}"
    );
    assert!(
        rca["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["service"] == "web"
                && e["detail"]
                    .as_str()
                    .is_some_and(|d| d.contains("v1 -> v2") && d.contains("commit=3f9c2e1"))),
        "the announced deploy is a change event: {rca:#}"
    );
    // The caller's log lines since the last reading, as an error share.
    let web = call(&server, "get_system_metrics", json!({"service": "web"})).await;
    assert!(
        reading(&web, "web", "log_error_ratio")["current"]
            .as_f64()
            .is_some_and(|r| r > 0.5),
        "{web:#}"
    );
    let health = call(&server, "verify_health", json!({})).await;
    let catalog_health = health["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["service"] == "catalog")
        .cloned()
        .unwrap();
    assert_eq!(catalog_health["status"], "unhealthy", "{health:#}");
    server.terminate();
    drop(server);

    // A new process on the same store reads the baseline at once.
    let again = Running::up_with_env(&["--config", cfg], &[("OPSMCP_DATA_DIR", data)]);
    let after = call(&again, "get_system_metrics", json!({"service": "catalog"})).await;
    assert_eq!(
        reading(&after, "catalog", "probe_up")["baseline"],
        1.0,
        "{after}"
    );
}

fn reading(metrics: &Value, service: &str, signal: &str) -> Value {
    metrics["services"]
        .as_array()
        .unwrap_or_else(|| panic!("no services in {metrics}"))
        .iter()
        .find(|s| s["service"] == service)
        .and_then(|s| {
            s["readings"]
                .as_array()?
                .iter()
                .find(|r| r["signal"] == signal)
                .cloned()
        })
        .unwrap_or_else(|| panic!("no {service} {signal} in {metrics}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_host_without_log_sources_says_no_line_was_read_rather_than_no_errors() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("opsmcp.toml");
    std::fs::write(
        &cfg,
        "[[probes]]\nservice = \"db\"\nkind = \"tcp\"\naddress = \"127.0.0.1:9\"\n",
    )
    .unwrap();
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
    let logs = call(&server, "analyze_logs", json!({})).await;
    assert_eq!(logs["lines"], 0);
    assert!(
        logs["notes"][0]
            .as_str()
            .is_some_and(|n| n.contains("no log source")),
        "{logs:#}"
    );
}

/// A package the host's package manager upgraded is a change event of the service that runs
/// its file, read from the package manager's own log and file lists (a copy of dpkg's, in the
/// test's folder) — over MCP, as `root_cause_analysis` lists changes (by what they did: a
/// package is code, a deploy); a package no running process maps is the host's, and a line
/// older than the window is left out.
#[tokio::test(flavor = "multi_thread")]
async fn a_package_upgraded_under_a_running_service_is_that_services_change() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let exe = bin.join("ledger-daemon");
    std::fs::copy("/bin/sleep", &exe).unwrap();
    let _daemon = Killed(spawn_fresh_copy(Command::new(&exe).arg("120")));
    let info = dir.path().join("info");
    std::fs::create_dir(&info).unwrap();
    std::fs::write(
        info.join("ledger:amd64.list"),
        format!("/.\n{}\n{}\n", bin.display(), exe.display()),
    )
    .unwrap();
    let zone = jiff::tz::TimeZone::system();
    let local = |ago: i64| {
        zone.to_datetime(jiff::Timestamp::now() - jiff::SignedDuration::from_mins(ago))
            .strftime("%Y-%m-%d %H:%M:%S")
            .to_string()
    };
    let log = dir.path().join("dpkg.log");
    std::fs::write(
        &log,
        format!(
            "{old} upgrade ledger:amd64 4.0 4.1\n\
             {recent} upgrade ledger:amd64 4.1 4.2\n\
             {recent} status installed ledger:amd64 4.2\n\
             {recent} install htop:amd64 <none> 3.2.2-2\n",
            old = local(180),
            recent = local(3),
        ),
    )
    .unwrap();
    let cfg = dir.path().join("opsmcp.toml");
    std::fs::write(
        &cfg,
        format!(
            "[[services]]\nname = \"ledger\"\nprocess = \"ledger-daemon 120\"\n\n\
             [packages]\nlog = \"{}\"\ninfo_dir = \"{}\"\n",
            log.display(),
            info.display()
        ),
    )
    .unwrap();
    let data = dir.path().join("data");
    let server = Running::start_with_env(
        &[
            "serve",
            "monitoring",
            "--port",
            "0",
            "--config",
            cfg.to_str().unwrap(),
        ],
        &["monitoring"],
        &[("OPSMCP_DATA_DIR", data.to_str().unwrap())],
    );
    let rca = call(&server, "root_cause_analysis", json!({"timeframe": "1h"})).await;
    let packages: Vec<(&str, &str)> = rca["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            e["detail"]
                .as_str()
                .is_some_and(|d| d.contains("package: "))
        })
        .map(|e| {
            (
                e["service"].as_str().unwrap_or(""),
                e["detail"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(packages.len(), 2, "{rca:#}");
    let of = |service: &str| {
        packages
            .iter()
            .find(|p| p.0 == service)
            .map(|p| p.1)
            .unwrap_or_else(|| panic!("no package change of {service}: {rca:#}"))
    };
    assert!(
        of("ledger").starts_with(
            "deploy: package: upgrade ledger:amd64 4.1 → 4.2 (dpkg; its processes map"
        ),
        "{rca:#}"
    );
    assert_eq!(
        of("host"),
        "deploy: package: install htop:amd64 3.2.2-2 (dpkg)"
    );
}

/// Spawns a program just copied into place. Another test thread that forks while the copy's
/// file is still open for writing holds it open in its child until that child execs, and
/// the kernel refuses to run a file open for writing ("Text file busy"): wait that out.
fn spawn_fresh_copy(command: &mut Command) -> std::process::Child {
    for _ in 0..100 {
        match command.spawn() {
            Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy => {
                std::thread::sleep(Duration::from_millis(20));
            }
            other => return other.expect("the copied program starts"),
        }
    }
    panic!("the copied program stayed busy for 2 s");
}

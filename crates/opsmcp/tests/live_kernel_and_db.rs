//! Evidence a live world reads from what the host's own bookkeepers count, through the binary
//! and over MCP:
//!
//! - a real process in a real memory cgroup, killed by the kernel at its limit and restarted by
//!   a supervisor faster than readings come: the kernel's OOM-kill count shows it, and the
//!   analysis names memory on that service;
//! - the real PostgreSQL of the test machines, with a role's connections all held: read as a
//!   quantity at its limit, found from a TCP probe of the server as well as from a
//!   `[[postgres]]` entry, and named as connection exhaustion on the database; with
//!   `discover_postgres = false` a probe of it stays a probe.

mod common;

use std::{
    path::{Path, PathBuf},
    process::Command,
    str::FromStr,
    time::Duration,
};

use common::{Killed, Running};
use rmcp::{ServiceExt, model::CallToolRequestParams, transport::StreamableHttpClientTransport};
use serde_json::{Value, json};
use sqlx::{ConnectOptions, Connection, postgres::PgConnectOptions};

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

fn reading(metrics: &Value, service: &str, signal: &str) -> Option<Value> {
    metrics["services"]
        .as_array()?
        .iter()
        .find(|s| s["service"] == service)
        .and_then(|s| {
            s["readings"]
                .as_array()?
                .iter()
                .find(|r| r["signal"] == signal)
                .cloned()
        })
}

fn health_of(health: &Value, service: &str) -> Value {
    health["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["service"] == service)
        .cloned()
        .unwrap_or_else(|| panic!("no {service} in {health:#}"))
}

/// A memory cgroup of our own with `limit` bytes, where this machine lets us make one
/// (root, a v1 memory controller or a v2 hierarchy with the memory controller); removed when
/// dropped.
struct Cgroup {
    dir: PathBuf,
}

impl Cgroup {
    fn make(limit: u64) -> Option<Self> {
        let name = format!("opsmcp-test-{}", std::process::id());
        for (base, file) in [
            ("/sys/fs/cgroup/memory", "memory.limit_in_bytes"),
            ("/sys/fs/cgroup", "memory.max"),
        ] {
            let dir = Path::new(base).join(&name);
            if std::fs::create_dir(&dir).is_err() {
                continue;
            }
            if std::fs::write(dir.join(file), limit.to_string()).is_ok() {
                return Some(Self { dir });
            }
            let _ = std::fs::remove_dir(&dir);
        }
        None
    }
}

impl Drop for Cgroup {
    fn drop(&mut self) {
        // Whatever is still in it (the worker the supervisor left) goes with it.
        if let Ok(procs) = std::fs::read_to_string(self.dir.join("cgroup.procs")) {
            for pid in procs.lines() {
                let _ = Command::new("kill").args(["-KILL", pid]).status();
            }
        }
        for _ in 0..50 {
            if std::fs::remove_dir(&self.dir).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// A worker that keeps a small heap until `grow` exists, then takes 8 MB every 0.1 s and
/// never gives it back; a supervisor (in the same cgroup) starts it again whenever it dies.
fn supervised_worker(cgroup: &Cgroup, dir: &Path) -> Killed {
    let grow = dir.join("grow");
    let worker = format!(
        "import os, time\nheld = []\nwhile True:\n    if os.path.exists({grow:?}):\n        \
         held.append(bytearray(8 << 20))\n    time.sleep(0.1)\n",
        grow = grow.display().to_string()
    );
    std::fs::write(dir.join("worker.py"), worker).unwrap();
    let script = format!(
        "echo $$ > {procs}\nwhile true; do python3 {dir}/worker.py --role thumbnails; sleep 0.5; done\n",
        procs = cgroup.dir.join("cgroup.procs").display(),
        dir = dir.display()
    );
    Killed::script(&script)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_process_killed_at_its_memory_limit_between_readings_is_seen_and_named() {
    let Some(cgroup) = Cgroup::make(96 << 20) else {
        eprintln!("no writable memory cgroup here (needs root and a memory controller): skipped");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let supervisor = supervised_worker(&cgroup, dir.path());
    let cfg = dir.path().join("opsmcp.toml");
    // Readings every 5 s, as by default: the worker lives about a second at its limit.
    std::fs::write(
        &cfg,
        r#"
[[services]]
name = "render"
process = "worker\\.py --role thumbnails"

[[runbook]]
name = "bound-render-cache"
service = "render"
description = "cap the render cache's memory (evicts the oldest entries)"
program = "/bin/true"
"#,
    )
    .unwrap();
    let server = Running::up(&["--config", cfg.to_str().unwrap()]);
    // A baseline: the cgroup is found while the worker runs.
    tokio::time::sleep(Duration::from_secs(24)).await;
    let before = call(&server, "get_system_metrics", json!({"service": "render"})).await;
    assert_eq!(
        reading(&before, "render", "oom_kills").map(|r| r["current"].clone()),
        Some(json!(0.0)),
        "{before:#}"
    );

    std::fs::write(dir.path().join("grow"), "").unwrap();
    tokio::time::sleep(Duration::from_secs(12)).await;
    let health = call(&server, "verify_health", json!({})).await;
    let render = health_of(&health, "render");
    assert_eq!(render["status"], "unhealthy", "{health:#}");
    assert!(
        render["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "oom kills" && c["status"] == "unhealthy"),
        "{render:#}"
    );
    let metrics = call(&server, "get_system_metrics", json!({"service": "render"})).await;
    let kills = reading(&metrics, "render", "oom_kills").unwrap();
    assert!(kills["current"].as_f64().unwrap() >= 1.0, "{metrics:#}");
    let rca = call(&server, "root_cause_analysis", json!({"timeframe": "5m"})).await;
    let top = &rca["hypotheses"][0];
    assert_eq!(top["root_cause"], "memory-leak", "{rca:#}");
    assert_eq!(top["component"], "render", "{rca:#}");
    drop(supervisor);
}

/// A login role of the test's own, dropped (its sessions ended first) when the test ends,
/// whether it passed or not.
struct Role {
    url: String,
    name: String,
}

impl Drop for Role {
    fn drop(&mut self) {
        let (url, name) = (self.url.clone(), self.name.clone());
        // Its own thread and runtime: this may run inside the test's runtime, during a panic.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let Ok(mut admin) = sqlx::PgConnection::connect(&url).await else {
                    return;
                };
                let _ = sqlx::query(&format!(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{name}'"
                ))
                .execute(&mut admin)
                .await;
                for _ in 0..20 {
                    if sqlx::query(&format!("DROP ROLE IF EXISTS {name}"))
                        .execute(&mut admin)
                        .await
                        .is_ok()
                    {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            });
        })
        .join();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_role_with_every_connection_held_is_a_pool_at_its_limit_on_the_database() {
    let Ok(url) = std::env::var("OPSMCP_TEST_DATABASE_URL") else {
        eprintln!("OPSMCP_TEST_DATABASE_URL not set: skipped");
        return;
    };
    let options = PgConnectOptions::from_str(&url).unwrap();
    let mut admin = options.connect().await.unwrap();
    let role = format!("opsmcp_live_{}", std::process::id());
    let _ = sqlx::query(&format!("DROP ROLE IF EXISTS {role}"))
        .execute(&mut admin)
        .await;
    sqlx::query(&format!("CREATE ROLE {role} LOGIN CONNECTION LIMIT 4"))
        .execute(&mut admin)
        .await
        .unwrap();
    let _dropped = Role {
        url: url.clone(),
        name: role.clone(),
    };
    let address = format!("{}:{}", options.get_host(), options.get_port());
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("opsmcp.toml");
    // "ledger" is read through a [[postgres]] entry; "archive" is only probed over TCP, and
    // found to be PostgreSQL by what answers there (with the PG* environment's login).
    std::fs::write(
        &cfg,
        format!(
            r#"
history_interval_s = 1

[[services]]
name = "api"
depends_on = ["ledger"]

[[postgres]]
service = "ledger"
url = "{url}"

[[probes]]
service = "ledger"
kind = "tcp"
address = "{address}"

[[probes]]
service = "archive"
kind = "tcp"
address = "{address}"

[[runbook]]
name = "end-idle-sessions"
service = "ledger"
description = "terminate idle sessions of the application role (frees connection slots)"
program = "/bin/true"
"#
        ),
    )
    .unwrap();
    let server = Running::up_with_env(
        &["--config", cfg.to_str().unwrap()],
        &[("PGUSER", options.get_username())],
    );
    tokio::time::sleep(Duration::from_secs(24)).await;
    let before = call(&server, "get_system_metrics", json!({})).await;
    for service in ["ledger", "archive"] {
        let max = reading(&before, service, "connections_max");
        assert!(
            max.is_some_and(|m| m["current"].as_f64().unwrap() > 4.0),
            "{service}: {before:#}"
        );
    }

    // Another job takes every connection the role may have, and keeps them.
    let as_role = options.clone().username(&role).application_name("export");
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(as_role.connect().await.unwrap());
    }
    // The analysis reads "now" as the median of the last half minute (noise at a limit does
    // not decide), so the role is held full for more than half of it: 6 s was a coin toss.
    tokio::time::sleep(Duration::from_secs(20)).await;
    let metrics = call(&server, "get_system_metrics", json!({})).await;
    let health = call(&server, "verify_health", json!({})).await;
    let rca = call(&server, "root_cause_analysis", json!({"timeframe": "5m"})).await;
    for c in held {
        let _ = c.close().await;
    }

    for service in ["ledger", "archive"] {
        let used = reading(&metrics, service, "role_connections_in_use").unwrap();
        let max = reading(&metrics, service, "role_connections_max").unwrap();
        assert!(
            used["current"].as_f64() >= max["current"].as_f64(),
            "{service}: {metrics:#}"
        );
        assert_eq!(
            health_of(&health, service)["status"],
            "unhealthy",
            "{health:#}"
        );
    }
    let ledger = rca["hypotheses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["component"] == "ledger")
        .cloned()
        .unwrap_or_else(|| panic!("{rca:#}"));
    assert_eq!(
        ledger["root_cause"], "connection-pool-exhaustion",
        "{rca:#}"
    );
    assert_eq!(
        ledger["suggested_action"]["action"], "end-idle-sessions",
        "{rca:#}"
    );
}

/// The signals a service's readings hold whose name speaks of connections.
fn connection_signals(metrics: &Value, service: &str) -> Vec<String> {
    metrics["services"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| s["service"] == service)
        .flat_map(|s| s["readings"].as_array().cloned().unwrap_or_default())
        .filter_map(|r| r["signal"].as_str().map(str::to_string))
        .filter(|signal| signal.contains("connections_"))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_probed_postgres_is_read_unless_discovery_is_turned_off() {
    let Ok(url) = std::env::var("OPSMCP_TEST_DATABASE_URL") else {
        eprintln!("OPSMCP_TEST_DATABASE_URL not set: skipped");
        return;
    };
    let options = PgConnectOptions::from_str(&url).unwrap();
    let address = format!("{}:{}", options.get_host(), options.get_port());
    let dir = tempfile::tempdir().unwrap();
    // The same probe of the real server, with discovery left on (the default) and turned off.
    let probe = format!(
        "history_interval_s = 1\n\n[[probes]]\nservice = \"archive\"\nkind = \"tcp\"\naddress = \"{address}\"\n"
    );
    let on = dir.path().join("on.toml");
    std::fs::write(&on, &probe).unwrap();
    let off = dir.path().join("off.toml");
    std::fs::write(&off, format!("discover_postgres = false\n{probe}")).unwrap();
    let env = [("PGUSER", options.get_username())];
    let found = Running::up_with_env(&["--config", on.to_str().unwrap()], &env);
    let left = Running::up_with_env(&["--config", off.to_str().unwrap()], &env);

    // Discovery on: the probed address is read as PostgreSQL within a few readings.
    let mut read = Vec::new();
    for _ in 0..30 {
        let metrics = call(&found, "get_system_metrics", json!({})).await;
        read = connection_signals(&metrics, "archive");
        if read.iter().any(|s| s == "connections_max") {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    assert!(
        read.iter().any(|s| s == "connections_in_use")
            && read.iter().any(|s| s == "connections_max"),
        "discovery on: {read:?}"
    );

    // Off: as many readings later (and a few more), the probe is only a probe.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let metrics = call(&left, "get_system_metrics", json!({})).await;
    assert!(
        metrics["services"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["service"] == "archive"),
        "the probed service is still there: {metrics:#}"
    );
    assert_eq!(
        connection_signals(&metrics, "archive"),
        Vec::<String>::new(),
        "discovery off: {metrics:#}"
    );
    let health = call(&left, "verify_health", json!({})).await;
    assert_eq!(
        health_of(&health, "archive")["status"],
        "healthy",
        "{health:#}"
    );
}

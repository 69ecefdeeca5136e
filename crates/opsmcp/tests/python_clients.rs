//! The Python `mcp` 2.3.0 client against our real monitoring server: `Client(url)` (probes
//! `server/discover`, 2026-07-28), `Client(url, mode="legacy")` (initialize, 2025-11-25) and
//! `sse_client` over `/sse`. Each lists the tools and calls `get_system_metrics`.
//!
//! Needs a Python with `mcp==2.3.0`: `tests/python/setup.sh` makes one and prints its path; set
//! `OPSMCP_TEST_PYTHON` to it (`.ci/run` does). Without it the test says it was skipped.

mod common;

use std::process::Command;

use common::{Running, workspace_root};

fn python() -> Option<String> {
    match std::env::var("OPSMCP_TEST_PYTHON") {
        Ok(p) if !p.is_empty() => Some(p),
        _ => {
            eprintln!(
                "SKIPPED: set OPSMCP_TEST_PYTHON to a Python with mcp==2.3.0 \
                 (OPSMCP_TEST_PYTHON=$(bash tests/python/setup.sh)) to run the Python-client tests"
            );
            None
        }
    }
}

fn run_clients(legacy_sessions: &str, world: &[&str]) {
    let Some(python) = python() else { return };
    let mut args = vec![
        "serve",
        "monitoring",
        "--port",
        "0",
        "--legacy-sessions",
        legacy_sessions,
    ];
    args.extend_from_slice(world);
    let server = Running::start(&args, &["monitoring"]);
    let output = Command::new(python)
        .arg(workspace_root().join("tests/python/clients.py"))
        .arg(server.url("monitoring"))
        .output()
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "python clients failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    for mode in ["auto", "legacy", "sse"] {
        assert!(
            stdout
                .lines()
                .any(|l| l.starts_with(&format!("ok {mode} "))),
            "mode {mode} did not report ok:\n{stdout}"
        );
    }
}

#[test]
fn python_clients_work_against_the_stateless_endpoint() {
    run_clients("false", &[]);
}

/// The same clients against a simulated incident: what they check holds for either world.
#[test]
fn python_clients_work_against_a_simulated_incident() {
    run_clients("false", &["--scenario", "db-connection-pool-exhaustion"]);
}

#[test]
fn python_clients_work_with_legacy_sessions_on() {
    run_clients("true", &[]);
}

//! `opsmcp run-scenario`, `demo` and `eval` through the binary: the agent against the three
//! servers started in the same process, scored against the scenario's ground truth.
//!
//! `run_scenario_solves_the_default_incident` needs every incident tool on the servers
//! (create_incident, analyze_logs, root_cause_analysis, execute_remediation,
//! document_resolution, notify_team, get_raw_logs, execute_analysis_script); until they are all
//! served it fails on the score lines, which is the point: it is the acceptance test of the
//! whole lifecycle. The other tests hold with whatever tools are served.

mod common;

use std::process::Command;

use common::bin;

fn opsmcp(args: &[&str]) -> (Option<i32>, String, String) {
    let data = tempfile::tempdir().unwrap();
    let out = Command::new(bin())
        .args(args)
        .env_remove("OPSMCP_CONFIG")
        .env_remove("OPSMCP_SCENARIO")
        .env("OPSMCP_DATA_DIR", data.path())
        // No opsmcp.toml from the working directory.
        .current_dir(data.path())
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn run_scenario_solves_the_default_incident() {
    let (code, stdout, stderr) = opsmcp(&["run-scenario", "db-connection-pool-exhaustion"]);
    let context = format!("stdout:\n{stdout}\nstderr:\n{stderr}");
    for line in [
        "── score: db-connection-pool-exhaustion (seed 1) ──",
        "root cause   ✓ expected connection-pool-exhaustion",
        "component    ✓ expected orders-db",
        "fixed        ✓ expected increase-pool-size",
        "recovered    ✓",
        "SOLVED",
    ] {
        assert!(stdout.contains(line), "missing {line:?}\n{context}");
    }
    for step in [
        "monitoring/verify_health",
        "workflow/create_incident",
        "log-analytics/execute_analysis_script",
        "monitoring/root_cause_analysis",
        "workflow/execute_remediation",
        "workflow/document_resolution",
        "workflow/notify_team",
    ] {
        assert!(stdout.contains(step), "no {step} step\n{context}");
    }
    assert_eq!(code, Some(0), "{context}");
}

/// The demo runs with no setup, over the seed's SSE transport too, printing each step and the
/// score block whatever the outcome.
#[test]
fn demo_prints_steps_and_a_score_over_sse() {
    let (code, stdout, stderr) = opsmcp(&["demo", "--transport", "sse"]);
    let context = format!("stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(matches!(code, Some(0 | 1)), "{context}");
    assert!(stdout.contains("▶ runbook with "), "{context}");
    assert!(stdout.contains("→ monitoring/verify_health"), "{context}");
    assert!(
        stdout.contains("← monitoring/verify_health status=unhealthy"),
        "{context}"
    );
    assert!(stdout.contains("■ finished after "), "{context}");
    assert!(
        stdout.contains("── score: db-connection-pool-exhaustion (seed 1) ──"),
        "{context}"
    );
    assert!(
        stdout.contains("turns ") && stdout.contains("tool calls "),
        "{context}"
    );
    // The planner must not be handed the answer: the report is symptoms only.
    let report = stdout.lines().find(|l| l.starts_with("Report: ")).unwrap();
    assert!(!report.contains("pool"), "{report}");
}

#[test]
fn eval_prints_a_table_with_totals() {
    let (code, stdout, stderr) = opsmcp(&[
        "eval",
        "--scenarios",
        "db-connection-pool-exhaustion,memory-leak-oom",
        "--seeds",
        "1,2",
        "--min-solved",
        "0",
    ]);
    let context = format!("stdout:\n{stdout}\nstderr:\n{stderr}");
    assert_eq!(code, Some(0), "{context}");
    assert!(stdout.contains("scenario"), "{context}");
    let rows = stdout
        .lines()
        .filter(|l| {
            l.starts_with("db-connection-pool-exhaustion ") || l.starts_with("memory-leak-oom ")
        })
        .filter(|l| !l.contains(" seed "))
        .count();
    assert_eq!(rows, 4, "{context}");
    assert!(stdout.contains("total: "), "{context}");
}

#[test]
fn a_bad_prompts_folder_is_named() {
    let empty = tempfile::tempdir().unwrap();
    let (code, _, stderr) = opsmcp(&[
        "run-scenario",
        "db-connection-pool-exhaustion",
        "--brain",
        "anthropic",
        "--prompts",
        empty.path().to_str().unwrap(),
    ]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("system.md"), "{stderr}");
}

#[test]
fn an_unknown_scenario_lists_the_known_ones() {
    let (code, _, stderr) = opsmcp(&["run-scenario", "no-such-incident"]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("db-connection-pool-exhaustion"), "{stderr}");
}

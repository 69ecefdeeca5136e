//! `opsmcp run-scenario`, `demo`, `eval` and `agent` through the binary: the agent against the
//! three servers (started in the same process, or already running for `agent`), scored against
//! the scenario's ground truth.
//!
//! `run_scenario_solves_the_default_incident` is the acceptance test of the whole lifecycle:
//! every incident tool of the three servers, called by the planner, and the score
//! lines. The runs use the built-in effect speed (20x), so a fix shows in seconds; no assertion
//! depends on time.

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
    let data = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = opsmcp(&[
        "run-scenario",
        "db-connection-pool-exhaustion",
        "--data-dir",
        data.path().to_str().unwrap(),
    ]);
    let context = format!("stdout:\n{stdout}\nstderr:\n{stderr}");
    // The run leaves its transcript, report and postmortem in the data directory.
    let runs: Vec<_> = std::fs::read_dir(data.path().join("runs"))
        .unwrap()
        .flatten()
        .collect();
    assert_eq!(runs.len(), 1, "{context}");
    let report = std::fs::read_to_string(runs[0].path().join("report.md")).unwrap();
    assert!(report.contains("SOLVED"), "{report}");
    let transcript = std::fs::read_to_string(runs[0].path().join("transcript.jsonl")).unwrap();
    assert!(transcript.lines().count() > 10, "{transcript}");
    let postmortem =
        std::fs::read_to_string(data.path().join("postmortems/INC-0001/postmortem.md"))
            .unwrap_or_else(|e| panic!("no postmortem ({e})\n{context}"));
    // The alert to add names the signal that moved, not just the kind of cause.
    assert!(
        postmortem.contains("- [ ] Alert on orders-db's db_connections_in_use"),
        "{postmortem}"
    );
    // Each step's result is shown as facts, not as its field names.
    assert!(
        !stdout.contains("{sampled_at"),
        "field names in the step view:\n{stdout}"
    );
    for line in [
        "── score: db-connection-pool-exhaustion (seed 1) ──",
        "root cause   ✓ expected connection-pool-exhaustion",
        "component    ✓ expected orders-db",
        "fixed        ✓ expected increase-pool-size",
        "recovered    ✓",
        "documented   ✓ postmortem ",
        "notified     ✓",
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
/// score block.
#[test]
fn demo_prints_steps_and_a_score_over_sse() {
    let data = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = opsmcp(&[
        "demo",
        "--transport",
        "sse",
        "--data-dir",
        data.path().to_str().unwrap(),
    ]);
    let context = format!("stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("▶ planner with "), "{context}");
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
    assert!(stdout.contains("SOLVED"), "{context}");
    assert_eq!(code, Some(0), "{context}");
}

/// Every built-in scenario, played by the planner, is solved; the rows also go to JSON.
#[test]
fn eval_solves_every_builtin_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("eval.json");
    let (code, stdout, stderr) = opsmcp(&[
        "eval",
        "--scenarios",
        "all",
        "--seeds",
        "1",
        "--min-solved",
        "1",
        "--json",
        json.to_str().unwrap(),
    ]);
    let context = format!("stdout:\n{stdout}\nstderr:\n{stderr}");
    assert_eq!(code, Some(0), "{context}");
    assert!(stdout.contains("scenario"), "{context}");
    assert!(stdout.contains("total: 8/8 solved"), "{context}");
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let rows = file["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 8);
    for r in rows {
        for k in [
            "solved",
            "detection",
            "root_cause_top1",
            "remediation",
            "verification",
            "documented",
            "notified",
        ] {
            assert_eq!(r[k], true, "{k}: {r}");
        }
        assert!(r["turns"].as_u64().unwrap() > 0, "{r}");
        assert!(r["tool_calls"].as_u64().unwrap() > 0, "{r}");
        assert!(r["wall_seconds"].as_f64().unwrap() > 0.0, "{r}");
    }
    assert_eq!(file["summary"]["runs"], 8);
    assert_eq!(file["summary"]["solved"], 1.0);
    assert_eq!(file["failed"], serde_json::json!([]));
}

/// A threshold that cannot be met: with three turns the planner only gets as far as opening
/// the incident and reading logs, so no remediation runs. Exit 1, naming the threshold, and
/// the JSON file says the same.
#[test]
fn eval_fails_a_threshold_it_cannot_meet_and_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("eval.json");
    let (code, stdout, stderr) = opsmcp(&[
        "eval",
        "--scenarios",
        "db-connection-pool-exhaustion",
        "--max-turns",
        "3",
        "--min-solved",
        "0",
        "--min-remediation",
        "1",
        "--json",
        json.to_str().unwrap(),
    ]);
    let context = format!("stdout:\n{stdout}\nstderr:\n{stderr}");
    assert_eq!(code, Some(1), "{context}");
    assert!(
        stderr.contains("remediation right: 0/1 runs (0.00) is below --min-remediation 1"),
        "{context}"
    );
    // Only the unmet threshold is named.
    assert!(!stderr.contains("--min-solved"), "{context}");
    assert!(
        stdout.contains("total: 0/1 solved · detected 1/1"),
        "{context}"
    );
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let row = &file["rows"][0];
    assert_eq!(row["detection"], true, "{row}");
    assert_eq!(row["remediation"], false, "{row}");
    assert_eq!(row["turns"], 3, "{row}");
    assert_eq!(file["summary"]["remediation"], 0.0);
    assert_eq!(file["thresholds"]["remediation"], 1.0);
    assert_eq!(file["failed"].as_array().unwrap().len(), 1, "{file}");
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
fn the_agent_reads_the_settings_file_it_is_given() {
    let (code, _, stderr) = opsmcp(&[
        "agent",
        "checkout is down",
        "--config",
        "/no/such/opsmcp.toml",
    ]);
    assert_ne!(code, Some(0));
    assert!(stderr.contains("/no/such/opsmcp.toml"), "{stderr}");
}

#[test]
fn with_no_server_running_the_agent_says_so_in_plain_words() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("opsmcp.toml");
    let ports: Vec<u16> = (0..3).map(|_| common::free_port()).collect();
    std::fs::write(
        &config,
        format!(
            "monitoring_port = {}\nworkflow_port = {}\nlog_analytics_port = {}\n",
            ports[0], ports[1], ports[2]
        ),
    )
    .unwrap();
    let (code, _, stderr) = opsmcp(&["agent", "look", "--config", config.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("start them with `opsmcp up`") && stderr.contains("onnection refused"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("::") && !stderr.contains("ERROR"),
        "no type names or library log lines: {stderr}"
    );
}

#[test]
fn a_sick_service_outside_the_diagnosis_is_left_for_a_human_not_a_reason_to_undo_the_fix() {
    let file = common::workspace_root().join("crates/opsmcp/tests/fixtures/two-stories.toml");
    let (code, stdout, stderr) = opsmcp(&["run-scenario", file.to_str().unwrap()]);
    assert!(code.is_some(), "{stderr}");
    assert!(
        stdout.contains("remediation=succeeded"),
        "the fix stays: {stdout}"
    );
    assert!(
        stdout.contains("Still unhealthy, outside what the cause explains: jobs"),
        "{stdout}"
    );
}

/// A service well at detection that turns unhealthy while the fix takes effect, on no path the
/// diagnosis covers (a host busy with other work): the fix is verified on what the diagnosis
/// covers and the newcomer is reported for a human, not read as "health did not recover".
#[test]
fn a_service_that_turns_sick_during_the_fix_outside_the_diagnosis_does_not_fail_it() {
    let file = common::workspace_root().join("crates/opsmcp/tests/fixtures/late-bystander.toml");
    let (code, stdout, stderr) = opsmcp(&["run-scenario", file.to_str().unwrap()]);
    assert!(code.is_some(), "{stderr}");
    // It really was sick only after detection: the incident was opened without it.
    let opened = stdout
        .lines()
        .find(|l| l.contains("create_incident"))
        .unwrap_or_default();
    assert!(!opened.contains("batch"), "{stdout}");
    assert!(
        stdout.contains("Remediation: revert-store-settings@store — health recovered."),
        "{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("Still unhealthy, outside what the cause explains: batch"),
        "{stdout}"
    );
    assert!(stdout.contains("document_resolution"), "{stdout}");
}

/// A slow service whose runbook fix moves its callers to a standby (`reroutes`): the fix is
/// judged on the callers, the slow service is left for a human and said to be, and the run is
/// solved — not rolled back because the service it routed around is still slow.
#[test]
fn a_failover_is_judged_on_the_callers_and_leaves_the_slow_service_to_a_human() {
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../opsmcp-analysis/tests/fixtures/failover-moves-callers-off-a-slow-service.toml");
    let data = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = opsmcp(&[
        "run-scenario",
        file.to_str().unwrap(),
        "--data-dir",
        data.path().to_str().unwrap(),
    ]);
    let context = format!("stdout:\n{stdout}\nstderr:\n{stderr}");
    assert_eq!(code, Some(0), "{context}");
    assert!(stdout.contains("SOLVED"), "{context}");
    assert!(
        stdout.contains("action=\"failover-listings\" heals=[\"app-api\",\"storefront\"]"),
        "{context}"
    );
    assert!(
        stdout.contains("remediation=succeeded failover-listings@listings"),
        "{context}"
    );
    assert!(
        stdout.contains("Still unhealthy: listings, which the fix moved its callers off"),
        "{context}"
    );
    let postmortem =
        std::fs::read_to_string(data.path().join("postmortems/INC-0001/postmortem.md")).unwrap();
    assert!(
        postmortem.contains("- [ ] Repair listings itself"),
        "{postmortem}"
    );
}

#[test]
fn an_unknown_scenario_lists_the_known_ones() {
    let (code, _, stderr) = opsmcp(&["run-scenario", "no-such-incident"]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("db-connection-pool-exhaustion"), "{stderr}");
}

/// `opsmcp agent "PROMPT"` works against servers already running (here `opsmcp up` playing a
/// scenario), found through the same port settings.
#[test]
fn agent_works_a_prompt_against_running_servers() {
    let server = common::Running::start(
        &[
            "up",
            "--scenario",
            "disk-full-log-volume",
            "--effect-speed",
            "60",
            "--verify-timeout-s",
            "30",
            "--monitoring-port",
            "0",
            "--workflow-port",
            "0",
            "--log-analytics-port",
            "0",
        ],
        &["monitoring", "workflow", "log-analytics"],
    );
    let out = server.agent("Users report errors from the service; find out why and fix it");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let context = format!("{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{context}");
    for step in [
        "workflow/create_incident",
        "workflow/execute_remediation",
        "■ finished after ",
    ] {
        assert!(stdout.contains(step), "no {step}\n{context}");
    }
    // The incident the agent worked is in the running servers' store, resolved.
    let list = Command::new(bin())
        .args(["incidents", "list", "--json"])
        .env_remove("OPSMCP_CONFIG")
        .env("OPSMCP_DATA_DIR", &server.data_dir)
        .output()
        .unwrap();
    let incidents: Vec<serde_json::Value> = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(incidents.len(), 1, "{incidents:?}");
    assert_eq!(incidents[0]["status"], "resolved", "{context}");
}

/// `--json`: stdout is JSON lines only — every event as the transcript records it, then the
/// verdict — and the reader's lines (score block, paths) go to stderr.
#[test]
fn run_scenario_json_prints_events_and_a_verdict() {
    let data = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = opsmcp(&[
        "run-scenario",
        "db-connection-pool-exhaustion",
        "--json",
        "--data-dir",
        data.path().to_str().unwrap(),
    ]);
    let context = format!("stdout:\n{stdout}\nstderr:\n{stderr}");
    let records: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let types: Vec<&str> = records
        .iter()
        .map(|r| r["type"].as_str().unwrap_or_else(|| panic!("no type: {r}")))
        .collect();
    for t in [
        "started",
        "turn_started",
        "assistant",
        "tool_call",
        "tool_result",
        "finished",
    ] {
        assert!(types.contains(&t), "no {t} event in {types:?}");
    }
    assert_eq!(types.first(), Some(&"started"), "{types:?}");
    assert_eq!(types.last(), Some(&"verdict"), "{types:?}");
    let verdict = records.last().unwrap();
    assert_eq!(verdict["solved"], true, "{context}");
    assert_eq!(verdict["scenario"], "db-connection-pool-exhaustion");
    assert_eq!(verdict["expected"]["component"], "orders-db");
    for k in [
        "root_cause",
        "component",
        "fixed",
        "recovered",
        "documented",
        "notified",
    ] {
        assert_eq!(verdict["score"][k], true, "{k}: {verdict}");
    }
    let called: Vec<&str> = records
        .iter()
        .filter(|r| r["type"] == "tool_call")
        .filter_map(|r| r["name"].as_str())
        .collect();
    assert!(called.contains(&"mcp__workflow__notify_team"), "{called:?}");

    // The same serialization as the transcript: the events on stdout, less the streamed text
    // pieces (which the transcript leaves out) and the timestamps, are its lines.
    let runs: Vec<_> = std::fs::read_dir(data.path().join("runs"))
        .unwrap()
        .flatten()
        .collect();
    assert_eq!(runs.len(), 1, "{context}");
    let without_ts = |mut v: serde_json::Value| {
        v.as_object_mut().unwrap().remove("ts");
        v
    };
    let transcript: Vec<serde_json::Value> =
        std::fs::read_to_string(runs[0].path().join("transcript.jsonl"))
            .unwrap()
            .lines()
            .map(|l| without_ts(serde_json::from_str(l).unwrap()))
            .collect();
    let streamed: Vec<serde_json::Value> = records[..records.len() - 1]
        .iter()
        .filter(|r| r["type"] != "text_delta")
        .map(|r| without_ts(r.clone()))
        .collect();
    assert_eq!(streamed, transcript);

    // The human lines went to stderr.
    assert!(
        stderr.contains("── score: db-connection-pool-exhaustion"),
        "{context}"
    );
    assert!(stderr.contains("SOLVED"), "{context}");
    assert_eq!(code, Some(0), "{context}");
}

/// `opsmcp ARGS` on a pseudo-terminal (util-linux `script`, in every Debian install), with
/// `env` set; what the terminal showed.
fn on_a_terminal(args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String) {
    typed_on_a_terminal(args, env, "")
}

/// As [`on_a_terminal`], with `typed` typed at the terminal.
fn typed_on_a_terminal(args: &[&str], env: &[(&str, &str)], typed: &str) -> (Option<i32>, String) {
    let data = tempfile::tempdir().unwrap();
    let mut command = bin().display().to_string();
    for a in args {
        command.push_str(&format!(" '{a}'"));
    }
    command.push_str(&format!(" --data-dir '{}'", data.path().display()));
    let mut cmd = Command::new("script");
    cmd.args(["-q", "-e", "-c", &command, "/dev/null"])
        .env_remove("OPSMCP_CONFIG")
        .env_remove("NO_COLOR")
        .env("TERM", "xterm-256color")
        .env("OPSMCP_DATA_DIR", data.path())
        .current_dir(data.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("script runs");
    let mut stdin = child.stdin.take().expect("a pipe");
    std::io::Write::write_all(&mut stdin, typed.as_bytes()).expect("typed");
    drop(stdin);
    let out = child.wait_with_output().expect("script ends");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// On a terminal the steps are coloured and a spinner shows while a tool runs; `NO_COLOR`
/// turns both off and leaves the very lines a pipe gets.
#[test]
fn a_terminal_gets_colour_and_a_spinner_unless_no_color() {
    let (code, shown) = on_a_terminal(&["run-scenario", "db-connection-pool-exhaustion"], &[]);
    assert_eq!(code, Some(0), "{shown}");
    assert!(shown.contains("\x1b[32m"), "no green in:\n{shown}");
    assert!(
        shown.lines().any(|l| l.contains("→")
            && l.contains("\x1b[36m")
            && l.contains("workflow/execute_remediation")),
        "tool calls are not cyan:\n{shown}"
    );
    // execute_remediation watches health recover for seconds: the spinner is drawn then.
    assert!(
        shown.contains("waiting for workflow/execute_remediation"),
        "no spinner:\n{shown}"
    );

    let (code, plain) = on_a_terminal(
        &["run-scenario", "db-connection-pool-exhaustion"],
        &[("NO_COLOR", "1")],
    );
    assert_eq!(code, Some(0), "{plain}");
    assert!(
        !plain.contains('\x1b'),
        "escape codes despite NO_COLOR:\n{plain}"
    );
    assert!(!plain.contains("waiting for"), "{plain}");
    assert!(
        plain.contains("[ 1]   → monitoring/verify_health"),
        "{plain}"
    );
}

/// `--permission ask` on a terminal: the operator reads each destructive call as a human
/// would (a script as its lines, not escaped JSON) and says no; a refused script is not asked
/// for again under another name, and a refused remediation is reported as not run.
#[test]
fn ask_mode_shows_each_call_readably_and_a_no_is_not_asked_again() {
    let (_, shown) = typed_on_a_terminal(
        &[
            "run-scenario",
            "db-connection-pool-exhaustion",
            "--permission",
            "ask",
        ],
        &[("NO_COLOR", "1")],
        &"n\n".repeat(20),
    );
    let script_questions = shown
        .matches("The agent wants to run `execute_analysis_script`")
        .count();
    assert_eq!(script_questions, 1, "{shown}");
    assert!(shown.contains("  code: ("), "{shown}");
    assert!(
        shown.contains("    | import "),
        "the script's own lines:\n{shown}"
    );
    assert!(!shown.contains("\\nimport"), "escaped JSON:\n{shown}");
    assert!(shown.contains("Run it? [y/N]"), "{shown}");
    assert!(
        shown.contains("The analysis script did not run: the operator refused"),
        "{shown}"
    );
    assert!(shown.contains("  action: "), "{shown}");
    assert!(
        shown.contains("Did not run increase-pool-size@orders-db: the operator refused"),
        "{shown}"
    );
    assert!(!shown.contains("Tried increase-pool-size"), "{shown}");
    assert!(
        !shown.contains("the call failed (Not run"),
        "a refusal read as a failure:\n{shown}"
    );
}

/// A server that dies mid-run: the three servers run as separate processes on one data
/// directory, the agent works a prompt against them (`--json`, so the test sees each step),
/// and the workflow server is killed once the first tool result is in — before the agent's
/// first workflow call lands (`list_incidents` in the same turn, or `create_incident` in the
/// next, whichever the kill beats). The agent must end non-zero with an error
/// naming `workflow`, keep its transcript up to that point on disk, and not hang (the bound
/// below only turns a hang into a failure).
#[test]
fn a_server_dying_mid_run_ends_the_agent_with_its_name_and_a_saved_transcript() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_str().unwrap().to_string();
    let serve = |server: &str| {
        common::Running::start_with_env(
            &[
                "serve",
                server,
                "--port",
                "0",
                "--scenario",
                "db-connection-pool-exhaustion",
            ],
            &[server],
            &[("OPSMCP_DATA_DIR", &dir)],
        )
    };
    let monitoring = serve("monitoring");
    let mut workflow = serve("workflow");
    let logs = serve("log-analytics");
    let config = data.path().join("mcp.json");
    std::fs::write(
        &config,
        serde_json::json!({"mcpServers": {
            "monitoring": {"type": "http", "url": format!("{}/mcp", monitoring.url("monitoring"))},
            "workflow": {"type": "http", "url": format!("{}/mcp", workflow.url("workflow"))},
            "log-analytics": {"type": "http", "url": format!("{}/mcp", logs.url("log-analytics"))},
        }})
        .to_string(),
    )
    .unwrap();

    let mut agent = Command::new(bin())
        .args([
            "agent",
            "Checkout is failing; find out why and fix it",
            "--mcp-config",
            config.to_str().unwrap(),
            "--json",
        ])
        .env_remove("OPSMCP_CONFIG")
        .env("OPSMCP_DATA_DIR", &dir)
        .current_dir(data.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (lines, stdout) = common::lines_of(agent.stdout.take().unwrap());
    let stderr = common::read_all(agent.stderr.take().unwrap());
    let mut seen = Vec::new();
    loop {
        let line = lines
            .recv_timeout(std::time::Duration::from_secs(120))
            .unwrap_or_else(|_| panic!("no tool result from the agent; saw {seen:#?}"));
        let event: serde_json::Value = serde_json::from_str(&line).unwrap();
        let result = event["type"] == "tool_result";
        seen.push(event);
        if result {
            break;
        }
    }
    workflow.child.kill().unwrap();
    workflow.child.wait().unwrap();

    let code = common::wait_bounded(&mut agent, std::time::Duration::from_secs(300));
    drop(lines);
    let stdout = stdout.join().unwrap();
    let stderr = stderr.join().unwrap();
    let context = format!("stdout:\n{stdout}\nstderr:\n{stderr}");
    assert_eq!(code, Some(1), "{context}");
    assert!(stderr.contains("MCP server `workflow`"), "{context}");
    let failed_call = ["list_incidents", "create_incident"]
        .into_iter()
        .find(|t| stderr.contains(&format!("calling `{t}`")))
        .unwrap_or_else(|| panic!("the error names the workflow call that failed\n{context}"));

    // The transcript so far is on disk, where the run said it would be, with the failed call.
    let run_dir = seen[0]["transcript"]
        .as_str()
        .unwrap_or_else(|| panic!("no transcript dir in {}", seen[0]));
    assert!(
        stderr.contains(run_dir),
        "the error points at the transcript\n{context}"
    );
    let transcript =
        std::fs::read_to_string(std::path::Path::new(run_dir).join("transcript.jsonl")).unwrap();
    let records: Vec<serde_json::Value> = transcript
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        records.iter().any(|r| r["type"] == "tool_result"
            && r["name"] == format!("mcp__workflow__{failed_call}")
            && r["is_error"] == true),
        "{transcript}"
    );
    assert_eq!(
        records.last().map(|r| r["type"].clone()),
        Some("finished".into()),
        "{transcript}"
    );
}

/// The default incident with its fix marked as needing a human's approval.
fn fix_needs_approval(dir: &std::path::Path) -> std::path::PathBuf {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../scenarios/db-connection-pool-exhaustion.toml"),
    )
    .unwrap();
    let marked = text.replace(
        "name = \"increase-pool-size\"\n",
        "name = \"increase-pool-size\"\nneeds_approval = true\n",
    );
    assert_ne!(text, marked, "the scenario's fix moved; update this test");
    let file = dir.join("approval.toml");
    std::fs::write(&file, marked).unwrap();
    file
}

#[test]
fn a_fix_held_for_approval_runs_once_a_human_approves_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = fix_needs_approval(dir.path());
    let file = file.to_str().unwrap();

    // Nobody approves: the run asks, documents it as awaiting approval, and is not solved.
    let (_, stdout, stderr) = opsmcp(&["run-scenario", file, "--json"]);
    let context = format!("stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(context.contains("awaiting approval"), "{context}");
    assert!(!context.contains("\"solved\":true"), "{context}");
    // The score does not say it ran what only waited for a human.
    assert!(
        stderr.contains("none run; asked for, did not run: increase-pool-size@orders-db"),
        "{context}"
    );
    // And the summary says it was asked for, not tried.
    assert!(
        stdout.contains("Asked approval for increase-pool-size@orders-db: not run."),
        "{context}"
    );

    // The simulated on-call human approves; the planner, waiting, runs the fix and verifies.
    let (code, stdout, stderr) = opsmcp(&["run-scenario", file, "--approve-requests", "--json"]);
    let context = format!("stdout:\n{stdout}\nstderr:\n{stderr}");
    assert_eq!(code, Some(0), "{context}");
    assert!(stdout.contains("__await_approval\""), "{context}");
    // While it waits, the human is told what to type.
    assert!(
        stdout.contains(
            "approve with `opsmcp incidents approve INC-0001 increase-pool-size@orders-db`"
        ),
        "{context}"
    );
    assert!(stdout.contains("simulated-approver"), "{context}");
    assert!(stdout.contains("\"solved\":true"), "{context}");
    assert!(
        stderr.contains("— ran increase-pool-size@orders-db\n"),
        "ran once, asked once: {context}"
    );
}

/// Worlds nobody wrote by hand (`scenarios generate`, 24 services): a fault the analysis knows
/// is worked end to end, postmortem included however many services were sick, and a cause it
/// has no rule for is handed over without acting.
#[test]
fn eval_works_generated_worlds_end_to_end_and_abstains_on_an_unknown_cause() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (fault, seed) in [
        ("connection-pool-exhaustion", "3"),
        ("dns-resolution-failure", "5"),
    ] {
        let (code, toml, stderr) = opsmcp(&[
            "scenarios",
            "generate",
            "--services",
            "24",
            "--seed",
            seed,
            "--fault",
            fault,
        ]);
        assert_eq!(code, Some(0), "{stderr}");
        let file = dir.path().join(format!("{fault}.toml"));
        std::fs::write(&file, toml).unwrap();
        files.push(file.to_str().unwrap().to_string());
    }
    let json = dir.path().join("eval.json");
    let (code, stdout, stderr) = opsmcp(&[
        "eval",
        "--scenarios",
        &files.join(","),
        "--seeds",
        "1",
        "--min-solved",
        "0",
        "--json",
        json.to_str().unwrap(),
    ]);
    let context = format!("stdout:\n{stdout}\nstderr:\n{stderr}");
    assert_eq!(code, Some(0), "{context}");
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    for r in file["rows"].as_array().unwrap() {
        let unknown = r["scenario"].as_str().unwrap().contains("dns-resolution");
        assert_eq!(r["innocent_actions"], 0, "{r}");
        assert_eq!(r["confident_wrong"], false, "{r}");
        if unknown {
            assert_eq!(r["correct_abstention"], true, "{r}");
            assert!(r["score"]["ran"].as_array().unwrap().is_empty(), "{r}");
        } else {
            assert_eq!(r["solved"], true, "{r}");
            assert_eq!(r["documented"], true, "{r}");
        }
    }
}

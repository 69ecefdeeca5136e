//! The workflow server end to end: the real binary playing a simulated incident, called over
//! MCP with the rmcp client, checked in the store through the CLI.

mod common;

use std::process::Command;

use common::{Running, bin, workspace_root};
use rmcp::{
    RoleClient, ServiceExt,
    model::{CallToolRequestParams, CallToolResult},
    service::RunningService,
    transport::StreamableHttpClientTransport,
};
use serde_json::{Value, json};

const PORTS: [&str; 6] = [
    "--monitoring-port",
    "0",
    "--workflow-port",
    "0",
    "--log-analytics-port",
    "0",
];

async fn client(server: &Running) -> RunningService<RoleClient, ()> {
    let transport =
        StreamableHttpClientTransport::from_uri(format!("{}/mcp", server.url("workflow")));
    ().serve(transport).await.unwrap()
}

async fn call(c: &RunningService<RoleClient, ()>, tool: &str, args: Value) -> CallToolResult {
    c.call_tool(
        CallToolRequestParams::new(tool.to_string())
            .with_arguments(args.as_object().unwrap().clone()),
    )
    .await
    .unwrap()
}

fn ok(r: &CallToolResult) -> Value {
    assert_ne!(r.is_error, Some(true), "{:?}", r.content);
    r.structured_content.clone().expect("structured content")
}

fn err_text(r: &CallToolResult) -> String {
    assert_eq!(
        r.is_error,
        Some(true),
        "expected an error, got {:?}",
        r.structured_content
    );
    format!("{:?}", r.content)
}

fn cli(data_dir: &std::path::Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(bin())
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("OPSMCP_CONFIG")
        .env_remove("OPSMCP_DATABASE_URL")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr),
    )
}

fn seen_now(data_dir: &std::path::Path, server: &str, tool: &str) -> bool {
    let (_, out) = cli(data_dir, &["audit", "list", "--json", "--limit", "1000"]);
    out.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .any(|e| e["server"] == server && e["tool"] == tool)
}

#[tokio::test]
async fn an_incident_is_opened_once_remediated_documented_and_audited() {
    let mut args = vec![
        "up",
        "--scenario",
        "db-connection-pool-exhaustion",
        "--effect-speed",
        "60",
        "--verify-timeout-s",
        "60",
    ];
    args.extend(PORTS);
    let server = Running::start(&args, &["monitoring", "workflow", "log-analytics"]);
    let c = client(&server).await;
    let tools: Vec<String> = c
        .list_all_tools()
        .await
        .unwrap()
        .iter()
        .map(|t| t.name.to_string())
        .collect();
    for t in [
        "create_incident",
        "get_incident",
        "list_incidents",
        "update_incident",
        "execute_remediation",
        "document_resolution",
    ] {
        assert!(tools.contains(&t.to_string()), "{t} missing from {tools:?}");
    }

    let open = json!({"title": "Checkout failing", "severity": "critical",
                      "services": ["orders-db", "checkout-api"], "dedup_key": "checkout-5xx"});
    let first = ok(&call(&c, "create_incident", open.clone()).await);
    let id = first["incident"]["id"].as_str().unwrap().to_string();
    assert_eq!(id, "INC-0001");
    assert_eq!(first["incident"]["severity"], "SEV1");
    assert_eq!(first["deduplicated"], false);
    let again = ok(&call(&c, "create_incident", open).await);
    assert_eq!(again["incident"]["id"], id.as_str());
    assert_eq!(again["deduplicated"], true);

    // Bad input: each a clear error saying what is allowed, nothing written.
    let e = err_text(
        &call(
            &c,
            "create_incident",
            json!({"title": "x", "severity": "bogus"}),
        )
        .await,
    );
    assert!(e.contains("SEV1"), "{e}");
    let e = err_text(&call(&c, "get_incident", json!({"incident_id": "INC-9999"})).await);
    assert!(
        e.contains("INC-9999") && e.contains("list_incidents"),
        "{e}"
    );
    let e = err_text(
        &call(
            &c,
            "execute_remediation",
            json!({"incident_id": id, "action": "reboot-the-world"}),
        )
        .await,
    );
    assert!(e.contains("increase-pool-size@orders-db"), "{e}");
    let e = err_text(
        &call(
            &c,
            "execute_remediation",
            json!({"incident_id": id, "action": "increase-pool-size", "parameters": {"size": 5}}),
        )
        .await,
    );
    assert!(e.contains("no parameter 'size'"), "{e}");

    // The right fix, closed loop: runs, health recovers, the incident is mitigated.
    let fix =
        json!({"incident_id": id, "action": "increase-pool-size", "idempotency_key": "fix-1"});
    let ran = ok(&call(&c, "execute_remediation", fix.clone()).await);
    assert_eq!(ran["outcome"], "ran", "{ran}");
    assert_eq!(ran["remediation"]["status"], "succeeded", "{ran}");
    assert_eq!(
        ran["remediation"]["before"]["orders-db"]["status"], "unhealthy",
        "{ran}"
    );
    assert_eq!(
        ran["remediation"]["after"]["orders-db"]["status"], "healthy",
        "{ran}"
    );
    let repeat = ok(&call(&c, "execute_remediation", fix).await);
    assert_eq!(repeat["outcome"], "repeated");
    assert_eq!(repeat["remediation"]["id"], ran["remediation"]["id"]);

    let e = err_text(
        &call(
            &c,
            "update_incident",
            json!({"incident_id": id, "status": "triggered"}),
        )
        .await,
    );
    assert!(e.contains("cannot go from mitigated to triggered"), "{e}");
    let upd = ok(&call(
        &c,
        "update_incident",
        json!({"incident_id": id, "assignee": "alice", "note": "pool raised"}),
    )
    .await);
    assert_eq!(upd["incident"]["assignee"], "alice");

    let pm = ok(&call(
        &c,
        "document_resolution",
        json!({
            "incident_id": id,
            "root_cause": "orders-db connection pool exhausted after pool_size was lowered",
            "resolution": "increased the pool size",
            "action_items": ["alert on pool saturation"],
        }),
    )
    .await);
    assert_eq!(pm["status"], "resolved");
    let md = std::fs::read_to_string(pm["path"].as_str().unwrap()).unwrap();
    for section in [
        "## Summary",
        "## Impact",
        "## Timeline",
        "## Root cause and evidence",
        "## Remediation and verification",
        "## Action items",
    ] {
        assert!(md.contains(section), "{section} missing:\n{md}");
    }
    assert!(
        md.contains("increase-pool-size@orders-db") && md.contains("succeeded"),
        "{md}"
    );
    let charts = pm["charts"].as_array().unwrap();
    assert!(!charts.is_empty());
    for chart in charts {
        let svg = std::fs::read_to_string(chart.as_str().unwrap()).unwrap();
        assert!(
            svg.starts_with("<svg") && svg.contains("polyline"),
            "{chart}"
        );
    }

    let got = ok(&call(&c, "get_incident", json!({"incident_id": id})).await);
    let kinds: Vec<&str> = got["incident"]["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["kind"].as_str().unwrap())
        .collect();
    for k in [
        "created",
        "deduplicated",
        "remediation_started",
        "remediation_finished",
        "updated",
        "postmortem",
        "status_changed",
    ] {
        assert!(kinds.contains(&k), "{k} missing from {kinds:?}");
    }
    let listed = ok(&call(&c, "list_incidents", json!({"status": "resolved"})).await);
    assert_eq!(listed["incidents"].as_array().unwrap().len(), 1);
    c.cancel().await.unwrap();

    // Every server's calls are in the audit log, secrets redacted.
    let monitoring =
        StreamableHttpClientTransport::from_uri(format!("{}/mcp", server.url("monitoring")));
    let m = ().serve(monitoring).await.unwrap();
    ok(&call(&m, "verify_health", json!({})).await);
    m.cancel().await.unwrap();
    let (code, out) = cli(
        &server.data_dir,
        &["audit", "list", "--json", "--limit", "1000"],
    );
    assert_eq!(code, 0, "{out}");
    let entries: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let seen = |server: &str, tool: &str| {
        entries
            .iter()
            .any(|e| e["server"] == server && e["tool"] == tool)
    };
    assert!(
        seen("workflow", "create_incident") && seen("workflow", "execute_remediation"),
        "{out}"
    );
    assert!(
        entries
            .iter()
            .any(|e| e["outcome"].as_str().unwrap().starts_with("error:")),
        "{out}"
    );
    // verify_health is read-only: its entry is written in the next batch, without waiting.
    let mut waited = 0;
    while !seen_now(&server.data_dir, "monitoring", "verify_health") {
        waited += 1;
        assert!(
            waited < 100,
            "monitoring's call never reached the audit log"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }

    // The CLI reads the same store; the audit chain is intact, then an edit is caught.
    let (code, out) = cli(&server.data_dir, &["incidents", "show", &id]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("remediation_finished")
            && out.contains("increase-pool-size@orders-db: succeeded"),
        "{out}"
    );
    let (code, out) = cli(&server.data_dir, &["audit", "verify"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("intact"), "{out}");
    let db = server.data_dir.join("opsmcp.db");
    let edit = Command::new("python3")
        .args(["-c", "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute(\"UPDATE audit_log SET arguments='{}' WHERE seq=3\"); c.commit()"])
        .arg(&db)
        .status()
        .unwrap();
    assert!(edit.success());
    let (code, out) = cli(&server.data_dir, &["audit", "verify"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("BROKEN at entry 3"), "{out}");
}

#[tokio::test]
async fn an_action_needing_approval_waits_for_a_human_and_a_failed_fix_is_rolled_back() {
    // The built-in scenario with its harmful restart marked as needing approval.
    let text = std::fs::read_to_string(
        workspace_root().join("scenarios/db-connection-pool-exhaustion.toml"),
    )
    .unwrap();
    let marked = text.replace(
        "name = \"restart\"\ntarget = \"checkout-api\"\n",
        "name = \"restart\"\ntarget = \"checkout-api\"\nneeds_approval = true\nrisk = \"high\"\n",
    );
    assert_ne!(
        text, marked,
        "the scenario's restart action moved; update this test"
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("approval.toml");
    std::fs::write(&file, marked).unwrap();
    let mut args = vec![
        "up",
        "--scenario",
        file.to_str().unwrap(),
        "--effect-speed",
        "60",
        "--verify-timeout-s",
        "4",
    ];
    args.extend(PORTS);
    let server = Running::start(&args, &["monitoring", "workflow", "log-analytics"]);
    let c = client(&server).await;
    let inc = ok(&call(
        &c,
        "create_incident",
        json!({"title": "slow checkout", "severity": "SEV2"}),
    )
    .await);
    let id = inc["incident"]["id"].as_str().unwrap().to_string();

    let restart = json!({"incident_id": id, "action": "restart@checkout-api"});
    let pending = ok(&call(&c, "execute_remediation", restart.clone()).await);
    assert_eq!(pending["outcome"], "pending_approval", "{pending}");
    let how = pending["approve_with"].as_str().unwrap();
    assert_eq!(
        how,
        format!("opsmcp incidents approve {id} restart@checkout-api")
    );
    let got = ok(&call(&c, "get_incident", json!({"incident_id": id})).await);
    assert!(
        got["remediations"].as_array().unwrap().is_empty(),
        "nothing ran before approval"
    );

    // Only the pending request can be approved: an action nobody asked for, a typo or the
    // wrong service is refused, naming what is pending and how to approve it.
    for wrong in [
        "failover@orders-db",
        "restrat@checkout-api",
        "restart@orders-db",
    ] {
        let (code, out) = cli(&server.data_dir, &["incidents", "approve", &id, wrong]);
        assert_ne!(code, 0, "{wrong} was accepted: {out}");
        assert!(
            out.contains(&format!(
                "no approval request for {wrong} is pending on {id}"
            )),
            "{out}"
        );
        assert!(
            out.contains("pending: restart@checkout-api")
                && out.contains(&format!(
                    "opsmcp incidents approve {id} restart@checkout-api"
                )),
            "{out}"
        );
    }
    let (code, out) = cli(
        &server.data_dir,
        &["incidents", "approve", "INC-0999", "restart@checkout-api"],
    );
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("INC-0999"), "{out}");

    // Waiting is only for what was asked, and a wait nobody answers comes back pending.
    let never = call(
        &c,
        "await_approval",
        json!({"incident_id": id, "action": "failover@orders-db", "wait_s": 1}),
    )
    .await;
    assert!(
        err_text(&never).contains("no approval was requested for failover@orders-db")
            && err_text(&never).contains("requested: restart@checkout-api"),
        "{never:?}"
    );
    let waited = ok(&call(
        &c,
        "await_approval",
        json!({"incident_id": id, "action": "restart", "wait_s": 1}),
    )
    .await);
    assert_eq!(waited["status"], "pending", "{waited}");
    assert!(waited["waited_s"].as_f64().unwrap() >= 0.5, "{waited}");

    // A caller already waiting learns of the approval as soon as it is given.
    let data_dir = server.data_dir.clone();
    let approving = {
        let id = id.clone();
        tokio::task::spawn_blocking(move || {
            std::thread::sleep(std::time::Duration::from_millis(700));
            cli(
                &data_dir,
                &[
                    "incidents",
                    "approve",
                    &id,
                    "restart@checkout-api",
                    "--by",
                    "carol",
                ],
            )
        })
    };
    let approved = ok(&call(
        &c,
        "await_approval",
        json!({"incident_id": id, "action": "restart@checkout-api", "wait_s": 30}),
    )
    .await);
    let (code, out) = approving.await.unwrap();
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("by carol"), "{out}");
    assert!(
        out.contains("nothing ran yet"),
        "approving says it runs nothing: {out}"
    );
    assert_eq!(approved["status"], "approved", "{approved}");
    assert_eq!(approved["approved_by"], "carol", "{approved}");
    // Approved once is no longer pending.
    let (code, out) = cli(
        &server.data_dir,
        &["incidents", "approve", &id, "restart@checkout-api"],
    );
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains("restart@checkout-api is already approved")
            && out.contains("no pending request"),
        "{out}"
    );

    // Approved, it runs; health does not recover (a restart does not fix a pool), so it is
    // rolled back.
    let ran = ok(&call(&c, "execute_remediation", restart).await);
    assert_eq!(ran["outcome"], "ran", "{ran}");
    assert_eq!(ran["remediation"]["status"], "rolled_back", "{ran}");
    assert_eq!(
        ran["remediation"]["result"]["verification"]["recovered"],
        false
    );
    let got = ok(&call(&c, "get_incident", json!({"incident_id": id})).await);
    let timeline = got["incident"]["timeline"].to_string();
    for k in ["approval_requested", "approved", "carol", "rolled_back"] {
        assert!(timeline.contains(k), "{k} missing from {timeline}");
    }

    // A resolved incident takes no approvals.
    let resolved = ok(&call(
        &c,
        "update_incident",
        json!({"incident_id": id, "status": "resolved"}),
    )
    .await);
    assert_eq!(resolved["incident"]["status"], "resolved", "{resolved}");
    let (code, out) = cli(
        &server.data_dir,
        &["incidents", "approve", &id, "restart@checkout-api"],
    );
    assert_ne!(code, 0, "{out}");
    assert!(out.contains(&format!("incident {id} is resolved")), "{out}");
    let closed = ok(&call(
        &c,
        "await_approval",
        json!({"incident_id": id, "action": "restart@checkout-api", "wait_s": 5}),
    )
    .await);
    assert_eq!(
        closed["status"], "closed",
        "nothing runs on it any more: {closed}"
    );
    assert_eq!(closed["incident_status"], "resolved", "{closed}");
    c.cancel().await.unwrap();
}

/// Where a fix is judged on what it heals (see the file's header).
fn two_stories() -> std::path::PathBuf {
    workspace_root().join("crates/opsmcp/tests/fixtures/two-stories.toml")
}

#[tokio::test]
async fn a_fix_is_judged_on_what_it_heals_and_an_unrelated_backlog_is_reported() {
    let file = two_stories();
    let mut args = vec![
        "up",
        "--scenario",
        file.to_str().unwrap(),
        "--verify-timeout-s",
        "3",
    ];
    args.extend(PORTS);
    let server = Running::start(&args, &["monitoring", "workflow", "log-analytics"]);
    let c = client(&server).await;
    let open = |title: &str| json!({"title": title, "severity": "SEV2", "services": ["web", "store", "jobs"]});
    let first = ok(&call(&c, "create_incident", open("web errors")).await);
    let id = first["incident"]["id"].as_str().unwrap().to_string();

    let bad = call(
        &c,
        "execute_remediation",
        json!({"incident_id": id, "action": "revert-store-settings", "heals": ["store", "wbe"]}),
    )
    .await;
    let text = err_text(&bad);
    assert!(
        text.contains("wbe") && text.contains("web, store, jobs"),
        "{text}"
    );

    // Without a claim every sick service must heal: the backlog rolls the fix back.
    let unclaimed = ok(&call(
        &c,
        "execute_remediation",
        json!({"incident_id": id, "action": "revert-store-settings", "idempotency_key": "plain"}),
    )
    .await);
    assert_eq!(
        unclaimed["remediation"]["status"], "rolled_back",
        "{unclaimed}"
    );

    let claimed = ok(&call(
        &c,
        "execute_remediation",
        json!({"incident_id": id, "action": "revert-store-settings", "heals": ["store", "web"],
               "idempotency_key": "claimed"}),
    )
    .await);
    let r = &claimed["remediation"];
    assert_eq!(r["status"], "succeeded", "{claimed}");
    assert_eq!(
        r["result"]["verification"]["left_unhealthy"],
        json!(["jobs"]),
        "{claimed}"
    );
}

#[tokio::test]
async fn a_caller_can_hold_any_action_for_a_human() {
    // `rollback@search` needs no approval; asked with `ask_approval` it waits all the same.
    let mut args = vec![
        "up",
        "--scenario",
        "db-connection-pool-exhaustion",
        "--effect-speed",
        "60",
        "--verify-timeout-s",
        "2",
    ];
    args.extend(PORTS);
    let server = Running::start(&args, &["monitoring", "workflow", "log-analytics"]);
    let c = client(&server).await;
    let inc = ok(&call(
        &c,
        "create_incident",
        json!({"title": "slow checkout", "severity": "SEV2"}),
    )
    .await);
    let id = inc["incident"]["id"].as_str().unwrap().to_string();
    let asked = json!({"incident_id": id, "action": "rollback@search", "ask_approval": true});
    let pending = ok(&call(&c, "execute_remediation", asked.clone()).await);
    assert_eq!(pending["outcome"], "pending_approval", "{pending}");
    let got = ok(&call(&c, "get_incident", json!({"incident_id": id})).await);
    assert!(
        got["remediations"].as_array().unwrap().is_empty(),
        "nothing ran before approval: {got}"
    );
    let (code, out) = cli(
        &server.data_dir,
        &["incidents", "approve", &id, "rollback@search"],
    );
    assert_eq!(code, 0, "{out}");
    let ran = ok(&call(&c, "execute_remediation", asked).await);
    assert_eq!(ran["outcome"], "ran", "approved, it runs: {ran}");
    c.cancel().await.unwrap();
}

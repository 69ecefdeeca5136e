//! The planner against a stand-in ops server over real MCP (streamable HTTP): a
//! handler offering the tool names and result shapes of the opsmcp contracts, with a world
//! that recovers only when the right action runs. The analysis script the planner writes is
//! really run with python3 on the raw logs the stand-in wrote. The planner is never told the
//! answer; the tests check that it finds it from the tool outputs, adapts when an action does
//! not help, and skips tools that are not offered.

use std::{
    path::PathBuf,
    sync::{Arc, Mutex},
    time::Duration,
};

use opsmcp_agent::{Agent, Event, McpServersConfig, Toolbox, agent::FinishReason};
use opsmcp_mcp::{HostSettings, McpHost};
use opsmcp_responder::{Planner, PlannerConfig};
use rmcp::{
    ErrorData, RoleServer, ServerHandler,
    model::{
        CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, ListToolsResult,
        PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
    },
    service::RequestContext,
};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

/// What the stand-in world does.
#[derive(Clone)]
struct World {
    /// Tools offered.
    tools: Vec<&'static str>,
    /// The action (`name@target`) that fixes it.
    fix: &'static str,
    /// Actions whose remediation comes back rolled back.
    rolled_back: Vec<&'static str>,
    /// Analysis workspace.
    analytics: PathBuf,
    state: Arc<Mutex<State>>,
}

#[derive(Default)]
struct State {
    fixed: bool,
    calls: Vec<(String, Value)>,
}

const ALL: &[&str] = &[
    "get_system_metrics",
    "verify_health",
    "analyze_logs",
    "root_cause_analysis",
    "create_incident",
    "execute_remediation",
    "update_incident",
    "document_resolution",
    "notify_team",
    "get_raw_logs",
    "execute_analysis_script",
];

impl World {
    fn new(dir: &std::path::Path, tools: &[&'static str], fix: &'static str) -> Self {
        Self {
            tools: tools.to_vec(),
            fix,
            rolled_back: Vec::new(),
            analytics: dir.to_path_buf(),
            state: Arc::default(),
        }
    }

    fn calls(&self) -> Vec<(String, Value)> {
        self.state.lock().unwrap().calls.clone()
    }

    fn names(&self) -> Vec<String> {
        self.calls().into_iter().map(|(n, _)| n).collect()
    }

    fn answer(&self, name: &str, args: &Value) -> Result<Value, String> {
        let fixed = self.state.lock().unwrap().fixed;
        Ok(match name {
            "verify_health" => {
                let api = if fixed { "healthy" } else { "unhealthy" };
                let db = if fixed { "healthy" } else { "degraded" };
                json!({
                    "status": if fixed { "degraded" } else { "unhealthy" },
                    "summary": if fixed { "search: cpu 1.2x" } else { "checkout: error_rate 60x baseline; db: pool 50/50" },
                    "services": [
                        {"service": "checkout", "status": api, "checks": [
                            {"name": "error_rate", "status": api, "message": "error_rate 60x baseline"}]},
                        {"service": "db", "status": db, "checks": [
                            {"name": "pool", "status": db, "message": "pool 50/50"}]},
                        // A bystander that stays degraded: it must not block "recovered".
                        {"service": "search", "status": "degraded", "checks": [
                            {"name": "cpu", "status": "degraded", "message": "cpu 1.2x"}]}
                    ]
                })
            }
            "get_system_metrics" => {
                json!({"services": [{"service": "checkout"}, {"service": "db"}]})
            }
            "create_incident" => {
                json!({"incident": {"id": "INC-0007", "title": args["title"]}, "deduplicated": false})
            }
            "analyze_logs" => json!({"summary": "db: FATAL remaining connection slots (90/min)"}),
            "get_raw_logs" => {
                let entries: Vec<Value> = (0..30)
                    .map(|i| match i % 3 {
                        0 => json!({"service": "db", "level": "error", "text": format!("FATAL: remaining connection slots are reserved (client 10.0.3.{i})")}),
                        1 => json!({"service": "checkout", "level": "error", "text": format!("{{\"msg\":\"timeout acquiring connection after {i} ms\"}}")}),
                        _ => json!({"service": "search", "level": "info", "text": "query served"}),
                    })
                    .collect();
                std::fs::create_dir_all(self.analytics.join("raw")).unwrap();
                std::fs::write(
                    self.analytics.join("raw/INC-0007.json"),
                    json!({"entries": entries}).to_string(),
                )
                .unwrap();
                json!({"log_data_path": "raw/INC-0007.json", "entries": 30})
            }
            "execute_analysis_script" => {
                let script = args["script_path"].as_str().ok_or("script_path required")?;
                if script.starts_with('/')
                    || script.contains("..")
                    || script.starts_with("analytics/")
                {
                    return Err(format!(
                        "script_path must be relative to analytics/, got {script}"
                    ));
                }
                let path = self.analytics.join(script);
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(&path, args["code"].as_str().ok_or("code required")?).unwrap();
                let data = self
                    .analytics
                    .join(args["log_data_path"].as_str().unwrap_or(""));
                let out = std::process::Command::new("python3")
                    .args(["-I", "-B"])
                    .arg(&path)
                    .arg(&data)
                    .output()
                    .map_err(|e| e.to_string())?;
                json!({
                    "exit_code": out.status.code(),
                    "stdout": String::from_utf8_lossy(&out.stdout),
                    "stderr": String::from_utf8_lossy(&out.stderr),
                })
            }
            "root_cause_analysis" => json!({"hypotheses": [
                // Ranked wrong first, as a plausible red herring.
                {"root_cause": "bad-deploy", "component": "checkout", "confidence": 0.55,
                 "evidence": ["checkout deployed 20 min ago"],
                 "suggested_action": {"name": "rollback", "target": "checkout"}},
                {"root_cause": "connection-pool-exhaustion", "component": "db", "confidence": 0.5,
                 "summary": "the db ran out of connections",
                 "evidence": ["db pool 50/50", "FATAL remaining connection slots x90/min"],
                 "remediation": "increase-pool-size@db"}
            ]}),
            "execute_remediation" => {
                let label = format!(
                    "{}@{}",
                    args["action"].as_str().unwrap_or(""),
                    args["target"].as_str().unwrap_or("")
                );
                if args["incident_id"] != json!("INC-0007") || args["idempotency_key"].is_null() {
                    return Err("incident_id and idempotency_key expected".into());
                }
                if self.rolled_back.contains(&label.as_str()) {
                    json!({"outcome": "ran", "remediation": {"status": "rolled_back"}, "repeated": false})
                } else {
                    if label == self.fix {
                        self.state.lock().unwrap().fixed = true;
                    }
                    // The action "ran"; whether it helped shows in health.
                    json!({"outcome": "ran", "remediation": {"status": "succeeded"}, "repeated": false})
                }
            }
            "document_resolution" => json!({"path": "postmortems/INC-0007.md"}),
            "update_incident" => json!({"incident": {"id": "INC-0007", "status": "investigating"}}),
            "notify_team" => json!({"notification": {"id": 1, "status": "queued"}}),
            other => return Err(format!("unexpected tool {other}")),
        })
    }
}

impl ServerHandler for World {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
    }

    async fn list_tools(
        &self,
        _: Option<PaginatedRequestParams>,
        _: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let schema: Arc<serde_json::Map<String, Value>> =
            Arc::new(json!({"type": "object"}).as_object().unwrap().clone());
        Ok(ListToolsResult::with_all_items(
            self.tools
                .iter()
                .map(|t| Tool::new(*t, format!("stand-in {t}"), schema.clone()))
                .collect(),
        ))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let args = Value::Object(request.arguments.unwrap_or_default());
        self.state
            .lock()
            .unwrap()
            .calls
            .push((request.name.to_string(), args.clone()));
        Ok(match self.answer(&request.name, &args) {
            Ok(v) => CallToolResult::structured(v),
            Err(e) => CallToolResult::error(vec![ContentBlock::text(e)]),
        }
        .into())
    }
}

struct Run {
    outcome: opsmcp_agent::RunOutcome,
    texts: Vec<String>,
}

async fn run(world: World) -> Run {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let stop = CancellationToken::new();
    let mut settings = HostSettings::new("ops", "0");
    settings.shutdown_grace = Duration::from_millis(100);
    let handler = world.clone();
    tokio::spawn(McpHost::new(settings, move || handler.clone()).serve(listener, stop.clone()));
    let config = McpServersConfig::from_json(
        &json!({"ops": {"type": "http", "url": format!("{base}/mcp")}}).to_string(),
    )
    .unwrap();
    let toolbox = Arc::new(
        Toolbox::connect(&config, Duration::from_secs(20))
            .await
            .unwrap(),
    );
    let brain = Planner::new(PlannerConfig {
        recheck_delay: Duration::ZERO,
        max_rechecks: 1,
        ..PlannerConfig::default()
    });
    let mut agent = Agent::new(Box::new(brain), toolbox, "");
    let mut texts = Vec::new();
    let outcome = agent
        .run("checkout is failing", &mut |e: &Event| {
            if let Event::Assistant { content, .. } = e {
                for b in content {
                    if let opsmcp_agent::Block::Text { text } = b {
                        texts.push(text.clone());
                    }
                }
            }
        })
        .await
        .unwrap();
    stop.cancel();
    Run { outcome, texts }
}

fn arg<'a>(calls: &'a [(String, Value)], tool: &str) -> &'a Value {
    &calls.iter().find(|(n, _)| n == tool).unwrap().1
}

/// The whole lifecycle. The top hypothesis's action "succeeds" but health does not recover,
/// so after one re-check the planner tries the next hypothesis's action, which fixes it, and
/// documents that one as the root cause, with the script's findings as evidence.
#[tokio::test]
async fn works_the_lifecycle_and_moves_on_when_health_does_not_recover() {
    let dir = tempfile::tempdir().unwrap();
    let world = World::new(dir.path(), ALL, "increase-pool-size@db");
    let run = run(world.clone()).await;
    assert_eq!(run.outcome.reason, FinishReason::Stopped);
    assert_eq!(
        world.names(),
        [
            "verify_health",
            "get_system_metrics",
            "create_incident",
            "analyze_logs",
            "get_raw_logs",
            "execute_analysis_script",
            "root_cause_analysis",
            "execute_remediation",
            "verify_health",
            "verify_health",
            "execute_remediation",
            "verify_health",
            "document_resolution",
            "notify_team",
        ]
    );
    let calls = world.calls();
    let incident = arg(&calls, "create_incident");
    assert_eq!(incident["severity"], json!("SEV2"));
    assert_eq!(incident["services"], json!(["checkout", "db", "search"]));
    assert!(
        incident["title"].as_str().unwrap().contains("checkout"),
        "{incident}"
    );
    assert!(incident["dedup_key"].is_string());
    assert_eq!(
        arg(&calls, "analyze_logs"),
        &json!({"incident_id": "INC-0007"})
    );

    let script = arg(&calls, "execute_analysis_script");
    assert_eq!(script["log_data_path"], json!("raw/INC-0007.json"));
    assert!(script["code"].as_str().unwrap().contains("sys.argv[1]"));
    assert!(
        dir.path()
            .join(script["script_path"].as_str().unwrap())
            .exists()
    );

    let remediations: Vec<&Value> = calls
        .iter()
        .filter(|(n, _)| n == "execute_remediation")
        .map(|(_, a)| a)
        .collect();
    assert_eq!(remediations[0]["action"], json!("rollback"));
    assert_eq!(remediations[1]["action"], json!("increase-pool-size"));
    assert_eq!(remediations[1]["target"], json!("db"));
    assert_ne!(
        remediations[0]["idempotency_key"],
        remediations[1]["idempotency_key"]
    );

    let doc = arg(&calls, "document_resolution");
    let root = doc["root_cause"].as_str().unwrap();
    assert!(
        root.starts_with("connection-pool-exhaustion in db"),
        "{root}"
    );
    assert!(
        doc["resolution"]
            .as_str()
            .unwrap()
            .contains("increase-pool-size@db")
    );
    let evidence = doc["evidence"].to_string();
    assert!(
        evidence.contains("db pool 50/50"),
        "RCA evidence: {evidence}"
    );
    // The script really ran on the raw logs: 10 errors each for db and checkout.
    assert!(evidence.contains("db 10"), "script output: {evidence}");
    assert!(
        evidence.contains("FATAL: remaining connection slots"),
        "{evidence}"
    );

    let notify = arg(&calls, "notify_team");
    assert!(
        notify["message"]
            .as_str()
            .unwrap()
            .contains("INC-0007 resolved"),
        "{notify}"
    );
    assert!(
        run.outcome
            .final_text
            .contains("Root cause: connection-pool-exhaustion (component db")
    );
    assert!(
        run.texts
            .iter()
            .any(|t| t.contains("rollback@checkout did not fix it")),
        "{:?}",
        run.texts
    );
}

/// A remediation that comes back rolled back moves straight to the next action, without a
/// health check in between.
#[tokio::test]
async fn a_rolled_back_remediation_moves_to_the_next_action() {
    let dir = tempfile::tempdir().unwrap();
    let mut world = World::new(dir.path(), ALL, "increase-pool-size@db");
    world.rolled_back = vec!["rollback@checkout"];
    let run = run(world.clone()).await;
    let names = world.names();
    let at = names
        .iter()
        .position(|n| n == "execute_remediation")
        .unwrap();
    assert_eq!(names[at + 1], "execute_remediation");
    assert!(run.outcome.final_text.contains("resolved"));
    assert!(
        run.texts
            .iter()
            .any(|t| t.contains("came back rolled_back")),
        "{:?}",
        run.texts
    );
}

/// Without the log-analytics and notification tools, the planner says so and does the rest.
#[tokio::test]
async fn missing_tools_are_skipped_with_a_note() {
    let dir = tempfile::tempdir().unwrap();
    let offered: Vec<&str> = ALL
        .iter()
        .copied()
        .filter(|t| {
            !matches!(
                *t,
                "get_raw_logs" | "execute_analysis_script" | "notify_team" | "get_system_metrics"
            )
        })
        .collect();
    let world = World::new(dir.path(), &offered, "rollback@checkout");
    let run = run(world.clone()).await;
    assert_eq!(run.outcome.reason, FinishReason::Stopped);
    let all = run.texts.join("\n");
    assert!(all.contains("Skipping get_raw_logs"), "{all}");
    assert!(all.contains("Skipping notify_team"), "{all}");
    assert!(all.contains("Skipping get_system_metrics"), "{all}");
    let names = world.names();
    assert_eq!(
        names.iter().filter(|n| *n == "execute_remediation").count(),
        1
    );
    assert_eq!(names.last().unwrap(), "document_resolution");
    assert!(run.outcome.final_text.contains("The team was not notified"));
}

/// When no suggested action restores health, the incident is not documented as resolved: the
/// findings go on its timeline and the team hears that a human is needed.
#[tokio::test]
async fn an_unfixable_incident_stays_open_and_is_escalated() {
    let dir = tempfile::tempdir().unwrap();
    let world = World::new(dir.path(), ALL, "nothing@fixes");
    let run = run(world.clone()).await;
    let names = world.names();
    assert_eq!(
        names.iter().filter(|n| *n == "execute_remediation").count(),
        2
    );
    assert!(
        !names.iter().any(|n| n == "document_resolution"),
        "{names:?}"
    );
    let calls = world.calls();
    let note = arg(&calls, "update_incident")["note"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(note.contains("Not resolved yet"), "{note}");
    assert!(note.contains("Suspected, not confirmed by a fix"), "{note}");
    // The cause is said once, and each sentence ends once.
    assert!(!note.contains(".."), "{note}");
    let suspected = note
        .split("Suspected, not confirmed by a fix: ")
        .nth(1)
        .unwrap();
    let sentence = suspected.split(". ").next().unwrap();
    let cause = sentence.split_whitespace().next().unwrap();
    assert_eq!(sentence.matches(cause).count(), 1, "{note}");
    let notify = arg(&calls, "notify_team")["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(notify.contains("NOT resolved, needs a human"), "{notify}");
    assert!(run.outcome.final_text.contains("NOT resolved"));
}

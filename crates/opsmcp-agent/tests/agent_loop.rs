//! The agent loop end to end: a **local stand-in for Anthropic's Messages API** (an axum server
//! on loopback that plays scripted streamed answers in the documented event format; the real
//! API cannot be reached from the test machines) drives a tool-use conversation against a real
//! MCP server over streamable HTTP, whose tools really run.

#[path = "support/echo_server.rs"]
mod echo_server;
#[path = "support/script_server.rs"]
mod script_server;

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use echo_server::EchoServer;
use futures::future::BoxFuture;
use opsmcp_agent::{
    Agent, AgentError, Brain, BrainInput, Event, McpServersConfig, Permission, ProviderBrain,
    Toolbox, Turn,
    agent::{Approver, FinishReason},
    mcp::{McpError, ToolInfo},
    providers::{
        Block, StopReason, TextSink, Usage,
        anthropic::{Anthropic, AnthropicConfig},
    },
};
use opsmcp_mcp::{HostSettings, McpHost};
use script_server::{ScriptServer, Scripted, anthropic_stream};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

struct Mcp {
    toolbox: Arc<Toolbox>,
    restarts: Arc<Mutex<Vec<String>>>,
    stop: CancellationToken,
}

async fn mcp() -> Mcp {
    let server = EchoServer::new();
    let restarts = server.restarts.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let stop = CancellationToken::new();
    let mut settings = HostSettings::new("ops", "0");
    settings.shutdown_grace = Duration::from_millis(100);
    tokio::spawn(McpHost::new(settings, move || server.clone()).serve(listener, stop.clone()));
    let config = McpServersConfig::from_json(
        &json!({"ops": {"type": "http", "url": format!("{base}/mcp")}}).to_string(),
    )
    .unwrap();
    let toolbox = Toolbox::connect(&config, Duration::from_secs(20))
        .await
        .unwrap();
    Mcp {
        toolbox: Arc::new(toolbox),
        restarts,
        stop,
    }
}

fn brain(base: &str) -> Box<dyn Brain> {
    let mut config = AnthropicConfig::from_env("claude-test");
    config.base_url = base.to_string();
    config.api_key = Some("sk-test".into());
    Box::new(ProviderBrain::new(Arc::new(
        Anthropic::new(config).unwrap(),
    )))
}

fn tool_names(body: &Value) -> Vec<String> {
    body["tools"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|t| t["name"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// A restart, then an oversized result, then the final answer: the tool really runs, the big
/// result is truncated for the model with the path of the full one, and the transcript has
/// every step.
#[tokio::test]
async fn tool_use_conversation_end_to_end() {
    let mcp = mcp().await;
    let model = ScriptServer::start(vec![
        Scripted::sse(anthropic_stream(
            "Restarting api.",
            Some((
                "toolu_1",
                "mcp__ops__restart_service",
                json!({"service": "api"}),
            )),
        )),
        Scripted::sse(anthropic_stream(
            "",
            Some(("toolu_2", "mcp__ops__big", json!({"bytes": 5000}))),
        )),
        Scripted::sse(anthropic_stream("Done: api restarted and healthy.", None)),
    ])
    .await;
    let dir = tempfile::tempdir().unwrap();
    let mut agent = Agent::new(brain(&model.base), mcp.toolbox.clone(), "You are on call.");
    agent.result_budget_bytes = 1000;
    agent.transcript_dir = Some(dir.path().to_path_buf());

    let mut events = Vec::new();
    let outcome = agent
        .run("api is down", &mut |e: &Event| events.push(e.clone()))
        .await
        .unwrap();

    assert_eq!(outcome.reason, FinishReason::Stopped);
    assert_eq!(outcome.turns, 3);
    assert_eq!(outcome.final_text, "Done: api restarted and healthy.");
    assert_eq!(outcome.usage.input_tokens, 75);
    assert_eq!(
        *mcp.restarts.lock().unwrap(),
        ["api"],
        "the tool really ran"
    );

    // What the model was sent.
    let reqs = model.requests();
    assert_eq!(reqs.len(), 3);
    let first = reqs[0].json();
    assert_eq!(first["system"], json!("You are on call."));
    assert_eq!(tool_names(&first).len(), 5);
    let second = reqs[1].json();
    let result = &second["messages"][2]["content"][0];
    assert_eq!(result["type"], json!("tool_result"));
    assert_eq!(result["tool_use_id"], json!("toolu_1"));
    assert!(
        result["content"]
            .as_str()
            .unwrap()
            .contains("\"restarted\":\"api\""),
        "{result}"
    );
    let third = reqs[2].json();
    let big = third["messages"][4]["content"][0]["content"]
        .as_str()
        .unwrap();
    assert!(big.starts_with("0123456789"));
    assert!(
        big.contains("[truncated: 1000 of 5000 bytes shown; the full result is in "),
        "{big}"
    );
    assert!(big.len() < 1300);

    // The events, in order.
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| match e {
            Event::Started { .. } => "started",
            Event::TurnStarted { .. } => "turn",
            Event::TextDelta { .. } => "delta",
            Event::Assistant { .. } => "assistant",
            Event::ToolCall { .. } => "call",
            Event::ToolDenied { .. } => "denied",
            Event::ToolResult { .. } => "result",
            Event::Finished { .. } => "finished",
        })
        .filter(|k| *k != "delta")
        .collect();
    assert_eq!(
        kinds,
        [
            "started",
            "turn",
            "assistant",
            "call",
            "result",
            "turn",
            "assistant",
            "call",
            "result",
            "turn",
            "assistant",
            "finished"
        ]
    );
    let streamed: String = events
        .iter()
        .filter_map(|e| match e {
            Event::TextDelta { text } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(streamed, "Restarting api.Done: api restarted and healthy.");

    // The full result on disk, and the transcript.
    let full_path = events
        .iter()
        .find_map(|e| match e {
            Event::ToolResult {
                truncated: true,
                full_result,
                ..
            } => full_result.clone(),
            _ => None,
        })
        .expect("a truncated result");
    assert!(big.contains(&full_path.display().to_string()));
    assert_eq!(std::fs::read_to_string(&full_path).unwrap().len(), 5000);
    let run_dir = outcome.transcript.unwrap();
    let lines: Vec<Value> = std::fs::read_to_string(run_dir.join("transcript.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), kinds.len(), "every event but text deltas");
    assert!(lines.iter().all(|l| l["ts"].is_string()));
    assert_eq!(lines[0]["type"], json!("started"));
    assert_eq!(lines.last().unwrap()["type"], json!("finished"));
    mcp.stop.cancel();
}

/// Read-only mode offers only `readOnlyHint: true` tools and refuses a call to another;
/// the refusal goes back to the model as an error result.
#[tokio::test]
async fn read_only_hides_and_refuses_destructive_tools() {
    let mcp = mcp().await;
    let model = ScriptServer::start(vec![
        Scripted::sse(anthropic_stream(
            "",
            Some((
                "toolu_1",
                "mcp__ops__restart_service",
                json!({"service": "api"}),
            )),
        )),
        Scripted::sse(anthropic_stream("Cannot restart in read-only mode.", None)),
    ])
    .await;
    let mut agent = Agent::new(brain(&model.base), mcp.toolbox.clone(), "sys");
    agent.permission = Permission::ReadOnly;
    let outcome = agent.run("restart api", &mut |_: &Event| {}).await.unwrap();
    assert_eq!(outcome.turns, 2);
    assert!(mcp.restarts.lock().unwrap().is_empty());
    let reqs = model.requests();
    let mut offered = tool_names(&reqs[0].json());
    offered.sort();
    assert_eq!(
        offered,
        ["mcp__ops__big", "mcp__ops__echo", "mcp__ops__sleep"]
    );
    let result = &reqs[1].json()["messages"][2]["content"][0];
    assert_eq!(result["is_error"], json!(true));
    assert!(
        result["content"].as_str().unwrap().contains("read-only"),
        "{result}"
    );
    mcp.stop.cancel();
}

struct Deny;

impl Approver for Deny {
    fn approve<'a>(&'a self, _: &'a ToolInfo, _: &'a Value) -> BoxFuture<'a, Result<bool, String>> {
        Box::pin(async { Ok(false) })
    }
}

/// Ask mode: destructive calls go to the approver (here one that says no); read-only calls run
/// without asking. With the terminal approver and no terminal, the call is refused with a
/// message (checked when the test's stdin is not a terminal, as in CI).
#[tokio::test]
async fn ask_mode_consults_the_approver() {
    let mcp = mcp().await;
    let turn = || {
        Scripted::sse(anthropic_stream(
            "",
            Some((
                "toolu_1",
                "mcp__ops__restart_service",
                json!({"service": "api"}),
            )),
        ))
    };
    let model = ScriptServer::start(vec![
        turn(),
        Scripted::sse(anthropic_stream("ok", None)),
        turn(),
        Scripted::sse(anthropic_stream("ok", None)),
    ])
    .await;
    let mut agent = Agent::new(brain(&model.base), mcp.toolbox.clone(), "sys");
    agent.permission = Permission::Ask;
    agent.approver = Arc::new(Deny);
    let mut denied = Vec::new();
    agent
        .run("restart api", &mut |e: &Event| {
            if let Event::ToolDenied { reason, .. } = e {
                denied.push(reason.clone());
            }
        })
        .await
        .unwrap();
    assert!(mcp.restarts.lock().unwrap().is_empty());
    assert_eq!(denied.len(), 1);
    assert!(denied[0].contains("refused"), "{denied:?}");

    if !std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        agent.approver = Arc::new(opsmcp_agent::agent::TerminalApprover);
        let outcome = agent.run("restart api", &mut |_: &Event| {}).await.unwrap();
        let Block::ToolResult { content, .. } = &outcome.history[2].content[0] else {
            panic!("a tool result");
        };
        assert!(content.contains("stdin is not a terminal"), "{content}");
        // The modes as the user types them.
        assert!(content.contains("`read-only`"), "{content}");
        assert!(mcp.restarts.lock().unwrap().is_empty());
    }
    mcp.stop.cancel();
}

/// A brain that never stops is cut at `max_turns`.
#[tokio::test]
async fn max_turns_bounds_the_run() {
    let mcp = mcp().await;
    let again = || {
        Scripted::sse(anthropic_stream(
            "again",
            Some(("toolu_x", "mcp__ops__echo", json!({"text": "x"}))),
        ))
    };
    let model = ScriptServer::start(vec![again(), again(), again()]).await;
    let mut agent = Agent::new(brain(&model.base), mcp.toolbox.clone(), "sys");
    agent.max_turns = 2;
    let outcome = agent.run("loop", &mut |_: &Event| {}).await.unwrap();
    assert_eq!(outcome.reason, FinishReason::MaxTurns);
    assert_eq!(outcome.turns, 2);
    assert_eq!(model.requests().len(), 2);
    mcp.stop.cancel();
}

/// A brain that is not a model (as the planner will be): it reads the structured
/// result of its first call from the history and decides the next step from it.
struct Planner {
    step: u32,
}

impl Brain for Planner {
    fn name(&self) -> String {
        "planner".into()
    }

    fn next<'a>(
        &'a mut self,
        input: BrainInput<'a>,
        on_text: TextSink<'a>,
    ) -> BoxFuture<'a, Result<Turn, AgentError>> {
        Box::pin(async move {
            self.step += 1;
            let content = match self.step {
                1 => vec![Block::ToolUse {
                    id: "p1".into(),
                    name: "mcp__ops__echo".into(),
                    input: json!({"text": "api"}),
                }],
                2 => {
                    let Some(Block::ToolResult {
                        structured: Some(s),
                        ..
                    }) = input.history.last().and_then(|m| m.content.first())
                    else {
                        return Err(AgentError::Brain {
                            brain: "planner".into(),
                            message: "expected a structured result".into(),
                        });
                    };
                    let service = s["echo"].as_str().unwrap_or_default().to_string();
                    vec![Block::ToolUse {
                        id: "p2".into(),
                        name: "mcp__ops__restart_service".into(),
                        input: json!({"service": service}),
                    }]
                }
                _ => {
                    on_text("planned and done");
                    vec![Block::Text {
                        text: "planned and done".into(),
                    }]
                }
            };
            let stop_reason = if self.step < 3 {
                StopReason::ToolUse
            } else {
                StopReason::EndTurn
            };
            Ok(Turn {
                content,
                stop_reason,
                usage: Usage::default(),
            })
        })
    }
}

#[tokio::test]
async fn a_non_model_brain_plugs_in() {
    let mcp = mcp().await;
    let mut agent = Agent::new(Box::new(Planner { step: 0 }), mcp.toolbox.clone(), "");
    let outcome = agent.run("api is down", &mut |_: &Event| {}).await.unwrap();
    assert_eq!(outcome.final_text, "planned and done");
    assert_eq!(*mcp.restarts.lock().unwrap(), ["api"]);
    mcp.stop.cancel();
}

/// Calls one tool, then stops.
struct OneCall {
    name: &'static str,
    input: Value,
    done: bool,
}

impl Brain for OneCall {
    fn name(&self) -> String {
        "one-call".into()
    }

    fn next<'a>(
        &'a mut self,
        _: BrainInput<'a>,
        _: TextSink<'a>,
    ) -> BoxFuture<'a, Result<Turn, AgentError>> {
        Box::pin(async move {
            let content = if std::mem::replace(&mut self.done, true) {
                vec![Block::Text {
                    text: "done".into(),
                }]
            } else {
                vec![Block::ToolUse {
                    id: "c1".into(),
                    name: self.name.into(),
                    input: self.input.clone(),
                }]
            };
            Ok(Turn {
                content,
                stop_reason: StopReason::EndTurn,
                usage: Usage::default(),
            })
        })
    }
}

/// A stdio server killed as a call to it starts (its pid comes from the shell that execs it):
/// the run ends with `ServerLost` naming the server and tool, at once rather than after the
/// per-call timeout, and the transcript on disk ends with the failed call and `finished`.
#[tokio::test]
async fn a_stdio_server_killed_mid_call_ends_the_run_with_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("pid");
    let fixture = env!("CARGO_BIN_EXE_opsmcp-agent-stdio-fixture");
    let config = McpServersConfig::from_json(
        &json!({"ops": {"type": "stdio", "command": "sh",
            "args": ["-c", format!("echo $$ > '{}'; exec '{fixture}'", pidfile.display())]}})
        .to_string(),
    )
    .unwrap();
    let toolbox = Arc::new(
        Toolbox::connect(&config, Duration::from_secs(20))
            .await
            .unwrap(),
    );
    let mut agent = Agent::new(
        Box::new(OneCall {
            name: "mcp__ops__sleep",
            input: json!({"ms": 600_000}),
            done: false,
        }),
        toolbox,
        "",
    );
    // Far beyond the bound below: a run that waited for the call would hang, not time out.
    agent.per_call_timeout = Duration::from_secs(3600);
    agent.transcript_dir = Some(dir.path().join("runs"));
    let pid = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .to_string();
    let mut kill_on_call = |e: &Event| {
        if matches!(e, Event::ToolCall { .. }) {
            let killed = std::process::Command::new("kill")
                .args(["-KILL", &pid])
                .status()
                .unwrap();
            assert!(killed.success());
        }
    };
    let run = agent.run("sleep", &mut kill_on_call);
    // Only turns a hang into a failure; not a speed check.
    let err = tokio::time::timeout(Duration::from_secs(120), run)
        .await
        .expect("the run hangs after its server died")
        .unwrap_err();
    let AgentError::ServerLost {
        error,
        transcript: Some(run_dir),
    } = &err
    else {
        panic!("not a lost server: {err:?}");
    };
    let McpError::Disconnected {
        server,
        tool,
        transport,
        ..
    } = error.as_ref()
    else {
        panic!("not a disconnection: {error:?}");
    };
    assert_eq!(
        (server.as_str(), tool.as_str(), *transport),
        ("ops", "sleep", "stdio")
    );
    let message = err.to_string();
    assert!(
        message.contains("MCP server `ops` (stdio sh -c"),
        "{message}"
    );
    assert!(
        message.contains(&run_dir.display().to_string()),
        "{message}"
    );
    let transcript = std::fs::read_to_string(run_dir.join("transcript.jsonl")).unwrap();
    let records: Vec<Value> = transcript
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let result = records
        .iter()
        .find(|r| r["type"] == "tool_result")
        .unwrap_or_else(|| panic!("{transcript}"));
    assert_eq!(result["is_error"], true);
    let last = records.last().unwrap();
    assert_eq!(last["type"], "finished", "{transcript}");
    assert_eq!(last["reason"], "server_lost", "{transcript}");
}

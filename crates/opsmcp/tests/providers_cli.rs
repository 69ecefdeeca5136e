//! Each model provider client completes a scenario through the CLI:
//! `opsmcp run-scenario db-connection-pool-exhaustion --brain anthropic|openai|bedrock`, and
//! `opsmcp eval --brain openai` scores a model's run like the planner's.
//!
//! Model APIs cannot be reached from these machines, so each test starts, inside the test
//! process, a local HTTP stand-in that speaks the provider's documented wire format — the
//! Anthropic Messages API streamed as server-sent events (`message_start`,
//! `content_block_start`/`_delta`/`_stop` with `text_delta` and `input_json_delta`,
//! `message_delta`, `message_stop`), OpenAI chat completions streamed as `data:` chunks with
//! `tool_calls` argument fragments and `[DONE]`, and the Bedrock Converse API
//! (`POST /model/{modelId}/converse`, JSON, SigV4-signed) — and points the real binary at it
//! with the providers' own overrides: `ANTHROPIC_BASE_URL`, `OPENAI_BASE_URL`,
//! `AWS_ENDPOINT_URL_BEDROCK_RUNTIME` (with made-up keys).
//!
//! The stand-in's decisions come from the planner: it decodes the request's messages
//! and tools into `opsmcp_agent`'s `Message`/`Block`/`ToolDef`, asks a `Planner` for the
//! next turn, and encodes that turn in the wire format. So the whole provider path is real —
//! our client's request mapping, streaming parser, tool-call assembly, retries, the agent loop
//! and the three servers over HTTP — and the planner stands in for the model's judgement.
//! The planner is given no structured tool results: like a model it reads only the text the
//! API carries (cut to the result budget).
//!
//! Each stand-in answers its first request with 429 and `retry-after: 1` in the provider's
//! error shape; the client must wait and retry, so the stand-in sees one request more than
//! the run has turns.

mod common;

use std::{
    process::{Command, Stdio},
    sync::Arc,
    time::Duration,
};

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode, Uri},
    response::{IntoResponse, Response},
};
use opsmcp_agent::{Block, Brain, BrainInput, Message, Role, ToolDef, Turn};
use opsmcp_responder::{Planner, PlannerConfig};
use serde_json::{Value, json};
use tokio::sync::Mutex;

use common::bin;

const KEY: &str = "test-key-not-real";
const AWS_KEY_ID: &str = "AKIDSTANDIN0000000";
const BEDROCK_MODEL: &str = "us.anthropic.claude-sonnet-4-5-20250929-v1:0";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Api {
    Anthropic,
    OpenAi,
    Bedrock,
}

/// The stand-in's state for one run.
///
/// One planner per stand-in, not a fresh one per request: the planner remembers what
/// each of its tool-use ids was for and which remediations it tried, and reads only the
/// newest results from the history each turn (a model would re-read the whole conversation).
/// Replaying a fresh planner over the history on every request would also replay its pauses
/// before health re-checks. A run's requests come one at a time, so one planner per run is
/// faithful — and the stand-in checks each request carries back exactly the turn the
/// planner gave last, with a result for each of its tool calls, so a client that garbles the
/// conversation fails the test rather than confusing the planner.
struct StandIn {
    api: Api,
    brain: Planner,
    last_turn: Option<Vec<Block>>,
    requests: usize,
    rate_limited: bool,
    /// Requests the stand-in refused, and why.
    problems: Vec<String>,
}

type Shared = Arc<Mutex<StandIn>>;

async fn start(api: Api) -> (String, Shared) {
    let state = Arc::new(Mutex::new(StandIn {
        api,
        brain: Planner::new(PlannerConfig::default()),
        last_turn: None,
        requests: 0,
        rate_limited: false,
        problems: Vec::new(),
    }));
    let app = Router::new().fallback(handle).with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, state)
}

async fn handle(
    State(state): State<Shared>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut st = state.lock().await;
    st.requests += 1;
    let api = st.api;
    if let Err(why) = check_request(api, &uri, &headers) {
        st.problems.push(why.clone());
        return error(api, StatusCode::UNAUTHORIZED, &why);
    }
    if !st.rate_limited {
        st.rate_limited = true;
        let mut r = error(
            api,
            StatusCode::TOO_MANY_REQUESTS,
            "rate limited: too many requests, please wait before trying again",
        );
        r.headers_mut()
            .insert("retry-after", "1".parse().expect("header value"));
        return r;
    }
    let decoded = serde_json::from_slice::<Value>(&body)
        .map_err(|e| format!("the body is not JSON: {e}"))
        .and_then(|v| match api {
            Api::Anthropic => anthropic::decode(&v),
            Api::OpenAi => openai::decode(&v),
            Api::Bedrock => bedrock::decode(&v),
        })
        .and_then(|request| {
            consistent(st.last_turn.as_deref(), &request.history)?;
            Ok(request)
        });
    let request = match decoded {
        Ok(r) => r,
        Err(why) => {
            st.problems.push(why.clone());
            return error(api, StatusCode::BAD_REQUEST, &why);
        }
    };
    let turn = st
        .brain
        .next(
            BrainInput {
                system: &request.system,
                history: &request.history,
                tools: &request.tools,
            },
            &mut |_: &str| {},
        )
        .await;
    let turn = match turn {
        Ok(t) => t,
        Err(e) => {
            st.problems.push(e.to_string());
            return error(api, StatusCode::INTERNAL_SERVER_ERROR, &e.to_string());
        }
    };
    st.last_turn = (!turn.tool_calls().is_empty()).then(|| turn.content.clone());
    let input_tokens = body.len() as u64 / 4;
    match api {
        Api::Anthropic => sse(anthropic::encode(&turn, input_tokens)),
        Api::OpenAi => sse(openai::encode(&turn, input_tokens)),
        Api::Bedrock => axum::Json(bedrock::encode(&turn, input_tokens)).into_response(),
    }
}

/// Path and credentials as each API wants them; a real API would refuse anything else.
fn check_request(api: Api, uri: &Uri, headers: &HeaderMap) -> Result<(), String> {
    let header = |k: &str| {
        headers
            .get(k)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let path = uri.path();
    match api {
        Api::Anthropic => {
            if path != "/v1/messages" {
                return Err(format!("no such endpoint {path}"));
            }
            if header("x-api-key") != KEY || header("anthropic-version").is_empty() {
                return Err("x-api-key or anthropic-version missing".into());
            }
        }
        Api::OpenAi => {
            if path != "/v1/chat/completions" {
                return Err(format!("no such endpoint {path}"));
            }
            if header("authorization") != format!("Bearer {KEY}") {
                return Err("no bearer key".into());
            }
        }
        Api::Bedrock => {
            // The model id is one path segment, its `:` percent-encoded.
            let want = format!("/model/{}/converse", BEDROCK_MODEL.replace(':', "%3A"));
            if path != want {
                return Err(format!("no such endpoint {path}, expected {want}"));
            }
            let auth = header("authorization");
            let scope = "/us-east-1/bedrock/aws4_request";
            if !auth.starts_with(&format!("AWS4-HMAC-SHA256 Credential={AWS_KEY_ID}/"))
                || !auth.contains(scope)
                || !auth.contains("Signature=")
                || header("x-amz-date").is_empty()
            {
                return Err(format!("not SigV4-signed for {scope}: {auth:?}"));
            }
        }
    }
    Ok(())
}

/// The request must end with the planner's last turn and a result for each of its calls.
fn consistent(last: Option<&[Block]>, history: &[Message]) -> Result<(), String> {
    let Some(last) = last else {
        return if history.len() == 1 {
            Ok(())
        } else {
            Err(format!(
                "a conversation of {} messages that the stand-in did not take part in",
                history.len()
            ))
        };
    };
    let [.., assistant, results] = history else {
        return Err("the history lacks the last turn and its results".into());
    };
    if assistant.role != Role::Assistant || assistant.content != last {
        return Err(format!(
            "the last assistant message is not the turn the stand-in gave:\n  sent back {:?}\n  given     {last:?}",
            assistant.content
        ));
    }
    let asked: Vec<&str> = last
        .iter()
        .filter_map(|b| match b {
            Block::ToolUse { id, .. } => Some(id.as_str()),
            _ => None,
        })
        .collect();
    let answered: Vec<&str> = results
        .content
        .iter()
        .filter_map(|b| match b {
            Block::ToolResult { tool_use_id, .. } => Some(tool_use_id.as_str()),
            _ => None,
        })
        .collect();
    if results.role != Role::User || asked != answered {
        return Err(format!(
            "tool results {answered:?} do not answer the calls {asked:?}"
        ));
    }
    Ok(())
}

/// What a request asks, in the agent's terms.
struct Decoded {
    system: String,
    history: Vec<Message>,
    tools: Vec<ToolDef>,
}

fn sse(body: String) -> Response {
    ([("content-type", "text/event-stream")], body).into_response()
}

/// An error in the provider's documented shape.
fn error(api: Api, status: StatusCode, message: &str) -> Response {
    let body = match api {
        Api::Anthropic => json!({"type": "error", "error": {
            "type": if status == StatusCode::TOO_MANY_REQUESTS { "rate_limit_error" } else { "invalid_request_error" },
            "message": message}}),
        Api::OpenAi => json!({"error": {"message": message, "type": "invalid_request_error",
            "param": null, "code": if status == StatusCode::TOO_MANY_REQUESTS { "rate_limit_exceeded" } else { "invalid_request" }}}),
        Api::Bedrock => json!({"message": message}),
    };
    let mut r = (status, axum::Json(body)).into_response();
    if api == Api::Bedrock && status == StatusCode::TOO_MANY_REQUESTS {
        r.headers_mut().insert(
            "x-amzn-errortype",
            "ThrottlingException".parse().expect("header value"),
        );
    }
    r
}

fn field<'a>(v: &'a Value, k: &str) -> Result<&'a Value, String> {
    v.get(k).ok_or_else(|| format!("no `{k}` in {v}"))
}

fn string(v: &Value, k: &str) -> Result<String, String> {
    field(v, k)?
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| format!("`{k}` is not a string in {v}"))
}

fn array<'a>(v: &'a Value, k: &str) -> Result<&'a Vec<Value>, String> {
    field(v, k)?
        .as_array()
        .ok_or_else(|| format!("`{k}` is not an array in {v}"))
}

fn role(v: &Value) -> Result<Role, String> {
    match string(v, "role")?.as_str() {
        "user" => Ok(Role::User),
        "assistant" => Ok(Role::Assistant),
        other => Err(format!("unknown role {other}")),
    }
}

/// Anthropic Messages: `POST /v1/messages` with `stream: true`, answered as SSE events.
mod anthropic {
    use super::*;

    pub fn decode(v: &Value) -> Result<Decoded, String> {
        string(v, "model")?;
        field(v, "max_tokens")?
            .as_u64()
            .ok_or("max_tokens is required")?;
        if v.get("stream") != Some(&json!(true)) {
            return Err("this stand-in only streams: send stream: true".into());
        }
        let system = match v.get("system") {
            None => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(Value::Array(blocks)) => blocks
                .iter()
                .filter_map(|b| b["text"].as_str())
                .collect::<Vec<_>>()
                .join("\n"),
            Some(other) => return Err(format!("system is {other}")),
        };
        let mut history = Vec::new();
        for m in array(v, "messages")? {
            let content = match field(m, "content")? {
                Value::String(text) => vec![Block::Text { text: text.clone() }],
                Value::Array(blocks) => blocks.iter().map(block).collect::<Result<_, _>>()?,
                other => return Err(format!("content is {other}")),
            };
            history.push(Message {
                role: role(m)?,
                content,
            });
        }
        let tools = match v.get("tools") {
            None => Vec::new(),
            Some(_) => array(v, "tools")?
                .iter()
                .map(|t| {
                    Ok(ToolDef {
                        name: string(t, "name")?,
                        description: t["description"].as_str().unwrap_or_default().into(),
                        input_schema: field(t, "input_schema")?.clone(),
                    })
                })
                .collect::<Result<_, String>>()?,
        };
        Ok(Decoded {
            system,
            history,
            tools,
        })
    }

    fn block(b: &Value) -> Result<Block, String> {
        Ok(match string(b, "type")?.as_str() {
            "text" => Block::Text {
                text: string(b, "text")?,
            },
            "tool_use" => Block::ToolUse {
                id: string(b, "id")?,
                name: string(b, "name")?,
                input: field(b, "input")?.clone(),
            },
            "tool_result" => Block::ToolResult {
                tool_use_id: string(b, "tool_use_id")?,
                content: match b.get("content") {
                    Some(Value::String(s)) => s.clone(),
                    Some(Value::Array(parts)) => parts
                        .iter()
                        .filter_map(|p| p["text"].as_str())
                        .collect::<Vec<_>>()
                        .join("\n"),
                    _ => String::new(),
                },
                is_error: b["is_error"].as_bool().unwrap_or(false),
                structured: None,
            },
            other => return Err(format!("unknown content block type {other}")),
        })
    }

    pub fn encode(turn: &Turn, input_tokens: u64) -> String {
        let mut events = vec![
            json!({"type": "message_start", "message": {"id": "msg_standin", "type": "message",
                "role": "assistant", "content": [], "model": "claude-sonnet-4-5",
                "stop_reason": null, "stop_sequence": null,
                "usage": {"input_tokens": input_tokens, "output_tokens": 1}}}),
            json!({"type": "ping"}),
        ];
        for (index, b) in turn.content.iter().enumerate() {
            match b {
                Block::Text { text } => {
                    events.push(json!({"type": "content_block_start", "index": index,
                        "content_block": {"type": "text", "text": ""}}));
                    for piece in pieces(text) {
                        events.push(json!({"type": "content_block_delta", "index": index,
                            "delta": {"type": "text_delta", "text": piece}}));
                    }
                }
                Block::ToolUse { id, name, input } => {
                    events.push(json!({"type": "content_block_start", "index": index,
                        "content_block": {"type": "tool_use", "id": id, "name": name, "input": {}}}));
                    for piece in pieces(&input.to_string()) {
                        events.push(json!({"type": "content_block_delta", "index": index,
                            "delta": {"type": "input_json_delta", "partial_json": piece}}));
                    }
                }
                Block::ToolResult { .. } => continue,
            }
            events.push(json!({"type": "content_block_stop", "index": index}));
        }
        let stop = if turn.tool_calls().is_empty() {
            "end_turn"
        } else {
            "tool_use"
        };
        events.push(json!({"type": "message_delta",
            "delta": {"stop_reason": stop, "stop_sequence": null},
            "usage": {"output_tokens": 50}}));
        events.push(json!({"type": "message_stop"}));
        events
            .iter()
            .map(|e| format!("event: {}\ndata: {e}\n\n", e["type"].as_str().unwrap_or("")))
            .collect()
    }
}

/// OpenAI chat completions: `POST /v1/chat/completions` with `stream: true`, answered as
/// `data:` chunks and `[DONE]`.
mod openai {
    use super::*;

    pub fn decode(v: &Value) -> Result<Decoded, String> {
        string(v, "model")?;
        if v.get("stream") != Some(&json!(true)) {
            return Err("this stand-in only streams: send stream: true".into());
        }
        let mut system = String::new();
        let mut history: Vec<Message> = Vec::new();
        for m in array(v, "messages")? {
            match string(m, "role")?.as_str() {
                "system" | "developer" => system.push_str(&string(m, "content")?),
                "user" => history.push(Message::user(string(m, "content")?)),
                "assistant" => {
                    let mut content = Vec::new();
                    if let Some(text) = m["content"].as_str().filter(|t| !t.is_empty()) {
                        content.push(Block::Text { text: text.into() });
                    }
                    for c in m["tool_calls"].as_array().into_iter().flatten() {
                        let f = field(c, "function")?;
                        let arguments = string(f, "arguments")?;
                        content.push(Block::ToolUse {
                            id: string(c, "id")?,
                            name: string(f, "name")?,
                            input: serde_json::from_str(&arguments).map_err(|e| {
                                format!("arguments are not JSON ({e}): {arguments}")
                            })?,
                        });
                    }
                    history.push(Message {
                        role: Role::Assistant,
                        content,
                    });
                }
                "tool" => {
                    // Chat completions has no error flag on a tool message: our client marks
                    // a failed call's content with an `ERROR: ` prefix.
                    let text = string(m, "content")?;
                    let (content, is_error) = match text.strip_prefix("ERROR: ") {
                        Some(rest) => (rest.to_string(), true),
                        None => (text, false),
                    };
                    let result = Block::ToolResult {
                        tool_use_id: string(m, "tool_call_id")?,
                        content,
                        is_error,
                        structured: None,
                    };
                    // Consecutive tool messages answer one assistant turn.
                    match history.last_mut() {
                        Some(last)
                            if last.role == Role::User
                                && last
                                    .content
                                    .iter()
                                    .all(|b| matches!(b, Block::ToolResult { .. })) =>
                        {
                            last.content.push(result)
                        }
                        _ => history.push(Message {
                            role: Role::User,
                            content: vec![result],
                        }),
                    }
                }
                other => return Err(format!("unknown role {other}")),
            }
        }
        let tools = match v.get("tools") {
            None => Vec::new(),
            Some(_) => array(v, "tools")?
                .iter()
                .map(|t| {
                    if t["type"] != "function" {
                        return Err(format!("tool of type {}", t["type"]));
                    }
                    let f = field(t, "function")?;
                    Ok(ToolDef {
                        name: string(f, "name")?,
                        description: f["description"].as_str().unwrap_or_default().into(),
                        input_schema: field(f, "parameters")?.clone(),
                    })
                })
                .collect::<Result<_, String>>()?,
        };
        Ok(Decoded {
            system,
            history,
            tools,
        })
    }

    pub fn encode(turn: &Turn, input_tokens: u64) -> String {
        let chunk = |delta: Value, finish: Value| {
            json!({"id": "chatcmpl-standin", "object": "chat.completion.chunk", "created": 0,
                "model": "gpt-4o", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
        };
        let mut chunks = vec![chunk(
            json!({"role": "assistant", "content": ""}),
            Value::Null,
        )];
        let text = turn.text();
        for piece in pieces(&text) {
            chunks.push(chunk(json!({"content": piece}), Value::Null));
        }
        for (index, call) in turn.tool_calls().iter().enumerate() {
            chunks.push(chunk(
                json!({"tool_calls": [{"index": index, "id": call.id, "type": "function",
                    "function": {"name": call.name, "arguments": ""}}]}),
                Value::Null,
            ));
            for piece in pieces(&call.input.to_string()) {
                chunks.push(chunk(
                    json!({"tool_calls": [{"index": index, "function": {"arguments": piece}}]}),
                    Value::Null,
                ));
            }
        }
        let finish = if turn.tool_calls().is_empty() {
            "stop"
        } else {
            "tool_calls"
        };
        chunks.push(chunk(json!({}), json!(finish)));
        // stream_options.include_usage: a last chunk with no choices and the usage.
        chunks.push(
            json!({"id": "chatcmpl-standin", "object": "chat.completion.chunk",
            "created": 0, "model": "gpt-4o", "choices": [],
            "usage": {"prompt_tokens": input_tokens, "completion_tokens": 50,
                "total_tokens": input_tokens + 50}}),
        );
        let mut body: String = chunks.iter().map(|c| format!("data: {c}\n\n")).collect();
        body.push_str("data: [DONE]\n\n");
        body
    }
}

/// Bedrock Converse: `POST /model/{modelId}/converse`, JSON in and out.
mod bedrock {
    use super::*;

    pub fn decode(v: &Value) -> Result<Decoded, String> {
        let system = match v.get("system") {
            None => String::new(),
            Some(_) => array(v, "system")?
                .iter()
                .filter_map(|b| b["text"].as_str())
                .collect::<Vec<_>>()
                .join("\n"),
        };
        let mut history = Vec::new();
        for m in array(v, "messages")? {
            let content = array(m, "content")?
                .iter()
                .map(block)
                .collect::<Result<_, _>>()?;
            history.push(Message {
                role: role(m)?,
                content,
            });
        }
        let tools = match v.get("toolConfig") {
            None => Vec::new(),
            Some(config) => array(config, "tools")?
                .iter()
                .map(|t| {
                    let spec = field(t, "toolSpec")?;
                    Ok(ToolDef {
                        name: string(spec, "name")?,
                        description: spec["description"].as_str().unwrap_or_default().into(),
                        input_schema: field(field(spec, "inputSchema")?, "json")?.clone(),
                    })
                })
                .collect::<Result<_, String>>()?,
        };
        Ok(Decoded {
            system,
            history,
            tools,
        })
    }

    fn block(b: &Value) -> Result<Block, String> {
        if let Some(text) = b.get("text") {
            return Ok(Block::Text {
                text: text.as_str().ok_or("text is not a string")?.into(),
            });
        }
        if let Some(u) = b.get("toolUse") {
            return Ok(Block::ToolUse {
                id: string(u, "toolUseId")?,
                name: string(u, "name")?,
                input: field(u, "input")?.clone(),
            });
        }
        if let Some(r) = b.get("toolResult") {
            let content = array(r, "content")?
                .iter()
                .map(|c| match (c.get("text"), c.get("json")) {
                    (Some(Value::String(t)), _) => t.clone(),
                    (_, Some(j)) => j.to_string(),
                    _ => String::new(),
                })
                .collect::<Vec<_>>()
                .join("\n");
            return Ok(Block::ToolResult {
                tool_use_id: string(r, "toolUseId")?,
                content,
                is_error: r["status"] == "error",
                structured: None,
            });
        }
        Err(format!("unknown content block {b}"))
    }

    pub fn encode(turn: &Turn, input_tokens: u64) -> Value {
        let content: Vec<Value> = turn
            .content
            .iter()
            .filter_map(|b| match b {
                Block::Text { text } => Some(json!({"text": text})),
                Block::ToolUse { id, name, input } => {
                    Some(json!({"toolUse": {"toolUseId": id, "name": name, "input": input}}))
                }
                Block::ToolResult { .. } => None,
            })
            .collect();
        json!({
            "output": {"message": {"role": "assistant", "content": content}},
            "stopReason": if turn.tool_calls().is_empty() { "end_turn" } else { "tool_use" },
            "usage": {"inputTokens": input_tokens, "outputTokens": 50,
                "totalTokens": input_tokens + 50},
            "metrics": {"latencyMs": 1},
        })
    }
}

/// `s` in a few pieces, as a stream delivers it (split on character boundaries).
fn pieces(s: &str) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    chars
        .chunks(chars.len().div_ceil(3).max(1))
        .map(|c| c.iter().collect())
        .collect()
}

/// Runs `cmd` to the end (a hang fails the test instead: see `common::wait_bounded`).
fn run_bounded(mut cmd: Command, bound: Duration) -> (Option<i32>, String, String) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("opsmcp starts");
    let out = common::read_all(child.stdout.take().expect("piped"));
    let err = common::read_all(child.stderr.take().expect("piped"));
    let code = common::wait_bounded(&mut child, bound);
    (
        code,
        out.join().unwrap_or_default(),
        err.join().unwrap_or_default(),
    )
}

/// `opsmcp ARGS` in `data`, with `api`'s model pointed at the stand-in at `base` through the
/// provider's own override, fake credentials, and no provider setting of the caller's.
fn opsmcp_against(api: Api, base: &str, data: &std::path::Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(bin());
    cmd.args(args)
        .env_remove("OPSMCP_CONFIG")
        .env_remove("OPSMCP_SCENARIO")
        .env("OPSMCP_DATA_DIR", data)
        .current_dir(data);
    for k in [
        "ANTHROPIC_API_KEY",
        "ANTHROPIC_BASE_URL",
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_BEDROCK_RUNTIME",
        "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
    ] {
        cmd.env_remove(k);
    }
    match api {
        Api::Anthropic => {
            cmd.env("ANTHROPIC_BASE_URL", base)
                .env("ANTHROPIC_API_KEY", KEY);
        }
        Api::OpenAi => {
            cmd.env("OPENAI_BASE_URL", format!("{base}/v1"))
                .env("OPENAI_API_KEY", KEY);
        }
        Api::Bedrock => {
            cmd.env("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", base)
                .env("AWS_ACCESS_KEY_ID", AWS_KEY_ID)
                .env("AWS_SECRET_ACCESS_KEY", "standin/secret/not/real")
                .env("AWS_REGION", "us-east-1");
        }
    }
    cmd
}

/// The demo scenario with `--brain NAME` against the stand-in for `api`: solved, through the
/// provider's own base-URL override, after one rate-limited request.
fn solves_through_the_cli(api: Api, brain: &str, expect_brain: &str) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (base, state) = rt.block_on(start(api));
    let data = tempfile::tempdir().unwrap();
    let cmd = opsmcp_against(
        api,
        &base,
        data.path(),
        &[
            "run-scenario",
            "db-connection-pool-exhaustion",
            "--brain",
            brain,
            "--json",
            "--data-dir",
            data.path().to_str().unwrap(),
        ],
    );
    let (code, stdout, stderr) = run_bounded(cmd, Duration::from_secs(600));
    let standin = rt.block_on(state.lock());
    let context = format!(
        "stand-in refused: {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        standin.problems
    );
    let records: Vec<Value> = stdout
        .lines()
        .map(|l| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}\n{context}"))
        })
        .collect();
    let started = records
        .iter()
        .find(|r| r["type"] == "started")
        .unwrap_or_else(|| panic!("no started event\n{context}"));
    assert_eq!(started["brain"], expect_brain, "{context}");
    let verdict = records
        .last()
        .unwrap_or_else(|| panic!("no output\n{context}"));
    assert_eq!(verdict["type"], "verdict", "{context}");
    assert_eq!(verdict["solved"], true, "{verdict}\n{context}");
    assert!(standin.problems.is_empty(), "{context}");
    // One request per brain turn, plus the one answered 429 and retried.
    let turns = verdict["score"]["turns"].as_u64().unwrap();
    assert!(turns > 5, "{verdict}");
    assert_eq!(standin.requests as u64, turns + 1, "{context}");
    // The planner behind the stand-in read the log data path out of get_raw_logs' result,
    // which reaches it cut to the result budget, and ran its analysis script on it.
    assert!(
        records.iter().any(|r| r["type"] == "tool_call"
            && r["name"] == "mcp__log-analytics__execute_analysis_script"),
        "{context}"
    );
    assert_eq!(code, Some(0), "{context}");
}

#[test]
fn anthropic_client_solves_a_scenario_through_the_cli() {
    solves_through_the_cli(Api::Anthropic, "anthropic", "anthropic:claude-sonnet-4-5");
}

#[test]
fn openai_client_solves_a_scenario_through_the_cli() {
    solves_through_the_cli(Api::OpenAi, "openai", "openai:gpt-4o");
}

#[test]
fn bedrock_client_solves_a_scenario_through_the_cli() {
    solves_through_the_cli(Api::Bedrock, "bedrock", &format!("bedrock:{BEDROCK_MODEL}"));
}

/// `eval --brain` plays each run with a model too (here the OpenAI stand-in, one run) and
/// scores it like the planner's.
#[test]
fn eval_with_a_model_brain_scores_its_run() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (base, state) = rt.block_on(start(Api::OpenAi));
    let data = tempfile::tempdir().unwrap();
    let json = data.path().join("eval.json");
    let cmd = opsmcp_against(
        Api::OpenAi,
        &base,
        data.path(),
        &[
            "eval",
            "--brain",
            "openai",
            "--scenarios",
            "db-connection-pool-exhaustion",
            "--min-solved",
            "1",
            "--json",
            json.to_str().unwrap(),
        ],
    );
    let (code, stdout, stderr) = run_bounded(cmd, Duration::from_secs(600));
    let standin = rt.block_on(state.lock());
    let context = format!(
        "stand-in refused: {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        standin.problems
    );
    assert_eq!(code, Some(0), "{context}");
    assert!(stdout.contains("total: 1/1 solved"), "{context}");
    let file: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let row = &file["rows"][0];
    assert_eq!(row["solved"], true, "{row}");
    // Every turn of the run was a request to the stand-in (plus the rate-limited one).
    assert_eq!(
        standin.requests as u64,
        row["turns"].as_u64().unwrap() + 1,
        "{context}"
    );
}

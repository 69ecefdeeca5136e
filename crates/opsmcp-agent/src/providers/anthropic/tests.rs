//! The Anthropic client against a **local stand-in for the real Messages API**: an axum server
//! on loopback that speaks the documented wire format (streamed `message_start` …
//! `message_stop` events, error bodies, 429 with `retry-after`). The real API cannot be reached
//! from the test machines; these tests check what we send and how we read what comes back.

use std::time::Duration;

use serde_json::json;

use super::{Anthropic, AnthropicConfig};
use crate::{
    providers::{
        Block, Message, Provider, ProviderError, Request, RetryPolicy, Role, StopReason, ToolDef,
    },
    script_server::{ScriptServer, Scripted, anthropic_stream, sse},
};

fn config(base: &str) -> AnthropicConfig {
    AnthropicConfig {
        model: "claude-test".into(),
        base_url: base.into(),
        api_key: Some("sk-test".into()),
        max_tokens: 1024,
        retry: RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_secs(2),
        },
    }
}

fn tools() -> Vec<ToolDef> {
    vec![ToolDef {
        name: "mcp__mon__get_metrics".into(),
        description: "Current metrics".into(),
        input_schema: json!({"type": "object", "properties": {"service": {"type": "string"}}}),
    }]
}

/// A tool-use turn, then (with the tool result in the history) a final text turn; checks the
/// headers, the tool definitions and the tool_result block the client sent.
#[tokio::test]
async fn tool_use_turn_then_final_text() {
    let server = ScriptServer::start(vec![
        Scripted::sse(anthropic_stream(
            "Let me look.",
            Some((
                "toolu_1",
                "mcp__mon__get_metrics",
                json!({"service": "api"}),
            )),
        )),
        Scripted::sse(anthropic_stream("All healthy.", None)),
    ])
    .await;
    let client = Anthropic::new(config(&server.base)).unwrap();
    let tools = tools();
    let mut history = vec![Message::user("How is api?")];

    let mut streamed = String::new();
    let turn = client
        .complete(
            Request {
                system: "You are on call.",
                messages: &history,
                tools: &tools,
            },
            &mut |t: &str| streamed.push_str(t),
        )
        .await
        .unwrap();
    assert_eq!(streamed, "Let me look.");
    assert_eq!(turn.stop_reason, StopReason::ToolUse);
    assert_eq!(turn.usage.input_tokens, 25);
    assert_eq!(turn.usage.output_tokens, 42);
    let calls = turn.tool_calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].id, "toolu_1");
    assert_eq!(calls[0].input, json!({"service": "api"}));

    history.push(Message {
        role: Role::Assistant,
        content: turn.content.clone(),
    });
    history.push(Message {
        role: Role::User,
        content: vec![Block::ToolResult {
            tool_use_id: "toolu_1".into(),
            content: "cpu 12%".into(),
            is_error: false,
            structured: Some(json!({"cpu": 12})),
        }],
    });
    let turn = client
        .complete(
            Request {
                system: "You are on call.",
                messages: &history,
                tools: &tools,
            },
            &mut |_: &str| {},
        )
        .await
        .unwrap();
    assert_eq!(turn.text(), "All healthy.");
    assert_eq!(turn.stop_reason, StopReason::EndTurn);

    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    let first = &reqs[0];
    assert_eq!(first.method, "POST");
    assert_eq!(first.path, "/v1/messages");
    assert_eq!(first.header("x-api-key").as_deref(), Some("sk-test"));
    assert_eq!(
        first.header("anthropic-version").as_deref(),
        Some("2023-06-01")
    );
    assert_eq!(
        first.header("content-type").as_deref(),
        Some("application/json")
    );
    let body = first.json();
    assert_eq!(body["stream"], json!(true));
    assert_eq!(body["model"], json!("claude-test"));
    assert_eq!(body["max_tokens"], json!(1024));
    assert_eq!(body["system"], json!("You are on call."));
    assert_eq!(
        body["tools"],
        json!([{"name": "mcp__mon__get_metrics", "description": "Current metrics",
            "input_schema": {"type": "object", "properties": {"service": {"type": "string"}}}}])
    );
    let second = reqs[1].json();
    assert_eq!(
        second["messages"][1],
        json!({"role": "assistant", "content": [
            {"type": "text", "text": "Let me look."},
            {"type": "tool_use", "id": "toolu_1", "name": "mcp__mon__get_metrics", "input": {"service": "api"}}
        ]})
    );
    assert_eq!(
        second["messages"][2],
        json!({"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_1", "content": "cpu 12%", "is_error": false}
        ]}),
        "structured content stays out of the API request"
    );
}

/// An error body becomes an error with the status, the API's message and what to check.
#[tokio::test]
async fn error_bodies_are_clear() {
    let server = ScriptServer::start(vec![
        Scripted::json(
            401,
            json!({"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}}),
        ),
        Scripted::json(
            400,
            json!({"type": "error", "error": {"type": "invalid_request_error", "message": "max_tokens: too large"}}),
        ),
    ])
    .await;
    let client = Anthropic::new(config(&server.base)).unwrap();
    let history = [Message::user("hi")];
    let req = Request {
        system: "",
        messages: &history,
        tools: &[],
    };
    let err = client.complete(req, &mut |_: &str| {}).await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, ProviderError::Status { status: 401, .. }));
    assert!(text.contains("invalid x-api-key"), "{text}");
    assert!(text.contains("ANTHROPIC_API_KEY"), "{text}");
    let err = client.complete(req, &mut |_: &str| {}).await.unwrap_err();
    assert!(err.to_string().contains("max_tokens: too large"), "{err}");
    assert_eq!(
        server.requests().len(),
        2,
        "errors other than 429/503/529 are not retried"
    );
}

/// 429 with `retry-after`, then 529 overloaded, then success: the client waits and retries.
#[tokio::test]
async fn rate_limit_then_success() {
    let server = ScriptServer::start(vec![
        Scripted::json(
            429,
            json!({"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}}),
        )
        .header("retry-after", "1"),
        Scripted::json(
            529,
            json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
        ),
        Scripted::sse(anthropic_stream("ok", None)),
    ])
    .await;
    let client = Anthropic::new(config(&server.base)).unwrap();
    let history = [Message::user("hi")];
    let turn = client
        .complete(
            Request {
                system: "",
                messages: &history,
                tools: &[],
            },
            &mut |_: &str| {},
        )
        .await
        .unwrap();
    assert_eq!(turn.text(), "ok");
    assert_eq!(server.requests().len(), 3);
}

/// Retries are bounded: still 529 after the last attempt is a clear error.
#[tokio::test]
async fn retries_are_bounded() {
    let busy = Scripted::json(
        529,
        json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
    );
    let server = ScriptServer::start(vec![busy.clone(), busy.clone(), busy]).await;
    let client = Anthropic::new(config(&server.base)).unwrap();
    let history = [Message::user("hi")];
    let err = client
        .complete(
            Request {
                system: "",
                messages: &history,
                tools: &[],
            },
            &mut |_: &str| {},
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            ProviderError::Exhausted {
                status: 529,
                attempts: 3,
                ..
            }
        ),
        "{err}"
    );
}

/// An `error` event in the middle of the stream ends the call with the API's message.
#[tokio::test]
async fn error_event_mid_stream() {
    let body = sse(&[
        (
            "message_start",
            json!({"type": "message_start", "message": {"usage": {"input_tokens": 1, "output_tokens": 0}}}),
        ),
        (
            "error",
            json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
        ),
    ]);
    let server = ScriptServer::start(vec![Scripted::sse(body)]).await;
    let client = Anthropic::new(config(&server.base)).unwrap();
    let history = [Message::user("hi")];
    let err = client
        .complete(
            Request {
                system: "",
                messages: &history,
                tools: &[],
            },
            &mut |_: &str| {},
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("overloaded_error"), "{err}");
}

#[test]
fn missing_key_says_what_to_set() {
    let mut c = config("http://127.0.0.1:1");
    c.api_key = None;
    let err = Anthropic::new(c).unwrap_err();
    assert!(err.to_string().contains("set ANTHROPIC_API_KEY"), "{err}");
}

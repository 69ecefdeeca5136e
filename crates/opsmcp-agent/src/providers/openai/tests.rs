//! The OpenAI-compatible client against a **local stand-in for a chat-completions API**
//! (OpenAI, Ollama, vLLM, llama.cpp all speak it): an axum server on loopback answering with the
//! documented streamed `data:` chunks, tool-call argument fragments, `[DONE]`, error bodies and
//! 429 with `retry-after`. No real API is reached.

use std::time::Duration;

use serde_json::{Value, json};

use super::{OpenAi, OpenAiConfig};
use crate::{
    providers::{
        Block, Message, Provider, ProviderError, Request, RetryPolicy, Role, StopReason, ToolDef,
    },
    script_server::{ScriptServer, Scripted, sse_data},
};

fn config(base: &str, key: Option<&str>) -> OpenAiConfig {
    OpenAiConfig {
        model: "qwen-test".into(),
        base_url: format!("{base}/v1"),
        api_key: key.map(str::to_string),
        max_tokens: Some(512),
        include_usage: true,
        retry: RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_secs(2),
        },
    }
}

fn chunk(delta: Value, finish: Option<&str>) -> Value {
    json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "model": "qwen-test",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
}

fn tool_call_stream() -> String {
    sse_data(&[
        chunk(json!({"role": "assistant", "content": "Checking "}), None),
        chunk(json!({"content": "both."}), None),
        chunk(
            json!({"tool_calls": [{"index": 0, "id": "call_a", "type": "function",
                "function": {"name": "mcp__mon__get_metrics", "arguments": ""}}]}),
            None,
        ),
        chunk(
            json!({"tool_calls": [{"index": 0, "function": {"arguments": "{\"serv"}}]}),
            None,
        ),
        chunk(
            json!({"tool_calls": [{"index": 1, "id": "call_b", "type": "function",
                "function": {"name": "mcp__logs__get_raw_logs", "arguments": "{}"}}]}),
            None,
        ),
        chunk(
            json!({"tool_calls": [{"index": 0, "function": {"arguments": "ice\": \"api\"}"}}]}),
            None,
        ),
        chunk(json!({}), Some("tool_calls")),
        json!({"id": "chatcmpl-1", "choices": [], "usage": {"prompt_tokens": 30, "completion_tokens": 12, "total_tokens": 42}}),
    ])
}

/// Two tool calls whose arguments arrive in interleaved fragments, then the final text turn
/// with both results in the history as `tool` messages.
#[tokio::test]
async fn tool_calls_in_fragments_then_final_text() {
    let server = ScriptServer::start(vec![
        Scripted::sse(tool_call_stream()),
        Scripted::sse(sse_data(&[
            chunk(json!({"role": "assistant", "content": "Fine."}), None),
            chunk(json!({}), Some("stop")),
        ])),
    ])
    .await;
    let client = OpenAi::new(config(&server.base, Some("sk-local")));
    let tools = vec![ToolDef {
        name: "mcp__mon__get_metrics".into(),
        description: "Metrics".into(),
        input_schema: json!({"type": "object"}),
    }];
    let mut history = vec![Message::user("status?")];
    let mut streamed = String::new();
    let turn = client
        .complete(
            Request {
                system: "sys",
                messages: &history,
                tools: &tools,
            },
            &mut |t: &str| streamed.push_str(t),
        )
        .await
        .unwrap();
    assert_eq!(streamed, "Checking both.");
    assert_eq!(turn.stop_reason, StopReason::ToolUse);
    assert_eq!(turn.usage.input_tokens, 30);
    let calls = turn.tool_calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].id, "call_a");
    assert_eq!(calls[0].input, json!({"service": "api"}));
    assert_eq!(calls[1].name, "mcp__logs__get_raw_logs");

    history.push(Message {
        role: Role::Assistant,
        content: turn.content.clone(),
    });
    history.push(Message {
        role: Role::User,
        content: vec![
            Block::ToolResult {
                tool_use_id: "call_a".into(),
                content: "cpu 3%".into(),
                is_error: false,
                structured: None,
            },
            Block::ToolResult {
                tool_use_id: "call_b".into(),
                content: "no such incident".into(),
                is_error: true,
                structured: None,
            },
        ],
    });
    let turn = client
        .complete(
            Request {
                system: "sys",
                messages: &history,
                tools: &tools,
            },
            &mut |_: &str| {},
        )
        .await
        .unwrap();
    assert_eq!(turn.text(), "Fine.");
    assert_eq!(turn.stop_reason, StopReason::EndTurn);

    let reqs = server.requests();
    assert_eq!(reqs[0].path, "/v1/chat/completions");
    assert_eq!(
        reqs[0].header("authorization").as_deref(),
        Some("Bearer sk-local")
    );
    let body = reqs[0].json();
    assert_eq!(body["stream"], json!(true));
    assert_eq!(body["max_tokens"], json!(512));
    assert_eq!(
        body["messages"][0],
        json!({"role": "system", "content": "sys"})
    );
    assert_eq!(
        body["tools"],
        json!([{"type": "function", "function": {"name": "mcp__mon__get_metrics",
            "description": "Metrics", "parameters": {"type": "object"}}}])
    );
    let second = reqs[1].json();
    let msgs = second["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 5, "{msgs:?}");
    assert_eq!(msgs[2]["role"], json!("assistant"));
    assert_eq!(
        msgs[2]["tool_calls"][0],
        json!({"id": "call_a", "type": "function",
            "function": {"name": "mcp__mon__get_metrics", "arguments": "{\"service\":\"api\"}"}})
    );
    assert_eq!(
        msgs[3],
        json!({"role": "tool", "tool_call_id": "call_a", "content": "cpu 3%"})
    );
    assert_eq!(
        msgs[4],
        json!({"role": "tool", "tool_call_id": "call_b", "content": "ERROR: no such incident"})
    );
}

/// No key configured (a local server): no Authorization header at all. 429 with `retry-after`
/// is retried; an error body after that is a clear error.
#[tokio::test]
async fn keyless_retry_then_error_body() {
    let server = ScriptServer::start(vec![
        Scripted::json(
            429,
            json!({"error": {"message": "Rate limit reached", "type": "requests"}}),
        )
        .header("retry-after", "1"),
        Scripted::sse(sse_data(&[
            chunk(json!({"content": "hi"}), None),
            chunk(json!({}), Some("stop")),
        ])),
        Scripted::json(
            404,
            json!({"error": {"message": "model 'nope' not found", "type": "not_found_error"}}),
        ),
    ])
    .await;
    let client = OpenAi::new(config(&server.base, None));
    let history = [Message::user("hi")];
    let req = Request {
        system: "",
        messages: &history,
        tools: &[],
    };
    let turn = client.complete(req, &mut |_: &str| {}).await.unwrap();
    assert_eq!(turn.text(), "hi");
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    assert!(reqs[0].header("authorization").is_none());
    assert!(reqs[0].json().get("tools").is_none(), "no tools, no field");

    let err = client.complete(req, &mut |_: &str| {}).await.unwrap_err();
    assert!(
        matches!(err, ProviderError::Status { status: 404, .. }),
        "{err}"
    );
    let text = err.to_string();
    assert!(text.contains("model 'nope' not found"), "{text}");
    assert!(text.contains("check the model name"), "{text}");
}

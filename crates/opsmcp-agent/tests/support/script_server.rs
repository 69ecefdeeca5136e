//! Test support: a local HTTP server that plays scripted responses in order and records every
//! request it got. The provider tests use it as a stand-in for a model API (it speaks whatever
//! wire format the script holds); it never reaches the real APIs.

#![allow(dead_code)]

use std::{
    convert::Infallible,
    sync::{Arc, Mutex},
};

use axum::{
    Router,
    body::{Body, Bytes},
    extract::{Request, State},
    http::{HeaderMap, HeaderName, HeaderValue, StatusCode},
    response::Response,
};
use serde_json::Value;

/// One scripted response.
#[derive(Debug, Clone)]
pub struct Scripted {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Scripted {
    /// 200 with an SSE body.
    pub fn sse(body: String) -> Self {
        Self {
            status: 200,
            headers: vec![("content-type".into(), "text/event-stream".into())],
            body,
        }
    }

    /// `status` with a JSON body.
    pub fn json(status: u16, body: Value) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string(),
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// One request as received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// Path and query exactly as sent (percent-encoding kept).
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Recorded {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("request body is JSON")
    }
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().expect("ascii header").to_string())
    }
}

#[derive(Clone, Default)]
struct Shared {
    script: Arc<Mutex<Vec<Scripted>>>,
    requests: Arc<Mutex<Vec<Recorded>>>,
}

/// A running scripted server.
pub struct ScriptServer {
    pub base: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
    task: tokio::task::JoinHandle<()>,
}

impl ScriptServer {
    /// Starts on an ephemeral loopback port; answers `script` in order, then 500.
    pub async fn start(script: Vec<Scripted>) -> Self {
        let shared = Shared {
            script: Arc::new(Mutex::new(script.into_iter().rev().collect())),
            requests: Arc::default(),
        };
        let requests = shared.requests.clone();
        let app = Router::new().fallback(handle).with_state(shared);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self {
            base,
            requests,
            task,
        }
    }

    /// The requests received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for ScriptServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn handle(State(shared): State<Shared>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, 16 << 20).await.unwrap();
    shared.requests.lock().unwrap().push(Recorded {
        method: parts.method.to_string(),
        path: parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_default(),
        headers: parts.headers,
        body,
    });
    let next = shared.script.lock().unwrap().pop();
    let Some(s) = next else {
        return Response::builder()
            .status(500)
            .body(Body::from("script exhausted"))
            .unwrap();
    };
    // Deliver the body in small pieces, as a network would, so parsers see split events.
    let chunks: Vec<Result<Bytes, Infallible>> = s
        .body
        .as_bytes()
        .chunks(7)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    let mut response = Response::new(Body::from_stream(futures::stream::iter(chunks)));
    *response.status_mut() = StatusCode::from_u16(s.status).unwrap();
    for (k, v) in s.headers {
        response.headers_mut().insert(
            HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(&v).unwrap(),
        );
    }
    response
}

/// An SSE body from `(event, data)` pairs.
pub fn sse(events: &[(&str, Value)]) -> String {
    events
        .iter()
        .map(|(e, d)| format!("event: {e}\ndata: {d}\n\n"))
        .collect()
}

/// An SSE body of bare `data:` lines (OpenAI style), ending with `[DONE]`.
pub fn sse_data(chunks: &[Value]) -> String {
    let mut s: String = chunks.iter().map(|d| format!("data: {d}\n\n")).collect();
    s.push_str("data: [DONE]\n\n");
    s
}

/// A streamed Anthropic Messages answer in the documented event order: optional text (in two
/// deltas), then optionally one tool_use block whose input arrives as input_json_delta pieces.
pub fn anthropic_stream(text: &str, tool: Option<(&str, &str, Value)>) -> String {
    use serde_json::json;
    let mut ev: Vec<(&str, Value)> = vec![
        (
            "message_start",
            json!({"type": "message_start", "message": {"id": "msg_1", "type": "message",
                "role": "assistant", "content": [], "model": "claude-test", "stop_reason": null,
                "usage": {"input_tokens": 25, "output_tokens": 1}}}),
        ),
        ("ping", json!({"type": "ping"})),
    ];
    let mut index = 0;
    if !text.is_empty() {
        let (a, b) = text.split_at(text.len() / 2);
        ev.push((
            "content_block_start",
            json!({"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}}),
        ));
        for piece in [a, b] {
            ev.push((
                "content_block_delta",
                json!({"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": piece}}),
            ));
        }
        ev.push((
            "content_block_stop",
            json!({"type": "content_block_stop", "index": index}),
        ));
        index += 1;
    }
    let stop = if let Some((id, name, input)) = &tool {
        ev.push((
            "content_block_start",
            json!({"type": "content_block_start", "index": index, "content_block": {"type": "tool_use", "id": id, "name": name, "input": {}}}),
        ));
        let raw = input.to_string();
        let (a, b) = raw.split_at(raw.len() / 2);
        for piece in ["", a, b] {
            ev.push((
                "content_block_delta",
                json!({"type": "content_block_delta", "index": index, "delta": {"type": "input_json_delta", "partial_json": piece}}),
            ));
        }
        ev.push((
            "content_block_stop",
            json!({"type": "content_block_stop", "index": index}),
        ));
        "tool_use"
    } else {
        "end_turn"
    };
    ev.push((
        "message_delta",
        json!({"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": null}, "usage": {"output_tokens": 42}}),
    ));
    ev.push(("message_stop", json!({"type": "message_stop"})));
    sse(&ev)
}

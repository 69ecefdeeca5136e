//! The hosting layer end to end: a real server on an ephemeral loopback port, real HTTP, and the
//! rmcp client, against a small handler defined here.

use std::{sync::Arc, time::Duration};

use futures::{StreamExt, future::BoxFuture};
use opsmcp_mcp::{CheckResult, HealthCheck, HostSettings, McpHost};
use rmcp::{
    Json, ServerHandler, ServiceExt,
    handler::server::{router::tool::ToolRouter, wrapper::Parameters},
    model::{CallToolRequestParams, ServerCapabilities, ServerConfig},
    tool, tool_handler, tool_router,
    transport::StreamableHttpClientTransport,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

#[derive(Clone)]
struct Fixture {
    router: Arc<ToolRouter<Self>>,
}

#[derive(Deserialize, JsonSchema)]
struct SleepArgs {
    ms: u64,
}

#[derive(Serialize, JsonSchema)]
struct Slept {
    slept_ms: u64,
}

#[tool_router]
impl Fixture {
    fn new() -> Self {
        Self {
            router: Arc::new(Self::tool_router()),
        }
    }

    #[tool(description = "Sleeps, then says how long.")]
    async fn sleep(&self, Parameters(a): Parameters<SleepArgs>) -> Json<Slept> {
        tokio::time::sleep(Duration::from_millis(a.ms)).await;
        Json(Slept { slept_ms: a.ms })
    }
}

#[tool_handler(router = self.router)]
impl ServerHandler for Fixture {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
    }
}

struct Flag(bool);

impl HealthCheck for Flag {
    fn name(&self) -> &str {
        "flag"
    }
    fn check(&self) -> BoxFuture<'_, CheckResult> {
        Box::pin(async move {
            if self.0 {
                CheckResult::ok("up")
            } else {
                CheckResult::failing("the flag is down")
            }
        })
    }
}

struct Server {
    base: String,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<Result<(), opsmcp_mcp::HostError>>,
}

async fn start_with(settings: HostSettings, healthy: bool) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let stop = CancellationToken::new();
    let fixture = Fixture::new();
    let host = McpHost::new(settings, move || fixture.clone()).with_check(Flag(healthy));
    let task = tokio::spawn(host.serve(listener, stop.clone()));
    Server { base, stop, task }
}

async fn start(legacy_sessions: bool) -> Server {
    let mut s = HostSettings::new("fixture", "0.0.0-test");
    s.legacy_sessions = legacy_sessions;
    s.max_body_bytes = 64 * 1024;
    s.shutdown_grace = Duration::from_secs(5);
    start_with(s, true).await
}

async fn rmcp_round_trip(legacy_sessions: bool) {
    let server = start(legacy_sessions).await;
    let transport = StreamableHttpClientTransport::from_uri(format!("{}/mcp", server.base));
    let client = ().serve(transport).await.expect("rmcp client connects");
    let tools = client.list_all_tools().await.unwrap();
    assert_eq!(tools.len(), 1);
    assert_eq!(tools[0].name, "sleep");
    assert!(
        tools[0].output_schema.is_some(),
        "Json<T> gives an output schema"
    );
    let result = client
        .call_tool(
            CallToolRequestParams::new("sleep")
                .with_arguments(json!({"ms": 1}).as_object().unwrap().clone()),
        )
        .await
        .unwrap();
    assert_eq!(result.structured_content, Some(json!({"slept_ms": 1})));
    client.cancel().await.unwrap();
    server.stop.cancel();
    server.task.await.unwrap().unwrap();
}

#[tokio::test]
async fn rmcp_client_over_stateless_mcp() {
    rmcp_round_trip(false).await;
}

#[tokio::test]
async fn rmcp_client_over_mcp_with_legacy_sessions() {
    rmcp_round_trip(true).await;
}

#[tokio::test]
async fn sessions_setting_decides_whether_mcp_session_id_is_issued() {
    for (legacy, expect_session) in [(false, false), (true, true)] {
        let server = start(legacy).await;
        let resp = reqwest::Client::new()
            .post(format!("{}/mcp", server.base))
            .header("accept", "application/json, text/event-stream")
            .json(&initialize(1))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(
            resp.headers().contains_key("mcp-session-id"),
            expect_session,
            "legacy={legacy}"
        );
    }
}

fn initialize(id: u64) -> Value {
    json!({"jsonrpc":"2.0","id":id,"method":"initialize","params":{
        "protocolVersion":"2024-11-05","capabilities":{},
        "clientInfo":{"name":"test","version":"1"}}})
}

/// Reads `event:`/`data:` pairs off an SSE response.
struct Events {
    stream: futures::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>,
    buf: String,
}

impl Events {
    fn new(resp: reqwest::Response) -> Self {
        Self {
            stream: resp.bytes_stream().boxed(),
            buf: String::new(),
        }
    }

    async fn next(&mut self) -> (String, String) {
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let mut event = String::from("message");
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(e) = line.strip_prefix("event:") {
                        event = e.trim().to_string();
                    } else if let Some(d) = line.strip_prefix("data:") {
                        data.push_str(d.trim_start());
                    }
                }
                if data.is_empty() {
                    continue; // a keep-alive comment
                }
                return (event, data);
            }
            let chunk = tokio::time::timeout(Duration::from_secs(10), self.stream.next())
                .await
                .expect("an event within 10 s")
                .expect("the stream is open")
                .unwrap();
            self.buf.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
}

async fn open_sse(base: &str) -> (Events, String) {
    let resp = reqwest::Client::new()
        .get(format!("{base}/sse"))
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let mut events = Events::new(resp);
    let (event, endpoint) = events.next().await;
    assert_eq!(event, "endpoint");
    assert!(endpoint.starts_with("/messages?sessionId="), "{endpoint}");
    (events, format!("{base}{endpoint}"))
}

#[tokio::test]
async fn sse_transport_round_trip() {
    let server = start(false).await;
    let (mut events, post_url) = open_sse(&server.base).await;
    let http = reqwest::Client::new();
    let post = |body: Value| http.post(&post_url).json(&body).send();

    assert_eq!(post(initialize(1)).await.unwrap().status(), 202);
    let (event, data) = events.next().await;
    assert_eq!(event, "message");
    let init: Value = serde_json::from_str(&data).unwrap();
    assert_eq!(init["id"], 1);
    assert_eq!(init["result"]["protocolVersion"], "2024-11-05");

    let note = json!({"jsonrpc":"2.0","method":"notifications/initialized"});
    assert_eq!(post(note).await.unwrap().status(), 202);
    let call = json!({"jsonrpc":"2.0","id":2,"method":"tools/call",
                      "params":{"name":"sleep","arguments":{"ms":5}}});
    assert_eq!(post(call).await.unwrap().status(), 202);
    let (_, data) = events.next().await;
    let result: Value = serde_json::from_str(&data).unwrap();
    assert_eq!(result["id"], 2);
    assert_eq!(result["result"]["structuredContent"]["slept_ms"], 5);

    // session_id is accepted as well as sessionId.
    let snake = post_url.replace("sessionId", "session_id");
    let ping = json!({"jsonrpc":"2.0","id":3,"method":"ping"});
    assert_eq!(
        http.post(&snake).json(&ping).send().await.unwrap().status(),
        202
    );
    let (_, data) = events.next().await;
    assert_eq!(serde_json::from_str::<Value>(&data).unwrap()["id"], 3);
}

#[tokio::test]
async fn sse_refuses_unknown_sessions_and_bad_bodies() {
    let server = start(false).await;
    let http = reqwest::Client::new();
    let unknown = http
        .post(format!("{}/messages?sessionId=nope", server.base))
        .json(&initialize(1))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    assert!(unknown.text().await.unwrap().contains("GET /sse"));

    let missing = http
        .post(format!("{}/messages", server.base))
        .json(&initialize(1))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 400);

    let (events, post_url) = open_sse(&server.base).await;
    let bad = http.post(&post_url).body("{not json").send().await.unwrap();
    assert_eq!(bad.status(), 400);
    let body: Value = bad.json().await.unwrap();
    assert!(
        body["error"].as_str().unwrap().contains("JSON-RPC"),
        "{body}"
    );

    // Disconnecting ends the session: its URL is then unknown.
    drop(events);
    let mut gone = false;
    for _ in 0..50 {
        let r = http
            .post(&post_url)
            .json(&initialize(1))
            .send()
            .await
            .unwrap();
        if r.status() == 404 {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        gone,
        "the session was not removed after the client disconnected"
    );
}

#[tokio::test]
async fn foreign_origins_and_hosts_are_refused_on_every_mcp_route() {
    let server = start(false).await;
    let http = reqwest::Client::new();
    let evil = "http://evil.example.com";
    let mcp = http
        .post(format!("{}/mcp", server.base))
        .header("origin", evil)
        .header("accept", "application/json, text/event-stream")
        .json(&initialize(1))
        .send()
        .await
        .unwrap();
    assert_eq!(mcp.status(), 403);
    assert!(mcp.text().await.unwrap().contains("allowed_origins"));
    let sse = http
        .get(format!("{}/sse", server.base))
        .header("origin", evil)
        .send()
        .await
        .unwrap();
    assert_eq!(sse.status(), 403);
    let messages = http
        .post(format!("{}/messages?sessionId=x", server.base))
        .header("origin", evil)
        .json(&initialize(1))
        .send()
        .await
        .unwrap();
    assert_eq!(messages.status(), 403);
    let rebound = http
        .get(format!("{}/sse", server.base))
        .header("host", "attacker.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(rebound.status(), 403);
    // A loopback Origin (a local Inspector) is fine.
    let local = http
        .post(format!("{}/mcp", server.base))
        .header("origin", "http://localhost:6274")
        .header("accept", "application/json, text/event-stream")
        .json(&initialize(1))
        .send()
        .await
        .unwrap();
    assert_eq!(local.status(), 200);
}

#[tokio::test]
async fn a_legacy_session_belongs_to_the_token_that_opened_it() {
    use opsmcp_mcp::auth::{Scope, TokenConfig, tokens};
    let mut s = HostSettings::new("fixture", "0.0.0-test");
    s.legacy_sessions = true;
    s.auth.tokens = ["alice", "bob"]
        .into_iter()
        .map(|name| TokenConfig {
            name: name.into(),
            hash: tokens::hash(&format!("secret-of-{name}")),
            scopes: vec![Scope::Read],
        })
        .collect();
    let server = start_with(s, true).await;
    let http = reqwest::Client::new();
    let post = |token: Option<&str>, session: Option<&str>, body: Value| {
        let mut r = http
            .post(format!("{}/mcp", server.base))
            .header("accept", "application/json, text/event-stream")
            .json(&body);
        if let Some(t) = token {
            r = r.bearer_auth(format!("secret-of-{t}"));
        }
        if let Some(id) = session {
            r = r.header("mcp-session-id", id);
        }
        r.send()
    };
    let opened = post(Some("alice"), None, initialize(1)).await.unwrap();
    assert_eq!(opened.status(), 200);
    let id = opened.headers()["mcp-session-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let list = json!({"jsonrpc":"2.0","id":2,"method":"tools/list","params":{}});
    // Bob holds a valid token, and alice's session id (from a log, a proxy): refused.
    let stolen = post(Some("bob"), Some(&id), list.clone()).await.unwrap();
    assert_eq!(stolen.status(), 403);
    assert!(
        stolen
            .text()
            .await
            .unwrap()
            .contains("belongs to another caller")
    );
    // No token at all: the gate refuses first.
    let anonymous = post(None, Some(&id), list.clone()).await.unwrap();
    assert_eq!(anonymous.status(), 401);
    // An id nobody was given is unknown.
    let made_up = post(Some("alice"), Some("0123456789abcdef"), list.clone())
        .await
        .unwrap();
    assert_eq!(made_up.status(), 404);
    // Alice goes on in her own session.
    let notified = post(
        Some("alice"),
        Some(&id),
        json!({"jsonrpc":"2.0","method":"notifications/initialized"}),
    )
    .await
    .unwrap();
    assert_eq!(notified.status(), 202);
    let own = post(Some("alice"), Some(&id), list).await.unwrap();
    assert_eq!(own.status(), 200);
    assert!(own.text().await.unwrap().contains("sleep"));
}

#[tokio::test]
async fn health_and_metrics_answer_any_host_but_no_foreign_origin() {
    let server = start(false).await;
    let http = reqwest::Client::new();
    for route in ["/health", "/metrics"] {
        let url = format!("{}{route}", server.base);
        // An orchestrator's probe or a scraper sends the pod's address as Host.
        let probe = http
            .get(&url)
            .header("host", "10.1.2.3:9001")
            .send()
            .await
            .unwrap();
        assert_eq!(probe.status(), 200, "{route} with a foreign Host");
        // A page on another site must not read them through the visitor's browser.
        let page = http
            .get(&url)
            .header("origin", "http://evil.example.com")
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 403, "{route} with a foreign Origin");
        assert!(page.text().await.unwrap().contains("allowed_origins"));
        let local = http
            .get(&url)
            .header("origin", "http://localhost:6274")
            .send()
            .await
            .unwrap();
        assert_eq!(local.status(), 200, "{route} with a loopback Origin");
    }
}

#[tokio::test]
async fn allowed_origins_extend_the_loopback_default() {
    let mut s = HostSettings::new("fixture", "0");
    s.allowed_origins = vec!["https://inspector.example.com".into()];
    let server = start_with(s, true).await;
    let resp = reqwest::Client::new()
        .get(format!("{}/sse", server.base))
        .header("origin", "https://inspector.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn oversized_bodies_get_413() {
    let server = start(false).await;
    let big = "x".repeat(128 * 1024);
    let body = json!({"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":big}});
    for url in [
        format!("{}/mcp", server.base),
        format!("{}/messages?sessionId=x", server.base),
    ] {
        let resp = reqwest::Client::new()
            .post(&url)
            .header("accept", "application/json, text/event-stream")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 413, "{url}");
    }
}

#[tokio::test]
async fn health_reports_checks_and_fails_with_503() {
    let server = start(false).await;
    let resp = reqwest::get(format!("{}/health", server.base))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["server"], "fixture");
    assert_eq!(body["version"], "0.0.0-test");
    assert!(body["uptime_s"].as_f64().unwrap() >= 0.0);
    let versions = body["protocol_versions"].as_array().unwrap();
    assert!(versions.contains(&json!("2026-07-28")) && versions.contains(&json!("2024-11-05")));
    assert_eq!(body["checks"]["flag"]["status"], "ok");

    let sick = start_with(HostSettings::new("sick", "0"), false).await;
    let resp = reqwest::get(format!("{}/health", sick.base)).await.unwrap();
    assert_eq!(resp.status(), 503);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["status"], "fail");
    assert_eq!(body["checks"]["flag"]["detail"], "the flag is down");
}

#[tokio::test]
async fn shutdown_lets_calls_in_flight_finish_on_both_transports() {
    let server = start(false).await;
    let http = reqwest::Client::new();

    // One call over /mcp, one over /sse, both mid-flight when the stop comes.
    let mcp_call = tokio::spawn({
        let http = http.clone();
        let url = format!("{}/mcp", server.base);
        async move {
            http.post(url)
                .header("accept", "application/json, text/event-stream")
                .header("mcp-protocol-version", "2025-11-25")
                .json(&json!({"jsonrpc":"2.0","id":7,"method":"tools/call",
                              "params":{"name":"sleep","arguments":{"ms":600}}}))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    });
    let (mut events, post_url) = open_sse(&server.base).await;
    http.post(&post_url)
        .json(&initialize(1))
        .send()
        .await
        .unwrap();
    events.next().await;
    let call = json!({"jsonrpc":"2.0","id":8,"method":"tools/call",
                      "params":{"name":"sleep","arguments":{"ms":600}}});
    assert_eq!(
        http.post(&post_url)
            .json(&call)
            .send()
            .await
            .unwrap()
            .status(),
        202
    );
    tokio::time::sleep(Duration::from_millis(200)).await;

    server.stop.cancel();
    let sse_answer: Value = serde_json::from_str(&events.next().await.1).unwrap();
    assert_eq!(sse_answer["result"]["structuredContent"]["slept_ms"], 600);
    let mcp_answer = mcp_call.await.unwrap();
    assert!(mcp_answer.contains("\"slept_ms\":600"), "{mcp_answer}");
    tokio::time::timeout(Duration::from_secs(10), server.task)
        .await
        .expect("the host stops once calls are done")
        .unwrap()
        .unwrap();
}

//! Logs and traces through the binary: `--log-format json` writes one JSON object per line
//! carrying the request id, and `--otlp-endpoint` exports each request's span over OTLP/HTTP
//! to a collector — here a local HTTP server that records what it is sent (protobuf, so the
//! test looks for the span's name and the request id among the bytes).

mod common;

use std::{
    process::{Command, Stdio},
    sync::{Arc, Mutex},
    time::Duration,
};

use common::bin;
use serde_json::json;

type Received = Arc<Mutex<Vec<(String, String, Vec<u8>)>>>;

/// A collector stand-in: records (path, content-type, body) of every POST.
fn collector() -> (String, Received) {
    let received: Received = Arc::default();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    listener.set_nonblocking(true).unwrap();
    let store = received.clone();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let app = axum::Router::new().fallback(
                move |uri: axum::http::Uri,
                      headers: axum::http::HeaderMap,
                      body: axum::body::Bytes| {
                    let store = store.clone();
                    async move {
                        let kind = headers
                            .get("content-type")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default()
                            .to_string();
                        store
                            .lock()
                            .unwrap()
                            .push((uri.path().to_string(), kind, body.to_vec()));
                        "{}"
                    }
                },
            );
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    (url, received)
}

#[test]
fn json_logs_and_otlp_traces_carry_the_request_id() {
    let (endpoint, received) = collector();
    let data = tempfile::tempdir().unwrap();
    let mut child = Command::new(bin())
        .args([
            "--log-format",
            "json",
            "--otlp-endpoint",
            &endpoint,
            "serve",
            "monitoring",
            "--port",
            "0",
            "--scenario",
            "db-connection-pool-exhaustion",
        ])
        .env_remove("OPSMCP_CONFIG")
        .env("OPSMCP_DATA_DIR", data.path())
        // rmcp logs each request it handles at debug: lines inside the request's span.
        .env("OPSMCP_LOG", "info,rmcp=debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stdout));
    let url = loop {
        let line = lines.next().expect("a listening line").unwrap();
        if let Some(rest) = line.split(" listening on ").nth(1) {
            break rest.split_whitespace().next().unwrap().to_string();
        }
    };
    let r = common::post_mcp(&url)
        .header("x-request-id", "trace-me-42")
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                      "params": {"name": "verify_health", "arguments": {}}}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-request-id"], "trace-me-42");
    std::thread::sleep(Duration::from_millis(200));
    // SIGTERM: the server stops and flushes its traces.
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Every stderr line is a JSON object (the plain "opsmcp: …" notices aside).
    let objects: Vec<serde_json::Value> = stderr
        .lines()
        .filter(|l| !l.starts_with("opsmcp:"))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(
        objects
            .iter()
            .filter_map(|o| o["spans"].as_array())
            .flatten()
            .any(|span| span["id"] == "trace-me-42" && span["name"] == "request"),
        "no log line inside the request's span:\n{stderr}"
    );

    let posts = received.lock().unwrap().clone();
    let traces: Vec<_> = posts.iter().filter(|(p, _, _)| p == "/v1/traces").collect();
    assert!(
        !traces.is_empty(),
        "no export reached the collector: {posts:?}"
    );
    assert!(
        traces
            .iter()
            .all(|(_, kind, _)| kind == "application/x-protobuf")
    );
    let all: Vec<u8> = traces.iter().flat_map(|(_, _, b)| b.clone()).collect();
    let has = |needle: &[u8]| all.windows(needle.len()).any(|w| w == needle);
    assert!(has(b"request"), "no request span exported");
    assert!(
        has(b"trace-me-42"),
        "the request id is not on the exported span"
    );
    assert!(has(b"opsmcp"), "no service name");
}

//! `/metrics` through the binary: what `opsmcp up` counts (requests, tool calls by outcome,
//! latency, SSE sessions, store transactions, the outbox), read directly and scraped by a real
//! Prometheus (the Debian package; `.ci/run` installs it, and without it the scrape is skipped
//! with a message).

mod common;

use std::{io::Read, time::Duration};

use common::{Running, prometheus::Prometheus};
use serde_json::{Value, json};

fn call(url: &str, tool: &str) -> u16 {
    common::post_mcp(url)
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                      "params": {"name": tool, "arguments": {}}}))
        .send()
        .unwrap()
        .status()
        .as_u16()
}

/// The value of the first sample of `series` (name and labels exactly as rendered).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
}

#[test]
fn up_counts_calls_sessions_and_store_work_and_prometheus_scrapes_it() {
    let server = Running::up(&["--scenario", "db-connection-pool-exhaustion"]);
    let monitoring = server.url("monitoring").to_string();
    for _ in 0..3 {
        assert_eq!(call(&monitoring, "get_system_metrics"), 200);
    }
    assert_eq!(call(&monitoring, "no_such_tool"), 200);
    // An open /sse session shows in the gauge while it is open.
    let mut sse = reqwest::blocking::Client::new()
        .get(format!("{monitoring}/sse"))
        .send()
        .unwrap();
    let mut first = [0u8; 16];
    sse.read_exact(&mut first).unwrap();

    let text = reqwest::blocking::get(format!("{monitoring}/metrics"))
        .unwrap()
        .text()
        .unwrap();
    assert_eq!(
        sample(
            &text,
            r#"opsmcp_tool_calls_total{server="monitoring",tool="get_system_metrics",outcome="ok"}"#
        ),
        Some(3.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            r#"opsmcp_tool_calls_total{server="monitoring",tool="no_such_tool",outcome="rejected"}"#
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            r#"opsmcp_http_requests_total{server="monitoring",route="/mcp",status="200"}"#
        ),
        Some(4.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, r#"opsmcp_sse_sessions{server="monitoring"}"#),
        Some(1.0),
        "{text}"
    );
    for present in [
        r#"opsmcp_tool_call_duration_seconds_bucket{server="monitoring",tool="get_system_metrics",le="0.005"}"#,
        r#"opsmcp_store_transaction_duration_seconds_count{kind="write",backend="sqlite"}"#,
        "opsmcp_outbox_depth ",
        "# HELP opsmcp_tool_calls_total",
    ] {
        assert!(text.contains(present), "no {present} in\n{text}");
    }
    drop(sse);

    // A real Prometheus scraping the port sees the same counts.
    let target = monitoring.trim_start_matches("http://").to_string();
    let Some(prom) = Prometheus::scraping(&[target]) else {
        return;
    };
    let query = format!(
        "{}/api/v1/query?query=opsmcp_tool_calls_total{{tool=%22get_system_metrics%22,outcome=%22ok%22}}",
        prom.url
    );
    for _ in 0..300 {
        let body: Value = reqwest::blocking::get(&query).unwrap().json().unwrap();
        if let Some(v) = body["data"]["result"][0]["value"][1].as_str() {
            assert_eq!(v, "3", "{body}");
            assert_eq!(body["data"]["result"][0]["metric"]["job"], "opsmcp");
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("Prometheus never scraped opsmcp_tool_calls_total from {monitoring}/metrics");
}

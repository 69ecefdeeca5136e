//! `/metrics` in the Prometheus text format.
//!
//! One registry per process (the `metrics` facade's global recorder): every crate records with
//! the `metrics` macros — the host its requests and tool calls, the sandbox its runs, the
//! notifier its outbox, the store its latency — and every server port of the process renders
//! the same registry, with a `server` label where it matters. Scrape one port per process.

use std::{sync::OnceLock, time::Duration};

use axum::{http::header, response::IntoResponse};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Latency buckets, in seconds: sub-millisecond calls to minutes-long remediations.
const BUCKETS: [f64; 16] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 60.0,
    300.0,
];

/// The process's registry, installed on first use. `None` if another recorder was installed
/// first (an embedding program's own); `/metrics` then says so.
pub fn handle() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &BUCKETS)
                .ok()?;
            let handle = builder.install_recorder().ok()?;
            describe();
            // Histograms buffer samples until upkeep; without a scraper they would grow.
            let upkeep = handle.clone();
            std::thread::Builder::new()
                .name("metrics-upkeep".into())
                .spawn(move || {
                    loop {
                        std::thread::sleep(Duration::from_secs(5));
                        upkeep.run_upkeep();
                    }
                })
                .ok()?;
            Some(handle)
        })
        .as_ref()
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        "opsmcp_http_requests_total",
        "HTTP requests on the MCP routes, by server, route and status"
    );
    describe_histogram!(
        "opsmcp_http_request_duration_seconds",
        metrics::Unit::Seconds,
        "HTTP request latency on the MCP routes (for /sse: until the stream opened)"
    );
    describe_counter!(
        "opsmcp_tool_calls_total",
        "Tool calls by server, tool and outcome (ok, error, rejected, forbidden, busy, timeout)"
    );
    describe_histogram!(
        "opsmcp_tool_call_duration_seconds",
        metrics::Unit::Seconds,
        "Tool call latency by server and tool"
    );
    describe_gauge!("opsmcp_tool_calls_in_flight", "Tool calls running now");
    describe_gauge!("opsmcp_sse_sessions", "Open /sse sessions");
    describe_counter!(
        "opsmcp_sse_sessions_refused_total",
        "GET /sse refused with 503 at max_sse_sessions"
    );
    describe_counter!(
        "opsmcp_sse_sessions_expired_total",
        "/sse sessions ended after sse_idle_timeout with no message either way"
    );
    describe_gauge!(
        "opsmcp_connections_open",
        "TCP connections held, reserve slots included"
    );
    describe_counter!(
        "opsmcp_connections_refused_total",
        "Connections over max_connections (reason total) or max_connections_per_address \
         (reason per_address): only GET /health served, or closed when the reserve is full"
    );
    describe_counter!(
        "opsmcp_connections_idle_closed_total",
        "Connections closed after idle_timeout with no byte moved and no request in a handler"
    );
    describe_counter!(
        "opsmcp_auth_failures_total",
        "Requests refused by authentication (401) or authorization (403)"
    );
    describe_counter!(
        "opsmcp_rate_limited_total",
        "Requests refused with 429, by limit (calls, expensive)"
    );
}

/// `GET /metrics`.
pub(crate) async fn render() -> axum::response::Response {
    match handle() {
        Some(handle) => (
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            handle.render(),
        )
            .into_response(),
        None => (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "another metrics recorder is installed in this process; opsmcp's metrics go there",
        )
            .into_response(),
    }
}

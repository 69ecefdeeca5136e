//! `/health`: what a load balancer, `opsmcp health` and a human need to know about one server.

use std::{sync::Arc, time::Instant};

use axum::{Json, extract::State, response::IntoResponse};
use futures::future::BoxFuture;
use http::StatusCode;
use serde::Serialize;
use tokio_util::sync::CancellationToken;

/// One thing a server must have working to be healthy (a readable world, a store, a sandbox).
pub trait HealthCheck: Send + Sync {
    /// Short name, the key in `/health`'s `checks`.
    fn name(&self) -> &str;
    /// Runs the check; it should be cheap, `/health` is polled.
    fn check(&self) -> BoxFuture<'_, CheckResult>;
}

/// The outcome of one check.
#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    /// Whether the check passed.
    pub healthy: bool,
    /// Numbers or a message behind the verdict.
    pub detail: serde_json::Value,
}

impl CheckResult {
    /// A pass, with detail.
    pub fn ok(detail: impl Into<serde_json::Value>) -> Self {
        Self {
            healthy: true,
            detail: detail.into(),
        }
    }

    /// A failure, with what is wrong.
    pub fn failing(detail: impl Into<serde_json::Value>) -> Self {
        Self {
            healthy: false,
            detail: detail.into(),
        }
    }
}

/// State behind `/health`.
#[derive(Clone)]
pub(crate) struct HealthState {
    pub server: String,
    pub version: String,
    pub started: Instant,
    pub protocol_versions: Vec<String>,
    pub checks: Arc<Vec<Arc<dyn HealthCheck>>>,
    pub stop: CancellationToken,
}

#[derive(Serialize)]
struct HealthBody<'a> {
    status: &'static str,
    server: &'a str,
    version: &'a str,
    uptime_s: f64,
    protocol_versions: &'a [String],
    checks: serde_json::Map<String, serde_json::Value>,
}

pub(crate) async fn health(State(state): State<HealthState>) -> impl IntoResponse {
    let mut checks = serde_json::Map::new();
    let mut healthy = true;
    // A draining server reports 503 so load balancers stop sending it work.
    let draining = state.stop.is_cancelled();
    checks.insert(
        "accepting".into(),
        serde_json::json!({ "status": if draining { "fail" } else { "ok" },
                            "detail": if draining { "shutting down" } else { "accepting calls" } }),
    );
    healthy &= !draining;
    for check in state.checks.iter() {
        let result = check.check().await;
        healthy &= result.healthy;
        checks.insert(
            check.name().to_string(),
            serde_json::json!({ "status": if result.healthy { "ok" } else { "fail" },
                                "detail": result.detail }),
        );
    }
    let body = HealthBody {
        status: if healthy { "ok" } else { "fail" },
        server: &state.server,
        version: &state.version,
        uptime_s: (state.started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
        protocol_versions: &state.protocol_versions,
        checks,
    };
    let code = if healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Json(serde_json::to_value(body).unwrap_or_default()))
}

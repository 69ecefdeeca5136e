//! `POST /webhooks/deploy`: CI/CD announces a deploy (or another change) on the workflow port,
//! so the analysis sees it as a change event before the onset. Not an MCP tool but the same
//! shape: a body type, one call into the domain, a reply.

use axum::{Json, Router, extract::State, http::StatusCode, routing::post};
use jiff::Timestamp;
use opsmcp_store::{ChangeEvent, Store};
use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};

/// What CI/CD sends. Pipelines add fields of their own (environment, commit, author,
/// status…): those are kept in the detail rather than refused.
#[derive(Debug, Deserialize)]
pub struct Body {
    /// The service deployed (as the config names it).
    pub service: String,
    /// The version now running (`v2.15.0`, a commit).
    #[serde(default)]
    pub version: Option<String>,
    /// The version it replaced.
    #[serde(default, alias = "previous_version", alias = "from_version")]
    pub previous: Option<String>,
    /// Anything else worth reading in an investigation (who, which pipeline).
    #[serde(default, alias = "description", alias = "message")]
    pub detail: Option<String>,
    /// `deploy` (default), `config`, `rollback`, `feature-flag`, `migration`, …
    #[serde(default)]
    pub kind: Option<String>,
    /// When it happened (RFC 3339); now when absent.
    #[serde(default)]
    pub at: Option<Timestamp>,
    /// The pipeline's own fields, kept as `key=value` in the detail.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// At most this many of a pipeline's own fields are kept, each cut to [`MAX_EXTRA_CHARS`].
const MAX_EXTRA: usize = 8;
const MAX_EXTRA_CHARS: usize = 80;

const EXPECTED: &str = "send JSON like {\"service\":\"checkout\",\"version\":\"v2.15.0\",\
\"previous\":\"v2.14.1\"} (optional: kind, detail, at as RFC 3339)";

/// The route, to add to the workflow server's host.
pub fn routes(store: Store) -> Router {
    Router::new()
        .route("/webhooks/deploy", post(receive))
        .with_state(store)
}

async fn receive(
    State(store): State<Store>,
    body: Result<Json<Body>, axum::extract::rejection::JsonRejection>,
) -> (StatusCode, Json<Value>) {
    let bad = |m: String| (StatusCode::BAD_REQUEST, Json(json!({ "error": m })));
    let Json(body) = match body {
        Ok(b) => b,
        Err(e) => return bad(format!("{e}; {EXPECTED}")),
    };
    let kind = body.kind.unwrap_or_else(|| "deploy".into());
    if body.service.trim().is_empty() {
        return bad(format!("service is empty; {EXPECTED}"));
    }
    if kind.trim().is_empty() || kind.len() > 64 {
        return bad(format!(
            "kind must be a short word like deploy or config; {EXPECTED}"
        ));
    }
    let detail = match (&body.previous, &body.version) {
        (Some(p), Some(v)) => format!("{p} -> {v}"),
        (None, Some(v)) => format!("-> {v}"),
        _ => String::new(),
    };
    let detail = match body.detail {
        Some(d) if detail.is_empty() => d,
        Some(d) => format!("{detail} ({d})"),
        None if detail.is_empty() => format!("{kind} announced"),
        None => detail,
    };
    let extra: Vec<String> = body
        .extra
        .iter()
        .filter_map(|(k, v)| {
            let v = match v {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                _ => return None,
            };
            Some(format!(
                "{k}={}",
                v.chars().take(MAX_EXTRA_CHARS).collect::<String>()
            ))
        })
        .take(MAX_EXTRA)
        .collect();
    let detail = if extra.is_empty() {
        detail
    } else {
        format!("{detail} [{}]", extra.join(" "))
    };
    let event = ChangeEvent {
        at: body.at.unwrap_or_else(Timestamp::now),
        kind,
        service: body.service,
        detail,
        source: "webhook".into(),
    };
    match store.record_change(&event).await {
        Ok(id) => (
            StatusCode::OK,
            Json(
                json!({ "recorded": id, "kind": event.kind, "service": event.service,
                         "detail": event.detail, "at": event.at.to_string() }),
            ),
        ),
        // 5xx makes a pipeline retry, which is what a store outage needs.
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "error": e.to_string() })),
        ),
    }
}

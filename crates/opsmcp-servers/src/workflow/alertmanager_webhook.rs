//! `POST /webhooks/alertmanager`: Alertmanager's webhook on the workflow port. Not an MCP tool
//! but the same shape: a body type, one call into the domain, a reply.

use axum::{Json, Router, extract::State, http::StatusCode, routing::post};
use opsmcp_store::Store;
use opsmcp_workflow::alertmanager::{self, Payload};
use serde_json::{Value, json};

/// The route, to add to the workflow server's host.
pub fn routes(store: Store) -> Router {
    Router::new()
        .route("/webhooks/alertmanager", post(receive))
        .with_state(store)
}

async fn receive(
    State(store): State<Store>,
    body: Result<Json<Payload>, axum::extract::rejection::JsonRejection>,
) -> (StatusCode, Json<Value>) {
    let Json(payload) = match body {
        Ok(b) => b,
        Err(e) => {
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({ "error": format!(
                    "{e}; send Alertmanager's webhook payload (version 4: groupKey, status, alerts)"
                ) })),
            );
        }
    };
    match alertmanager::intake(&store, &payload).await {
        Ok(done) => (StatusCode::OK, Json(json!(done))),
        Err(opsmcp_workflow::WorkflowError::BadRequest(m)) => {
            (StatusCode::BAD_REQUEST, Json(json!({ "error": m })))
        }
        // 5xx makes Alertmanager retry, which is what a store outage needs.
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "error": e.to_string() })),
        ),
    }
}

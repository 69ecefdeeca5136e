//! Errors of the hosting layer, and the JSON error body every refusal uses.

use axum::{Json, response::IntoResponse};
use http::StatusCode;

/// What can stop a host from serving.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// The listener failed while serving.
    #[error("serving {server} failed: {source}")]
    Serve {
        /// Which server.
        server: String,
        /// The I/O error from the listener.
        source: std::io::Error,
    },
    /// The certificate or key cannot be used.
    #[error("{server}: {source}")]
    Tls {
        /// Which server.
        server: String,
        /// What is wrong.
        source: crate::tls::TlsError,
    },
    /// The auth settings are wrong.
    #[error("{server}: {source}")]
    Auth {
        /// Which server.
        server: String,
        /// What is wrong.
        source: crate::auth::AuthError,
    },
}

/// A refusal as `{"error": "..."}` with the given status. The message says what was wrong and
/// what to send instead.
pub(crate) fn json_error(status: StatusCode, message: impl Into<String>) -> impl IntoResponse {
    (status, Json(serde_json::json!({ "error": message.into() })))
}

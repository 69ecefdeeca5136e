//! Generic webhooks: one signed `POST` of a JSON body per notification.
//!
//! # The request
//!
//! ```text
//! POST <url>
//! Content-Type: application/json
//! X-Opsmcp-Idempotency-Key: INC-0042-opened
//! X-Opsmcp-Timestamp: 1795694400
//! X-Opsmcp-Signature: sha256=5d41…(64 hex digits)
//!
//! {"idempotency_key":"INC-0042-opened","channel":"pager","incident_id":"INC-0042",
//!  "severity":"SEV2","message":"checkout errors at 12%","created_at":"2026-11-26T10:00:00Z"}
//! ```
//!
//! The body is the same for every attempt at one notification; the timestamp (Unix seconds at
//! sending) and so the signature change with each attempt.
//!
//! # Verifying it (the receiver's side)
//!
//! 1. Read the raw body bytes — before any JSON parsing, which could change them.
//! 2. Compute `HMAC-SHA256(secret, timestamp + "." + body)` where `timestamp` is the
//!    `X-Opsmcp-Timestamp` header exactly as sent, and hex-encode it (lowercase).
//! 3. Compare it with the part of `X-Opsmcp-Signature` after `sha256=`, in constant time
//!    (`hmac.compare_digest` in Python, `crypto.timingSafeEqual` in Node, [`verify_signature`]
//!    in Rust). Reject on mismatch.
//! 4. Reject timestamps more than a few minutes from your clock (5 is usual), so a captured
//!    request cannot be replayed later.
//! 5. Delivery is at least once: drop a request whose `X-Opsmcp-Idempotency-Key` you have
//!    already processed, and still answer 2xx.
//!
//! ```python
//! import hmac, hashlib
//! def verify(secret: bytes, headers, body: bytes) -> bool:
//!     ts = headers["X-Opsmcp-Timestamp"]
//!     want = hmac.new(secret, ts.encode() + b"." + body, hashlib.sha256).hexdigest()
//!     return hmac.compare_digest("sha256=" + want, headers["X-Opsmcp-Signature"])
//! ```
//!
//! # Answers
//!
//! 2xx: delivered. 408, 425, 429 (with `Retry-After`, honoured) and 5xx: retried. Any other
//! status: failed at once, with the status and the start of the body recorded. Redirects are
//! not followed (they count as failures: point the channel at the final URL).

mod config;
#[cfg(test)]
mod tests;

use std::time::Duration;

use futures::future::BoxFuture;
use hmac::{Hmac, Mac};
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use serde::Serialize;
use sha2::Sha256;

pub use config::WebhookConfig;

use crate::channel::Channel;
use crate::channels::http;
use crate::config::Secret;
use crate::error::{DeliveryError, NotifyError};
use crate::notification::Notification;

/// The header carrying the idempotency key.
pub const KEY_HEADER: &str = "X-Opsmcp-Idempotency-Key";
/// The header carrying the Unix time (seconds) the request was signed at.
pub const TIMESTAMP_HEADER: &str = "X-Opsmcp-Timestamp";
/// The header carrying `sha256=<hex HMAC-SHA256 over "<timestamp>.<body>">`.
pub const SIGNATURE_HEADER: &str = "X-Opsmcp-Signature";

/// The JSON body of a webhook request.
#[derive(Debug, Serialize)]
pub struct WebhookBody<'a> {
    /// Receivers dedupe by it.
    pub idempotency_key: &'a str,
    /// The configured channel's name.
    pub channel: &'a str,
    /// The incident, if any.
    pub incident_id: Option<&'a str>,
    /// `SEV1`…`SEV5`, if given.
    pub severity: Option<&'a str>,
    /// The message.
    pub message: &'a str,
    /// When the notification was queued (RFC 3339).
    pub created_at: String,
}

/// The body's bytes for `n`.
pub fn body(n: &Notification) -> Vec<u8> {
    let b = WebhookBody {
        idempotency_key: &n.idempotency_key,
        channel: &n.channel,
        incident_id: n.incident_id.as_deref(),
        severity: n.severity.map(|s| s.as_str()),
        message: &n.message,
        created_at: n.created_at.to_string(),
    };
    serde_json::to_vec(&b).unwrap_or_default()
}

fn mac(secret: &[u8], timestamp: &str, body: &[u8]) -> Hmac<Sha256> {
    // HMAC takes keys of any length; new_from_slice cannot fail for it.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The `X-Opsmcp-Signature` value for `body` sent at `timestamp`: `sha256=` and the lowercase
/// hex HMAC-SHA256 over `"<timestamp>.<body>"`.
pub fn sign(secret: &[u8], timestamp: &str, body: &[u8]) -> String {
    format!(
        "sha256={}",
        hex::encode(mac(secret, timestamp, body).finalize().into_bytes())
    )
}

/// What a Rust receiver calls: whether `signature` (the header's value) is right for `body`
/// and `timestamp` under `secret`, compared in constant time. It does not check the timestamp's
/// age; do that too.
pub fn verify_signature(secret: &[u8], timestamp: &str, body: &[u8], signature: &str) -> bool {
    let Some(hex_part) = signature.trim().strip_prefix("sha256=") else {
        return false;
    };
    let Ok(given) = hex::decode(hex_part) else {
        return false;
    };
    mac(secret, timestamp, body).verify_slice(&given).is_ok()
}

/// A generic webhook.
pub struct WebhookChannel {
    url: reqwest::Url,
    target: String,
    secret: Option<Secret>,
    headers: HeaderMap,
    client: reqwest::Client,
}

impl WebhookChannel {
    /// Builds the channel called `name` from its settings.
    pub fn new(name: &str, config: &WebhookConfig) -> Result<WebhookChannel, NotifyError> {
        let url = http::parse_url(name, "url", &config.url)?;
        let mut headers = HeaderMap::new();
        for (k, v) in &config.headers {
            let bad = |what: &str| NotifyError::Config {
                channel: name.to_string(),
                message: format!("header {k:?} has an invalid {what}"),
            };
            let hname = HeaderName::from_bytes(k.as_bytes()).map_err(|_| bad("name"))?;
            let mut value = HeaderValue::from_str(v.expose()).map_err(|_| bad("value"))?;
            value.set_sensitive(true);
            headers.insert(hname, value);
        }
        if config
            .secret
            .as_ref()
            .is_some_and(|s| s.expose().is_empty())
        {
            return Err(NotifyError::Config {
                channel: name.to_string(),
                message: "secret is empty; set a long random string or leave it out".into(),
            });
        }
        if config.secret.is_none() {
            tracing::warn!(
                channel = name,
                "webhook channel has no secret: its requests are not signed"
            );
        }
        Ok(WebhookChannel {
            target: http::redacted(&url),
            url,
            secret: config.secret.clone(),
            headers,
            client: http::client(name, Duration::from_millis(config.timeout_ms.max(1)))?,
        })
    }
}

impl Channel for WebhookChannel {
    fn kind(&self) -> &'static str {
        "webhook"
    }

    fn target(&self) -> String {
        self.target.clone()
    }

    fn send<'a>(&'a self, n: &'a Notification) -> BoxFuture<'a, Result<(), DeliveryError>> {
        Box::pin(async move {
            let body = body(n);
            let timestamp = jiff::Timestamp::now().as_second().to_string();
            let mut request = self
                .client
                .post(self.url.clone())
                .headers(self.headers.clone())
                .header(CONTENT_TYPE, "application/json")
                .header(KEY_HEADER, n.idempotency_key.as_str())
                .header(TIMESTAMP_HEADER, timestamp.as_str());
            if let Some(secret) = &self.secret {
                request = request.header(
                    SIGNATURE_HEADER,
                    sign(secret.expose().as_bytes(), &timestamp, &body),
                );
            }
            let response = request
                .body(body)
                .send()
                .await
                .map_err(|e| http::transport_error(&self.target, &e))?;
            let status = response.status();
            let headers = response.headers().clone();
            let text = response.text().await.unwrap_or_default();
            http::judge(&format!("webhook {}", self.target), status, &headers, &text)
        })
    }
}

//! Slack incoming webhooks: one `POST` of `{"text": …, "blocks": […]}` per notification.
//!
//! `text` is the one-line headline (what Slack shows in desktop and mobile notifications);
//! `blocks` carry the message as mrkdwn sections (Slack allows 3000 characters per section, so a
//! long message is split) and a context line with the severity, incident and idempotency key —
//! Slack does not dedupe webhook posts, so a repeat of an at-least-once delivery is at least
//! recognizable. `&`, `<` and `>` are escaped as Slack requires.
//!
//! Slack answers 200 `ok` when it accepted the message, 429 with `Retry-After` when rate
//! limited, 5xx when it is in trouble (all retried) and 400/403/404/410 with a reason
//! (`invalid_payload`, `action_prohibited`, `channel_not_found`, `channel_is_archived`) that no
//! retry will fix: those fail the notification at once, with the reason recorded.

mod config;
#[cfg(test)]
mod tests;

use std::time::Duration;

use futures::future::BoxFuture;
use serde_json::{Value, json};

pub use config::SlackConfig;

use crate::channel::Channel;
use crate::channels::http;
use crate::error::{DeliveryError, NotifyError};
use crate::notification::Notification;

/// Slack's limit for one section's text.
const SECTION_CHARS: usize = 3000;

/// A Slack incoming webhook.
pub struct SlackChannel {
    url: reqwest::Url,
    target: String,
    client: reqwest::Client,
}

impl SlackChannel {
    /// Builds the channel called `name` from its settings.
    pub fn new(name: &str, config: &SlackConfig) -> Result<SlackChannel, NotifyError> {
        let url = http::parse_url(name, "webhook_url", config.webhook_url.expose())?;
        Ok(SlackChannel {
            target: http::redacted(&url),
            url,
            client: http::client(name, Duration::from_millis(config.timeout_ms.max(1)))?,
        })
    }
}

/// Escapes the three characters Slack's mrkdwn treats as control characters.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The JSON body posted for `n`.
pub fn body(n: &Notification) -> Value {
    let message = escape(&n.message);
    let chars: Vec<char> = message.chars().collect();
    let mut blocks: Vec<Value> = chars
        .chunks(SECTION_CHARS)
        .map(|chunk| {
            json!({
                "type": "section",
                "text": {"type": "mrkdwn", "text": chunk.iter().collect::<String>()},
            })
        })
        .collect();
    let mut context = Vec::new();
    if let Some(sev) = n.severity {
        context.push(format!("*{sev}* ({})", sev.word()));
    }
    if let Some(inc) = &n.incident_id {
        context.push(format!("incident *{}*", escape(inc)));
    }
    context.push(format!("key `{}`", escape(&n.idempotency_key)));
    blocks.push(json!({
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": context.join(" · ")}],
    }));
    json!({"text": escape(&n.headline()), "blocks": blocks})
}

impl Channel for SlackChannel {
    fn kind(&self) -> &'static str {
        "slack"
    }

    fn target(&self) -> String {
        self.target.clone()
    }

    fn send<'a>(&'a self, n: &'a Notification) -> BoxFuture<'a, Result<(), DeliveryError>> {
        Box::pin(async move {
            let response = self
                .client
                .post(self.url.clone())
                .json(&body(n))
                .send()
                .await
                .map_err(|e| http::transport_error(&self.target, &e))?;
            let status = response.status();
            let headers = response.headers().clone();
            let text = response.text().await.unwrap_or_default();
            http::judge(&format!("Slack {}", self.target), status, &headers, &text)
        })
    }
}

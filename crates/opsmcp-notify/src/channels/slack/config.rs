//! `type = "slack"`: a Slack incoming webhook.

use serde::{Deserialize, Serialize};

use crate::config::Secret;

/// Settings of a Slack channel.
///
/// ```toml
/// [notify.channels.ops-slack]
/// type = "slack"
/// webhook_url = "https://hooks.slack.com/services/T000/B000/XXXX"
/// timeout_ms = 10000
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlackConfig {
    /// The incoming webhook's URL (Slack app → Incoming Webhooks). It is a credential: it is
    /// never logged, only its host.
    pub webhook_url: Secret,
    /// How long one request may take. Default 10 000 ms.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
}

fn default_timeout_ms() -> u64 {
    10_000
}

//! `type = "webhook"`: a generic HTTP endpoint, signed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::config::Secret;

/// Settings of a generic webhook channel.
///
/// ```toml
/// [notify.channels.pager]
/// type = "webhook"
/// url = "https://pager.example.com/hooks/opsmcp"
/// secret = "a long random string shared with the receiver"
/// headers = { Authorization = "Bearer abc" }   # optional, sent as they are
/// timeout_ms = 10000
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// Where to `POST`. Only its scheme, host and port are ever logged.
    pub url: String,
    /// The HMAC-SHA256 key for `X-Opsmcp-Signature`. Without it requests are not signed (and
    /// the receiver cannot tell them from forgeries): set it for anything but a local test.
    #[serde(default)]
    pub secret: Option<Secret>,
    /// Extra headers, e.g. a receiver's own token. Their values are treated as secrets.
    #[serde(default)]
    pub headers: BTreeMap<String, Secret>,
    /// How long one request may take. Default 10 000 ms.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
}

fn default_timeout_ms() -> u64 {
    10_000
}

//! What the Anthropic client needs: model, key, base URL, limits.

use serde::{Deserialize, Serialize};

use crate::providers::{ProviderError, RetryPolicy};

/// Settings for [`super::Anthropic`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnthropicConfig {
    /// Model name, e.g. `claude-sonnet-4-5`.
    pub model: String,
    /// API root; the client posts to `{base_url}/v1/messages`.
    #[serde(default = "default_base_url")]
    pub base_url: String,
    /// API key; [`AnthropicConfig::from_env`] reads `ANTHROPIC_API_KEY`. Never serialized.
    #[serde(skip_serializing, default)]
    pub api_key: Option<String>,
    /// Upper bound of output tokens per turn.
    #[serde(default = "default_max_tokens")]
    pub max_tokens: u32,
    /// Retries on 429 / 503 / 529.
    #[serde(default)]
    pub retry: RetryPolicy,
}

fn default_base_url() -> String {
    "https://api.anthropic.com".to_string()
}

fn default_max_tokens() -> u32 {
    8192
}

impl AnthropicConfig {
    /// Defaults for `model`, with the key from `ANTHROPIC_API_KEY` and the base URL from
    /// `ANTHROPIC_BASE_URL` when set.
    pub fn from_env(model: impl Into<String>) -> Self {
        Self {
            model: model.into(),
            base_url: std::env::var("ANTHROPIC_BASE_URL").unwrap_or_else(|_| default_base_url()),
            api_key: std::env::var("ANTHROPIC_API_KEY")
                .ok()
                .filter(|k| !k.is_empty()),
            max_tokens: default_max_tokens(),
            retry: RetryPolicy::default(),
        }
    }

    pub(crate) fn key(&self) -> Result<&str, ProviderError> {
        self.api_key.as_deref().ok_or(ProviderError::Config {
            provider: "anthropic",
            message: "no API key: set ANTHROPIC_API_KEY".to_string(),
        })
    }
}

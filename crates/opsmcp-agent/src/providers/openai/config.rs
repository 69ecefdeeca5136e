//! What the OpenAI-compatible client needs.

use serde::{Deserialize, Serialize};

use crate::providers::RetryPolicy;

/// Settings for [`super::OpenAi`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenAiConfig {
    /// Model name as the server knows it (`gpt-4.1`, `qwen2.5:7b`, ...).
    pub model: String,
    /// API root including the version, e.g. `https://api.openai.com/v1` or
    /// `http://127.0.0.1:11434/v1` (Ollama); the client posts to `{base_url}/chat/completions`.
    #[serde(default = "default_base_url")]
    pub base_url: String,
    /// Bearer key; optional, since local servers usually need none. [`OpenAiConfig::from_env`]
    /// reads `OPENAI_API_KEY`. Never serialized.
    #[serde(skip_serializing, default)]
    pub api_key: Option<String>,
    /// Upper bound of output tokens per turn (`max_tokens`); omitted when `None`.
    #[serde(default)]
    pub max_tokens: Option<u32>,
    /// Ask for a final usage chunk (`stream_options.include_usage`). Turn off for servers that
    /// refuse the field.
    #[serde(default = "yes")]
    pub include_usage: bool,
    /// Retries on 429 / 503 / 529.
    #[serde(default)]
    pub retry: RetryPolicy,
}

fn default_base_url() -> String {
    "https://api.openai.com/v1".to_string()
}

fn yes() -> bool {
    true
}

impl OpenAiConfig {
    /// Defaults for `model`, with `OPENAI_API_KEY` and `OPENAI_BASE_URL` when set.
    pub fn from_env(model: impl Into<String>) -> Self {
        Self {
            model: model.into(),
            base_url: std::env::var("OPENAI_BASE_URL").unwrap_or_else(|_| default_base_url()),
            api_key: std::env::var("OPENAI_API_KEY")
                .ok()
                .filter(|k| !k.is_empty()),
            max_tokens: None,
            include_usage: true,
            retry: RetryPolicy::default(),
        }
    }
}

//! What the Bedrock client needs: model id, region, credentials, endpoint.

use serde::{Deserialize, Serialize};

use crate::providers::{ProviderError, RetryPolicy};

/// AWS credentials for signing. Never serialized, never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct AwsCredentials {
    /// `AWS_ACCESS_KEY_ID`.
    pub access_key_id: String,
    /// `AWS_SECRET_ACCESS_KEY`.
    pub secret_access_key: String,
    /// `AWS_SESSION_TOKEN`, for temporary credentials.
    pub session_token: Option<String>,
}

impl std::fmt::Debug for AwsCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

impl AwsCredentials {
    /// From `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`.
    pub fn from_env() -> Result<Self, ProviderError> {
        let get = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        match (get("AWS_ACCESS_KEY_ID"), get("AWS_SECRET_ACCESS_KEY")) {
            (Some(access_key_id), Some(secret_access_key)) => Ok(Self {
                access_key_id,
                secret_access_key,
                session_token: get("AWS_SESSION_TOKEN"),
            }),
            _ => Err(ProviderError::Config {
                provider: "bedrock",
                message: "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY \
                          (and AWS_SESSION_TOKEN for temporary ones; `aws configure \
                          export-credentials --format env` prints them)"
                    .to_string(),
            }),
        }
    }
}

/// Settings for [`super::Bedrock`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BedrockConfig {
    /// Model or inference-profile id, exactly as AWS names it, e.g.
    /// `us.anthropic.claude-sonnet-4-5-20250929-v1:0`.
    pub model_id: String,
    /// AWS region, e.g. `us-east-1`.
    pub region: String,
    /// Endpoint root; `None` means `https://bedrock-runtime.{region}.amazonaws.com`.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// Upper bound of output tokens per turn (`inferenceConfig.maxTokens`).
    #[serde(default = "default_max_tokens")]
    pub max_tokens: u32,
    /// Retries on 429 / 503 / 529 (Bedrock throttles with 429 `ThrottlingException`).
    #[serde(default)]
    pub retry: RetryPolicy,
    /// Signing credentials; [`BedrockConfig::from_env`] reads them from the environment.
    #[serde(skip)]
    pub credentials: Option<AwsCredentials>,
}

fn default_max_tokens() -> u32 {
    8192
}

impl BedrockConfig {
    /// Defaults for `model_id`, with the region from `AWS_REGION` (or `AWS_DEFAULT_REGION`,
    /// else `us-east-1`), the endpoint from the AWS SDKs' variables (see
    /// [`BedrockConfig::endpoint_from_env`]) and credentials from the environment when
    /// present.
    pub fn from_env(model_id: impl Into<String>) -> Self {
        let region = std::env::var("AWS_REGION")
            .or_else(|_| std::env::var("AWS_DEFAULT_REGION"))
            .ok()
            .filter(|r| !r.is_empty())
            .unwrap_or_else(|| "us-east-1".to_string());
        Self {
            model_id: model_id.into(),
            region,
            endpoint: Self::endpoint_from_env(|k| std::env::var(k).ok()),
            max_tokens: default_max_tokens(),
            retry: RetryPolicy::default(),
            credentials: AwsCredentials::from_env().ok(),
        }
    }

    /// The endpoint the AWS SDKs would use, read through `var`: `AWS_ENDPOINT_URL_BEDROCK_RUNTIME`
    /// (the service-specific variable), else `AWS_ENDPOINT_URL`; neither when
    /// `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` is `true`. Lets a VPC endpoint, a proxy or a local
    /// stand-in take Bedrock's place without a config file.
    pub fn endpoint_from_env(var: impl Fn(&str) -> Option<String>) -> Option<String> {
        let get = |k: &str| {
            var(k)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        if get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
        {
            return None;
        }
        get("AWS_ENDPOINT_URL_BEDROCK_RUNTIME").or_else(|| get("AWS_ENDPOINT_URL"))
    }

    pub(crate) fn endpoint(&self) -> String {
        match &self.endpoint {
            Some(e) => e.trim_end_matches('/').to_string(),
            None => format!("https://bedrock-runtime.{}.amazonaws.com", self.region),
        }
    }
}

//! Bounded retries for model APIs: 429 (rate limited), 503 (unavailable) and 529 (Anthropic's
//! "overloaded") are retried, waiting what `retry-after` (or `retry-after-ms`) says, else an
//! exponential backoff; every other error status becomes [`ProviderError::Status`] at once.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{ProviderError, error_message};

/// How often and how long to retry an overloaded or rate-limited API.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 = no retry).
    pub max_attempts: u32,
    /// First backoff when the API gives no `retry-after`; doubles each attempt.
    #[serde(with = "millis")]
    pub base_delay: Duration,
    /// Longest wait between attempts, whatever `retry-after` says.
    #[serde(with = "millis")]
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(60),
        }
    }
}

mod millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_millis() as u64)
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_millis(u64::deserialize(d)?))
    }
}

fn retryable(status: u16) -> bool {
    matches!(status, 429 | 503 | 529)
}

/// The wait a response asks for: `retry-after-ms`, else `retry-after` in seconds or as an HTTP
/// date.
pub(crate) fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    if let Some(ms) = headers
        .get("retry-after-ms")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
    {
        return Some(Duration::from_secs_f64(ms.max(0.0) / 1000.0));
    }
    let raw = headers.get("retry-after")?.to_str().ok()?.trim();
    if let Ok(secs) = raw.parse::<f64>() {
        return Some(Duration::from_secs_f64(secs.max(0.0)));
    }
    let at = jiff::fmt::rfc2822::parse(raw).ok()?.timestamp();
    let wait = at.duration_since(jiff::Timestamp::now());
    Some(Duration::try_from(wait).unwrap_or(Duration::ZERO))
}

/// Sends the request `build` makes (built anew for each attempt, so signatures and dates are
/// fresh) and returns the first successful response.
pub(crate) async fn send_with_retry(
    provider: &'static str,
    policy: &RetryPolicy,
    url: &str,
    hint: impl Fn(u16) -> String,
    mut build: impl FnMut() -> Result<reqwest::RequestBuilder, ProviderError>,
) -> Result<reqwest::Response, ProviderError> {
    let attempts = policy.max_attempts.max(1);
    let mut backoff = policy.base_delay;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let response = build()?
            .send()
            .await
            .map_err(|source| ProviderError::Connect {
                provider,
                url: url.to_string(),
                source,
            })?;
        let status = response.status().as_u16();
        if response.status().is_success() {
            return Ok(response);
        }
        let wait = retry_after(response.headers());
        let body = response.text().await.unwrap_or_default();
        let message = error_message(&body);
        if !retryable(status) {
            return Err(ProviderError::Status {
                provider,
                url: url.to_string(),
                status,
                message,
                hint: hint(status),
            });
        }
        if attempt >= attempts {
            return Err(ProviderError::Exhausted {
                provider,
                url: url.to_string(),
                status,
                attempts,
                message,
            });
        }
        let delay = wait.unwrap_or(backoff).min(policy.max_delay);
        tracing::warn!(provider, status, attempt, ?delay, %message, "model API busy; retrying");
        tokio::time::sleep(delay).await;
        backoff = (backoff * 2).min(policy.max_delay);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderValue};

    #[test]
    fn retry_after_forms() {
        let mut h = HeaderMap::new();
        assert_eq!(retry_after(&h), None);
        h.insert("retry-after", HeaderValue::from_static("3"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(3)));
        h.insert("retry-after-ms", HeaderValue::from_static("250"));
        assert_eq!(retry_after(&h), Some(Duration::from_millis(250)));
        let mut h = HeaderMap::new();
        h.insert(
            "retry-after",
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&h), Some(Duration::ZERO), "a date in the past");
    }
}

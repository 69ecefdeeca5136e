//! What the HTTP channels (Slack, webhook) share: the client and how a response is judged.

use std::time::Duration;

use jiff::Timestamp;
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};

use crate::error::{DeliveryError, NotifyError};

/// A client for one channel: the channel's timeout, no redirects (a webhook that redirects is
/// misconfigured, and following it would re-send the body somewhere else).
pub(crate) fn client(channel: &str, timeout: Duration) -> Result<reqwest::Client, NotifyError> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("opsmcp-notify/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| NotifyError::Config {
            channel: channel.to_string(),
            message: format!("building the HTTP client: {e}"),
        })
}

/// Checks a configured URL is http(s) and returns it parsed.
pub(crate) fn parse_url(
    channel: &str,
    field: &str,
    url: &str,
) -> Result<reqwest::Url, NotifyError> {
    let parsed = reqwest::Url::parse(url).map_err(|e| NotifyError::Config {
        channel: channel.to_string(),
        message: format!("{field} is not a URL ({e}); write e.g. https://host/path"),
    })?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(NotifyError::Config {
            channel: channel.to_string(),
            message: format!("{field} must be an http:// or https:// URL with a host"),
        });
    }
    Ok(parsed)
}

/// Where a URL points, without path or query (which may carry tokens): for logs.
pub(crate) fn redacted(url: &reqwest::Url) -> String {
    let mut out = format!("{}://{}", url.scheme(), url.host_str().unwrap_or("?"));
    if let Some(port) = url.port() {
        out.push_str(&format!(":{port}"));
    }
    out
}

/// A transport error (no connection, timeout, reset) is worth retrying.
pub(crate) fn transport_error(target: &str, e: &reqwest::Error) -> DeliveryError {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    // reqwest's Display includes the URL, which may hold a token: leave it out.
    let cause = std::error::Error::source(e)
        .map(|s| format!(": {s}"))
        .unwrap_or_default();
    DeliveryError::retryable(format!("{target}: {what}{cause}"))
}

/// Judges a response: 2xx delivered; 408, 425, 429 and 5xx worth retrying (honouring
/// `Retry-After`); any other status a permanent refusal. `body` is the start of the answer,
/// kept in the error because receivers explain themselves there (Slack: `invalid_payload`).
pub(crate) fn judge(
    target: &str,
    status: StatusCode,
    headers: &HeaderMap,
    body: &str,
) -> Result<(), DeliveryError> {
    if status.is_success() {
        return Ok(());
    }
    let snippet: String = body.trim().chars().take(200).collect();
    let message = if snippet.is_empty() {
        format!("{target} answered {status}")
    } else {
        format!("{target} answered {status}: {snippet}")
    };
    let retryable = status.is_server_error() || matches!(status.as_u16(), 408 | 425 | 429);
    if retryable {
        Err(DeliveryError::retryable(message)
            .with_retry_after(retry_after(headers, Timestamp::now())))
    } else {
        Err(DeliveryError::permanent(message))
    }
}

/// `Retry-After` as delay-seconds or an HTTP date (RFC 9110 §10.2.3).
pub(crate) fn retry_after(headers: &HeaderMap, now: Timestamp) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = jiff::fmt::rfc2822::parse(value).ok()?.timestamp();
    let span = at.duration_since(now);
    Some(Duration::try_from(span).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn statuses_are_judged() {
        let h = HeaderMap::new();
        assert!(judge("t", StatusCode::NO_CONTENT, &h, "").is_ok());
        let e = judge("t", StatusCode::SERVICE_UNAVAILABLE, &h, "").expect_err("503");
        assert!(e.retryable);
        let e = judge("t", StatusCode::BAD_REQUEST, &h, "invalid_payload").expect_err("400");
        assert!(!e.retryable);
        assert!(e.message.contains("invalid_payload"), "{}", e.message);
        let e = judge("t", StatusCode::NOT_FOUND, &h, "").expect_err("404");
        assert!(!e.retryable);
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        let e = judge("t", StatusCode::TOO_MANY_REQUESTS, &h, "").expect_err("429");
        assert!(e.retryable);
        assert_eq!(e.retry_after, Some(Duration::from_secs(7)));
    }

    #[test]
    fn retry_after_takes_dates() {
        let now: Timestamp = "2026-11-26T10:00:00Z".parse().expect("time");
        let mut h = HeaderMap::new();
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Thu, 26 Nov 2026 10:00:30 GMT"),
        );
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(30)));
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Thu, 26 Nov 2026 09:00:00 GMT"),
        );
        assert_eq!(
            retry_after(&h, now),
            Some(Duration::ZERO),
            "a past date means now"
        );
        h.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h, now), None);
    }

    #[test]
    fn redaction_keeps_only_scheme_host_port() {
        let u = reqwest::Url::parse("https://hooks.slack.com/services/T/B/SECRET").expect("url");
        assert_eq!(redacted(&u), "https://hooks.slack.com");
        let u = reqwest::Url::parse("http://127.0.0.1:8080/x?token=1").expect("url");
        assert_eq!(redacted(&u), "http://127.0.0.1:8080");
    }
}

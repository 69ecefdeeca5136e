//! The `[notify]` section of the settings: named channels, the default one, and how the delivery
//! worker retries. Each channel kind's own fields live beside it (`channels/*/config.rs`).

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::channels::file::FileConfig;
use crate::channels::slack::SlackConfig;
use crate::channels::smtp::SmtpConfig;
use crate::channels::webhook::WebhookConfig;
use crate::error::NotifyError;
use crate::registry::Channels;

/// A string that must not show up in logs or `Debug` output: webhook URLs with tokens in them,
/// signing secrets, passwords.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl Secret {
    /// The secret itself, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Secret(s.to_string())
    }
}

/// One channel's settings, by kind (`type = "slack"` …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ChannelConfig {
    /// A Slack incoming webhook.
    Slack(SlackConfig),
    /// A generic HTTP endpoint, signed with HMAC-SHA256.
    Webhook(WebhookConfig),
    /// Email through an SMTP server.
    Smtp(SmtpConfig),
    /// One JSON line per notification in a local file.
    File(FileConfig),
}

/// The `[notify]` section: named channels, which one is the default, and the delivery settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelsConfig {
    /// The channel used when a caller names none. May be left out when there is exactly one
    /// channel (or none: then the built-in `file` channel is the default).
    #[serde(default)]
    pub default: Option<String>,
    /// The channels by name (`[notify.channels.NAME]`). Names are 1–64 characters of letters,
    /// digits, `-`, `_` and `.`.
    #[serde(default)]
    pub channels: BTreeMap<String, ChannelConfig>,
    /// How the delivery worker claims, retries and gives up (`[notify.delivery]`).
    #[serde(default)]
    pub delivery: DeliverySettings,
}

/// The name of the channel that exists when none is configured.
pub const FALLBACK_CHANNEL: &str = "file";

/// The file the fallback channel writes, inside the data directory.
pub const FALLBACK_FILE: &str = "notifications.jsonl";

impl ChannelsConfig {
    /// Builds every configured channel (HTTP clients, SMTP transports, the file's index) and
    /// checks the default. `data_dir` is where the fallback `file` channel writes when no channel
    /// is configured, and where relative file paths are resolved.
    pub fn build(&self, data_dir: &Path) -> Result<Channels, NotifyError> {
        self.delivery.validate()?;
        if self.channels.is_empty() {
            if let Some(d) = &self.default
                && d != FALLBACK_CHANNEL
            {
                return Err(NotifyError::UnknownChannel {
                    name: d.clone(),
                    configured: vec![FALLBACK_CHANNEL.to_string()],
                });
            }
            let file = FileConfig {
                path: Some(data_dir.join(FALLBACK_FILE)),
            };
            let channel =
                crate::channels::file::FileChannel::new(FALLBACK_CHANNEL, &file, data_dir)?;
            return Channels::new(
                FALLBACK_CHANNEL,
                vec![(FALLBACK_CHANNEL.to_string(), Box::new(channel))],
            );
        }
        let default = match (&self.default, self.channels.len()) {
            (Some(d), _) => d.clone(),
            (None, 1) => self.channels.keys().next().cloned().unwrap_or_default(),
            (None, _) => {
                return Err(NotifyError::Config {
                    channel: "default".into(),
                    message: format!(
                        "several channels are configured ({}); set notify.default to the one \
                         used when a caller names none",
                        self.channels.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                });
            }
        };
        let mut built: Vec<(String, Box<dyn crate::Channel>)> = Vec::new();
        for (name, config) in &self.channels {
            validate_name(name)?;
            let channel: Box<dyn crate::Channel> = match config {
                ChannelConfig::Slack(c) => {
                    Box::new(crate::channels::slack::SlackChannel::new(name, c)?)
                }
                ChannelConfig::Webhook(c) => {
                    Box::new(crate::channels::webhook::WebhookChannel::new(name, c)?)
                }
                ChannelConfig::Smtp(c) => {
                    Box::new(crate::channels::smtp::SmtpChannel::new(name, c)?)
                }
                ChannelConfig::File(c) => {
                    Box::new(crate::channels::file::FileChannel::new(name, c, data_dir)?)
                }
            };
            built.push((name.clone(), channel));
        }
        Channels::new(&default, built)
    }
}

pub(crate) fn validate_name(name: &str) -> Result<(), NotifyError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(NotifyError::Config {
            channel: name.to_string(),
            message: "a channel name is 1 to 64 letters, digits, '-', '_' or '.'".into(),
        })
    }
}

/// How the [`DeliveryWorker`](crate::DeliveryWorker) claims, retries and gives up.
///
/// A failed attempt `n` (1 for the first) is retried after `min(backoff_base · 2^(n-1),
/// backoff_max)`, of which the upper half is random (so replicas retrying a shared outage do not
/// hit the receiver in step), and never before the receiver's `Retry-After`. After
/// `max_attempts` attempts the notification is marked failed for good; a permanent error (a 4xx,
/// an unknown mailbox) marks it failed at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeliverySettings {
    /// Attempts before giving up, the first included. Default 12 (with the default backoff,
    /// about 40 minutes of trying).
    pub max_attempts: u32,
    /// The first retry's delay. Default 1000 ms.
    pub backoff_base_ms: u64,
    /// The longest delay between attempts. Default 300 000 ms (5 minutes).
    pub backoff_max_ms: u64,
    /// The longest `Retry-After` obeyed; longer requests are cut to this. Default 3 600 000 ms.
    pub retry_after_max_ms: u64,
    /// How often to look for notifications other processes queued. Default 1000 ms.
    pub poll_interval_ms: u64,
    /// Notifications claimed (and sent concurrently) at a time. Default 16.
    pub batch_size: u32,
    /// The longest one send may take before it counts as a retryable failure. Default 30 000 ms.
    pub send_timeout_ms: u64,
    /// How long a claim hides a notification from other workers. It must exceed the send
    /// timeout with room to record the result (at least twice it), so only a dead worker's
    /// notifications are ever claimed again. Default 120 000 ms.
    pub lease_ms: u64,
}

impl Default for DeliverySettings {
    fn default() -> Self {
        DeliverySettings {
            max_attempts: 12,
            backoff_base_ms: 1000,
            backoff_max_ms: 300_000,
            retry_after_max_ms: 3_600_000,
            poll_interval_ms: 1000,
            batch_size: 16,
            send_timeout_ms: 30_000,
            lease_ms: 120_000,
        }
    }
}

impl DeliverySettings {
    /// Checks the settings fit together.
    pub fn validate(&self) -> Result<(), NotifyError> {
        let bad = |message: String| NotifyError::Config {
            channel: "delivery".into(),
            message,
        };
        if self.max_attempts == 0 {
            return Err(bad("max_attempts must be at least 1".into()));
        }
        if self.backoff_base_ms == 0 || self.backoff_base_ms > self.backoff_max_ms {
            return Err(bad(format!(
                "backoff_base_ms ({}) must be at least 1 and at most backoff_max_ms ({})",
                self.backoff_base_ms, self.backoff_max_ms
            )));
        }
        if self.poll_interval_ms < 10 {
            return Err(bad("poll_interval_ms must be at least 10".into()));
        }
        if self.batch_size == 0 || self.batch_size > 1000 {
            return Err(bad(format!(
                "batch_size {} is out of range 1..=1000",
                self.batch_size
            )));
        }
        if self.send_timeout_ms == 0 {
            return Err(bad("send_timeout_ms must be at least 1".into()));
        }
        if self.lease_ms < self.send_timeout_ms.saturating_mul(2) {
            return Err(bad(format!(
                "lease_ms ({}) must be at least twice send_timeout_ms ({}), or a slow send could \
                 be claimed and sent again by another worker",
                self.lease_ms, self.send_timeout_ms
            )));
        }
        Ok(())
    }

    pub(crate) fn lease(&self) -> Duration {
        Duration::from_millis(self.lease_ms)
    }

    pub(crate) fn send_timeout(&self) -> Duration {
        Duration::from_millis(self.send_timeout_ms)
    }

    pub(crate) fn poll_interval(&self) -> Duration {
        Duration::from_millis(self.poll_interval_ms)
    }

    /// The delay before the attempt after failed attempt `attempt` (1-based): exponential,
    /// capped, its upper half random, and at least `retry_after` (itself capped).
    pub(crate) fn backoff(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let shift = attempt.saturating_sub(1).min(40);
        let exp = self
            .backoff_base_ms
            .saturating_mul(1u64 << shift)
            .min(self.backoff_max_ms);
        let half = exp / 2;
        let jittered = half + fastrand::u64(0..=exp - half);
        let floor = retry_after
            .map(|d| {
                u64::try_from(d.as_millis())
                    .unwrap_or(u64::MAX)
                    .min(self.retry_after_max_ms)
            })
            .unwrap_or(0);
        Duration::from_millis(jittered.max(floor))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_caps_and_honours_retry_after() {
        let s = DeliverySettings {
            backoff_base_ms: 100,
            backoff_max_ms: 1000,
            ..DeliverySettings::default()
        };
        for _ in 0..200 {
            let d1 = s.backoff(1, None).as_millis();
            assert!((50..=100).contains(&d1), "{d1}");
            let d3 = s.backoff(3, None).as_millis();
            assert!((200..=400).contains(&d3), "{d3}");
            let d30 = s.backoff(30, None).as_millis();
            assert!((500..=1000).contains(&d30), "{d30}");
            let ra = s.backoff(1, Some(Duration::from_secs(5))).as_millis();
            assert_eq!(ra, 5000);
        }
        let huge = s
            .backoff(1, Some(Duration::from_secs(86_400 * 30)))
            .as_millis();
        assert_eq!(huge, 3_600_000, "Retry-After is capped");
    }

    #[test]
    fn settings_must_fit_together() {
        assert!(DeliverySettings::default().validate().is_ok());
        let bad = DeliverySettings {
            lease_ms: 1000,
            send_timeout_ms: 1000,
            ..DeliverySettings::default()
        };
        let err = bad.validate().expect_err("lease too short");
        assert!(err.to_string().contains("twice"), "{err}");
    }

    #[test]
    fn toml_example_parses() {
        let text = r#"
            default = "ops"
            [delivery]
            max_attempts = 3
            [channels.ops]
            type = "slack"
            webhook_url = "https://hooks.slack.com/services/T/B/X"
            [channels.pager]
            type = "webhook"
            url = "https://pager.example.com/hook"
            secret = "s3cret"
            [channels.mail]
            type = "smtp"
            host = "smtp.example.com"
            from = "opsmcp@example.com"
            to = ["oncall@example.com"]
            [channels.log]
            type = "file"
            path = "notifications.jsonl"
        "#;
        let config: ChannelsConfig = toml::from_str(text).expect("parse");
        assert_eq!(config.delivery.max_attempts, 3);
        assert_eq!(config.channels.len(), 4);
        assert!(
            !format!("{config:?}").contains("s3cret"),
            "secrets stay out of Debug"
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let channels = config.build(dir.path()).expect("build");
        assert_eq!(channels.default_name(), "ops");
        assert_eq!(channels.names(), vec!["log", "mail", "ops", "pager"]);

        let unknown = r#"
            [channels.x]
            type = "slack"
            webhook_url = "https://hooks.slack.com/services/T/B/X"
            colour = "red"
        "#;
        let err = toml::from_str::<ChannelsConfig>(unknown).expect_err("unknown field");
        assert!(err.to_string().contains("colour"), "{err}");
    }

    #[test]
    fn no_channels_means_the_file_fallback() {
        let dir = tempfile::tempdir().expect("tempdir");
        let channels = ChannelsConfig::default().build(dir.path()).expect("build");
        assert_eq!(channels.default_name(), FALLBACK_CHANNEL);
        let file = channels.get(FALLBACK_CHANNEL).expect("file channel");
        assert_eq!(file.kind(), "file");
        assert!(file.target().ends_with(FALLBACK_FILE), "{}", file.target());
    }

    #[test]
    fn default_must_exist_and_be_named_when_ambiguous() {
        let dir = tempfile::tempdir().expect("tempdir");
        let two: ChannelsConfig = toml::from_str(
            r#"
            [channels.a]
            type = "file"
            [channels.b]
            type = "file"
            path = "b.jsonl"
        "#,
        )
        .expect("parse");
        let err = two.build(dir.path()).expect_err("ambiguous default");
        assert!(err.to_string().contains("notify.default"), "{err}");
        let wrong = ChannelsConfig {
            default: Some("c".into()),
            ..two
        };
        let err = wrong.build(dir.path()).expect_err("unknown default");
        assert!(err.to_string().contains("\"a\", \"b\""), "{err}");
    }
}

//! What a caller asks to send ([`NewNotification`]) and what a channel is handed
//! ([`Notification`]), and how the one becomes a row of the store's outbox and the row becomes
//! the other.

use jiff::Timestamp;
use opsmcp_store::Severity;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::NotifyError;

/// The longest message accepted, in characters: a page of text. Slack cuts `text` at 40 000 and
/// pagers much earlier; a notification points at the incident, it does not replace it.
pub const MAX_MESSAGE_CHARS: usize = 8000;

/// The longest idempotency key accepted, in bytes.
pub const MAX_KEY_LEN: usize = 200;

/// A notification a caller wants sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewNotification {
    /// The configured channel to send it through; `None` for the default channel.
    pub channel: Option<String>,
    /// What to say, plain text (Slack renders it as mrkdwn). 1 to 8000 characters.
    pub message: String,
    /// The incident it is about, so the incident lists its notifications.
    pub incident_id: Option<String>,
    /// How bad, shown by every channel.
    pub severity: Option<Severity>,
    /// Makes queuing idempotent: the same key again returns the first notification instead of
    /// sending another. `None` derives one from the channel, incident, severity and message, so
    /// a caller (or a model) repeating the very same call does not page anyone twice; give a
    /// key of your own (e.g. `INC-0042-resolved`) to decide what counts as the same.
    pub idempotency_key: Option<String>,
}

impl NewNotification {
    /// A message for the default channel, with nothing else set.
    pub fn message(message: impl Into<String>) -> Self {
        NewNotification {
            message: message.into(),
            ..NewNotification::default()
        }
    }

    /// Checks the bounds; returns the trimmed message.
    pub(crate) fn validate(&self) -> Result<(), NotifyError> {
        let chars = self.message.trim().chars().count();
        if chars == 0 {
            return Err(NotifyError::Invalid {
                field: "message",
                message: "must not be empty; say what happened and what is being done".into(),
            });
        }
        if chars > MAX_MESSAGE_CHARS {
            return Err(NotifyError::Invalid {
                field: "message",
                message: format!(
                    "{chars} characters is too long; keep it under {MAX_MESSAGE_CHARS} and link \
                     to the incident for details"
                ),
            });
        }
        if let Some(key) = &self.idempotency_key
            && (key.trim().is_empty()
                || key.len() > MAX_KEY_LEN
                || key.chars().any(char::is_control))
        {
            return Err(NotifyError::Invalid {
                field: "idempotency_key",
                message: format!(
                    "use 1 to {MAX_KEY_LEN} bytes without control characters, e.g. \
                     \"INC-0042-resolved\", or leave it out"
                ),
            });
        }
        Ok(())
    }

    /// The key this notification is queued under: the caller's, or one derived from what would
    /// be sent (`auto-` and 32 hex digits of a SHA-256), so the same call twice is one
    /// notification.
    pub(crate) fn key_for(&self, channel: &str) -> String {
        if let Some(key) = &self.idempotency_key {
            return key.trim().to_string();
        }
        let mut h = Sha256::new();
        for part in [
            channel,
            self.incident_id.as_deref().unwrap_or(""),
            self.severity.map(Severity::as_str).unwrap_or(""),
            self.message.trim(),
        ] {
            // Length-prefixed, so ("ab", "c") and ("a", "bc") differ.
            h.update((part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
        let digest = h.finalize();
        format!("auto-{}", hex::encode(&digest[..16]))
    }

    /// The outbox payload: what the store keeps besides key, channel and incident.
    pub(crate) fn payload(&self) -> serde_json::Value {
        serde_json::to_value(Payload {
            message: self.message.trim().to_string(),
            severity: self.severity,
        })
        .unwrap_or_default()
    }
}

/// The stored payload. Unknown fields are ignored so an older worker can deliver what a newer
/// server queued.
#[derive(Debug, Serialize, Deserialize)]
struct Payload {
    message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    severity: Option<Severity>,
}

/// A queued notification as a channel sends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    /// The store's id.
    pub id: i64,
    /// The key receivers dedupe by: the same for every attempt at this notification.
    pub idempotency_key: String,
    /// The configured channel it goes through.
    pub channel: String,
    /// What to say.
    pub message: String,
    /// How bad, if given.
    pub severity: Option<Severity>,
    /// The incident it is about, if any.
    pub incident_id: Option<String>,
    /// When it was queued; the same for every attempt.
    pub created_at: Timestamp,
    /// Which attempt this is, 1 for the first.
    pub attempt: u32,
}

impl Notification {
    /// Reads a claimed outbox row.
    pub fn from_stored(row: &opsmcp_store::Notification) -> Result<Self, NotifyError> {
        let payload: Payload =
            serde_json::from_value(row.payload.clone()).map_err(|e| NotifyError::Payload {
                id: row.id,
                message: format!("{e}; expected {{\"message\": \"…\", \"severity\": \"SEV2\"}}"),
            })?;
        Ok(Notification {
            id: row.id,
            idempotency_key: row.idempotency_key.clone(),
            channel: row.channel.clone(),
            message: payload.message,
            severity: payload.severity,
            incident_id: row.incident_id.clone(),
            created_at: row.created_at,
            attempt: row.attempts.max(1),
        })
    }

    /// One line saying what this is about, for subjects and headers: `[SEV2] INC-0042: first
    /// line of the message` (each part only when known).
    pub fn headline(&self) -> String {
        let mut out = String::new();
        if let Some(sev) = self.severity {
            out.push_str(&format!("[{sev}] "));
        }
        if let Some(inc) = &self.incident_id {
            out.push_str(inc);
            out.push_str(": ");
        }
        let first = self.message.lines().next().unwrap_or("").trim();
        let short: String = first.chars().take(120).collect();
        out.push_str(&short);
        if first.chars().count() > 120 {
            out.push('…');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_keys_follow_content() {
        let a = NewNotification {
            incident_id: Some("INC-0001".into()),
            ..NewNotification::message("db down")
        };
        let b = NewNotification {
            message: "  db down ".into(),
            ..a.clone()
        };
        assert_eq!(
            a.key_for("ops"),
            b.key_for("ops"),
            "whitespace does not matter"
        );
        assert_ne!(a.key_for("ops"), a.key_for("mail"), "channel matters");
        let c = NewNotification {
            severity: Some(Severity::Sev1),
            ..a.clone()
        };
        assert_ne!(a.key_for("ops"), c.key_for("ops"), "severity matters");
        assert!(a.key_for("ops").starts_with("auto-"));
        assert_eq!(a.key_for("ops").len(), 5 + 32);
        let own = NewNotification {
            idempotency_key: Some(" k1 ".into()),
            ..a
        };
        assert_eq!(own.key_for("ops"), "k1");
    }

    #[test]
    fn bounds_are_checked() {
        assert!(NewNotification::message("  ").validate().is_err());
        assert!(
            NewNotification::message("x".repeat(MAX_MESSAGE_CHARS + 1))
                .validate()
                .is_err()
        );
        let bad_key = NewNotification {
            idempotency_key: Some("a\nb".into()),
            ..NewNotification::message("hi")
        };
        let err = bad_key.validate().expect_err("control character");
        assert!(err.to_string().contains("idempotency_key"), "{err}");
        assert!(NewNotification::message("hi").validate().is_ok());
    }

    #[test]
    fn headline_shows_what_is_known() {
        let n = Notification {
            id: 1,
            idempotency_key: "k".into(),
            channel: "c".into(),
            message: "checkout errors at 12%\nmore detail".into(),
            severity: Some(Severity::Sev2),
            incident_id: Some("INC-0042".into()),
            created_at: Timestamp::UNIX_EPOCH,
            attempt: 1,
        };
        assert_eq!(n.headline(), "[SEV2] INC-0042: checkout errors at 12%");
    }
}

//! The crate's errors. [`NotifyError`] is what callers of the public API see; its messages say
//! what to change, because the workflow server hands them to a model or a person. A
//! [`DeliveryError`] is one failed send, and says whether trying again can help.

use std::time::Duration;

use opsmcp_store::StoreError;

/// What can go wrong configuring channels or queuing a notification.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// The channel asked for is not configured.
    #[error("unknown notification channel {name:?}: the configured channels are {}", list(.configured))]
    UnknownChannel {
        /// The name asked for.
        name: String,
        /// The names that exist.
        configured: Vec<String>,
    },
    /// A channel's configuration cannot work.
    #[error("notification channel {channel:?}: {message}")]
    Config {
        /// The channel's name.
        channel: String,
        /// What is wrong and what to write instead.
        message: String,
    },
    /// An argument is out of bounds or malformed.
    #[error("invalid {field}: {message}")]
    Invalid {
        /// Which argument.
        field: &'static str,
        /// What is wrong and what is allowed.
        message: String,
    },
    /// A stored notification could not be understood (written by hand or by a newer version).
    #[error("notification {id} has an unreadable payload: {message}")]
    Payload {
        /// The store's id.
        id: i64,
        /// What is wrong.
        message: String,
    },
    /// The store refused or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn list(names: &[String]) -> String {
    if names.is_empty() {
        return "none".into();
    }
    names
        .iter()
        .map(|n| format!("{n:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One send that did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct DeliveryError {
    /// Whether another attempt may succeed (a timeout, a 5xx, a 429), as opposed to a
    /// permanent refusal (a 4xx, an unknown mailbox) that will fail the same way every time.
    pub retryable: bool,
    /// What happened, for `last_error` in the store and the logs. Never holds a secret.
    pub message: String,
    /// How long the receiver asked us to wait (`Retry-After`); the next attempt is not earlier.
    pub retry_after: Option<Duration>,
}

impl DeliveryError {
    /// A failure worth retrying.
    pub fn retryable(message: impl Into<String>) -> Self {
        DeliveryError {
            retryable: true,
            message: message.into(),
            retry_after: None,
        }
    }

    /// A failure that retrying will not fix.
    pub fn permanent(message: impl Into<String>) -> Self {
        DeliveryError {
            retryable: false,
            message: message.into(),
            retry_after: None,
        }
    }

    /// The same error, asking to wait at least `after` before the next attempt.
    pub fn with_retry_after(mut self, after: Option<Duration>) -> Self {
        self.retry_after = after;
        self
    }
}

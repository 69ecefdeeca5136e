//! `opsmcp-notify`: telling people about incidents, reliably. It holds the notification
//! channels — Slack incoming webhooks, signed generic webhooks, email over SMTP, and a JSON-lines
//! file (the default when nothing is configured) — and the [`DeliveryWorker`] that drains the
//! store's durable outbox through them.
//!
//! # How a notification travels
//!
//! 1. [`Notifier::notify`] checks the channel exists and queues the notification in the store's
//!    outbox (`opsmcp_store::Store::enqueue_notification`). It returns once the row is committed,
//!    so "queued" survives a crash; nothing is sent on the caller's path.
//! 2. A [`DeliveryWorker`] (one or more per process, any number of processes on one store) claims
//!    due rows with a lease, sends each through its [`Channel`], and marks it delivered, or
//!    failed with the next attempt's time (exponential backoff with jitter, at least the
//!    receiver's `Retry-After`), or failed for good (a permanent error, or too many attempts).
//!    It wakes at once when this process queues something and polls for what other replicas
//!    queue.
//! 3. All state is in the store, so a restarted worker carries on where the last one stopped.
//!
//! Delivery is **at least once**: a worker that dies after the receiver accepted a notification
//! but before the store recorded it will send it again once the lease runs out. Every channel
//! therefore carries the notification's idempotency key where a receiver can see it (a header
//! and the body for webhooks, the `Message-ID` for mail, a context line in Slack), and the file
//! channel drops repeats itself. A send is bounded by a timeout well inside the lease, so a live
//! worker's notification is never claimed by a second worker while it is being sent.
//!
//! # Configuration
//!
//! ```toml
//! [notify]
//! default = "ops-slack"          # used when a caller names no channel
//!
//! [notify.channels.ops-slack]
//! type = "slack"
//! webhook_url = "https://hooks.slack.com/services/T000/B000/XXXX"
//!
//! [notify.channels.pager]
//! type = "webhook"
//! url = "https://pager.example.com/hooks/opsmcp"
//! secret = "a long random string"  # signs every request, see channels::webhook
//!
//! [notify.channels.oncall-mail]
//! type = "smtp"
//! host = "smtp.example.com"
//! port = 587
//! tls = "starttls"               # "none" | "starttls" | "tls"
//! from = "opsmcp <opsmcp@example.com>"
//! to = ["oncall@example.com"]
//! username = "opsmcp"
//! password = "…"
//!
//! [notify.channels.audit-file]
//! type = "file"
//! path = "/var/lib/opsmcp/notifications.jsonl"
//!
//! [notify.delivery]
//! max_attempts = 12
//! backoff_base_ms = 1000
//! backoff_max_ms = 300000
//! ```
//!
//! With no channels at all, one `file` channel named `file` writes to
//! `<data_dir>/notifications.jsonl` and is the default, so notifications are never lost for lack
//! of configuration.
//!
//! # What it must not know
//!
//! Nothing of MCP, tools or HTTP serving, nothing of the world's logic, nothing of how the store
//! keeps rows (it only calls the store's outbox operations). Message wording is the caller's: a
//! channel formats what it is given and adds only the severity, incident and key.

#![warn(missing_docs)]

mod channel;
pub mod channels;
mod config;
mod error;
mod notification;
mod notifier;
mod registry;
mod worker;

pub use channel::Channel;
pub use config::{ChannelConfig, ChannelsConfig, DeliverySettings, Secret};
pub use error::{DeliveryError, NotifyError};
pub use notification::{NewNotification, Notification};
pub use notifier::{Notifier, Queued};
pub use registry::Channels;
pub use worker::{DeliveryRound, DeliveryStats, DeliveryWorker};

pub use opsmcp_store::{NotificationStatus, Severity, Store};

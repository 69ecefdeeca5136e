//! The one trait every channel implements.

use futures::future::BoxFuture;

use crate::error::DeliveryError;
use crate::notification::Notification;

/// Somewhere a notification can be sent: a Slack webhook, an HTTP endpoint, a mailbox, a file.
///
/// A channel sends one notification per call and reports whether it was accepted. It does not
/// retry, sleep or touch the store — the [`DeliveryWorker`](crate::DeliveryWorker) does that —
/// so a send is one attempt, bounded in time by the channel's own timeout. It should put the
/// notification's idempotency key where the receiver can see it, because delivery is at least
/// once.
///
/// The future is boxed so channels can sit behind `&dyn Channel` in one registry.
pub trait Channel: Send + Sync {
    /// The kind of channel (`slack`, `webhook`, `smtp`, `file`), for logs and errors.
    fn kind(&self) -> &'static str;

    /// Where it delivers, for logs: a host, a path, addresses — never a secret.
    fn target(&self) -> String;

    /// Makes one attempt at delivering `notification`. `Ok` means the receiver accepted it.
    fn send<'a>(
        &'a self,
        notification: &'a Notification,
    ) -> BoxFuture<'a, Result<(), DeliveryError>>;
}

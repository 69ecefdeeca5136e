//! The facade the workflow server calls: validate, queue durably, wake the worker.

use std::sync::Arc;

use opsmcp_store::Store;
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use crate::config::DeliverySettings;
use crate::error::NotifyError;
use crate::notification::NewNotification;
use crate::registry::Channels;
use crate::worker::DeliveryWorker;

/// Queues notifications and hands out delivery workers that share its channels. Cheap to clone.
///
/// ```no_run
/// # async fn demo(store: opsmcp_store::Store, config: opsmcp_notify::ChannelsConfig)
/// # -> Result<(), opsmcp_notify::NotifyError> {
/// use opsmcp_notify::{NewNotification, Notifier};
/// let notifier = Notifier::new(config.build(std::path::Path::new("/var/lib/opsmcp"))?);
/// let stop = tokio_util::sync::CancellationToken::new();
/// let worker = notifier.worker(store.clone(), config.delivery.clone())?;
/// let worker = tokio::spawn(worker.run(stop.clone()));
/// let queued = notifier
///     .notify(&store, NewNotification::message("checkout is failing, rolling back"))
///     .await?;
/// println!("queued {} on {}", queued.notification.idempotency_key, queued.notification.channel);
/// stop.cancel();
/// let _ = worker.await;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Notifier {
    channels: Arc<Channels>,
    wake: Arc<Notify>,
}

/// What [`Notifier::notify`] queued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Queued {
    /// The outbox row: id, key, channel, status (pending, or further along when it was queued
    /// before), attempts.
    pub notification: opsmcp_store::Notification,
    /// `false` when the idempotency key was already queued: nothing new will be sent, and
    /// `notification` is the earlier one.
    pub newly_queued: bool,
}

impl Notifier {
    /// A notifier over `channels`.
    pub fn new(channels: Channels) -> Notifier {
        Notifier {
            channels: Arc::new(channels),
            wake: Arc::new(Notify::new()),
        }
    }

    /// The channels, e.g. to list them in a tool's description.
    pub fn channels(&self) -> &Channels {
        &self.channels
    }

    /// Checks the channel exists and the notification is well formed, queues it in the store's
    /// outbox and returns once that is committed. Delivery happens in a [`DeliveryWorker`];
    /// workers of this notifier are woken at once.
    pub async fn notify(&self, store: &Store, new: NewNotification) -> Result<Queued, NotifyError> {
        new.validate()?;
        let channel = self.channels.resolve(new.channel.as_deref())?;
        let key = new.key_for(channel);
        let (notification, newly_queued) = store
            .enqueue_notification(&key, channel, &new.payload(), new.incident_id.as_deref())
            .await?;
        if newly_queued {
            tracing::info!(
                id = notification.id,
                key = %notification.idempotency_key,
                channel,
                incident = notification.incident_id.as_deref().unwrap_or("-"),
                "notification queued"
            );
            self.wake.notify_waiters();
        } else {
            tracing::debug!(
                id = notification.id,
                key = %notification.idempotency_key,
                status = ?notification.status,
                "notification already queued under this key"
            );
        }
        Ok(Queued {
            notification,
            newly_queued,
        })
    }

    /// A delivery worker on `store` sending through these channels, woken whenever this
    /// notifier queues something. Run it with [`DeliveryWorker::run`]. Fails only when
    /// `settings` do not fit together ([`DeliverySettings::validate`]).
    pub fn worker(
        &self,
        store: Store,
        settings: DeliverySettings,
    ) -> Result<DeliveryWorker, NotifyError> {
        Ok(DeliveryWorker::new(store, self.channels.clone(), settings)?
            .with_wakeup(self.wake.clone()))
    }
}

//! The delivery worker: drains the store's outbox through the channels, retrying with backoff.
//!
//! Each round claims up to `batch_size` due notifications with a lease, sends them concurrently
//! (each bounded by `send_timeout`, which the settings keep well inside the lease), and records
//! each outcome in the store. Between rounds it waits for whichever comes first: a wake-up from
//! this process's [`Notifier`](crate::Notifier), the earliest retry it scheduled itself, the poll
//! interval (for what other processes queue or left behind), or the stop token. Stopping never
//! interrupts a round: sends in flight finish and are recorded, so a graceful restart sends
//! nothing twice.

use std::sync::Arc;
use std::time::Duration;

use futures::future::join_all;
use jiff::{SignedDuration, Timestamp};
use opsmcp_store::Store;
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::config::DeliverySettings;
use crate::error::{DeliveryError, NotifyError};
use crate::notification::Notification;
use crate::registry::Channels;

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryRound {
    /// Notifications claimed.
    pub claimed: usize,
    /// Accepted by their channel and recorded as delivered.
    pub delivered: usize,
    /// Failed and scheduled for another attempt.
    pub retried: usize,
    /// Failed for good (permanent error or out of attempts).
    pub failed: usize,
    /// The earliest retry this round scheduled, if any.
    #[serde(skip)]
    pub next_retry_in: Option<Duration>,
}

/// Totals over a worker's life, returned by [`DeliveryWorker::run`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryStats {
    /// Rounds that claimed something.
    pub rounds: u64,
    /// Notifications delivered.
    pub delivered: u64,
    /// Attempts that failed and were rescheduled.
    pub retried: u64,
    /// Notifications given up on.
    pub failed: u64,
    /// Store errors met (each followed by a pause of one poll interval).
    pub store_errors: u64,
}

/// Drains the outbox. Make one with [`Notifier::worker`](crate::Notifier::worker) (which also
/// wakes it on every notification queued in this process) or [`DeliveryWorker::new`]; run it with
/// [`DeliveryWorker::run`]. Any number may run against one store, in one process or many.
pub struct DeliveryWorker {
    store: Store,
    channels: Arc<Channels>,
    settings: DeliverySettings,
    wake: Arc<Notify>,
}

impl std::fmt::Debug for DeliveryWorker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeliveryWorker")
            .field("store", &self.store)
            .field("channels", &self.channels)
            .field("settings", &self.settings)
            .finish()
    }
}

enum Outcome {
    Delivered,
    Retry(Duration),
    Failed,
}

impl DeliveryWorker {
    /// A worker on `store` over `channels`, once `settings` are checked to fit together. It
    /// polls only; use [`Notifier::worker`](crate::Notifier::worker) to also be woken when this
    /// process queues.
    pub fn new(
        store: Store,
        channels: Arc<Channels>,
        settings: DeliverySettings,
    ) -> Result<DeliveryWorker, NotifyError> {
        settings.validate()?;
        Ok(DeliveryWorker {
            store,
            channels,
            settings,
            wake: Arc::new(Notify::new()),
        })
    }

    /// Wakes the worker whenever `wake` is notified (with `notify_waiters`).
    pub fn with_wakeup(mut self, wake: Arc<Notify>) -> DeliveryWorker {
        self.wake = wake;
        self
    }

    /// Delivers until `stop` is cancelled, then finishes the round in flight and returns what it
    /// did. Store errors are logged and retried after a poll interval, never fatal: the outbox
    /// is still there when the database comes back.
    pub async fn run(self, stop: CancellationToken) -> DeliveryStats {
        let mut stats = DeliveryStats::default();
        tracing::info!(channels = ?self.channels.names(), "delivery worker started");
        // The earliest retry this worker scheduled: waking then beats waiting for the next poll.
        let mut next_retry: Option<Instant> = None;
        loop {
            if stop.is_cancelled() {
                break;
            }
            // Registered before claiming, so a notification queued while we claim still wakes us.
            let notified = self.wake.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();

            let mut wait = self.settings.poll_interval();
            if let Ok(depth) = self.store.outbox_depth().await {
                metrics::gauge!("opsmcp_outbox_depth").set(depth as f64);
            }
            match self.deliver_due().await {
                Ok(round) => {
                    if let Some(d) = round.next_retry_in {
                        let at = Instant::now() + d;
                        next_retry = Some(next_retry.map_or(at, |t| t.min(at)));
                    }
                    if round.claimed > 0 {
                        stats.rounds += 1;
                        stats.delivered += round.delivered as u64;
                        stats.retried += round.retried as u64;
                        stats.failed += round.failed as u64;
                        // More may be due right away.
                        continue;
                    }
                }
                Err(e) => {
                    stats.store_errors += 1;
                    tracing::warn!(
                        error = %e,
                        "delivery round failed; trying again after the poll interval"
                    );
                }
            }
            if let Some(at) = next_retry {
                let now = Instant::now();
                if at <= now {
                    next_retry = None;
                } else {
                    wait = wait.min(at - now);
                }
            }
            tokio::select! {
                _ = stop.cancelled() => break,
                _ = &mut notified => {}
                _ = tokio::time::sleep(wait) => {}
            }
        }
        tracing::info!(?stats, "delivery worker stopped");
        stats
    }

    /// One round: claims what is due (up to `batch_size`), sends it concurrently and records
    /// each outcome. Useful on its own in tests and one-shot commands.
    pub async fn deliver_due(&self) -> Result<DeliveryRound, NotifyError> {
        let claimed = self
            .store
            .claim_due(self.settings.batch_size, self.settings.lease())
            .await?;
        let mut round = DeliveryRound {
            claimed: claimed.len(),
            ..DeliveryRound::default()
        };
        if claimed.is_empty() {
            return Ok(round);
        }
        tracing::debug!(count = claimed.len(), "claimed notifications");
        let outcomes = join_all(claimed.iter().map(|row| self.deliver_one(row))).await;
        for outcome in outcomes {
            match outcome? {
                Outcome::Delivered => round.delivered += 1,
                Outcome::Retry(d) => {
                    round.retried += 1;
                    round.next_retry_in = Some(round.next_retry_in.map_or(d, |e| e.min(d)));
                }
                Outcome::Failed => round.failed += 1,
            }
        }
        Ok(round)
    }

    async fn deliver_one(&self, row: &opsmcp_store::Notification) -> Result<Outcome, NotifyError> {
        let result = match Notification::from_stored(row) {
            Ok(n) => self.send(&n).await,
            Err(e) => Err(DeliveryError::permanent(e.to_string())),
        };
        let span_key = row.idempotency_key.as_str();
        let outcome = match &result {
            Ok(()) => "delivered",
            Err(e) if e.retryable && row.attempts < self.settings.max_attempts => "retry",
            Err(_) => "failed",
        };
        metrics::counter!("opsmcp_notification_deliveries_total",
            "channel" => row.channel.clone(), "outcome" => outcome)
        .increment(1);
        match result {
            Ok(()) => {
                self.record(|| self.store.mark_delivered(row.id)).await?;
                tracing::info!(
                    id = row.id, key = span_key, channel = %row.channel, attempt = row.attempts,
                    "notification delivered"
                );
                Ok(Outcome::Delivered)
            }
            Err(e) if e.retryable && row.attempts < self.settings.max_attempts => {
                let delay = self.settings.backoff(row.attempts, e.retry_after);
                let at = Timestamp::now()
                    .checked_add(SignedDuration::try_from(delay).unwrap_or(SignedDuration::MAX))
                    .unwrap_or(Timestamp::MAX);
                let message = format!("attempt {}: {}", row.attempts, e.message);
                self.record(|| self.store.mark_failed(row.id, &message, Some(at)))
                    .await?;
                tracing::warn!(
                    id = row.id, key = span_key, channel = %row.channel, attempt = row.attempts,
                    retry_in_ms = delay.as_millis() as u64, error = %e.message,
                    "notification not delivered; will retry"
                );
                Ok(Outcome::Retry(delay))
            }
            Err(e) => {
                let message = if e.retryable {
                    format!("gave up after {} attempts: {}", row.attempts, e.message)
                } else {
                    format!("attempt {}: permanent failure: {}", row.attempts, e.message)
                };
                self.record(|| self.store.mark_failed(row.id, &message, None))
                    .await?;
                tracing::error!(
                    id = row.id, key = span_key, channel = %row.channel, error = %message,
                    "notification failed for good"
                );
                Ok(Outcome::Failed)
            }
        }
    }

    async fn send(&self, n: &Notification) -> Result<(), DeliveryError> {
        let channel = match self.channels.get(&n.channel) {
            Ok(c) => c,
            // Another replica may know the channel (a rolling config change): retry, and let
            // max_attempts end it if it never appears.
            Err(e) => return Err(DeliveryError::retryable(e.to_string())),
        };
        match tokio::time::timeout(self.settings.send_timeout(), channel.send(n)).await {
            Ok(result) => result,
            Err(_) => Err(DeliveryError::retryable(format!(
                "{} {} did not answer within {} ms",
                channel.kind(),
                channel.target(),
                self.settings.send_timeout_ms
            ))),
        }
    }

    /// Records an outcome, trying a few times: a lost record means a resend after the lease.
    async fn record<F, Fut>(&self, op: F) -> Result<(), NotifyError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<opsmcp_store::Notification, opsmcp_store::StoreError>>,
    {
        let mut pause = Duration::from_millis(50);
        let mut tries = 0;
        loop {
            match op().await {
                Ok(_) => return Ok(()),
                Err(e) if tries < 3 => {
                    tries += 1;
                    tracing::warn!(error = %e, "recording a delivery outcome failed; trying again");
                    tokio::time::sleep(pause).await;
                    pause *= 4;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
}

//! The notification outbox. A notification is queued in the same durable store as the incident
//! it is about, so "queued" survives crashes; a delivery worker then claims due rows, sends them
//! and marks them delivered or failed (with the next attempt's time). Delivery is at least once:
//! a claim is a lease, and a worker that dies mid-send leaves the row to be claimed again when
//! the lease runs out — receivers dedupe by the idempotency key. How a channel delivers is not
//! the store's business.

use std::time::Duration;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::error::StoreError;
use crate::row::{RowExt, micros};
use crate::store::Store;

const NOTIFICATION_COLS: &str = "id, idempotency_key, channel, payload, incident_id, status, \
     attempts, next_attempt_at, last_error, delivered_at, created_at";

/// Where a notification is in its delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NotificationStatus {
    /// Waiting for (another) attempt, or claimed by a worker whose lease has not run out.
    Pending,
    /// Sent and acknowledged by the channel.
    Delivered,
    /// Given up on; `last_error` says why.
    Failed,
}

impl NotificationStatus {
    fn as_str(self) -> &'static str {
        match self {
            NotificationStatus::Pending => "pending",
            NotificationStatus::Delivered => "delivered",
            NotificationStatus::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Result<Self, StoreError> {
        match s {
            "pending" => Ok(NotificationStatus::Pending),
            "delivered" => Ok(NotificationStatus::Delivered),
            "failed" => Ok(NotificationStatus::Failed),
            other => Err(StoreError::Corrupt {
                what: "notification status",
                detail: format!("{other:?}"),
            }),
        }
    }
}

/// A queued notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    /// The store's id, for `mark_delivered` / `mark_failed`.
    pub id: i64,
    /// The caller's key: queuing the same key twice gives the first row back, and receivers
    /// use it to drop repeats of an at-least-once delivery.
    pub idempotency_key: String,
    /// Which configured channel delivers it.
    pub channel: String,
    /// What to send; the channel decides how.
    pub payload: serde_json::Value,
    /// The incident it is about, if any, so the incident can show its notifications.
    pub incident_id: Option<String>,
    /// Where it is in its delivery.
    pub status: NotificationStatus,
    /// Attempts started so far (claims).
    pub attempts: u32,
    /// When it may next be claimed; `None` once delivered or given up.
    pub next_attempt_at: Option<Timestamp>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When it was delivered.
    pub delivered_at: Option<Timestamp>,
    /// When it was queued.
    pub created_at: Timestamp,
}

fn notification_from_row(row: &impl RowExt) -> Result<Notification, StoreError> {
    Ok(Notification {
        id: row.int("id")?,
        idempotency_key: row.text("idempotency_key")?,
        channel: row.text("channel")?,
        payload: row.json("payload")?,
        incident_id: row.opt_text("incident_id")?,
        status: NotificationStatus::parse(&row.text("status")?)?,
        attempts: u32::try_from(row.int("attempts")?).unwrap_or(u32::MAX),
        next_attempt_at: row.opt_ts("next_attempt_at")?,
        last_error: row.opt_text("last_error")?,
        delivered_at: row.opt_ts("delivered_at")?,
        created_at: row.ts("created_at")?,
    })
}

fn add(t: Timestamp, d: Duration) -> Result<Timestamp, StoreError> {
    let span = jiff::SignedDuration::try_from(d).map_err(|e| StoreError::Invalid {
        field: "lease",
        message: e.to_string(),
    })?;
    t.checked_add(span).map_err(|e| StoreError::Invalid {
        field: "lease",
        message: format!("{e}; use a lease of minutes, not centuries"),
    })
}

impl Store {
    /// Queues a notification, due now. Returns it and whether it was newly queued: the same
    /// `idempotency_key` again gives back the existing row, unchanged, whatever the new payload.
    pub async fn enqueue_notification(
        &self,
        idempotency_key: &str,
        channel: &str,
        payload: &serde_json::Value,
        incident_id: Option<&str>,
    ) -> Result<(Notification, bool), StoreError> {
        for (field, value) in [("idempotency_key", idempotency_key), ("channel", channel)] {
            if value.trim().is_empty() {
                return Err(StoreError::Invalid {
                    field,
                    message: "must not be empty".into(),
                });
            }
        }
        let now = self.now();
        let out = write_tx!(self, |tx, pg| {
            let sql = format!(
                "INSERT INTO notifications (idempotency_key, channel, payload, incident_id, \
                 status, attempts, next_attempt_at, created_at) \
                 VALUES ($1, $2, $3, $4, 'pending', 0, $5, $5) \
                 ON CONFLICT (idempotency_key) DO NOTHING RETURNING {NOTIFICATION_COLS}"
            );
            let inserted = sqlx::query(&sql)
                .bind(idempotency_key)
                .bind(channel)
                .bind(payload.to_string())
                .bind(incident_id)
                .bind(micros(now))
                .fetch_optional(&mut *tx)
                .await?;
            match inserted {
                Some(row) => (notification_from_row(&row)?, true),
                None => {
                    let sql = format!(
                        "SELECT {NOTIFICATION_COLS} FROM notifications WHERE idempotency_key = $1"
                    );
                    let row = sqlx::query(&sql)
                        .bind(idempotency_key)
                        .fetch_one(&mut *tx)
                        .await?;
                    (notification_from_row(&row)?, false)
                }
            }
        });
        Ok(out)
    }

    /// Notifications waiting to be delivered (due now or retrying later): the outbox depth.
    pub async fn outbox_depth(&self) -> Result<i64, StoreError> {
        let depth = read_tx!(self, |tx| {
            sqlx::query("SELECT COUNT(*) AS n FROM notifications WHERE status = 'pending'")
                .fetch_one(&mut *tx)
                .await?
                .int("n")?
        });
        Ok(depth)
    }

    /// Claims up to `limit` due notifications for one worker, oldest due first, for `lease`:
    /// each claimed row's attempt count goes up and it is hidden from other claims until the
    /// lease runs out (then it is due again, so a crashed worker's rows are retried). Two
    /// workers on one PostgreSQL never claim the same row (`FOR UPDATE SKIP LOCKED`: each skips
    /// what the other is claiming); on SQLite claims are serialized by the single writer.
    pub async fn claim_due(
        &self,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<Notification>, StoreError> {
        if limit == 0 || limit > 1000 {
            return Err(StoreError::Invalid {
                field: "limit",
                message: format!("{limit} is out of range; claim 1 to 1000 at a time"),
            });
        }
        let now = self.now();
        let until = add(now, lease)?;
        let mut claimed = write_tx!(self, |tx, pg| {
            let sql = format!(
                "UPDATE notifications SET attempts = attempts + 1, next_attempt_at = $2 \
                 WHERE id IN (SELECT id FROM notifications \
                     WHERE status = 'pending' AND next_attempt_at <= $1 \
                     ORDER BY next_attempt_at, id LIMIT $3{}) \
                 RETURNING {NOTIFICATION_COLS}",
                if pg { " FOR UPDATE SKIP LOCKED" } else { "" }
            );
            let rows = sqlx::query(&sql)
                .bind(micros(now))
                .bind(micros(until))
                .bind(i64::from(limit))
                .fetch_all(&mut *tx)
                .await?;
            rows.iter()
                .map(notification_from_row)
                .collect::<Result<Vec<_>, _>>()?
        });
        claimed.sort_by_key(|n| n.id);
        Ok(claimed)
    }

    /// Records that notification `id` was delivered. Delivering twice is harmless (the first
    /// time stands).
    pub async fn mark_delivered(&self, id: i64) -> Result<Notification, StoreError> {
        let now = self.now();
        let row = write_tx!(self, |tx, pg| {
            let sql = format!(
                "UPDATE notifications SET status = 'delivered', next_attempt_at = NULL, \
                 delivered_at = COALESCE(delivered_at, $2), last_error = NULL \
                 WHERE id = $1 RETURNING {NOTIFICATION_COLS}"
            );
            sqlx::query(&sql)
                .bind(id)
                .bind(micros(now))
                .fetch_optional(&mut *tx)
                .await?
                .map(|r| notification_from_row(&r))
                .transpose()?
        });
        row.ok_or(StoreError::UnknownNotification { id })
    }

    /// Records that an attempt failed with `error`. With `next_attempt_at` the notification is
    /// retried then (the worker chooses the backoff); with `None` it is given up on and marked
    /// failed. A notification already delivered stays delivered.
    pub async fn mark_failed(
        &self,
        id: i64,
        error: &str,
        next_attempt_at: Option<Timestamp>,
    ) -> Result<Notification, StoreError> {
        let status = if next_attempt_at.is_some() {
            NotificationStatus::Pending
        } else {
            NotificationStatus::Failed
        };
        let row = write_tx!(self, |tx, pg| {
            let sql = format!(
                "UPDATE notifications SET status = $2, next_attempt_at = $3, last_error = $4 \
                 WHERE id = $1 AND status <> 'delivered' RETURNING {NOTIFICATION_COLS}"
            );
            let updated = sqlx::query(&sql)
                .bind(id)
                .bind(status.as_str())
                .bind(next_attempt_at.map(micros))
                .bind(error)
                .fetch_optional(&mut *tx)
                .await?;
            match updated {
                Some(r) => Some(notification_from_row(&r)?),
                None => {
                    let sql =
                        format!("SELECT {NOTIFICATION_COLS} FROM notifications WHERE id = $1");
                    sqlx::query(&sql)
                        .bind(id)
                        .fetch_optional(&mut *tx)
                        .await?
                        .map(|r| notification_from_row(&r))
                        .transpose()?
                }
            }
        });
        row.ok_or(StoreError::UnknownNotification { id })
    }

    /// The notifications queued about an incident, oldest first, with their delivery status.
    pub async fn notifications_for_incident(
        &self,
        incident_id: &str,
    ) -> Result<Vec<Notification>, StoreError> {
        let rows = read_tx!(self, |tx| {
            let sql = format!(
                "SELECT {NOTIFICATION_COLS} FROM notifications WHERE incident_id = $1 ORDER BY id"
            );
            let rows = sqlx::query(&sql)
                .bind(incident_id)
                .fetch_all(&mut *tx)
                .await?;
            rows.iter()
                .map(notification_from_row)
                .collect::<Result<Vec<_>, _>>()?
        });
        Ok(rows)
    }
}

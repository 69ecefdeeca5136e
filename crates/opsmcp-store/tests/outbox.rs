//! The notification outbox on both backends: idempotent queuing, claiming by two concurrent
//! workers (each row exactly once), leases that expire, retries and giving up.

#[macro_use]
mod common;

use std::collections::HashSet;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use opsmcp_store::{NotificationStatus, Store, StoreError};
use serde_json::json;

const HOUR: Duration = Duration::from_secs(3600);

both_backends!(enqueue_is_idempotent, idempotent_test);
async fn idempotent_test(store: Store, _url: String) {
    let payload = json!({"text": "INC-0001 opened"});
    let (first, created) = store
        .enqueue_notification("inc-1-opened", "slack", &payload, Some("INC-0001"))
        .await
        .expect("enqueue");
    assert!(created);
    assert_eq!(first.status, NotificationStatus::Pending);
    assert_eq!(first.attempts, 0);
    let (second, created) = store
        .enqueue_notification("inc-1-opened", "email", &json!({"other": true}), None)
        .await
        .expect("enqueue again");
    assert!(!created, "same key must give the existing row");
    assert_eq!(second, first);

    let (_, created) = store
        .enqueue_notification("inc-1-ack", "slack", &payload, Some("INC-0001"))
        .await
        .expect("another key");
    assert!(created);
    let listed = store
        .notifications_for_incident("INC-0001")
        .await
        .expect("list");
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0], first);

    let err = store
        .enqueue_notification(" ", "slack", &payload, None)
        .await
        .expect_err("empty key");
    assert!(err.to_string().contains("idempotency_key"), "{err}");
}

both_backends!(two_workers_claim_each_once, two_workers_test);
async fn two_workers_test(store: Store, _url: String) {
    let mut all = HashSet::new();
    for i in 0..60 {
        let (n, _) = store
            .enqueue_notification(&format!("key-{i}"), "webhook", &json!({"i": i}), None)
            .await
            .expect("enqueue");
        all.insert(n.id);
    }
    let worker = |store: Store| {
        tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let batch = store.claim_due(4, HOUR).await.expect("claim");
                if batch.is_empty() {
                    break;
                }
                for n in batch {
                    assert_eq!(n.attempts, 1, "a row was claimed twice: {n:?}");
                    store.mark_delivered(n.id).await.expect("deliver");
                    mine.push(n.id);
                }
            }
            mine
        })
    };
    let a = worker(store.clone());
    let b = worker(store.clone());
    let mut claimed = a.await.expect("worker a");
    claimed.extend(b.await.expect("worker b"));
    let unique: HashSet<i64> = claimed.iter().copied().collect();
    assert_eq!(unique.len(), claimed.len(), "some row was claimed twice");
    assert_eq!(unique, all, "every row is claimed");
    assert!(store.claim_due(10, HOUR).await.expect("claim").is_empty());
}

both_backends!(leases_retries_and_giving_up, lease_test);
async fn lease_test(store: Store, _url: String) {
    let t0: Timestamp = "2026-11-26T10:00:00Z".parse().expect("time");
    let clock = common::ManualClock::at(t0);
    let store = store.with_clock(clock.clock());
    let (n, _) = store
        .enqueue_notification("k1", "webhook", &json!({}), None)
        .await
        .expect("enqueue");
    let lease = Duration::from_secs(60);

    let claimed = store.claim_due(10, lease).await.expect("claim");
    assert_eq!(claimed.len(), 1);
    assert_eq!(
        claimed[0].next_attempt_at,
        Some(t0 + SignedDuration::from_secs(60))
    );
    // Leased: invisible to other claims until the lease runs out.
    assert!(store.claim_due(10, lease).await.expect("claim").is_empty());
    clock.set(t0 + SignedDuration::from_secs(61));
    let again = store.claim_due(10, lease).await.expect("claim after lease");
    assert_eq!(again.len(), 1, "a dead worker's row is retried");
    assert_eq!(again[0].attempts, 2);

    // A failure with a retry time: due again then, not before.
    let retry_at = t0 + SignedDuration::from_mins(10);
    let failed = store
        .mark_failed(n.id, "connection refused", Some(retry_at))
        .await
        .expect("fail");
    assert_eq!(failed.status, NotificationStatus::Pending);
    assert_eq!(failed.last_error.as_deref(), Some("connection refused"));
    assert!(store.claim_due(10, lease).await.expect("claim").is_empty());
    clock.set(retry_at);
    assert_eq!(store.claim_due(10, lease).await.expect("claim").len(), 1);

    // Giving up.
    let dead = store
        .mark_failed(n.id, "410 Gone", None)
        .await
        .expect("give up");
    assert_eq!(dead.status, NotificationStatus::Failed);
    clock.set(retry_at + SignedDuration::from_hours(5));
    assert!(store.claim_due(10, lease).await.expect("claim").is_empty());

    // Delivered stays delivered.
    let (m, _) = store
        .enqueue_notification("k2", "webhook", &json!({}), None)
        .await
        .expect("enqueue");
    store.claim_due(10, lease).await.expect("claim");
    let delivered = store.mark_delivered(m.id).await.expect("deliver");
    assert_eq!(delivered.status, NotificationStatus::Delivered);
    assert!(delivered.delivered_at.is_some());
    let still = store
        .mark_failed(m.id, "late error", Some(retry_at))
        .await
        .expect("late failure");
    assert_eq!(still.status, NotificationStatus::Delivered);

    let err = store.mark_delivered(999_999).await.expect_err("unknown");
    assert!(matches!(
        err,
        StoreError::UnknownNotification { id: 999_999 }
    ));
}

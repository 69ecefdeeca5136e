//! The delivery worker against a real HTTP receiver: outages, restarts, several workers.

use std::collections::HashSet;
use std::path::Path;

use opsmcp_notify::channels::webhook::WebhookConfig;
use opsmcp_notify::{
    ChannelConfig, ChannelsConfig, DeliveryStats, NewNotification, NotificationStatus, Notifier,
    Store,
};
use tokio_util::sync::CancellationToken;

use crate::common::{self, Ctx, INCIDENT, fast, notifications, wait_for};
use crate::receiver::{Mode, Receiver};

const COUNT: usize = 100;

/// A notifier with one webhook channel, `hook`, pointing at `receiver`.
fn notifier(receiver: &Receiver, dir: &Path) -> Notifier {
    let mut config = ChannelsConfig::default();
    config.channels.insert(
        "hook".into(),
        ChannelConfig::Webhook(WebhookConfig {
            url: receiver.url("/hook"),
            secret: Some("s3cret".into()),
            headers: Default::default(),
            timeout_ms: 5_000,
        }),
    );
    Notifier::new(config.build(dir).expect("channels"))
}

async fn enqueue(notifier: &Notifier, store: &Store, range: std::ops::Range<usize>) {
    for i in range {
        let queued = notifier
            .notify(
                store,
                NewNotification {
                    incident_id: Some(INCIDENT.into()),
                    idempotency_key: Some(format!("key-{i:03}")),
                    ..NewNotification::message(format!("notification {i}"))
                },
            )
            .await
            .expect("notify");
        assert!(queued.newly_queued);
        assert_eq!(queued.notification.channel, "hook");
    }
}

fn keys(n: usize) -> HashSet<String> {
    (0..n).map(|i| format!("key-{i:03}")).collect()
}

async fn all_delivered(store: &Store, n: usize) -> bool {
    let all = notifications(store).await;
    all.len() == n
        && all
            .iter()
            .all(|x| x.status == NotificationStatus::Delivered)
}

/// Every notification reached the receiver, and none was accepted twice: at least once on the
/// wire, exactly once as the receiver counts successes.
fn assert_exactly_once(receiver: &Receiver, n: usize) {
    let accepted = receiver.accepted_per_key();
    let keys_accepted: HashSet<String> = accepted.keys().cloned().collect();
    assert_eq!(keys_accepted, keys(n), "every notification arrives");
    let twice: Vec<_> = accepted.iter().filter(|(_, c)| **c > 1).collect();
    assert!(twice.is_empty(), "accepted more than once: {twice:?}");
}

both_backends!(receiver_down_then_up, receiver_down_then_up_test);
/// 1. The receiver is not even listening while 100 notifications are queued; once it is back,
///    each arrives, and each is accepted exactly once.
async fn receiver_down_then_up_test(ctx: Ctx) {
    let receiver = Receiver::start().await;
    receiver.go_down().await;
    let notifier = notifier(&receiver, &ctx.dir);
    let stop = CancellationToken::new();
    let worker = tokio::spawn(
        notifier
            .worker(ctx.store.clone(), fast())
            .expect("worker")
            .run(stop.clone()),
    );

    enqueue(&notifier, &ctx.store, 0..COUNT).await;
    // Retried while down: some notification has failed at least twice.
    wait_for("failed attempts while the receiver is down", || async {
        notifications(&ctx.store)
            .await
            .iter()
            .any(|n| n.attempts >= 2 && n.last_error.is_some())
    })
    .await;
    let failing = notifications(&ctx.store).await;
    let err = failing
        .iter()
        .find_map(|n| n.last_error.clone())
        .expect("an error");
    assert!(err.contains("could not connect"), "{err}");
    assert!(
        receiver.requests().is_empty(),
        "nothing can arrive while down"
    );

    receiver.come_up().await;
    wait_for("every notification delivered", || {
        all_delivered(&ctx.store, COUNT)
    })
    .await;
    stop.cancel();
    let stats = worker.await.expect("worker");
    assert_eq!(stats.delivered, COUNT as u64);
    assert_exactly_once(&receiver, COUNT);
    assert_eq!(
        receiver.requests().len(),
        COUNT,
        "once up, each notification was sent once"
    );
}

both_backends!(worker_restart, worker_restart_test);
/// 2. The receiver answers 503; the worker is stopped (a server restart) while notifications
///    are being retried, more are queued while no worker runs, and a new worker on a freshly
///    opened store delivers them all once the receiver recovers.
async fn worker_restart_test(ctx: Ctx) {
    let receiver = Receiver::start().await;
    receiver.set_mode(Mode::Unavailable);
    let first = notifier(&receiver, &ctx.dir);
    let stop = CancellationToken::new();
    let worker = tokio::spawn(
        first
            .worker(ctx.store.clone(), fast())
            .expect("worker")
            .run(stop.clone()),
    );
    enqueue(&first, &ctx.store, 0..COUNT).await;
    wait_for("every notification tried at least once", || async {
        receiver.keys_seen().len() == COUNT
    })
    .await;
    stop.cancel();
    let stats: DeliveryStats = worker.await.expect("first worker");
    assert_eq!(stats.delivered, 0);
    assert!(stats.retried >= COUNT as u64, "{stats:?}");
    ctx.store.close().await;

    // The "restarted server": a new store handle, new channels, new notifier. Notifications
    // queued now by another process are found by polling.
    let store = Store::open(&ctx.url).await.expect("reopen");
    let second = notifier(&receiver, &ctx.dir);
    enqueue(&second, &store, COUNT..COUNT + 10).await;
    let pending = notifications(&store).await;
    assert!(
        pending
            .iter()
            .all(|n| n.status == NotificationStatus::Pending),
        "nothing delivered yet"
    );
    receiver.set_mode(Mode::Accept);
    let stop = CancellationToken::new();
    let worker = tokio::spawn(
        Notifier::worker(&second, store.clone(), fast())
            .expect("worker")
            .run(stop.clone()),
    );
    wait_for("every notification delivered after the restart", || {
        all_delivered(&store, COUNT + 10)
    })
    .await;
    stop.cancel();
    worker.await.expect("second worker");
    assert_exactly_once(&receiver, COUNT + 10);
}

both_backends!(two_workers, two_workers_test);
/// 3. Two workers, each with its own store handle (two replicas on PostgreSQL; two workers in
///    one process on SQLite), share the queue: each notification is sent exactly once.
async fn two_workers_test(ctx: Ctx) {
    let receiver = Receiver::start().await;
    let other_store = Store::open(&ctx.url).await.expect("second store handle");
    let a = notifier(&receiver, &ctx.dir);
    let b = notifier(&receiver, &ctx.dir);
    let settings = opsmcp_notify::DeliverySettings {
        batch_size: 3,
        ..fast()
    };
    let stop = CancellationToken::new();
    let wa = tokio::spawn(
        a.worker(ctx.store.clone(), settings.clone())
            .expect("worker")
            .run(stop.clone()),
    );
    let wb = tokio::spawn(
        b.worker(other_store.clone(), settings)
            .expect("worker")
            .run(stop.clone()),
    );
    // Queued through both replicas, interleaved.
    for i in 0..COUNT {
        let (n, s) = if i % 2 == 0 {
            (&a, &ctx.store)
        } else {
            (&b, &other_store)
        };
        enqueue(n, s, i..i + 1).await;
    }
    wait_for("every notification delivered", || {
        all_delivered(&ctx.store, COUNT)
    })
    .await;
    stop.cancel();
    let (sa, sb) = (wa.await.expect("worker a"), wb.await.expect("worker b"));
    println!(
        "worker a delivered {}, worker b {}",
        sa.delivered, sb.delivered
    );
    assert_eq!(sa.delivered + sb.delivered, COUNT as u64);
    assert_exactly_once(&receiver, COUNT);
    assert_eq!(
        receiver.requests().len(),
        COUNT,
        "no request was sent twice"
    );
    assert!(
        notifications(&ctx.store)
            .await
            .iter()
            .all(|n| n.attempts == 1),
        "no notification was claimed twice"
    );
}

/// Stopping waits for the send in flight: its outcome is recorded, so a graceful restart sends
/// nothing twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_finishes_the_send_in_flight() {
    common::run(common::sqlite(), |ctx: Ctx| async move {
        let receiver = Receiver::start().await;
        receiver.set_mode(Mode::Hold);
        let notifier = notifier(&receiver, &ctx.dir);
        let stop = CancellationToken::new();
        let worker = tokio::spawn(
            notifier
                .worker(ctx.store.clone(), fast())
                .expect("worker")
                .run(stop.clone()),
        );
        enqueue(&notifier, &ctx.store, 0..1).await;
        wait_for("the request to arrive", || async {
            receiver.arrived() == 1
        })
        .await;
        stop.cancel();
        // The receiver has not answered, so the worker cannot have finished.
        assert!(!worker.is_finished(), "stopped with a send in flight");
        receiver.release(1);
        let stats = worker.await.expect("worker");
        assert_eq!(stats.delivered, 1);
        assert!(all_delivered(&ctx.store, 1).await);
    })
    .await;
}

both_backends!(hard_crash, hard_crash_test);
/// A worker killed mid-round (its task dropped, as in a crash) leaves its claimed notifications
/// leased; a new worker sends them when the lease runs out. Delivery is at least once here:
/// every key arrives, and only the batch in flight at the crash may arrive twice.
async fn hard_crash_test(ctx: Ctx) {
    let receiver = Receiver::start().await;
    receiver.set_mode(Mode::Hold);
    let settings = opsmcp_notify::DeliverySettings {
        batch_size: 4,
        send_timeout_ms: 500,
        lease_ms: 1000,
        ..fast()
    };
    let first = notifier(&receiver, &ctx.dir);
    let crashed = tokio::spawn(
        first
            .worker(ctx.store.clone(), settings.clone())
            .expect("worker")
            .run(CancellationToken::new()),
    );
    enqueue(&first, &ctx.store, 0..20).await;
    // Two notifications through, then the worker dies with a batch in flight.
    receiver.release(2);
    wait_for("two accepted and more in flight", || async {
        receiver.accepted_per_key().len() >= 2 && receiver.arrived() > 2
    })
    .await;
    crashed.abort();
    let _ = crashed.await;
    receiver.set_mode(Mode::Accept);
    receiver.release(100);

    let second = notifier(&receiver, &ctx.dir);
    let stop = CancellationToken::new();
    let worker = tokio::spawn(
        second
            .worker(ctx.store.clone(), settings)
            .expect("worker")
            .run(stop.clone()),
    );
    wait_for("every notification delivered after the crash", || {
        all_delivered(&ctx.store, 20)
    })
    .await;
    stop.cancel();
    worker.await.expect("worker");
    let accepted = receiver.accepted_per_key();
    let keys_accepted: HashSet<String> = accepted.keys().cloned().collect();
    assert_eq!(keys_accepted, keys(20), "every notification arrives");
    let extra: usize = accepted.values().map(|c| c - 1).sum();
    assert!(
        extra <= 4,
        "only the batch in flight may repeat: {accepted:?}"
    );
    println!("repeats after the crash (receivers dedupe these by key): {extra}");
}

/// With a poll interval of an hour, only the wake-up from `notify` and the worker's own retry
/// schedule can get a notification delivered within the test's deadline: this proves both
/// without timing anything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wakes_on_notify_and_for_its_own_retries() {
    common::run(common::sqlite(), |ctx: Ctx| async move {
        let receiver = Receiver::start().await;
        let notifier = notifier(&receiver, &ctx.dir);
        let settings = opsmcp_notify::DeliverySettings {
            poll_interval_ms: 3_600_000,
            ..fast()
        };
        let stop = CancellationToken::new();
        let worker = tokio::spawn(
            notifier
                .worker(ctx.store.clone(), settings)
                .expect("worker")
                .run(stop.clone()),
        );
        // Give the worker a moment to find the outbox empty and settle into its hour-long wait
        // (the test holds either way: the wake-up is registered before each claim).
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        enqueue(&notifier, &ctx.store, 0..1).await;
        wait_for("delivered after the wake-up", || {
            all_delivered(&ctx.store, 1)
        })
        .await;

        // Refused once (429, Retry-After: 0): only the worker's own retry timer brings it back.
        receiver.set_mode(Mode::RateLimitOnce {
            retry_after_secs: 0,
        });
        enqueue(&notifier, &ctx.store, 1..2).await;
        wait_for("delivered on the retry", || all_delivered(&ctx.store, 2)).await;
        stop.cancel();
        worker.await.expect("worker");
        let statuses: Vec<u16> = receiver.requests().iter().map(|r| r.status).collect();
        assert_eq!(statuses, [200, 429, 200]);
    })
    .await;
}

/// The same key queued again is not sent again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requeued_key_is_not_sent_again() {
    common::run(common::sqlite(), |ctx: Ctx| async move {
        let receiver = Receiver::start().await;
        let notifier = notifier(&receiver, &ctx.dir);
        let stop = CancellationToken::new();
        let worker = tokio::spawn(
            notifier
                .worker(ctx.store.clone(), fast())
                .expect("worker")
                .run(stop.clone()),
        );
        enqueue(&notifier, &ctx.store, 0..1).await;
        wait_for("delivered", || all_delivered(&ctx.store, 1)).await;
        let again = notifier
            .notify(
                &ctx.store,
                NewNotification {
                    incident_id: Some(INCIDENT.into()),
                    idempotency_key: Some("key-000".into()),
                    ..NewNotification::message("notification 0, again")
                },
            )
            .await
            .expect("notify again");
        assert!(!again.newly_queued);
        assert_eq!(again.notification.status, NotificationStatus::Delivered);
        let err = notifier
            .notify(
                &ctx.store,
                NewNotification {
                    channel: Some("slack".into()),
                    ..NewNotification::message("to nowhere")
                },
            )
            .await
            .expect_err("unknown channel");
        assert!(err.to_string().contains("\"hook\""), "{err}");
        stop.cancel();
        worker.await.expect("worker");
        assert_eq!(receiver.requests().len(), 1);
    })
    .await;
}

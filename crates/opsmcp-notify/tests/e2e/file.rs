//! 7. The default file channel: one line per notification, and no second line when a worker
//!    dies between writing the line and recording the delivery.

use std::collections::HashSet;
use std::time::Duration;

use opsmcp_notify::{
    ChannelsConfig, DeliverySettings, NewNotification, Notification, NotificationStatus, Notifier,
};
use tokio_util::sync::CancellationToken;

use crate::common::{self, Ctx, INCIDENT, fast, notifications, wait_for};

fn lines(path: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .expect("read the notifications file")
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect()
}

async fn notify(notifier: &Notifier, ctx: &Ctx, key: &str) {
    notifier
        .notify(
            &ctx.store,
            NewNotification {
                incident_id: Some(INCIDENT.into()),
                idempotency_key: Some(key.into()),
                ..NewNotification::message(format!("message {key}"))
            },
        )
        .await
        .expect("notify");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_duplicate_line_after_a_crash() {
    common::run(common::sqlite(), |ctx: Ctx| async move {
        // Nothing configured: the fallback channel, <data_dir>/notifications.jsonl.
        let path = ctx.dir.join("notifications.jsonl");
        let crashed = Notifier::new(ChannelsConfig::default().build(&ctx.dir).expect("channels"));
        assert_eq!(crashed.channels().default_name(), "file");
        for key in ["k1", "k2", "k3"] {
            notify(&crashed, &ctx, key).await;
        }

        // A worker claims everything (with a short lease), writes k1's line — and dies before
        // recording anything.
        let lease = Duration::from_millis(1500);
        let claimed = ctx.store.claim_due(10, lease).await.expect("claim");
        assert_eq!(claimed.len(), 3);
        let k1 = Notification::from_stored(&claimed[0]).expect("decode");
        assert_eq!(k1.idempotency_key, "k1");
        crashed
            .channels()
            .get("file")
            .expect("file channel")
            .send(&k1)
            .await
            .expect("line written");
        drop(crashed);
        assert_eq!(lines(&path).len(), 1);

        // The restarted process: new channels (no memory of what was written), a new worker,
        // which retries all three once the lease runs out.
        let restarted = Notifier::new(ChannelsConfig::default().build(&ctx.dir).expect("channels"));
        let settings = DeliverySettings {
            send_timeout_ms: 500,
            lease_ms: 1500,
            ..fast()
        };
        let stop = CancellationToken::new();
        let worker = tokio::spawn(
            restarted
                .worker(ctx.store.clone(), settings)
                .expect("worker")
                .run(stop.clone()),
        );
        notify(&restarted, &ctx, "k4").await;
        wait_for("all delivered", || async {
            let all = notifications(&ctx.store).await;
            all.len() == 4
                && all
                    .iter()
                    .all(|n| n.status == NotificationStatus::Delivered)
        })
        .await;
        stop.cancel();
        worker.await.expect("worker");

        let written = lines(&path);
        let keys: Vec<&str> = written
            .iter()
            .map(|l| l["idempotency_key"].as_str().expect("key"))
            .collect();
        assert_eq!(keys.len(), 4, "one line per notification: {keys:?}");
        let unique: HashSet<&str> = keys.iter().copied().collect();
        assert_eq!(unique, HashSet::from(["k1", "k2", "k3", "k4"]));
        assert_eq!(
            keys[0], "k1",
            "k1's line is the one written before the crash"
        );
        let all = notifications(&ctx.store).await;
        assert_eq!(all[0].attempts, 2, "k1 was retried after the crash");
        assert_eq!(written[0]["message"], "message k1");
        assert_eq!(written[0]["incident_id"], INCIDENT);
        assert_eq!(written[0]["channel"], "file");
    })
    .await;
}

//! 5. The Slack channel through the worker: the body Slack expects, a 429's `Retry-After`
//!    honoured, and a permanent refusal ending as failed with the reason recorded.

use std::time::Duration;

use opsmcp_notify::channels::slack::SlackConfig;
use opsmcp_notify::{
    ChannelConfig, ChannelsConfig, NewNotification, NotificationStatus, Notifier, Severity,
};
use tokio_util::sync::CancellationToken;

use crate::common::{self, Ctx, INCIDENT, fast, notifications, wait_for};
use crate::receiver::{Mode, Receiver};

fn notifier(receiver: &Receiver, dir: &std::path::Path) -> Notifier {
    let mut config = ChannelsConfig::default();
    config.channels.insert(
        "ops".into(),
        ChannelConfig::Slack(SlackConfig {
            webhook_url: receiver.url("/services/T000/B000/XXXX").as_str().into(),
            timeout_ms: 5_000,
        }),
    );
    Notifier::new(config.build(dir).expect("channels"))
}

fn new(message: &str) -> NewNotification {
    NewNotification {
        incident_id: Some(INCIDENT.into()),
        severity: Some(Severity::Sev2),
        ..NewNotification::message(message)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_is_honoured() {
    common::run(common::sqlite(), |ctx: Ctx| async move {
        let receiver = Receiver::start().await;
        receiver.set_mode(Mode::RateLimitOnce {
            retry_after_secs: 1,
        });
        let notifier = notifier(&receiver, &ctx.dir);
        let stop = CancellationToken::new();
        let worker = tokio::spawn(
            notifier
                .worker(ctx.store.clone(), fast())
                .expect("worker")
                .run(stop.clone()),
        );
        let queued = notifier
            .notify(&ctx.store, new("checkout <errors> at 12% & rising"))
            .await
            .expect("notify");
        wait_for("delivered after the rate limit", || async {
            notifications(&ctx.store).await[0].status == NotificationStatus::Delivered
        })
        .await;
        stop.cancel();
        worker.await.expect("worker");

        let requests = receiver.requests();
        assert_eq!(requests.len(), 2, "one 429, one success");
        assert_eq!(requests[0].status, 429);
        assert_eq!(requests[1].status, 200);
        let waited = requests[1].at - requests[0].at;
        assert!(
            waited >= Duration::from_secs(1),
            "the retry came {waited:?} after a Retry-After of 1 s"
        );
        assert_eq!(notifications(&ctx.store).await[0].attempts, 2);

        let r = &requests[1];
        assert_eq!(r.path, "/services/T000/B000/XXXX");
        assert_eq!(
            r.headers.get("content-type").and_then(|v| v.to_str().ok()),
            Some("application/json")
        );
        let body = r.json();
        assert_eq!(
            body["text"],
            "[SEV2] INC-0001: checkout &lt;errors&gt; at 12% &amp; rising"
        );
        assert_eq!(body["blocks"][0]["type"], "section");
        assert_eq!(body["blocks"][0]["text"]["type"], "mrkdwn");
        assert_eq!(
            body["blocks"][0]["text"]["text"],
            "checkout &lt;errors&gt; at 12% &amp; rising"
        );
        assert_eq!(body["blocks"][1]["type"], "context");
        assert_eq!(
            r.key().as_deref(),
            Some(queued.notification.idempotency_key.as_str())
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permanent_refusal_fails_with_the_reason() {
    common::run(common::sqlite(), |ctx: Ctx| async move {
        let receiver = Receiver::start().await;
        receiver.set_mode(Mode::Refuse(400, "invalid_payload"));
        let notifier = notifier(&receiver, &ctx.dir);
        let stop = CancellationToken::new();
        let worker = tokio::spawn(
            notifier
                .worker(ctx.store.clone(), fast())
                .expect("worker")
                .run(stop.clone()),
        );
        notifier
            .notify(&ctx.store, new("this one is refused"))
            .await
            .expect("notify");
        wait_for("marked failed", || async {
            notifications(&ctx.store).await[0].status == NotificationStatus::Failed
        })
        .await;
        stop.cancel();
        let stats = worker.await.expect("worker");
        assert_eq!(stats.failed, 1);
        let n = &notifications(&ctx.store).await[0];
        assert_eq!(n.attempts, 1, "not retried");
        let err = n.last_error.as_deref().expect("error recorded");
        assert!(err.contains("400"), "{err}");
        assert!(err.contains("invalid_payload"), "{err}");
        assert!(err.contains("permanent"), "{err}");
        assert!(
            !err.contains("XXXX"),
            "the webhook URL's token stays out: {err}"
        );
        assert_eq!(receiver.requests().len(), 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retryable_failures_give_up_after_max_attempts() {
    common::run(common::sqlite(), |ctx: Ctx| async move {
        let receiver = Receiver::start().await;
        receiver.set_mode(Mode::Unavailable);
        let notifier = notifier(&receiver, &ctx.dir);
        let stop = CancellationToken::new();
        let settings = opsmcp_notify::DeliverySettings {
            max_attempts: 3,
            ..fast()
        };
        let worker = tokio::spawn(
            notifier
                .worker(ctx.store.clone(), settings)
                .expect("worker")
                .run(stop.clone()),
        );
        notifier
            .notify(&ctx.store, new("never accepted"))
            .await
            .expect("notify");
        wait_for("given up", || async {
            notifications(&ctx.store).await[0].status == NotificationStatus::Failed
        })
        .await;
        stop.cancel();
        worker.await.expect("worker");
        let n = &notifications(&ctx.store).await[0];
        assert_eq!(n.attempts, 3);
        let err = n.last_error.as_deref().expect("error");
        assert!(err.starts_with("gave up after 3 attempts"), "{err}");
        assert!(err.contains("503"), "{err}");
        assert_eq!(receiver.requests().len(), 3);
    })
    .await;
}

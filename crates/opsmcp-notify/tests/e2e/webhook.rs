//! 4. The webhook channel's requests, checked by a real receiver the way the docs tell one to.

use hmac::{Hmac, Mac};
use jiff::Timestamp;
use opsmcp_notify::channels::webhook::{self, WebhookChannel, WebhookConfig};
use opsmcp_notify::{Channel, Notification, Severity};
use sha2::Sha256;

use crate::receiver::Receiver;

fn notification() -> Notification {
    Notification {
        id: 1,
        idempotency_key: "INC-0042-opened".into(),
        channel: "pager".into(),
        message: "checkout errors at 12%".into(),
        severity: Some(Severity::Sev2),
        incident_id: Some("INC-0042".into()),
        created_at: "2026-11-26T10:00:00Z".parse().expect("time"),
        attempt: 1,
    }
}

/// The receiver's check, written from the documentation rather than with the crate's helper.
fn verifies(secret: &[u8], timestamp: &str, body: &[u8], signature: &str) -> bool {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("key");
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body);
    let want = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    want == signature
}

#[tokio::test]
async fn signature_verifies_with_the_secret_only() {
    let receiver = Receiver::start().await;
    let mut headers = std::collections::BTreeMap::new();
    headers.insert("Authorization".to_string(), "Bearer abc".into());
    let channel = WebhookChannel::new(
        "pager",
        &WebhookConfig {
            url: receiver.url("/hooks/opsmcp?token=t"),
            secret: Some("s3cret".into()),
            headers,
            timeout_ms: 5_000,
        },
    )
    .expect("channel");
    assert_eq!(
        channel.target(),
        receiver.url(""),
        "no path or token in logs"
    );
    channel.send(&notification()).await.expect("delivered");

    let requests = receiver.requests();
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert_eq!(r.path, "/hooks/opsmcp");
    let header = |name: &str| {
        r.headers
            .get(name)
            .unwrap_or_else(|| panic!("missing {name}"))
            .to_str()
            .expect("ascii")
            .to_string()
    };
    assert_eq!(header("content-type"), "application/json");
    assert_eq!(header("authorization"), "Bearer abc");
    assert_eq!(header("x-opsmcp-idempotency-key"), "INC-0042-opened");
    let ts = header("x-opsmcp-timestamp");
    let sent: i64 = ts.parse().expect("Unix seconds");
    assert!(
        (sent - Timestamp::now().as_second()).abs() < 300,
        "a timestamp a receiver would accept: {sent}"
    );
    let sig = header("x-opsmcp-signature");
    assert!(verifies(b"s3cret", &ts, &r.body, &sig), "right secret");
    assert!(!verifies(b"wrong", &ts, &r.body, &sig), "wrong secret");
    assert!(
        !verifies(b"s3cret", &(sent + 1).to_string(), &r.body, &sig),
        "another timestamp"
    );
    assert!(webhook::verify_signature(b"s3cret", &ts, &r.body, &sig));
    assert!(!webhook::verify_signature(b"wrong", &ts, &r.body, &sig));

    let body = r.json();
    assert_eq!(body["idempotency_key"], "INC-0042-opened");
    assert_eq!(body["incident_id"], "INC-0042");
    assert_eq!(body["severity"], "SEV2");
    assert_eq!(body["message"], "checkout errors at 12%");
    assert_eq!(body["created_at"], "2026-11-26T10:00:00Z");
}

#[tokio::test]
async fn without_a_secret_nothing_is_signed() {
    let receiver = Receiver::start().await;
    let channel = WebhookChannel::new(
        "plain",
        &WebhookConfig {
            url: receiver.url("/"),
            secret: None,
            headers: Default::default(),
            timeout_ms: 5_000,
        },
    )
    .expect("channel");
    channel.send(&notification()).await.expect("delivered");
    let r = &receiver.requests()[0];
    assert!(r.headers.get("x-opsmcp-signature").is_none());
    assert!(r.headers.get("x-opsmcp-idempotency-key").is_some());
}

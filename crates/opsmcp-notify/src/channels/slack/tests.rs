use jiff::Timestamp;
use opsmcp_store::Severity;

use super::*;

fn notification(message: &str) -> Notification {
    Notification {
        id: 7,
        idempotency_key: "INC-0042-opened".into(),
        channel: "ops".into(),
        message: message.into(),
        severity: Some(Severity::Sev1),
        incident_id: Some("INC-0042".into()),
        created_at: Timestamp::UNIX_EPOCH,
        attempt: 1,
    }
}

#[test]
fn body_has_text_blocks_and_the_key() {
    let b = body(&notification("payments <down> & out"));
    assert_eq!(
        b["text"],
        "[SEV1] INC-0042: payments &lt;down&gt; &amp; out"
    );
    assert_eq!(b["blocks"][0]["type"], "section");
    assert_eq!(
        b["blocks"][0]["text"]["text"],
        "payments &lt;down&gt; &amp; out"
    );
    let context = b["blocks"][1]["elements"][0]["text"]
        .as_str()
        .expect("context");
    assert!(context.contains("*SEV1* (critical)"), "{context}");
    assert!(context.contains("incident *INC-0042*"), "{context}");
    assert!(context.contains("`INC-0042-opened`"), "{context}");
}

#[test]
fn long_messages_are_split_into_sections() {
    let b = body(&notification(&"x".repeat(7000)));
    let blocks = b["blocks"].as_array().expect("blocks");
    assert_eq!(blocks.len(), 4, "3 sections of at most 3000 and a context");
    assert_eq!(blocks[2]["text"]["text"].as_str().map(str::len), Some(1000));
}

#[test]
fn the_webhook_url_is_not_shown() {
    let c = SlackChannel::new(
        "ops",
        &SlackConfig {
            webhook_url: "https://hooks.slack.com/services/T/B/SECRET".into(),
            timeout_ms: 1000,
        },
    )
    .expect("build");
    assert_eq!(c.target(), "https://hooks.slack.com");
    let bad = SlackChannel::new(
        "ops",
        &SlackConfig {
            webhook_url: "hooks.slack.com/x".into(),
            timeout_ms: 1000,
        },
    );
    assert!(bad.is_err());
}

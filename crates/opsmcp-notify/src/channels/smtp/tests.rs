use jiff::Timestamp;

use super::*;

fn config() -> SmtpConfig {
    SmtpConfig {
        host: "127.0.0.1".into(),
        port: Some(2525),
        tls: SmtpTls::None,
        from: "opsmcp <opsmcp@example.com>".into(),
        to: vec!["oncall@example.com".into()],
        username: None,
        password: None,
        ca_file: None,
        timeout_ms: 1000,
    }
}

#[test]
fn message_id_is_derived_from_the_key() {
    let from: Mailbox = "opsmcp@example.com".parse().expect("mailbox");
    let a = message_id("INC-0042-opened", &from);
    assert_eq!(a, message_id("INC-0042-opened", &from));
    assert_ne!(a, message_id("INC-0042-resolved", &from));
    assert!(
        a.starts_with("<opsmcp.") && a.ends_with("@example.com>"),
        "{a}"
    );
}

#[test]
fn the_message_carries_subject_key_and_ids() {
    let channel = SmtpChannel::new("mail", &config()).expect("build");
    let n = Notification {
        id: 1,
        idempotency_key: "INC-0042-opened".into(),
        channel: "mail".into(),
        message: "db primary down".into(),
        severity: Some(opsmcp_store::Severity::Sev2),
        incident_id: Some("INC-0042".into()),
        created_at: Timestamp::UNIX_EPOCH,
        attempt: 1,
    };
    let raw = String::from_utf8(channel.message(&n).expect("message").formatted()).expect("utf8");
    assert!(
        raw.contains("Subject: [SEV2] INC-0042: db primary down"),
        "{raw}"
    );
    assert!(
        raw.contains("X-Opsmcp-Idempotency-Key: INC-0042-opened"),
        "{raw}"
    );
    assert!(raw.contains("Message-ID: <opsmcp."), "{raw}");
    assert!(raw.contains("notification key: INC-0042-opened"), "{raw}");
}

#[test]
fn bad_settings_are_refused_with_a_hint() {
    let mut c = config();
    c.to = vec![];
    assert!(SmtpChannel::new("mail", &c).is_err());
    let mut c = config();
    c.from = "not an address".into();
    let err = SmtpChannel::new("mail", &c).err().expect("bad from");
    assert!(err.to_string().contains("addr@example.com"), "{err}");
    let mut c = config();
    c.username = Some("u".into());
    assert!(
        SmtpChannel::new("mail", &c).is_err(),
        "username without password"
    );
}

use jiff::Timestamp;

use super::*;

#[test]
fn signatures_verify_only_with_the_secret_and_the_same_bytes() {
    let body = br#"{"message":"hi"}"#;
    let sig = sign(b"s3cret", "1795694400", body);
    assert!(sig.starts_with("sha256="));
    assert_eq!(sig.len(), 7 + 64);
    assert!(verify_signature(b"s3cret", "1795694400", body, &sig));
    assert!(!verify_signature(b"wrong", "1795694400", body, &sig));
    assert!(!verify_signature(b"s3cret", "1795694401", body, &sig));
    assert!(!verify_signature(
        b"s3cret",
        "1795694400",
        br#"{"message":"ho"}"#,
        &sig
    ));
    assert!(!verify_signature(b"s3cret", "1795694400", body, "sha1=00"));
}

/// RFC 4231 test case 2, to be sure the HMAC is the standard one receivers compute.
#[test]
fn hmac_matches_rfc_4231() {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(b"Jefe").expect("key");
    mac.update(b"what do ya want for nothing?");
    assert_eq!(
        hex::encode(mac.finalize().into_bytes()),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
}

#[test]
fn body_is_stable_across_attempts() {
    let mut n = Notification {
        id: 1,
        idempotency_key: "k".into(),
        channel: "pager".into(),
        message: "m".into(),
        severity: None,
        incident_id: None,
        created_at: Timestamp::UNIX_EPOCH,
        attempt: 1,
    };
    let first = body(&n);
    n.attempt = 5;
    assert_eq!(first, body(&n));
    let v: serde_json::Value = serde_json::from_slice(&first).expect("json");
    assert_eq!(v["idempotency_key"], "k");
    assert_eq!(v["created_at"], "1970-01-01T00:00:00Z");
    assert!(v["severity"].is_null());
}

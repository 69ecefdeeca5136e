//! Approvals against both backends: only a pending request (an `approval_requested` timeline
//! entry not yet approved, on an open incident) can be approved; anything else is refused
//! naming what is pending.

#[macro_use]
mod common;

use opsmcp_store::{NewIncident, Severity, Status, Store, StoreError};
use serde_json::json;

both_backends!(only_pending_requests, only_pending_requests_test);
async fn only_pending_requests_test(store: Store, _url: String) {
    let (inc, _) = store
        .create_incident(
            NewIncident {
                title: "orders slow".into(),
                severity: Severity::Sev2,
                description: None,
                services: vec!["orders-db".into()],
                dedup_key: None,
            },
            "alice",
        )
        .await
        .expect("create");
    let id = inc.id.as_str();

    // Nothing requested yet.
    let e = store
        .approve(id, "failover", Some("orders-db"), "bob")
        .await
        .unwrap_err();
    assert!(
        matches!(e, StoreError::NotPending { ref pending, .. } if pending.is_empty()),
        "{e}"
    );
    assert!(e.to_string().contains("no pending request"), "{e}");

    for (action, target) in [("restart", "checkout-api"), ("scale", "orders-db")] {
        store
            .add_timeline(
                id,
                "agent",
                "approval_requested",
                json!({"action": action, "target": target}),
            )
            .await
            .expect("request");
    }
    let e = store
        .approve(id, "failover", Some("orders-db"), "bob")
        .await
        .unwrap_err();
    match &e {
        StoreError::NotPending { pending, .. } => {
            assert_eq!(pending, &["restart@checkout-api", "scale@orders-db"])
        }
        other => panic!("{other}"),
    }
    assert!(
        e.to_string()
            .contains("pending: restart@checkout-api, scale@orders-db"),
        "{e}"
    );
    // The right action on the wrong service is not the request either.
    assert!(
        store
            .approve(id, "restart", Some("orders-db"), "bob")
            .await
            .is_err()
    );

    let a = store
        .approve(id, "restart", Some("checkout-api"), "bob")
        .await
        .expect("the pending request is approved");
    assert_eq!(a.approved_by, "bob");
    // No longer pending: a repeat is refused and names what is left.
    let e = store
        .approve(id, "restart", Some("checkout-api"), "carol")
        .await
        .unwrap_err();
    assert!(e.to_string().contains("already approved"), "{e}");
    assert!(e.to_string().contains("pending: scale@orders-db"), "{e}");
    // The name alone approves the action on whichever service it was requested for.
    store
        .approve(id, "scale", None, "bob")
        .await
        .expect("by name");

    store
        .add_timeline(
            id,
            "agent",
            "approval_requested",
            json!({"action": "failover", "target": "orders-db"}),
        )
        .await
        .expect("request");
    store
        .transition(id, Status::Resolved, "alice", None)
        .await
        .expect("resolve");
    let e = store
        .approve(id, "failover", Some("orders-db"), "bob")
        .await
        .unwrap_err();
    assert!(e.to_string().contains("is resolved"), "{e}");
}

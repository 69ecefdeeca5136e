//! The hash-chained audit log on both backends: concurrent appends keep one chain, and
//! `verify_audit` finds an edited entry, a deleted one, and entries deleted from the end.

#[macro_use]
mod common;

use opsmcp_store::{AuditVerdict, NewAuditEntry, Store};
use serde_json::json;

fn entry(i: u64) -> NewAuditEntry {
    NewAuditEntry {
        server: "workflow".into(),
        tool: "create_incident".into(),
        caller: format!("client-{}", i % 3),
        arguments: json!({"title": format!("call {i}"), "token": "[REDACTED]"}),
        outcome: "ok".into(),
        duration_ms: i,
        // Half with a request id, half without (entries from before it was recorded).
        request_id: i.is_multiple_of(2).then(|| format!("req-{i}")),
    }
}

/// `n` entries from concurrent writers: single appends and batches of five (as the servers'
/// audit writer sends them), interleaved.
async fn append_concurrently(store: &Store, n: u64) {
    let mut tasks = Vec::new();
    let mut i = 0;
    while i < n {
        let store = store.clone();
        let size = if i % 10 == 0 { 5.min(n - i) } else { 1 };
        let batch: Vec<_> = (i..i + size).map(entry).collect();
        tasks.push(tokio::spawn(async move {
            let appended = store.append_audit_batch(&batch).await.expect("append");
            assert_eq!(appended.len(), batch.len());
            for pair in appended.windows(2) {
                assert_eq!(pair[1].seq, pair[0].seq + 1);
                assert_eq!(pair[1].prev_hash, pair[0].hash);
            }
        }));
        i += size;
    }
    for t in tasks {
        t.await.expect("task");
    }
}

both_backends!(chain_survives_concurrent_appends, chain_test);
async fn chain_test(store: Store, _url: String) {
    assert_eq!(
        store.verify_audit().await.expect("verify"),
        AuditVerdict::Intact { entries: 0 }
    );
    append_concurrently(&store, 40).await;
    assert_eq!(
        store.verify_audit().await.expect("verify"),
        AuditVerdict::Intact { entries: 40 }
    );
    let entries = store.audit_entries(0, 100).await.expect("entries");
    assert_eq!(entries.len(), 40);
    for pair in entries.windows(2) {
        assert_eq!(pair[1].prev_hash, pair[0].hash);
        assert!(pair[0].at <= pair[1].at);
    }
}

both_backends!(verify_detects_edit, edit_test);
async fn edit_test(store: Store, url: String) {
    append_concurrently(&store, 10).await;
    let changed = common::raw_exec(
        &url,
        "UPDATE audit_log SET outcome = 'error: denied' WHERE seq = 4",
    )
    .await;
    assert_eq!(changed, 1);
    match store.verify_audit().await.expect("verify") {
        AuditVerdict::Broken { seq, reason } => {
            assert_eq!(seq, 4);
            assert!(reason.contains("edited"), "{reason}");
        }
        other => panic!("edit not detected: {other:?}"),
    }
}

both_backends!(verify_detects_deletion, delete_test);
async fn delete_test(store: Store, url: String) {
    append_concurrently(&store, 10).await;
    assert_eq!(
        common::raw_exec(&url, "DELETE FROM audit_log WHERE seq = 6").await,
        1
    );
    match store.verify_audit().await.expect("verify") {
        AuditVerdict::Broken { seq, reason } => {
            assert_eq!(seq, 6);
            assert!(reason.contains("missing"), "{reason}");
        }
        other => panic!("deletion not detected: {other:?}"),
    }
}

both_backends!(verify_detects_truncation, truncate_test);
async fn truncate_test(store: Store, url: String) {
    append_concurrently(&store, 10).await;
    assert_eq!(
        common::raw_exec(&url, "DELETE FROM audit_log WHERE seq >= 9").await,
        2
    );
    match store.verify_audit().await.expect("verify") {
        AuditVerdict::Broken { seq, reason } => {
            assert_eq!(seq, 9);
            assert!(reason.contains("deleted from the end"), "{reason}");
        }
        other => panic!("truncation not detected: {other:?}"),
    }
    // Appending after tampering does not hide it.
    store.append_audit(&entry(99)).await.expect("append");
    assert!(matches!(
        store.verify_audit().await.expect("verify"),
        AuditVerdict::Broken { seq: 9, .. }
    ));
}

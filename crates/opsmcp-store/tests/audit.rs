//! The hash-chained audit log on both backends: concurrent appends keep one chain, and
//! `verify_audit` finds an edited entry, a deleted one, and entries deleted from the end.

#[macro_use]
mod common;

use opsmcp_store::{ANCHOR_FILE, AuditKey, AuditVerdict, NewAuditEntry, Store};
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
        AuditVerdict::Intact {
            entries: 0,
            unkeyed: 0
        }
    );
    append_concurrently(&store, 40).await;
    assert_eq!(
        store.verify_audit().await.expect("verify"),
        AuditVerdict::Intact {
            entries: 40,
            unkeyed: 40
        }
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

/// A keyed store whose key (and anchor) live in a temporary folder of their own.
fn keyed(store: Store) -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("key dir");
    let key = AuditKey::load_or_create(&dir.path().join("audit.key")).expect("key");
    (store.with_audit_key(key), dir)
}

/// Edits entry `from` and relinks it and every later entry with plain SHA-256, as someone who
/// can write the database but not read the key would.
async fn edit_and_relink(store: &Store, url: &str, from: i64) {
    use sha2::{Digest, Sha256};
    let entries = store.audit_entries(0, 10_000).await.expect("entries");
    let mut prev = entries
        .iter()
        .find(|e| e.seq == from - 1)
        .map_or_else(|| "0".repeat(64), |e| e.hash.clone());
    for e in entries.iter().filter(|e| e.seq >= from) {
        let outcome = if e.seq == from {
            "error: hidden"
        } else {
            &e.outcome
        };
        let mut fields = vec![
            json!(e.seq),
            json!(e.at.as_microsecond()),
            json!(e.server),
            json!(e.tool),
            json!(e.caller),
            json!(e.arguments),
            json!(outcome),
            json!(e.duration_ms),
        ];
        if let Some(id) = &e.request_id {
            fields.push(json!(id));
        }
        let canonical = serde_json::Value::Array(fields).to_string();
        let mut h = Sha256::new();
        h.update(prev.as_bytes());
        h.update(b"\n");
        h.update(canonical.as_bytes());
        let hash = format!("{:x}", h.finalize());
        let sql = format!(
            "UPDATE audit_log SET outcome = '{outcome}', prev_hash = '{prev}', hash = '{hash}' \
             WHERE seq = {}",
            e.seq
        );
        assert_eq!(common::raw_exec(url, &sql).await, 1);
        prev = hash;
    }
}

both_backends!(plain_relink_is_detected, relink_test);
async fn relink_test(store: Store, url: String) {
    let (store, _dir) = keyed(store);
    append_concurrently(&store, 10).await;
    assert_eq!(
        store.verify_audit().await.expect("verify"),
        AuditVerdict::Intact {
            entries: 10,
            unkeyed: 0
        }
    );
    // The same rewrite verifies on an unkeyed chain (what the key is for)…
    edit_and_relink(&store, &url, 4).await;
    match store.verify_audit().await.expect("verify") {
        AuditVerdict::Broken { seq, reason } => {
            assert_eq!(seq, 4);
            assert!(reason.contains("rewritten without the key"), "{reason}");
        }
        other => panic!("relinked edit not detected: {other:?}"),
    }
    // …and the whole chain rewritten from the first entry is caught by the anchor.
    edit_and_relink(&store, &url, 1).await;
    assert!(matches!(
        store.verify_audit().await.expect("verify"),
        AuditVerdict::Broken { seq: 1, .. }
    ));
}

both_backends!(rewound_truncation_is_detected, rewind_test);
async fn rewind_test(store: Store, url: String) {
    let (store, dir) = keyed(store);
    append_concurrently(&store, 10).await;
    store.flush_audit_anchor();
    assert!(dir.path().join(ANCHOR_FILE).exists());
    common::raw_exec(&url, "DELETE FROM audit_log WHERE seq >= 9").await;
    common::raw_exec(&url, "UPDATE counters SET value = 8 WHERE name = 'audit'").await;
    match store.verify_audit().await.expect("verify") {
        AuditVerdict::Broken { seq, reason } => {
            assert_eq!(seq, 9);
            assert!(
                reason.contains("the log ends at 8, the anchor says 10"),
                "{reason}"
            );
        }
        other => panic!("rewound truncation not detected: {other:?}"),
    }
}

both_backends!(wrong_key_is_detected, wrong_key_test);
async fn wrong_key_test(store: Store, _url: String) {
    let (writer, _dir) = keyed(store.clone());
    append_concurrently(&writer, 5).await;
    let (other, _other_dir) = keyed(store);
    match other.verify_audit().await.expect("verify") {
        AuditVerdict::Broken { seq, reason } => {
            assert_eq!(seq, 1);
            assert!(
                reason.contains("not the one it was written with"),
                "{reason}"
            );
        }
        other => panic!("wrong key not detected: {other:?}"),
    }
}

both_backends!(legacy_chain_continues_keyed, legacy_test);
async fn legacy_test(store: Store, _url: String) {
    append_concurrently(&store, 3).await;
    let (keyed_store, _dir) = keyed(store.clone());
    append_concurrently(&keyed_store, 4).await;
    assert_eq!(
        keyed_store.verify_audit().await.expect("verify"),
        AuditVerdict::Intact {
            entries: 7,
            unkeyed: 3
        }
    );
    // Without the key the keyed part cannot be checked, which is not "intact".
    assert!(matches!(
        store.verify_audit().await.expect("verify"),
        AuditVerdict::Broken { seq: 4, .. }
    ));
}

/// A fresh SQLite store's folder is 0700 and its files 0600; an existing folder keeps its mode.
#[tokio::test]
async fn fresh_sqlite_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let mode =
        |p: &std::path::Path| std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777;
    let db = common::sqlite();
    let path = db.sqlite_path().expect("sqlite path");
    let store = Store::open(&db.url).await.expect("open");
    store.append_audit(&entry(1)).await.expect("append");
    let dir = path.parent().expect("dir");
    assert_eq!(mode(dir), 0o700);
    for suffix in ["", "-wal", "-shm"] {
        let f = std::path::PathBuf::from(format!("{}{suffix}", path.display()));
        assert_eq!(mode(&f), 0o600, "{}", f.display());
    }
    store.close().await;
    let other = dir.join("other.db");
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let store = Store::open(&format!("sqlite://{}", other.display()))
        .await
        .expect("open");
    store.close().await;
    assert_eq!(mode(dir), 0o755);
    assert_eq!(mode(&other), 0o600);
}

both_backends!(a_foreign_head_is_seen_at_start, foreign_head_test);
async fn foreign_head_test(store: Store, _url: String) {
    let (writer, _dir) = keyed(store.clone());
    assert_eq!(writer.audit_head_foreign().await.expect("head"), None);
    append_concurrently(&writer, 3).await;
    assert_eq!(writer.audit_head_foreign().await.expect("head"), None);
    let (other, _other_dir) = keyed(store);
    assert_eq!(other.audit_head_foreign().await.expect("head"), Some(3));
}

both_backends!(batches_of_any_size_chain, batch_sizes_test);
/// Batches are written in INSERTs of up to 64 rows (powers of two below that): every size from
/// one row to a full batch keeps one chain, returns what it stored, and verifies.
async fn batch_sizes_test(store: Store, _url: String) {
    let mut i = 0;
    let mut total = 0;
    for size in [1_u64, 2, 3, 7, 63, 64, 65, 100, 256] {
        let batch: Vec<_> = (i..i + size).map(entry).collect();
        i += size;
        let appended = store.append_audit_batch(&batch).await.expect("append");
        assert_eq!(appended.len(), batch.len());
        let stored = store
            .audit_entries(total, 1000)
            .await
            .expect("entries after the batch");
        assert_eq!(stored, appended, "a batch of {size} returns what it stored");
        total += i64::try_from(size).expect("size");
        let quiet: Vec<_> = (i..i + size).map(entry).collect();
        i += size;
        let seqs = store.append_audit_entries(&quiet).await.expect("append");
        let size = i64::try_from(size).expect("size");
        assert_eq!(seqs, Some((total + 1, total + size)));
        total += size;
    }
    assert_eq!(store.append_audit_entries(&[]).await.expect("none"), None);
    assert_eq!(
        store.verify_audit().await.expect("verify"),
        AuditVerdict::Intact {
            entries: total,
            unkeyed: total
        }
    );
    let all = store.audit_entries(0, 10_000).await.expect("entries");
    let durations: Vec<_> = all.iter().map(|e| e.duration_ms).collect();
    let expected: Vec<_> = (0..total).collect();
    assert_eq!(durations, expected, "entries in the order given");
}
